import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';

/**
 * The `:partition` path segment as a number: plain decimal digits only, so '0x1', '1e0' and ' 1'
 * are refused rather than read as numbers the way `+value` would.
 */
export const PartitionParam = createParamDecorator((_: unknown, context: ExecutionContext): number => {
  const value = context.switchToHttp().getRequest<{ params: Record<string, string | undefined> }>().params.partition ?? '';
  if (!/^\d{1,5}$/.test(value)) throw new BadRequestException(`partition must be a non-negative integer; got ${JSON.stringify(value.slice(0, 40))}.`);
  return Number(value);
});
