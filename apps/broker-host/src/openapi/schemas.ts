import type { OpenAPIObject } from '@nestjs/swagger';

/** An OpenAPI schema or a reference to one. */
export type Schema = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const integer = (description?: string): Schema => ({ type: 'integer', ...(description === undefined ? {} : { description }) });
const string = (description?: string): Schema => ({ type: 'string', ...(description === undefined ? {} : { description }) });
const nullable = (schema: Schema): Schema => ({ ...schema, nullable: true }) as Schema;
const object = (properties: Record<string, Schema>, optional: string[] = []): Schema => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
});
const array = (items: Schema): Schema => ({ type: 'array', items });
const headers: Schema = { type: 'object', additionalProperties: { type: 'string' }, description: 'String to string metadata.' };

const GROUP_COUNTERS = object({
  processed: integer('Messages whose handler succeeded.'),
  failed: integer('Failed handler attempts.'),
  retried: integer('Retries scheduled after a failure.'),
  deadLettered: integer('Messages moved to the dead-letter topic.'),
  skipped: integer('Messages removed by retention before the group read them.'),
  rollbacks: integer('Times a member found the log end below what it had read (Redis lost writes).'),
});

const MESSAGE_VIEW = object({
  key: nullable(string()),
  value: { description: 'Text, the decoded JSON, or base64 of the raw bytes: valueFormat says which.', nullable: true } as Schema,
  valueFormat: { type: 'string', enum: ['text', 'json', 'base64'] },
  encoding: string("How the value was stored: 's' string, 'b' bytes, or the codec name ('json')."),
  headers,
  timestamp: integer('Append time on the Redis clock, or the producer\'s explicit timestamp (ms since the epoch).'),
});

const DEAD_LETTER = object({
  id: string("'<partition>-<ms>-<seq>': how the API addresses it."),
  topic: string(),
  group: string(),
  partition: integer(),
  offset: integer('Offset of the original message in its partition.'),
  handler: string('The handler that failed it.'),
  attempts: integer(),
  reason: { type: 'string', enum: ['handler-error', 'non-retriable', 'undecodable', 'validation', 'timeout', 'operator'] },
  error: object({ name: string(), message: string(), stack: nullable(string()) }),
  firstFailureAt: integer(),
  lastFailureAt: integer(),
  deadLetteredAt: integer(),
  replays: integer('Times it was replayed and failed again.'),
  parked: boolean('Replayed maxReplays times already: left out of replays unless forced.'),
  message: MESSAGE_VIEW,
});

const GROUP_DESCRIPTION = object({
  group: string(),
  kind: { type: 'string', enum: ['exclusive', 'share'] },
  topic: string(),
  members: array(
    object(
      {
        memberId: string(),
        clientId: string(),
        partitions: array(integer()),
        acquired: integer('Share groups: records the member holds acquired now.'),
      },
      ['acquired'],
    ),
  ),
  partitions: array(
    object({
      partition: integer(),
      owner: nullable(string('Member holding the partition\'s lease.')),
      committedOffset: nullable(integer('Where the group resumes: its oldest unfinished message.')),
      highOffset: integer('Log end offset.'),
      lowOffset: integer('Log start offset.'),
      lag: nullable(integer('Messages not finished: unread, unacknowledged or waiting for a retry.')),
      lagSeconds: nullable({ type: 'number', description: 'Age in seconds (Redis clock) of the oldest unfinished message; 0 when none.' }),
      pending: integer(),
      retrying: integer(),
      deadLettered: integer(),
      counters: ref('GroupCounters'),
    }),
  ),
});

const GROUP_LISTING = object(
  {
    group: string(),
    kind: { type: 'string', enum: ['exclusive', 'share'] },
    topics: array(string()),
    members: integer('Live members right now.'),
    lag: nullable(integer('Unfinished messages over every topic and partition; null before the group read any.')),
    lagSeconds: nullable({ type: 'number', description: 'The largest lag in seconds over its partitions; null before the group read any.' }),
  },
  ['lag', 'lagSeconds'],
);

const LAG_SAMPLE = object({
  at: integer('When the sample was taken: ms since the epoch on the Redis clock.'),
  lag: nullable(integer()),
  lagSeconds: nullable({ type: 'number' }),
  partitions: array(object({ partition: integer(), lag: nullable(integer()), lagSeconds: nullable({ type: 'number' }) })),
});

const AUDIT_ENTRY = object({
  id: string(),
  at: integer(),
  actor: string('The name of the token that did it.'),
  action: { type: 'string', enum: ['replay', 'purge', 'delete-group', 'replay-job', 'replay-job-end', 'skip'] },
  topic: string(),
  group: string(),
  to: nullable({ type: 'string', enum: ['group', 'topic'] }),
  selection: { oneOf: [array(string()), { type: 'string', enum: ['all'] }, { type: 'object', description: 'The filter that selected them.' }] } as Schema,
  result: object({ count: integer(), missing: array(string()), parked: array(string()), jobId: string(), state: string() }, ['parked', 'jobId', 'state']),
});

