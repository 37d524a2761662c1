import { resolveBrookLogging } from '../brook.logging.js';
import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { Brook, InvalidArgumentError, jsonCodec, type BrookOptions, type EachMessagePayload, type Producer } from '@brook/broker';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { ExclusiveGroup } from '../exclusive-group.js';
import { resolveGroupSettings } from '../group-settings.js';
import { toMessageFailure } from '../handler-errors.js';
import { nestLogger } from '../nest-logger.js';
import type { SubscriptionMetadata } from '../subscribe.decorator.js';
import { validateSubscription } from '../subscription.validation.js';
import { BROOK_TRANSPORT, BrookHeaders } from './brook-transport.constants.js';
import { BrookContext } from './brook.context.js';
import { resolveBrookServerOptions, type BrookPatternOptions, type BrookServerOptions } from './brook-server.options.js';
import { toReplyError, type ReplyPacket } from './transport-message.js';
import { RpcHandlerError } from './transport.errors.js';

/** A pattern handler as the server runs it. */
interface PatternRoute {
  origin: string;
  subscription: SubscriptionMetadata;
  handler: MessageHandler;
}

/**
 * Brook as a `@nestjs/microservices` transport: `@EventPattern(topic)` and `@MessagePattern(topic)`
 * handlers consume the topic in a Brook consumer group, with Brook's ordering, retries,
 * dead-lettering and partition fencing — the same consumers `@Subscribe` handlers run in.
 *
 * ```ts
 * app.connectMicroservice({ strategy: new BrookServer({ redis: process.env.REDIS_URL, group: 'billing' }) });
 * await app.startAllMicroservices();
 * ```
 *
 * A failing `@EventPattern` handler's message is retried, then dead-lettered, under its retry
 * policy. A `@MessagePattern` handler answers requests of `BrookClient.send()` on the client's
 * reply topic; what it throws reaches the caller as an error (after Nest's RPC exception filters,
 * as with every transport), and the request is not retried.
 */
export class BrookServer extends Server implements CustomTransportStrategy {
  override readonly transportId = BROOK_TRANSPORT;
  /** Failures of event handlers go to Brook's retry policy, which reports them. */
  override readonly propagatesEventHandlerErrors = true;
  private readonly options: Readonly<BrookServerOptions>;
  private readonly nestLogger = new Logger('BrookServer');
  private readonly groups: ExclusiveGroup[] = [];
  private brook: Brook | undefined;
  private replies: Producer | undefined;

  constructor(options: BrookServerOptions) {
    super();
    this.options = resolveBrookServerOptions(options);
  }

  /** Called by Nest: creates the topics, joins the groups and starts handling. */
  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  /** Called by Nest on shutdown: stops the groups (in-flight handlers finish and are acknowledged). */
  async close(): Promise<void> {
    await Promise.all(this.groups.splice(0).map((group) => group.stop()));
    await this.replies?.close();
    this.replies = undefined;
    if (this.options.brook === undefined) await this.brook?.close();
    this.brook = undefined;
  }

  /** The Brook client. */
  unwrap<T>(): T {
    if (this.brook === undefined) throw new InvalidArgumentError('BrookServer.unwrap(): the server is not listening; call it after app.startAllMicroservices().');
    return this.brook as T;
  }

  /** Not supported: Brook reports consumer events through its logger. */
  on(): never {
    throw new InvalidArgumentError('BrookServer.on() is not supported: Brook reports retries, dead letters and consumer errors through its logger.');
  }

  private async start(): Promise<void> {
    const { brook, redis, logger, logging, group: _group, topics, retry, deadLetter, consumer, producer, ordering: _o, concurrency: _c, fromBeginning: _f, ...client } = this.options;
    const routes = this.routes();
    this.brook = brook ?? new Brook({ ...client, redis: redis as BrookOptions['redis'], logger: logger ?? nestLogger() });
    for (const topic of topics ?? []) await this.brook.admin().createTopic(topic);
    // Replies are the transport's envelopes ({ response, err, isDisposed }), read by clients as JSON.
    const replies = this.brook.producer({ ...producer, codec: jsonCodec });
    this.replies = replies;
    const deps = { brook: this.brook, options: { retry, deadLetter, consumer }, logger: this.nestLogger, logging: resolveBrookLogging(logging) };
    for (const settings of resolveGroupSettings(routes).values()) {
      const group = new ExclusiveGroup(settings, deps);
      this.groups.push(group);
      for (const route of routes.filter(({ subscription }) => subscription.group === settings.group)) {
        await group.route(route.subscription, route.origin, (payload: EachMessagePayload) => this.handle(route, payload, replies));
      }
    }
    await Promise.all(this.groups.map((group) => group.start()));
  }

