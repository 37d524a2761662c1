import type { Logger } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import type { Brook, Consumer, ShareConsumer } from '@brook/broker';
import type { BrokerModuleOptions } from './broker.options.js';
import type { GroupSettings } from './group-settings.js';
import type { DiscoveredHandler } from './subscription.explorer.js';

/** What a group's consumer needs: the client, the retry and consumer defaults, a logger. */
export interface GroupConsumerDeps {
  brook: Brook;
  options: Pick<BrokerModuleOptions, 'retry' | 'deadLetter' | 'consumer'>;
  logger: Logger;
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

/** Logs a consumer's background events under the group's name; `onStop` learns that it stopped. */
export function watchConsumer(consumer: Consumer | ShareConsumer, group: string, logger: Logger, onStop: () => void): void {
  // Both consumers emit these events; the cast only merges their two event maps for `on`.
  const events = consumer as Consumer;
  events.on('retry', ({ topic, partition, offset, attempt, delayMs }) =>
    logger.debug(`Retrying ${topic}[${partition}]@${offset} for '${group}' (attempt ${attempt}) in ${delayMs} ms`),
  );
  events.on('dead-letter', ({ topic, partition, offset, reason, attempts, deadLetterId }) =>
    logger.warn(`Dead-lettered ${topic}[${partition}]@${offset} for '${group}': ${reason} after ${attempts} attempt(s) (id ${deadLetterId})`),
  );
  events.on('request.error', ({ operation, error }) => logger.warn(`Group '${group}' could not ${operation}: ${error.message}`));
  events.on('crash', ({ error }) => logger.error(`Consumer of group '${group}' crashed: ${String(error)}`));
  events.on('stop', onStop);
}