/** Every schema the API's responses use, by name; the contract refers to them with `$ref`. */
export const API_SCHEMAS: Record<string, Schema> = {
  Error: object({
    statusCode: integer('The HTTP status.'),
    error: string("The HTTP status text, e.g. 'Bad Request'."),
    code: string("Machine-readable: a Brook error code ('UNKNOWN_TOPIC', 'GROUP_ACTIVE', …) or the status as a code ('UNAUTHORIZED', 'TOO_MANY_REQUESTS', …)."),
    message: string('What went wrong and how to fix it.'),
  }),
  TopicList: object({ topics: array(object({ topic: string(), partitions: integer() })) }),
  TopicCreated: object({ topic: string(), created: boolean('false when it existed with the same configuration.') }),
  TopicDescription: object({
    topic: string(),
    retention: object({ maxMessages: nullable(integer()), maxAgeMs: nullable(integer()) }),
    createdAt: integer(),
    partitions: array(
      object({
        partition: integer(),
        lowOffset: integer(),
        highOffset: integer(),
        leader: string('`host:port` of the primary serving the partition.'),
        replicas: array(string('Every replica of the leader, whatever its state.')),
        inSyncReplicas: array(string('Replicas online and at most maxLagBytes behind.')),
        replicaStatus: array(
          object({ address: string(), state: string(), offset: nullable(integer()), lagBytes: nullable(integer()), inSync: boolean() }),
        ),
      }),
    ),
  }),
  TopicPartitions: object({ topic: string(), partitions: integer() }),
  GroupCounters: GROUP_COUNTERS,
  GroupListing: GROUP_LISTING,
  GroupList: object({ groups: array(ref('GroupListing')) }),
  GroupDescription: GROUP_DESCRIPTION,
  Group: object({ group: string(), kind: { type: 'string', enum: ['exclusive', 'share'] }, members: integer(), topics: array(ref('GroupDescription')) }),
  ResetOffsetsResult: object({ group: string(), topic: string(), partitions: array(object({ partition: integer(), offset: integer() })) }),
  LagSample: LAG_SAMPLE,
  LagHistory: object({ group: string(), topic: string(), samples: array(ref('LagSample')) }),
  DeletedGroup: object({ group: string(), topics: array(string()), keysDeleted: integer('Redis keys removed.') }),
  MessageView: MESSAGE_VIEW,
  MessagePage: object({ topic: string(), partition: integer(), messages: array({ allOf: [ref('MessageView'), object({ offset: integer() })] } as Schema), nextOffset: integer() }),
  ProducedRecords: object({ records: array(object({ topic: string(), partition: integer(), offset: integer(), timestamp: integer() })) }),
  DeadLetter: DEAD_LETTER,
  DeadLetterPage: object({ items: array(ref('DeadLetter')), nextCursor: nullable(string()) }),
  DeadLetterCount: object({ total: integer(), byTopicAndGroup: array(object({ topic: string(), group: string(), count: integer() })) }),
  AuditEntry: AUDIT_ENTRY,
  AuditPage: object({ items: array(ref('AuditEntry')), nextCursor: nullable(string()) }),
  ReplayJob: object({
    id: string(),
    topic: string(),
    group: string(),
    filter: { type: 'object', description: 'The filter that selects what it replays.' } as Schema,
    state: { type: 'string', enum: ['running', 'done', 'cancelled'] },
    maxPerSecond: integer(),
    maxReplays: integer(),
    actor: string(),
    createdAt: integer(),
    finishedAt: nullable(integer()),
    matched: integer(),
    replayed: integer(),
    parked: integer(),
    partitionsDone: integer(),
    partitions: integer(),
  }),
  ReplayJobList: object({ items: array(ref('ReplayJob')) }),
  ReplayResult: object({
    replayed: integer(),
    parked: array(string('Ids left dead-lettered by the replay cap.')),
    missing: array(string('Ids that did not exist.')),
    job: { allOf: [ref('ReplayJob')], nullable: true } as Schema,
  }),
  DeadLetterPreview: object({ dryRun: boolean(), matched: integer(), complete: boolean('false when counting stopped at its budget: at least matched match.'), sample: array(ref('DeadLetter')) }),
  SkipResult: object({ partition: integer(), offset: integer(), deadLetterId: string() }),
  DeadLetterRetention: object({ maxAgeMs: integer(), maxCount: integer('Per partition.') }),
  DeadLetterRetentionSetting: object({ maxAgeMs: integer(), maxCount: integer('Per partition.'), custom: boolean('false when the defaults apply.') }),
  ClusterDescription: object({
    mode: string('standalone, sentinel or cluster.'),
    maxLagBytes: integer(),
    nodes: array(
      object({
        id: nullable(string()),
        address: string(),
        role: { type: 'string', enum: ['primary', 'replica'] },
        primary: nullable(string()),
        state: string(),
        slots: array(array(integer())),
        replicationOffset: nullable(integer()),
        lagBytes: nullable(integer()),
        inSync: nullable(boolean()),
        leads: array(object({ topic: string(), partitions: array(integer()) })),
      }),
    ),
  }),
  Session: object({ name: string(), role: { type: 'string', enum: ['viewer', 'operator', 'admin'] } }),
  PurgeResult: object({ purged: integer(), missing: array(string('Ids that did not exist.')) }),
  ControllerStatus: object({
    hostId: string(),
    isLeader: boolean(),
    epoch: nullable(integer()),
    leader: nullable(object({ holderId: string(), epoch: integer() })),
    leaseMs: integer(),
    intervalMs: integer(),
    runs: integer(),
    failedRuns: integer(),
    removed: integer(),
    lastRun: nullable(object({ startedAt: integer(), durationMs: integer(), removed: integer(), error: nullable(string()) })),
  }),
};

function boolean(description?: string): Schema {
  return { type: 'boolean', ...(description === undefined ? {} : { description }) };
}

export { ref };
