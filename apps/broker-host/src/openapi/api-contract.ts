import type { OpenAPIObject } from '@nestjs/swagger';
import { API_SCHEMAS, ref, type Schema } from './schemas.js';

/** What one operation answers on success, and which errors it documents beyond the common ones. */
interface OperationContract {
  /** Success statuses with their body schema; null for no body, 'text' for the Prometheus exposition. */
  success: Record<number, { description: string; schema: Schema | null | 'text' }>;
  /** Errors this operation can answer besides 400, 401, 403, 429, 500 and 503. */
  errors?: number[];
}

const ok = (name: string, description: string) => ({ 200: { description, schema: ref(name) } });

/**
 * The response contract of every operation, by `METHOD path` as the OpenAPI document names them.
 * The document gets these schemas on top of what the controllers declare, so generated clients
 * know every body; a test fails when an operation is missing here.
 */
export const API_CONTRACT: Record<string, OperationContract> = {
  'GET /api/v1/topics': { success: ok('TopicList', 'Every topic with its partition count.') },
  'POST /api/v1/topics': {
    success: { 201: { description: 'Created.', schema: ref('TopicCreated') }, 200: { description: 'It existed with the same configuration.', schema: ref('TopicCreated') } },
    errors: [409],
  },
  'GET /api/v1/topics/{topic}': { success: ok('TopicDescription', 'The topic.'), errors: [404] },
  'POST /api/v1/topics/{topic}/partitions': { success: ok('TopicPartitions', 'The new partition count.'), errors: [404] },
  'DELETE /api/v1/topics/{topic}': { success: { 204: { description: 'Deleted.', schema: null } }, errors: [404] },
  'GET /api/v1/groups': { success: ok('GroupList', 'Every group, with total lag and lag in seconds.') },
  'GET /api/v1/groups/{group}': { success: ok('Group', 'The group on every topic it consumes.'), errors: [404] },
  'DELETE /api/v1/groups/{group}': { success: ok('DeletedGroup', 'What was removed.'), errors: [404, 409] },
  'GET /api/v1/groups/{group}/topics/{topic}': { success: ok('GroupDescription', 'The group on the topic.'), errors: [404] },
  'POST /api/v1/groups/{group}/topics/{topic}/reset-offsets': { success: ok('ResetOffsetsResult', 'The new position per partition.'), errors: [404, 409] },
  'GET /api/v1/groups/{group}/topics/{topic}/lag-history': { success: ok('LagHistory', 'Samples, oldest first.'), errors: [404] },
  'GET /api/v1/topics/{topic}/partitions/{partition}/messages': { success: ok('MessagePage', 'A page of messages.'), errors: [404] },
  'POST /api/v1/topics/{topic}/messages': { success: { 201: { description: 'Where each message landed, in order.', schema: ref('ProducedRecords') } }, errors: [404, 413] },
  'GET /api/v1/dead-letters': { success: ok('DeadLetterPage', 'A page of dead letters.'), errors: [404] },
  'GET /api/v1/dead-letters/count': { success: ok('DeadLetterCount', 'Counts per topic and group.') },
  'GET /api/v1/dead-letters/audit': { success: ok('AuditPage', 'Audit entries, newest first.') },
  'POST /api/v1/dead-letters/replay': {
    success: { 200: { description: 'How many were replayed, parked or missing, and the replay job when one started; with dryRun, what matches.', schema: { oneOf: [ref('ReplayResult'), ref('DeadLetterPreview')] } as Schema } },
    errors: [404],
  },
  'POST /api/v1/dead-letters/purge': {
    success: { 200: { description: 'How many were purged; with dryRun, what matches.', schema: { oneOf: [ref('PurgeResult'), ref('DeadLetterPreview')] } as Schema } },
    errors: [404],
  },
  'GET /api/v1/dead-letters/replays': { success: ok('ReplayJobList', 'Replay jobs, newest first.') },
  'GET /api/v1/dead-letters/replays/{id}': { success: ok('ReplayJob', 'The job and its progress.'), errors: [404] },
  'DELETE /api/v1/dead-letters/replays/{id}': { success: ok('ReplayJob', 'The job, cancelled.'), errors: [404] },
  'POST /api/v1/dead-letters/replays/{id}/cancel': { success: ok('ReplayJob', 'The job, cancelled.'), errors: [404] },
  'POST /api/v1/dead-letters/skip': { success: ok('SkipResult', 'The message dead-lettered with reason operator.'), errors: [404] },
  'GET /api/v1/dead-letters/retention': { success: ok('DeadLetterRetentionSetting', 'The retention in force.'), errors: [404] },
  'PUT /api/v1/dead-letters/retention': { success: ok('DeadLetterRetention', 'The retention now in force.'), errors: [404] },
  'GET /api/v1/cluster': { success: ok('ClusterDescription', 'Every Redis server and the partitions each primary leads.') },
  'GET /api/v1/session': { success: ok('Session', "The token's name and role.") },
  'GET /api/v1/dead-letters/{id}': { success: ok('DeadLetter', 'The dead letter.'), errors: [404] },
  'GET /api/v1/controller': { success: ok('ControllerStatus', "This host's view of the maintenance controller.") },
  'GET /metrics': { success: { 200: { description: 'Prometheus exposition format.', schema: 'text' } } },
};

const COMMON_ERRORS: Record<number, string> = {
  400: 'The request is invalid; the message names the field and the fix.',
  401: 'No token, or not a configured one.',
  403: "The token's role is below what the operation needs.",
  404: 'The topic, group or item does not exist.',
  409: 'Conflicts with the current state (e.g. live members); the message says how to proceed.',
  413: 'The request or a message is larger than allowed.',
  429: 'Too many requests from this token (or address, without a valid token); retry after Retry-After seconds.',
  500: 'An internal error; the host logged the details.',
  503: 'Redis is unreachable or refuses writes (e.g. out of memory).',
};

/** The bearer scheme: Brook's tokens are opaque secrets compared as configured, not JWTs. */
export const BEARER_SCHEME = {
  type: 'http' as const,
  scheme: 'bearer',
  bearerFormat: 'opaque',
  description:
    "An opaque token from BROOK_ADMIN_TOKENS (name:role:token entries), sent as 'Authorization: Bearer <token>'. It is not a JWT: the host compares it with its configured secrets; the role (viewer, operator, admin) is the token's.",
};

/**
 * Adds the response contract to the document Nest generated: component schemas, every
 * operation's success body and its error responses (all with the `Error` schema). Operations
 * without an entry are left as they are; the contract test names them.
 */
export function applyApiContract(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = { ...document.components.schemas, ...API_SCHEMAS };
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = operations[method];
      const contract = API_CONTRACT[`${method.toUpperCase()} ${path}`];
      if (operation === undefined || contract === undefined) continue;
      const responses: NonNullable<typeof operation.responses> = {};
      for (const [status, { description, schema }] of Object.entries(contract.success)) {
        responses[status] =
          schema === null
            ? { description }
            : schema === 'text'
              ? { description, content: { 'text/plain': { schema: { type: 'string' } } } }
              : { description, content: { 'application/json': { schema } } };
      }
      for (const status of [400, 401, 403, ...(contract.errors ?? []), 429, 500, 503].sort((a, b) => a - b)) {
        responses[status] = { description: COMMON_ERRORS[status], content: { 'application/json': { schema: ref('Error') } } };
      }
      operation.responses = responses;
    }
  }
  return document;
}
