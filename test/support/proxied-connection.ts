import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { RespReplyScanner, RespRequestParser, type ProxiedCommand } from './resp-parser.js';

/** A fault a connection carries out after one of its commands matched it. */
export interface ClaimedFault {
  /** The reply to `command` reached the proxy, was dropped, and the client connection is closed. */
  tripped(command: ProxiedCommand): void;
  /** The connection closed before the reply to `command` arrived, so the fault did not happen. */
  abandoned(command: ProxiedCommand): void;
}

/** What a connection asks of its proxy. */
export interface ConnectionHooks {
  /** Records a command that is about to reach Redis. */
  forwarded(command: ProxiedCommand): void;
  /** The armed fault `command` trips, if any; claiming a one-shot fault disarms it. */
  claimFault(command: ProxiedCommand): ClaimedFault | undefined;
  /** True while the network is partitioned. */
  isBlackholed(): boolean;
  /** How long server replies are held back. */
  replyDelayMs(): number;
}

/** How long a client may take to close after its reply was dropped before the proxy destroys it. */
const DROP_CLOSE_GRACE_MS = 2_000;

/** After these, replies stop coming one per command, so replies can no longer be matched to commands. */
function breaksReplyCounting({ name, args }: ProxiedCommand): boolean {
  if (name === 'SUBSCRIBE' || name === 'PSUBSCRIBE' || name === 'SSUBSCRIBE' || name === 'MONITOR') return true;
  return name === 'CLIENT' && args[0]?.toString('latin1').toUpperCase() === 'REPLY';
}

/**
 * One client connection of a {@link FaultProxy} and its own connection to Redis. Bytes are
 * forwarded as they arrive and parsed on the way, so a command can be matched and the reply that
 * belongs to it found by counting replies (Redis answers a connection's commands in order).
 */
export class ProxiedConnection {
  /** Resolves once the client connection closed. */
  readonly closed: Promise<void>;
  private readonly server: Socket;
  private readonly requests = new RespRequestParser();
  private readonly replies = new RespReplyScanner();
  private commandsForwarded = 0;
  private repliesReceived = 0;
  /** Set after pub/sub or MONITOR; replies are no longer counted and nothing can be dropped. */
  private untracked = false;
  private dropping: { index: number; command: ProxiedCommand; fault: ClaimedFault; tripped: boolean } | undefined;
  /** The server closed on purpose (QUIT) or the proxy closed it after a dropped reply. */
  private serverDone = false;
  private readonly delayed: Array<{ chunk: Buffer | null; dueAt: number }> = [];
  private delayTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: Socket,
    target: { host?: string; port: number },
    private readonly hooks: ConnectionHooks,
  ) {
    this.server = connect({ host: target.host ?? '127.0.0.1', port: target.port });
    client.setNoDelay(true);
    this.server.setNoDelay(true);
    client.on('error', () => undefined);
    this.server.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      client.once('close', () => {
        this.onClientClosed();
        resolve();
      }),
    );
    this.server.once('close', () => {
      // During a partition the client must not learn that Redis went away.
      if (!this.serverDone && !hooks.isBlackholed()) this.reset();
    });
    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    this.server.on('data', (chunk: Buffer) => this.fromServer(chunk));
    this.server.on('end', () => {
      this.serverDone = true;
      this.fromServer(null);
    });
  }

  /** Closes the client connection with a TCP reset and the server connection with it. */
  reset(): void {
    if (!this.client.destroyed) this.client.resetAndDestroy();
    this.server.destroy();
  }

  private fromClient(chunk: Buffer): void {
    // Nothing after the matched command reaches Redis, so it is the last one the connection runs.
    if (this.hooks.isBlackholed() || this.dropping) return;
    let forwardUpTo = chunk.length;
    for (const { command, end } of this.requests.push(chunk)) {
      const index = this.commandsForwarded++;
      this.hooks.forwarded(command);
      if (breaksReplyCounting(command)) this.untracked = true;
      const fault = this.untracked ? undefined : this.hooks.claimFault(command);
      if (fault) {
        this.dropping = { index, command, fault, tripped: false };
        forwardUpTo = end;
        break;
      }
    }
    this.server.write(forwardUpTo === chunk.length ? chunk : chunk.subarray(0, forwardUpTo));
  }

  /** Takes a chunk from Redis, or `null` for its end of stream, through the reply delay. */
  private fromServer(chunk: Buffer | null): void {
    const delayMs = this.hooks.replyDelayMs();
    if (delayMs <= 0 && this.delayed.length === 0) return this.deliver(chunk);
    this.delayed.push({ chunk, dueAt: performance.now() + delayMs });
    this.scheduleDelayed();
  }

  private scheduleDelayed(): void {
    if (this.delayTimer !== undefined || this.delayed.length === 0) return;
    const waitMs = Math.max(0, Math.ceil(this.delayed[0].dueAt - performance.now()));
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined;
      // Timers may fire a little early by the clock; whatever is not due yet waits for the next round.
      while (this.delayed.length > 0 && this.delayed[0].dueAt <= performance.now()) this.deliver(this.delayed.shift()!.chunk);
      this.scheduleDelayed();
    }, waitMs);
  }

  private deliver(chunk: Buffer | null): void {
    if (this.hooks.isBlackholed() || this.dropping?.tripped) return;
    if (chunk === null) {
      this.client.end();
      return;
    }
    if (this.untracked) {
      this.client.write(chunk);
      return;
    }
    const ends = this.replies.scan(chunk);
    const before = this.repliesReceived;
    this.repliesReceived += ends.length;
    const drop = this.dropping;
    if (!drop) {
      this.client.write(chunk);
      return;
    }
    // Replies before the matched one still belong to the client; the rest of the stream does not.
    const keep = drop.index - before;
    const deliverable = keep <= 0 ? 0 : keep > ends.length ? chunk.length : ends[keep - 1];
    if (deliverable > 0) this.client.write(chunk.subarray(0, deliverable));
    if (this.repliesReceived > drop.index) this.trip(drop);
  }

  private trip(drop: NonNullable<ProxiedConnection['dropping']>): void {
    drop.tripped = true;
    this.serverDone = true;
    this.server.destroy();
    // A FIN rather than a reset: a reset would discard earlier replies still in the kernel's send
    // queue, and those must reach the client. Closing either way makes ioredis fail what is in flight.
    this.client.end();
    this.graceTimer = setTimeout(() => this.client.destroy(), DROP_CLOSE_GRACE_MS);
    void this.closed.then(() => drop.fault.tripped(drop.command));
  }

  private onClientClosed(): void {
    clearTimeout(this.delayTimer);
    clearTimeout(this.graceTimer);
    this.delayed.length = 0;
    this.server.destroy();
    if (this.dropping && !this.dropping.tripped) this.dropping.fault.abandoned(this.dropping.command);
  }
}
