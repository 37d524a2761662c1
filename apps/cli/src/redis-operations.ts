import { Brook, createConsoleLogger, UnknownGroupError, type LogLevel, type Producer, type RedisConnection } from '@brook/broker';
import type { Operations } from './operations.js';

/** The command line's operations straight on Redis, through the library's admin client. */
export class RedisOperations implements Operations {
  private readonly brook: Brook;
  private producer: Producer | undefined;

  constructor(
    redis: RedisConnection,
    prefix: string,
    readonly target: string,
    logLevel: LogLevel,
  ) {
    // Quiet unless asked: the command line prints what it did; the library's log lines go to stderr.
    this.brook = new Brook({ redis, prefix, clientId: 'brook-cli', logger: createConsoleLogger(logLevel) });
  }

  private get admin() {
    return this.brook.admin();
  }

  listTopics() {
    return this.admin.listTopics();
  }
  describeTopic(topic: string) {
    return this.admin.describeTopic(topic);
  }
  createTopic(request: Parameters<Operations['createTopic']>[0]) {
    return this.admin.createTopic(request);
  }
  addPartitions(topic: string, partitions: number) {
    return this.admin.addPartitions(topic, partitions);
  }
  deleteTopic(topic: string) {
    return this.admin.deleteTopic(topic);
  }
  listGroups() {
    return this.admin.listGroups({ lag: true });
  }
  async describeGroup(group: string, topic?: string) {
    if (topic !== undefined) return [await this.admin.describeGroup({ group, topic })];
    const listing = (await this.admin.listGroups()).find((candidate) => candidate.group === group);
    if (listing === undefined) throw new UnknownGroupError(group);
    return Promise.all(listing.topics.map((consumed) => this.admin.describeGroup({ group, topic: consumed })));
  }
  deleteGroup(request: Parameters<Operations['deleteGroup']>[0]) {
    return this.admin.deleteGroup({ ...request, actor: actor() });
  }
  resetOffsets(request: Parameters<Operations['resetOffsets']>[0]) {
    return this.admin.resetOffsets(request);
  }
  produce(topic: string, messages: Parameters<Operations['produce']>[1]) {
    this.producer ??= this.brook.producer();
    return this.producer.send({ topic, messages });
  }
  readMessages(request: Parameters<Operations['readMessages']>[0]) {
    return this.admin.readMessages(request);
  }
  listDeadLetters(query: Parameters<Operations['listDeadLetters']>[0]) {
    return this.admin.deadLetters.list(query);
  }
  getDeadLetter(request: Parameters<Operations['getDeadLetter']>[0]) {
    return this.admin.deadLetters.get(request);
  }
  countDeadLetters(request: Parameters<Operations['countDeadLetters']>[0]) {
    return this.admin.deadLetters.count(request);
  }
  replayDeadLetters(request: Parameters<Operations['replayDeadLetters']>[0]) {
    return this.admin.deadLetters.replay({ ...request, actor: actor() });
  }
  purgeDeadLetters(request: Parameters<Operations['purgeDeadLetters']>[0]) {
    return this.admin.deadLetters.purge({ ...request, actor: actor() });
  }
  replayJobs() {
    return this.admin.deadLetters.listReplayJobs();
  }
  replayJob(id: string) {
    return this.admin.deadLetters.replayJob(id);
  }
  cancelReplayJob(id: string) {
    return this.admin.deadLetters.cancelReplayJob(id, actor());
  }
  skip(request: Parameters<Operations['skip']>[0]) {
    return this.admin.deadLetters.skip({ ...request, actor: actor() });
  }
  audit(request: Parameters<Operations['audit']>[0]) {
    return this.admin.deadLetters.audit(request);
  }
  close() {
    return this.brook.close();
  }

  /** A member of `group`, for consuming as the group. */
  consumer(group: string) {
    return this.brook.consumer({ group });
  }

  /** Whether `group` has nothing left to do on `topic`: every partition read and finished. */
  async caughtUp(group: string, topic: string): Promise<boolean> {
    const description = await this.admin.describeGroup({ group, topic });
    return description.partitions.every((partition) => partition.lag === 0 || (partition.lag === null && partition.highOffset === partition.lowOffset));
  }
}

/** Who the audit log names for operations done straight on Redis: the operating-system user. */
function actor(): string {
  const user = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  return `cli:${user}`;
}
