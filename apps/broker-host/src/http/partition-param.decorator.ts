import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';

/**
 * The `:partition` path segment as a number. A custom decorator rather than a pipe: the global
 * validation pipe would first coerce a `number` parameter with `+value`, accepting '0x1' and '1e0'.
 */
export const PartitionParam = createParamDecorator((_: unknown, context: ExecutionContext): number => {
  const value = context.switchToHttp().getRequest<{ params: Record<string, string | undefined> }>().params.partition ?? '';
  if (!/^\d{1,5}$/.test(value)) throw new BadRequestException(`partition must be a non-negative integer; got ${JSON.stringify(value.slice(0, 40))}.`);
  return Number(value);
});
