import { connect, type Socket } from 'node:net';
import { afterEach } from 'vitest';

/** A response as read off the wire. */
export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** A TCP connection to a host, for requests `fetch` cannot make: stalled, partial, malformed. */
export interface RawConnection {
  socket: Socket;
  write(data: string | Buffer): void;
  /** Everything received so far, as latin1 text. */
  received(): string;
  /** The responses received so far, in order. */
  responses(): RawResponse[];
  /** Resolves with the `n`th response (from 1) once it has arrived whole. */
  response(n?: number): Promise<RawResponse>;
  /** Resolves when the host has closed the connection, with the ms since it was opened. */
  closed: Promise<number>;
}

const open: Socket[] = [];

/** Opens a connection to the host at `url`; closed after the test. */
export async function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  open.push(socket);
  const openedAt = performance.now();
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let data = '';
  const waiting: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
    for (const wake of waiting.splice(0)) wake();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - openedAt)));
  void closed.then(() => {
    for (const wake of waiting.splice(0)) wake();
  });
  const responses = () => parseResponses(data);
  return {
    socket,
    write: (chunk) => socket.write(chunk),
    received: () => data,
    responses,
    closed,
    async response(n = 1) {
      for (;;) {
        const all = responses();
        if (all.length >= n) return all[n - 1];
        if (socket.destroyed) throw new Error(`the connection closed after ${all.length} response(s): ${JSON.stringify(data.slice(0, 300))}`);
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
  };
}

/** Complete responses in `data`: status line, headers and a Content-Length body (no chunked bodies). */
function parseResponses(data: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) return responses;
    const [statusLine, ...lines] = data.slice(at, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    const status = Number(statusLine.split(' ')[1]);
    const length = status === 100 ? 0 : Number(headers['content-length'] ?? 0);
    if (data.length < end + 4 + length) return responses;
    responses.push({ status, headers, body: Buffer.from(data.slice(end + 4, end + 4 + length), 'latin1').toString('utf8') });
    at = end + 4 + length;
  }
}

/** The head of a request, ready to write. */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): string {
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
}

afterEach(() => {
  for (const socket of open.splice(0)) socket.destroy();
});
