import * as admin from './specs/admin.js';
import * as deadLetters from './specs/dead-letters.js';
import * as ownership from './specs/ownership.js';
import * as producing from './specs/produce.js';
import * as share from './specs/share.js';
import * as transitions from './specs/transitions.js';

/**
 * Every script Brook runs, by name, with typed inputs and replies. Call one with
 * `ctx.call(SCRIPTS.ack, { … })`.
 */
export const SCRIPTS = {
  produce: producing.produce,
  acquireLease: ownership.acquireLease,
  renewLeases: ownership.renewLeases,
  releaseLease: ownership.releaseLease,
  resetOffset: ownership.resetOffset,
  membership: ownership.membership,
  registerGroup: ownership.registerGroup,
  fetch: transitions.fetch,
  claim: transitions.claim,
  ack: transitions.ack,
  recordFailure: transitions.recordFailure,
  scheduleRetry: transitions.scheduleRetry,
  takeDue: transitions.takeDue,
  ackDelayed: transitions.ackDelayed,
  deadLetter: transitions.deadLetter,
  shareFetch: share.shareFetch,
  shareSettle: share.shareSettle,
  shareMember: share.shareMember,
  shareLeave: share.shareLeave,
  createPartition: admin.createPartition,
  registerTopic: admin.registerTopic,
  growTopic: admin.growTopic,
  partitionOffsets: admin.partitionOffsets,
  groupOffsets: admin.groupOffsets,
  trimByAge: admin.trimByAge,
  replayDeadLetters: deadLetters.replayDeadLetters,
  removeDeadLetters: deadLetters.removeDeadLetters,
  searchDeadLetters: deadLetters.searchDeadLetters,
  replayJobStep: deadLetters.replayJobStep,
  acquireController: admin.acquireController,
  releaseController: admin.releaseController,
} as const;

export type { ScriptSpec } from './script-spec.js';