  /** Each registered pattern as a subscription, checked as `@Subscribe` checks its options. */
  private routes(): PatternRoute[] {
    const routes: PatternRoute[] = [];
    for (const [pattern, handler] of this.messageHandlers) {
      const decorator = handler.isEventHandler ? '@EventPattern' : '@MessagePattern';
      const origin = `${decorator}(${JSON.stringify(pattern)})`;
      const { group, ...options } = { ...this.defaults(), ...(handler.extras ?? {}) } as BrookPatternOptions;
      const subscription: SubscriptionMetadata = { kind: 'message', topic: pattern, group: group ?? this.options.group, options };
      if ('share' in options || 'acquisitionLockMs' in options || 'deliveryLimit' in options) {
        throw new InvalidArgumentError(`${origin}: BrookServer runs exclusive consumer groups; for a share group use @Subscribe(topic, group, { share: true }).`);
      }
      try {
        validateSubscription(origin, subscription);
      } catch (error) {
        // The checks are @Subscribe's; name the decorator the handler has.
        throw new InvalidArgumentError((error as Error).message.replaceAll('@Subscribe', decorator) + ' BrookServer patterns are topic names.', { cause: error });
      }
      routes.push({ origin, subscription, handler });
    }
    return routes;
  }

  private defaults(): BrookPatternOptions {
    const { ordering, concurrency, fromBeginning } = this.options;
    return Object.fromEntries(Object.entries({ ordering, concurrency, fromBeginning }).filter(([, value]) => value !== undefined));
  }

  private async handle({ handler, subscription }: PatternRoute, payload: EachMessagePayload, replies: Producer): Promise<void> {
    const context = new BrookContext(payload, subscription.group);
    const correlationId = context.getCorrelationId();
    const replyTopic = context.getReplyTopic();
    if (handler.isEventHandler || correlationId === undefined || replyTopic === undefined) {
      await this.runEvent(handler, payload.message.value, context);
      return;
    }
    await this.runRequest(handler, payload.message.value, context, async (packet) => {
      await replies.send({ topic: replyTopic, messages: [{ key: correlationId, value: packet, headers: { [BrookHeaders.CORRELATION_ID]: correlationId } }] });
    });
  }

  /** Runs an event handler to its end; a failure goes to the retry policy. */
  private async runEvent(handler: MessageHandler, value: unknown, context: BrookContext): Promise<void> {
    try {
      const result: unknown = await handler(value, context);
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    } catch (error) {
      throw error instanceof Error ? toMessageFailure(error) : new RpcHandlerError(error);
    }
  }

  /**
   * Runs a request handler and publishes its reply stream: each value but the last as it comes,
   * the last with `isDisposed`, or the error. The message is acknowledged once the reply is
   * written; a reply that cannot be written fails the message, which is then retried.
   */
  private async runRequest(handler: MessageHandler, value: unknown, context: BrookContext, publish: (packet: ReplyPacket) => Promise<void>): Promise<void> {
    let response$: Observable<unknown>;
    try {
      response$ = this.transformToObservable(await handler(value, context)) as Observable<unknown>;
    } catch (error) {
      await publish({ err: toReplyError(error), isDisposed: true });
      return;
    }
    let pending: { value: unknown } | undefined;
    let written = Promise.resolve();
    const outcome = await new Promise<ReplyPacket>((resolve) => {
      response$.subscribe({
        next: (response) => {
          if (pending !== undefined) {
            const earlier = pending.value;
            written = written.then(() => publish({ response: earlier }));
          }
          pending = { value: response };
        },
        error: (error: unknown) => resolve({ err: toReplyError(error), isDisposed: true }),
        complete: () => resolve({ response: pending?.value, isDisposed: true }),
      });
    });
    await written;
    await publish(outcome);
  }
}
