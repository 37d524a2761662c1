import { describe, expect, it } from 'vitest';
import { translateRedisError } from '../../../libs/broker/src/redis/connection.js';

/** An error reply as ioredis rejects with it. */
function replyError(message: string): Error {
  return Object.assign(new Error(message), { name: 'ReplyError' });
}

const translate = (error: Error) => translateRedisError(error, 'send to partition 3 of orders', 'cluster 127.0.0.1:7000', 5);

describe('translateRedisError', () => {
  it.each([
    ['MOVED 1234 127.0.0.1:7001'],
    ['ASK 1234 127.0.0.1:7001'],
    ['TRYAGAIN Multiple keys request during rehashing of slot'],
    ['CLUSTERDOWN The cluster is down'],
    ['Too many Cluster redirections. Last error: ReplyError: MOVED 1234 127.0.0.1:7001'],
    ['Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down'],
    ['Too many Cluster redirections. Last error: Error: Connection is closed.'],
  ])('treats a Cluster slot changing hands (%s) as one retriable class, LEADER_NOT_AVAILABLE', (message) => {
    const error = translate(replyError(message));
    expect(error).toMatchObject({ code: 'LEADER_NOT_AVAILABLE', retriable: true });
    expect(error.message).toContain('send to partition 3 of orders');
    expect(error.message).toContain('failover or a resharding');
  });

  it('leaves other error replies non-retriable', () => {
    expect(translate(replyError('ERR unknown command'))).toMatchObject({ code: 'INTERNAL', retriable: false });
    expect(translate(replyError('ERR something about MOVED keys'))).toMatchObject({ code: 'INTERNAL', retriable: false });
  });
});
