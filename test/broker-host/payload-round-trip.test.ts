import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '@brook/broker';
import { uniqueName } from '../support/brook.js';
import { FUZZ_SEED } from './fuzz-seed.js';
import { PROTOTYPE_NAMES } from './hostile-values.js';
import { startTestHost } from './host.js';

/** Any code point, and now and then a lone surrogate: JSON strings (escaped) must keep both. */
const anyUnit = fc.oneof({ weight: 9, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)) });
const jsonString = fc.string({ unit: anyUnit, maxLength: 12 });
/** Text stored as UTF-8 (keys, string values) is well-formed Unicode; the host refuses the rest. */
const text = fc.string({ unit: 'binary', maxLength: 12 });
const objectKey = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  { weight: 3, arbitrary: jsonString },
  // Integer-like keys, which objects order first.
  { weight: 1, arbitrary: fc.constantFrom('', '0', '01', '-1', '1.5', '4294967295') },
);

const { json } = fc.letrec<{ json: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', maxDepth: 8 },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 5e-324, 0.1),
    jsonString,
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('json'), { maxLength: 4 }),
  // Object.fromEntries defines own properties, '__proto__' included.
  object: fc.uniqueArray(fc.tuple(objectKey, tie('json')), { maxLength: 5, selector: ([key]) => key }).map((entries) => Object.fromEntries(entries)),
}));

const headers = fc.uniqueArray(fc.tuple(objectKey, jsonString), { maxLength: 4, selector: ([name]) => name }).map((entries) => Object.fromEntries(entries) as Record<string, string>);

/** One message: a JSON value, text or bytes, with or without a key and headers. */
const message = fc.record(
  {
    key: fc.option(text, { nil: null }),
    // A string value is stored as UTF-8 text; strings inside JSON may hold anything.
    value: fc.oneof(
      json.filter((value) => typeof value !== 'string'),
      text,
      fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
    ),
    headers,
  },
  { requiredKeys: ['value'] },
);

type Generated = { key?: string | null; value: unknown; headers?: Record<string, string> };

/** The produce body the API takes for `messages`: bytes as valueBase64, everything else as value. */
function toProduceBody(messages: Generated[]): string {
  return JSON.stringify({
    messages: messages.map(({ value, ...rest }) => (Buffer.isBuffer(value) ? { ...rest, valueBase64: value.toString('base64'), partition: 0 } : { ...rest, value, partition: 0 })),
  });
}

/** A message as it should read back: what `JSON.stringify` writes of value, key and headers. */
function expected({ key, value, headers: sent }: Generated) {
  return {
    key: key ?? null,
    value: Buffer.isBuffer(value) ? `bytes:${value.toString('base64')}` : JSON.stringify(value),
    headers: JSON.stringify(sent ?? {}),
  };
}

const RUNS = 60;

describe('message payloads round trip byte for byte', () => {
  it('through the admin API: arbitrary JSON values, keys and headers are produced and peeked back as sent', async () => {
    const host = await startTestHost();
    const topic = uniqueName('round-trip');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 5 }), async (messages) => {
        const body = toProduceBody(messages);
        const produced = await host.request('POST', `/api/v1/topics/${topic}/messages`, { token: 'operator', rawBody: body });
        expect(produced.status, JSON.stringify(produced.body)).toBe(201);
        const first = produced.body.records[0].offset as number;
        const page = await host.request('GET', `/api/v1/topics/${topic}/partitions/0/messages?offset=${first}&limit=${messages.length}`, { token: 'operator' });
        const read = page.body.messages.map((m: { key: string | null; value: unknown; valueFormat: string; headers: Record<string, string> }) => ({
          key: m.key,
          value: m.valueFormat === 'base64' ? `bytes:${m.value as string}` : JSON.stringify(m.value),
          headers: JSON.stringify(m.headers),
        }));
        expect(read).toEqual(messages.map(expected));
      }),
      { seed: FUZZ_SEED, numRuns: RUNS },
    );
  });

  it('through the library: arbitrary JSON values, keys and headers are produced and read back as sent', async () => {
    const host = await startTestHost();
    const topic = uniqueName('round-trip');
    const admin = host.brook.admin();
    await admin.createTopic({ topic, partitions: 1 });
    const producer = host.brook.producer();
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 5 }), async (messages) => {
        const records = await producer.send({ topic, messages: messages.map((m): Message => ({ ...m, partition: 0 })) });
        const { messages: read } = await admin.readMessages({ topic, partition: 0, offset: records[0].offset, limit: messages.length });
        expect(read.map((m) => ({ key: m.key, value: Buffer.isBuffer(m.value) ? `bytes:${m.value.toString('base64')}` : JSON.stringify(m.value), headers: JSON.stringify(m.headers) }))).toEqual(
          messages.map(expected),
        );
      }),
      { seed: FUZZ_SEED, numRuns: RUNS },
    );
  });
});
