import { describe, expect, it } from 'vitest';
import { parseClusterShards, parseClusterSlots, parseReplicationInfo } from '../../../libs/broker/src/redis/replication-info.js';

describe('parseReplicationInfo', () => {
  it('reads a primary with its replicas, their states and acknowledged offsets', () => {
    const info = [
      '# Replication',
      'role:master',
      'connected_slaves:2',
      'slave0:ip=127.0.0.1,port=7001,state=online,offset=1500,lag=0',
      'slave1:ip=10.0.0.2,port=7002,state=wait_bgsave,offset=0,lag=3',
      'master_failover_state:no-failover',
      'master_replid:0123',
      'master_repl_offset:2000',
      '',
    ].join('\r\n');
    expect(parseReplicationInfo(info)).toEqual({
      role: 'primary',
      offset: 2_000,
      primary: null,
      replicas: [
        { address: '127.0.0.1:7001', state: 'online', offset: 1_500 },
        { address: '10.0.0.2:7002', state: 'wait_bgsave', offset: 0 },
      ],
    });
  });

  it('reads a replica with its primary and link state', () => {
    const info = ['role:slave', 'master_host:127.0.0.1', 'master_port:7000', 'master_link_status:down', 'slave_repl_offset:42', 'master_repl_offset:42'].join('\r\n');
    expect(parseReplicationInfo(info)).toEqual({ role: 'replica', offset: 42, primary: { address: '127.0.0.1:7000', linkUp: false }, replicas: [] });
  });
});

describe('parseClusterShards', () => {
  it('reads slot ranges, roles, health and gossip offsets of every shard', () => {
    const reply = [
      [
        'slots', [0, 5460, 10923, 10930],
        'nodes', [
          ['id', 'a1', 'port', 7000, 'ip', '127.0.0.1', 'endpoint', '127.0.0.1', 'role', 'master', 'replication-offset', 900, 'health', 'online'],
          ['id', 'b1', 'port', 7003, 'ip', '127.0.0.1', 'endpoint', '127.0.0.1', 'role', 'replica', 'replication-offset', 800, 'health', 'loading'],
        ],
      ],
    ];
    expect(parseClusterShards(reply)).toEqual([
      {
        slots: [[0, 5460], [10923, 10930]],
        nodes: [
          { id: 'a1', address: '127.0.0.1:7000', role: 'primary', health: 'online', offset: 900 },
          { id: 'b1', address: '127.0.0.1:7003', role: 'replica', health: 'loading', offset: 800 },
        ],
      },
    ]);
  });
});

describe('parseClusterSlots', () => {
  it('merges the ranges of one primary and lists its replicas without health or offsets', () => {
    const reply = [
      [0, 100, ['127.0.0.1', 7000, 'a1'], ['127.0.0.1', 7003, 'b1']],
      [200, 300, ['127.0.0.1', 7000, 'a1'], ['127.0.0.1', 7003, 'b1']],
      [101, 199, ['127.0.0.1', 7001, 'a2']],
    ];
    expect(parseClusterSlots(reply)).toEqual([
      {
        slots: [[0, 100], [200, 300]],
        nodes: [
          { id: 'a1', address: '127.0.0.1:7000', role: 'primary', health: 'unknown', offset: null },
          { id: 'b1', address: '127.0.0.1:7003', role: 'replica', health: 'unknown', offset: null },
        ],
      },
      { slots: [[101, 199]], nodes: [{ id: 'a2', address: '127.0.0.1:7001', role: 'primary', health: 'unknown', offset: null }] },
    ]);
  });
});
