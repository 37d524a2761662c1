import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../libs/broker/src/producer/murmur2.js';

// Expected values from Kafka's UtilsTest (org.apache.kafka.common.utils) and the Java client:
// keys of every length modulo 4, so each branch of the tail is exercised.
const KAFKA_VECTORS: Array<[string, number]> = [
  ['21', -973_932_308],
  ['foobar', -790_332_482],
  ['a-little-bit-long-string', -985_981_536],
  ['a-little-bit-longer-string', -1_486_304_829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58_897_971],
  ['abc', 479_470_107],
  ['1', -1_993_445_489],
  ['12', 126_087_238],
  ['123', -267_702_483],
  ['1234', -1_614_185_708],
  ['12345', -1_188_365_604],
];

describe('murmur2', () => {
  for (const [key, hash] of KAFKA_VECTORS) {
    it(`hashes '${key}' as Kafka does (${hash})`, () => {
      expect(murmur2(Buffer.from(key))).toBe(hash);
    });
  }
});

describe('partitionForKey', () => {
  it('takes the positive hash modulo the partition count', () => {
    for (const [key, hash] of KAFKA_VECTORS) expect(partitionForKey(Buffer.from(key), 7)).toBe((hash & 0x7fffffff) % 7);
  });

  it('always lands within the partitions', () => {
    for (let i = 0; i < 500; i++) {
      const p = partitionForKey(Buffer.from(`key-${i}`), 13);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(13);
    }
  });
});
