import type {
  AuditEntry,
  CreateTopicRequest,
  DeadLetter,
  DeadLetterCount,
  DeadLetterQuery,
  GroupDescription,
  GroupListing,
  Message,
  PeekedMessage,
  RecordMetadata,
  ReplayJobStatus,
  ReplayPreview,
  ReplayRequest,
  ReplayResult,
  SkipResult,
  ResetTarget,
  TopicDescription,
} from '@brook/broker';

/** A page of a partition read without joining any group. */
export interface MessagePage {
  messages: PeekedMessage[];
  nextOffset: number;
}

/** What a dead-letter selection (replay, purge) needs. */
export type DeadLetterTarget = Pick<ReplayRequest, 'topic' | 'group' | 'ids' | 'all' | 'filter'>;

/**
 * Everything the command line does, the same whether it talks to Redis directly (the library's
 * admin client) or to a broker host (its REST API with a bearer token).
 */
export interface Operations {
  /** Where the commands go, for messages: `redis://…` or `http://host…`. */
  readonly target: string;
  listTopics(): Promise<Array<{ topic: string; partitions: number }>>;
  describeTopic(topic: string): Promise<TopicDescription>;
  createTopic(request: CreateTopicRequest): Promise<boolean>;
  addPartitions(topic: string, partitions: number): Promise<void>;
  deleteTopic(topic: string): Promise<void>;
  listGroups(): Promise<GroupListing[]>;
  /** The group on `topic`, or on every topic it consumes. */
  describeGroup(group: string, topic?: string): Promise<GroupDescription[]>;
  /** Deletes the group and every key of it; refused while members are live unless `force`. */
  deleteGroup(request: { group: string; force: boolean }): Promise<{ group: string; topics: string[]; keysDeleted: number }>;
  resetOffsets(request: { group: string; topic: string; to: ResetTarget; force: boolean }): Promise<Array<{ partition: number; offset: number }>>;
  produce(topic: string, messages: Message[]): Promise<RecordMetadata[]>;
  readMessages(request: { topic: string; partition: number; offset?: number; timestamp?: number; limit: number }): Promise<MessagePage>;
  listDeadLetters(query: DeadLetterQuery): Promise<{ items: DeadLetter[]; nextCursor: string | null }>;
  getDeadLetter(request: { topic: string; group: string; id: string }): Promise<DeadLetter | null>;
  countDeadLetters(request: { topic?: string; group?: string }): Promise<DeadLetterCount>;
  replayDeadLetters(request: DeadLetterTarget & { to: 'group' | 'topic'; dryRun?: boolean; force?: boolean; maxPerSecond?: number }): Promise<ReplayResult | ReplayPreview>;
  purgeDeadLetters(request: DeadLetterTarget & { dryRun?: boolean }): Promise<{ purged: number; missing: string[] } | ReplayPreview>;
  replayJobs(): Promise<ReplayJobStatus[]>;
  replayJob(id: string): Promise<ReplayJobStatus | null>;
  cancelReplayJob(id: string): Promise<ReplayJobStatus | null>;
  skip(request: { topic: string; group: string; partition: number }): Promise<SkipResult>;
  audit(request: { limit?: number }): Promise<{ items: AuditEntry[]; nextCursor: string | null }>;
  close(): Promise<void>;
}
