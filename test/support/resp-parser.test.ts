import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RespReplyScanner, RespRequestParser, type ProxiedCommand } from './resp-parser.js';

/** Cuts `stream` into chunks of the given sizes (the last one takes the rest). */
function split(stream: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= stream.length) break;
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  if (at < stream.length) chunks.push(stream.subarray(at));
  return chunks;
}

/** Reply ends as offsets into the whole stream. */
function replyEnds(chunks: Buffer[]): number[] {
  const scanner = new RespReplyScanner();
  const ends: number[] = [];
  let base = 0;
  for (const chunk of chunks) {
    ends.push(...scanner.scan(chunk).map((end) => base + end));
    base += chunk.length;
  }
  return ends;
}

function commands(chunks: Buffer[]): Array<ProxiedCommand & { end: number }> {
  const parser = new RespRequestParser();
  const parsed: Array<ProxiedCommand & { end: number }> = [];
  let base = 0;
  for (const chunk of chunks) {
    parsed.push(...parser.push(chunk).map(({ command, end }) => ({ ...command, end: base + end })));
    base += chunk.length;
  }
  return parsed;
}

function bulk(value: string | Buffer): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]);
}

function request(...args: Array<string | Buffer>): Buffer {
  return Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map(bulk)]);
}

describe('RESP reply scanner', () => {
  const replies = [
    '+OK\r\n',
    '-ERR wrong\r\n',
    ':42\r\n',
    '$5\r\nhe\r\no\r\n',
    '$-1\r\n',
    '$0\r\n\r\n',
    '*2\r\n$1\r\na\r\n*1\r\n:1\r\n',
    '*-1\r\n',
    '*0\r\n',
    '%2\r\n+k\r\n~2\r\n,1.5\r\n#t\r\n+k2\r\n_\r\n',
    '(12345678901234567890\r\n',
    '=8\r\ntxt:abcd\r\n',
    '!3\r\nerr\r\n',
    '|1\r\n+ttl\r\n:7\r\n:1\r\n',
    '*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n',
  ];
  const push = '>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n';
  const stream = Buffer.from(replies.join('') + push + '+PONG\r\n');
  const expected = [...replies, push + '+PONG\r\n'].reduce<number[]>(
    (ends, reply) => [...ends, (ends.at(-1) ?? 0) + Buffer.byteLength(reply)],
    [],
  );

  it('finds the end of every RESP2 and RESP3 reply, skipping out-of-band pushes', () => {
    expect(replyEnds([stream])).toEqual(expected);
  });

  it('finds the same ends however the stream is cut', () => {
    for (let size = 1; size < 12; size++) {
      expect(replyEnds(split(stream, Array(stream.length).fill(size)))).toEqual(expected);
    }
    for (let cut = 1; cut < stream.length; cut++) expect(replyEnds(split(stream, [cut]))).toEqual(expected);
  });

  it('skips a 1 MB bulk reply cut into network-sized chunks', () => {
    const big = Buffer.concat([bulk(randomBytes(1024 * 1024)), Buffer.from('+OK\r\n')]);
    expect(replyEnds(split(big, Array(100).fill(65_536)))).toEqual([big.length - 5, big.length]);
  });
});

describe('RESP request parser', () => {
  const stream = Buffer.concat([
    request('set', 'k', 'a\r\nb'),
    Buffer.from('PING\r\n\r\nget  k\n'),
    request('EVALSHA', 'abc', '1', 'k:lease:1', 'x'),
    Buffer.from('*0\r\n'),
    request('del', ''),
  ]);
  const expected = [
    { name: 'SET', args: ['k', 'a\r\nb'] },
    { name: 'PING', args: [] },
    { name: 'GET', args: ['k'] },
    { name: 'EVALSHA', args: ['abc', '1', 'k:lease:1', 'x'] },
    { name: 'DEL', args: [''] },
  ];

  const readable = (parsed: Array<ProxiedCommand & { end: number }>) =>
    parsed.map(({ name, args }) => ({ name, args: args.map((arg) => arg.toString()) }));

  it('splits arrays of bulk strings and inline commands into upper-cased names and arguments', () => {
    const parsed = commands([stream]);
    expect(readable(parsed)).toEqual(expected);
    expect(parsed.at(-1)?.end).toBe(stream.length);
  });

  it('parses the same commands however the stream is cut', () => {
    const whole = commands([stream]).map(({ end }) => end);
    for (let cut = 1; cut < stream.length; cut++) {
      const parsed = commands(split(stream, [cut]));
      expect(readable(parsed)).toEqual(expected);
      expect(parsed.map(({ end }) => end)).toEqual(whole);
    }
    expect(readable(commands(split(stream, Array(stream.length).fill(1))))).toEqual(expected);
  });

  it('keeps a 1 MB argument intact across chunks', () => {
    const value = randomBytes(1024 * 1024);
    const parsed = commands(split(Buffer.concat([request('SET', 'big', value), request('PING')]), Array(100).fill(65_536)));
    expect(parsed.map(({ name }) => name)).toEqual(['SET', 'PING']);
    expect(parsed[0].args[1].equals(value)).toBe(true);
  });
});
