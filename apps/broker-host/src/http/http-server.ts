import { createServer, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ExpressAdapter } from '@nestjs/platform-express';
import { codeOf, errorBody, statusText } from './error-response.js';

/** How long clients may take; see the host options of the same names. */
export interface ServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/**
 * Express under Nest, on an HTTP server that does not wait for slow clients: a request must arrive
 * whole within its timeouts (else 408 and the connection closes), an idle keep-alive connection
 * closes after `keepAliveTimeoutMs`, and a client that asks before sending its body
 * (`Expect: 100-continue`) is told to go on only once its request passed authentication and the
 * rate limit. Errors Node answers itself (timeouts, malformed HTTP) are JSON like all others.
 */
export class HostHttpAdapter extends ExpressAdapter {
  constructor(private readonly timeouts: ServerTimeouts) {
    super();
  }

  // The host uses neither HTTPS nor the shutdown options the base method also handles.
  override initHttpServer(): void {
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = this.timeouts;
    const server = createServer(
      {
        headersTimeout: headersTimeoutMs,
        requestTimeout: requestTimeoutMs,
        // Node enforces both timeouts when it checks its connections, every 30 s unless told otherwise.
        connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeoutMs / 4))),
      },
      this.getInstance(),
    );
    server.keepAliveTimeout = keepAliveTimeoutMs;
    // Without this listener Node answers 100 Continue at once, before any guard ran.
    server.on('checkContinue', (request, response) => server.emit('request', request, response));
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => this.answerClientError(error, socket));
    this.httpServer = server;
  }

  private answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    // Node's own rule: a response already started on this connection cannot be replaced.
    const started = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage?.headersSent === true;
    if (error.code === 'ECONNRESET' || !socket.writable || started) {
      socket.destroy();
      return;
    }
    const { status, message } = this.describe(error);
    const body = JSON.stringify(errorBody(status, codeOf(status), message));
    const head = [`HTTP/1.1 ${status} ${statusText(status)}`, 'Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
  }

  private describe(error: NodeJS.ErrnoException): { status: number; message: string } {
    const { headersTimeoutMs, requestTimeoutMs } = this.timeouts;
    switch (error.code) {
      case 'ERR_HTTP_REQUEST_TIMEOUT':
        return {
          status: 408,
          message:
            `The request did not arrive in time: its headers must arrive within ${headersTimeoutMs} ms (BROOK_HEADERS_TIMEOUT_MS) and all of it ` +
            `within ${requestTimeoutMs} ms (BROOK_REQUEST_TIMEOUT_MS); send requests without pausing.`,
        };
      case 'HPE_HEADER_OVERFLOW':
        return { status: 431, message: 'The request headers are larger than this host accepts (16 KiB); send fewer or shorter headers.' };
      case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
        return { status: 413, message: 'The chunk extensions of the request body are larger than this host accepts; send the body without them.' };
      default:
        return { status: 400, message: `The request is not valid HTTP/1.1 (${error.code ?? 'unparsable'}); send a well-formed request.` };
    }
  }
}
