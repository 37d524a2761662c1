import type { PipeTransform, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';

/** Kinds of handler parameters `@Payload()` and `@Ctx()` mark. */
export const BrookParamtype = { PAYLOAD: 3, CONTEXT: 6 } as const;

type ParamPipe = PipeTransform | Type<PipeTransform>;

function param(type: number, data: string | undefined, pipes: ParamPipe[]): ParameterDecorator {
  return (target, key, index) => {
    // Stored where Nest keeps route arguments, so createParamDecorator() decorators work too.
    const existing = (Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key!) ?? {}) as Record<string, unknown>;
    Reflect.defineMetadata(ROUTE_ARGS_METADATA, { ...existing, [`${type}:${index}`]: { index, data, pipes } }, target.constructor, key!);
  };
}

/**
 * The decoded message value, or one property of it; pipes (a `ValidationPipe` with a DTO class)
 * run on it like on `@Body()`. In a `@SubscribeBatch` handler: the array of values (validate it
 * with `ParseArrayPipe({ items: Dto })`), or the property of each.
 */
export function Payload(): ParameterDecorator;
export function Payload(...pipes: ParamPipe[]): ParameterDecorator;
export function Payload(property: string, ...pipes: ParamPipe[]): ParameterDecorator;
export function Payload(propertyOrPipe?: string | ParamPipe, ...pipes: ParamPipe[]): ParameterDecorator {
  if (typeof propertyOrPipe === 'string') return param(BrookParamtype.PAYLOAD, propertyOrPipe, pipes);
  return param(BrookParamtype.PAYLOAD, undefined, propertyOrPipe === undefined ? pipes : [propertyOrPipe, ...pipes]);
}

/**
 * The handler's context: a `MessageContext` (topic, partition, offset, key, headers, attempt,
 * signal), a `ShareMessageContext` in share groups, a `BatchContext` in `@SubscribeBatch` handlers.
 */
export function Ctx(): ParameterDecorator {
  return param(BrookParamtype.CONTEXT, undefined, []);
}
