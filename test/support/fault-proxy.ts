import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ProxiedConnection, type ClaimedFault, type ConnectionHooks } from './proxied-connection.js';
import type { ProxiedCommand } from './resp-parser.js';

export type { ProxiedCommand } from './resp-parser.js';

/** Decides whether a command trips a fault. */
export type CommandMatcher = (command: ProxiedCommand) => boolean;

const SEEN_MAX_COMMANDS = 10_000;
/** `seen` also drops its oldest commands past this many argument bytes, so a run of 1 MB messages cannot pin gigabytes. */
const SEEN_MAX_BYTES = 64 * 1024 * 1024;

interface ArmedFault extends ClaimedFault {
  match: CommandMatcher;
  once: boolean;
}

function bytesOf(command: ProxiedCommand): number {
  return command.args.reduce((total, arg) => total + arg.length, command.name.length);
}

/**
 * A TCP proxy between Redis clients and one redis-server that injects network faults: lost
 * replies, partitions, resets and slow replies. Each client connection gets its own connection to
 * Redis; bytes are forwarded as they arrive and parsed on the way, so faults can target a command.
 *
 * @example
 * const proxy = await FaultProxy.start({ port: server.port });
 * const dropped = proxy.dropReplyOnce(both(commandNamed('EVALSHA'), argumentContains(':lease:')));
 * // … point the client under test at proxy.url, then:
 * await dropped;
 */
export class FaultProxy {
  /**
   * Every command forwarded to Redis since start, in order. Bounded: at most the last 10,000 (and
   * fewer once their arguments pass 64 MiB). Commands a client sent after one whose reply is being
   * dropped never reach Redis and are not listed.
   */
  readonly seen: ProxiedCommand[] = [];
  private seenBytes = 0;
  private readonly open = new Set<ProxiedConnection>();
  /** Clients that connected during a partition; they never reach Redis. */
  private readonly held = new Set<Socket>();
  private readonly armed: ArmedFault[] = [];
  private blackholed = false;
  private replyDelayMs = 0;
  private readonly hooks: ConnectionHooks = {
    forwarded: (command) => this.record(command),
    claimFault: (command) => this.claimFault(command),
    isBlackholed: () => this.blackholed,
    replyDelayMs: () => this.replyDelayMs,
  };

  private constructor(
    private readonly listener: Server,
    /** The port the proxy listens on, at 127.0.0.1. */
    readonly port: number,
    private readonly target: { host?: string; port: number },
  ) {
    listener.on('connection', (socket) => this.accept(socket));
  }

  /** Starts a proxy to `target` (host defaults to 127.0.0.1), listening on a free port of 127.0.0.1. */
  static async start(target: { host?: string; port: number }): Promise<FaultProxy> {
    const listener = createServer();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', () => resolve());
    });
    return new FaultProxy(listener, (listener.address() as AddressInfo).port, { ...target });
  }

  /** `redis://127.0.0.1:<port>`, to hand to the client under test. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Client connections open right now, including ones hanging in a partition. */
  get connections(): number {
    return this.open.size + this.held.size;
  }

  /**
   * Arms a one-shot fault: the next command from any client that matches is forwarded to Redis and
   * executed, but its reply (and everything after it on that connection) is dropped, and once the
   * server's reply to that command has arrived at the proxy, the client connection is closed and
   * its server-side connection too. Replies of commands pipelined before the matching one on the
   * same connection are delivered normally; commands sent after it on that connection never reach
   * Redis. Resolves with the matched command once the client connection has closed. The close is a
   * FIN sent after those replies (a reset could discard them in the kernel); use `resetAll()` for
   * a reset. Commands on pub/sub or MONITOR connections never match, because their replies cannot
   * be counted. If the connection dies before the reply arrives, the fault is armed again.
   */
  dropReplyOnce(match: CommandMatcher): Promise<ProxiedCommand> {
    return new Promise((resolve) => {
      const fault: ArmedFault = { match, once: true, tripped: resolve, abandoned: () => this.armed.unshift(fault) };
      this.armed.push(fault);
    });
  }

  /**
   * Like {@link FaultProxy.dropReplyOnce}, for every matching command until `disarm()`. `count()`
   * is the number of replies dropped so far (counted once each connection has closed). Disarming
   * does not save a command that already matched.
   */
  dropReplies(match: CommandMatcher): { count(): number; disarm(): void } {
    let count = 0;
    const fault: ArmedFault = { match, once: false, tripped: () => count++, abandoned: () => undefined };
    this.armed.push(fault);
    return {
      count: () => count,
      disarm: () => {
        const index = this.armed.indexOf(fault);
        if (index !== -1) this.armed.splice(index, 1);
      },
    };
  }

  /** Stops forwarding in both directions without closing anything (a network partition); new connections hang too. */
  blackhole(): void {
    this.blackholed = true;
  }

  /**
   * Forwards again; data sent while black-holed is discarded, not delivered (as a partition drops
   * packets). Connections that were open during the partition are reset so clients reconnect.
   */
  restore(): void {
    if (!this.blackholed) return;
    this.blackholed = false;
    this.resetAll();
  }

  /** Resets (TCP RST) every client connection now, and closes their server-side connections. */
  resetAll(): void {
    for (const connection of this.open) connection.reset();
    for (const socket of this.held) socket.resetAndDestroy();
  }

  /** Holds every server reply back by `ms` from when it reaches the proxy (0 turns it off), in order. */
  setReplyDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`FaultProxy.setReplyDelay: ms must be a finite number >= 0, got ${ms}`);
    this.replyDelayMs = ms;
  }

  /** Disarms every fault, resets every connection and stops listening. Pending `dropReplyOnce` promises stay pending. */
  async stop(): Promise<void> {
    this.armed.length = 0;
    this.blackholed = false;
    await new Promise<void>((resolve) => {
      this.listener.close(() => resolve());
      this.resetAll();
    });
  }

  private accept(socket: Socket): void {
    if (this.blackholed) {
      this.held.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => this.held.delete(socket));
      socket.resume(); // read and discard, as a partition would
      return;
    }
    const connection = new ProxiedConnection(socket, this.target, this.hooks);
    this.open.add(connection);
    void connection.closed.then(() => this.open.delete(connection));
  }

  private record(command: ProxiedCommand): void {
    this.seen.push(command);
    this.seenBytes += bytesOf(command);
    while (this.seen.length > SEEN_MAX_COMMANDS || (this.seenBytes > SEEN_MAX_BYTES && this.seen.length > 1)) {
      this.seenBytes -= bytesOf(this.seen.shift()!);
    }
  }

  private claimFault(command: ProxiedCommand): ClaimedFault | undefined {
    const index = this.armed.findIndex((fault) => fault.match(command));
    if (index === -1) return undefined;
    const fault = this.armed[index];
    if (fault.once) this.armed.splice(index, 1);
    return fault;
  }
}

/** Matches commands named `name` (any case), e.g. `commandNamed('xreadgroup')`. */
export function commandNamed(name: string): CommandMatcher {
  const wanted = name.toUpperCase();
  return (command) => command.name === wanted;
}

/** Matches commands with an argument containing `text`, e.g. a key part like `':lease:'`. */
export function argumentContains(text: string): CommandMatcher {
  const needle = Buffer.from(text);
  return (command) => command.args.some((arg) => arg.includes(needle));
}

/** Matches commands every one of `matchers` matches. */
export function both(...matchers: CommandMatcher[]): CommandMatcher {
  return (command) => matchers.every((matches) => matches(command));
}
