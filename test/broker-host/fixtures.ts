import type { Brook, DeadLetterEvent } from '@brook/broker';
import { uniqueName, waitFor } from '../support/brook.js';
import { startConsumer } from '../consumer/helpers.js';

/**
 * A topic read by group 'billing', which dead-letters every message with `{ fail: true }` after one
 * attempt while `state.failing` is set, and optionally by group 'shipping', which fails nothing.
 * Produces `failing` failing and `passing` passing messages and waits until billing handled all.
 */
export async function topicWithDeadLetters(brook: Brook, { partitions = 2, failing = 3, passing = 2, shipping = false } = {}) {
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions });
  const state = { failing: true };
  const billing = await startConsumer(brook, topic, { group: 'billing', retry: { attempts: 1 } }, ({ message }) => {
    if (state.failing && (message.value as { fail?: boolean }).fail) throw new Error(`cannot bill order ${(message.value as { id: number }).id}`);
  });
  const deadLetters: DeadLetterEvent[] = [];
  billing.consumer.on('dead-letter', (event) => deadLetters.push(event));
  const shippingGroup = shipping ? await startConsumer(brook, topic, { group: 'shipping' }) : undefined;
  const messages = [
    ...Array.from({ length: failing }, (_, i) => ({ key: `f${i}`, value: { id: i, fail: true } })),
    ...Array.from({ length: passing }, (_, i) => ({ key: `p${i}`, value: { id: failing + i } })),
  ];
  await brook.producer().send({ topic, messages });
  await waitFor(() => deadLetters.length === failing && billing.seen.length === passing && (shippingGroup?.seen.length ?? messages.length) === messages.length, {
    message: 'billing to dead-letter the failing messages',
  });
  return { topic, state, billing, shipping: shippingGroup, deadLetters };
}
