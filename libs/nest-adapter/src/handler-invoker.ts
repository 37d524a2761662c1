import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import type { ExternalContextCreator, ParamsFactory } from '@nestjs/core';
import { BatchContext } from './batch-context.js';
import { BROOK_CONTEXT_TYPE } from './brook.tokens.js';
import { toMessageFailure } from './handler-errors.js';
import { BrookParamtype } from './params.decorators.js';

/** Calls a handler through Nest's pipeline with its data (a value, or a batch's values) and context. */
export type HandlerInvoker<C> = (data: unknown, context: C) => Promise<void>;

const paramsFactory: ParamsFactory = {
  exchangeKeyForValue(type, data, args: [unknown, unknown] | undefined) {
    if (!args) return null;
    if (type === BrookParamtype.CONTEXT) return args[1];
    if (type !== BrookParamtype.PAYLOAD) return null;
    if (!data) return args[0];
    const field = (value: unknown) => (value as Record<string, unknown> | null)?.[data as string];
    // A batch's @Payload('field') is that field of each value.
    return args[1] instanceof BatchContext ? (args[0] as unknown[]).map(field) : field(args[0]);
  },
};

/**
 * Wraps `instance[methodName]` in Nest's pipes, guards, interceptors and exception filters (with
 * `context.getType()` being 'brook' and the RPC arguments `[data, context]`), and gives what
 * escapes them its meaning for messages (see `toMessageFailure`). Every kind of handler — single
 * message, share, batch — goes through this one pipeline.
 */
export function createHandlerInvoker<C>(contextCreator: ExternalContextCreator, instance: Record<string, unknown>, methodName: string): HandlerInvoker<C> {
  const invoke = withoutDefaultErrorLog(contextCreator).create(
    instance,
    instance[methodName] as (...args: unknown[]) => unknown,
    methodName,
    ROUTE_ARGS_METADATA,
    paramsFactory,
    undefined,
    undefined,
    undefined,
    BROOK_CONTEXT_TYPE,
  );
  return async (data, context) => {
    try {
      await invoke(data, context);
    } catch (error) {
      throw toMessageFailure(error);
    }
  };
}

/** The part of Nest's exception handler for external contexts that the adapter relies on. */
interface ExternalExceptionsHandlerLike {
  next(exception: unknown, host: unknown): unknown;
  invokeCustomFilters(exception: unknown, host: unknown): unknown;
}

interface FiltersContextLike {
  create(...args: unknown[]): ExternalExceptionsHandlerLike;
}

/**
 * `contextCreator` whose exception handlers run the application's exception filters as usual but,
 * when none handles an error, rethrow it without Nest's default `ExceptionsHandler` log: Brook logs
 * each failure once itself (see `BrookLoggingOptions`), without a stack at the default levels. On a
 * Nest version shaped otherwise, `contextCreator` is used as it is.
 */
function withoutDefaultErrorLog(contextCreator: ExternalContextCreator): ExternalContextCreator {
  const filters = (contextCreator as unknown as { filtersContextCreator?: FiltersContextLike }).filtersContextCreator;
  if (typeof filters?.create !== 'function') return contextCreator;
  const quiet: FiltersContextLike = {
    create: (...args) => {
      const handler = filters.create(...args);
      if (typeof handler.invokeCustomFilters !== 'function') return handler;
      handler.next = (exception, host) => {
        const result = handler.invokeCustomFilters(exception, host);
        if (result !== undefined) return result;
        throw exception;
      };
      return handler;
    },
  };
  return Object.create(contextCreator, { filtersContextCreator: { value: quiet } }) as ExternalContextCreator;
}
