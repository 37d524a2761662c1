import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '@brook/broker';

// Produced by the Java reference (org.apache.kafka.common.utils.Utils#murmur2, run under OpenJDK 17)
// on UTF-8 key bytes: [key, murmur2, partition of 6, of 8, of 12]. The first six are the vectors in
// Kafka's own UtilsTest.
const JAVA_VECTORS: Array<[string, number, number, number, number]> = [
  ['21', -973932308, 0, 4, 0],
  ['foobar', -790332482, 0, 6, 6],
  ['a-little-bit-long-string', -985981536, 2, 0, 8],
  ['a-little-bit-longer-string', -1486304829, 5, 3, 11],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 5, 5, 5],
  ['abc', 479470107, 3, 3, 3],
  ['0', 971027396, 2, 4, 8],
  ['1', -1993445489, 3, 7, 3],
  ['128', -326012175, 5, 1, 5],
  ['2187', -1508407203, 5, 5, 5],
  ['16384', -325739742, 2, 2, 2],
  ['customer-42', -542987495, 3, 1, 9],
  ['order-1001', 297523878, 0, 6, 6],
  ['', 275646681, 3, 1, 9],
  ['héllo wörld', 439213890, 0, 2, 6],
  ['日本語キー', 1445825182, 4, 6, 10],
];

describe('murmur2 partitioning', () => {
  it.each(JAVA_VECTORS)('hashes %j exactly like Kafka’s Java client', (key, hash) => {
    expect(murmur2(Buffer.from(key, 'utf8'))).toBe(hash);
  });

  it.each(JAVA_VECTORS)('sends key %j to the partition Kafka would pick', (key, _hash, of6, of8, of12) => {
    const bytes = Buffer.from(key, 'utf8');
    expect([partitionForKey(bytes, 6), partitionForKey(bytes, 8), partitionForKey(bytes, 12)]).toEqual([of6, of8, of12]);
  });
});
