import { BrokerError } from '@brook/broker';

/** No reply to a `BrookClient.send()` request arrived within `requestTimeoutMs`. */
export class ReplyTimeoutError extends BrokerError {
  constructor(
    readonly topic: string,
    readonly timeoutMs: number,
  ) {
    super(
      'TIMEOUT',
      `No reply to the request sent to '${topic}' within ${timeoutMs} ms. Check that a BrookServer with a @MessagePattern('${topic}') handler runs, ` +
        `or raise the client's requestTimeoutMs.`,
      { retriable: true },
    );
  }
}

/**
 * An `@EventPattern` handler failed with something other than an `Error`: what an RPC exception
 * filter made of the error (Nest's default filter sends `{ status: 'error', message: 'Internal
 * server error' }`). Brook retries and dead-letters it under the handler's policy; `error` holds it.
 */
export class RpcHandlerError extends Error {
  constructor(readonly error: unknown) {
    const message = (error as { message?: unknown } | null)?.message;
    super(typeof message === 'string' ? message : JSON.stringify(error) ?? String(error));
    this.name = 'RpcHandlerError';
  }
}
