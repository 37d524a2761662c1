import type { ScriptArg } from '../scripts.js';
import { list, num, spec, text, where, type OwnedPartitionRef, type PartitionRef } from '../script-spec.js';
import { statusOf } from '../script-status.js';
import { BrokerError } from '../../errors/errors.js';

/** A message as the produce script takes it. */
export interface ProduceMessage {
  /** An explicit timestamp, or null to stamp the append time. */
  timestamp: number | null;
  fields: ReadonlyArray<string | Buffer>;
}

export interface ProduceInput extends PartitionRef {
  producerId: string;
  epoch: number;
  baseSeq: number;
  maxLen: number;
  timeIndex: boolean;
  minInSync: number;
  /** -1: unlimited. */
  aheadMs: number;
  behindMs: number;
  messages: readonly ProduceMessage[];
}

export type ProduceReply =
  | { status: 'ok'; firstOffset: number; appendMs: number; gapFrom: number; replicationId: string }
  | { status: 'duplicate'; firstOffset: number; appendMs: number; replicationId: string }
  | { status: 'fenced'; epoch: number }
  | { status: 'gone' }
  | { status: 'not-enough-replicas'; inSync: number }
  | { status: 'invalid-timestamp'; index: number; timestamp: number; nowMs: number }
  | { status: 'out-of-order'; lastSeq: number };

/** Appends a batch to a partition, once (see produce.lua). */
export const produce = spec<ProduceInput, ProduceReply>({
  name: 'produce',
  keys: (keys, { topic, partition }) => [keys.log(topic, partition), keys.producers(topic, partition), keys.timeIndex(topic, partition)],
  args: (input) => {
    const args: ScriptArg[] = [
      input.producerId, input.epoch, input.baseSeq, input.maxLen, input.timeIndex ? '1' : '0',
      input.minInSync, input.aheadMs, input.behindMs, input.messages.length,
    ];
    for (const message of input.messages) args.push(message.timestamp === null ? '' : message.timestamp, message.fields.length, ...message.fields);
    return args;
  },
  parse: (reply) => {
    const r = list(reply);
    const status = statusOf(r);
    switch (status) {
      case 'ok': return { status, firstOffset: num(r[1]), appendMs: num(r[2]), gapFrom: num(r[3]), replicationId: text(r[4] ?? '') };
      case 'duplicate': return { status, firstOffset: num(r[1]), appendMs: num(r[2]), replicationId: text(r[3] ?? '') };
      case 'fenced': return { status, epoch: num(r[1]) };
      case 'gone': return { status };
      case 'not-enough-replicas': return { status, inSync: num(r[1]) };
      case 'invalid-timestamp': return { status, index: num(r[1]), timestamp: num(r[2]), nowMs: num(r[3]) };
      case 'out-of-order': return { status, lastSeq: num(r[1]) };
      default: throw new BrokerError('INTERNAL', `The produce script answered with status '${status}', which it never sends.`);
    }
  },
  describe: (input) => `send to ${where(input)}`,
});
