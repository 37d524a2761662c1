import type { Logger } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import type { Brook, Consumer, ShareConsumer } from '@brook/broker';
import type { BrokerModuleOptions } from './broker.options.js';
import { describeFailure, logAt, logStack, type ResolvedBrookLogging } from './brook.logging.js';
import type { GroupSettings } from './group-settings.js';
import type { DiscoveredHandler } from './subscription.explorer.js';

/** What a group's consumer needs: the client, the retry and consumer defaults, a logger. */
export interface GroupConsumerDeps {
  brook: Brook;
  options: Pick<BrokerModuleOptions, 'retry' | 'deadLetter' | 'consumer'>;
  logger: Logger;
  logging: ResolvedBrookLogging;
  /** Runs discovered handlers through Nest's pipeline; absent where handlers arrive wrapped already (the microservices transport). */
  contextCreator?: ExternalContextCreator;
}

/** What a group runner needs from the module. */
export interface GroupRunnerDeps extends GroupConsumerDeps {
  contextCreator: ExternalContextCreator;
}

/** One group's consumer(s) and the handlers they dispatch to. */
export interface GroupRunner {
  readonly settings: GroupSettings;
  /** Topics the group's handlers consume. */
  readonly topics: string[];
  /** Whether the group consumes now (started and not stopped or crashed). */
  readonly running: boolean;
  /** Subscribes to the handler's topic and routes the topic's messages to the handler. */
  add(handler: DiscoveredHandler): Promise<void>;
  /** Joins the group and starts handling; a refusal names the group's handlers. */
  start(): Promise<void>;
  /** Stops consuming: in-flight handlers finish and are acknowledged. */
  stop(): Promise<void>;
}

/**
 * Logs a consumer's background events under the group's name: one line per failed attempt and per
 * dead letter at the levels of `logging` (stacks apart, at `logging.stack`); `onStop` learns that
 * it stopped.
 */
export function watchConsumer(consumer: Consumer | ShareConsumer, group: string, logger: Logger, logging: ResolvedBrookLogging, onStop: () => void): void {
  // Both consumers emit these events; the cast only merges their two event maps for `on`.
  const events = consumer as Consumer;
  events.on('retry', ({ topic, partition, offset, attempt, delayMs, error }) => {
    logAt(
      logger,
      logging.failedAttempt,
      `Attempt ${attempt - 1} failed on ${topic}[${partition}]@${offset} in group '${group}': ${describeFailure(error)}; attempt ${attempt} in ${delayMs} ms ` +
        `(topic=${topic} partition=${partition} offset=${offset} attempt=${attempt - 1})`,
    );
    logStack(logger, logging.stack, error);
  });
  events.on('dead-letter', ({ topic, partition, offset, reason, attempts, deadLetterId, error }) => {
    logAt(
      logger,
      logging.deadLetter,
      `Dead-lettered ${topic}[${partition}]@${offset} for group '${group}': ${reason} after ${attempts} attempt(s): ${describeFailure(error)} ` +
        `(topic=${topic} partition=${partition} offset=${offset} attempts=${attempts} id=${deadLetterId})`,
    );
    logStack(logger, logging.stack, error);
  });
  events.on('request.error', ({ operation, error }) => logger.warn(`Group '${group}' could not ${operation}: ${error.message}`));
  events.on('crash', ({ error }) => logger.error(`Consumer of group '${group}' crashed: ${String(error)}`));
  events.on('stop', onStop);
}
