import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { BrookContext } from '../client/context.js';
import { BrokerError, ClosedError } from '../errors/errors.js';
import { SCRIPTS } from '../redis/script-table.js';
import { resolveControllerLeaseOptions, type ControllerLeaseOptions, type ResolvedControllerLeaseOptions } from './controller-lease.options.js';

/** Why a term ended. */
export type RevokeReason = 'expired' | 'taken' | 'closed';

/** Events a controller lease emits, with their payloads. */
export interface ControllerLeaseEvents {
  /** This candidate became the leader; `epoch` numbers the term and is higher than every earlier term's. */
  elected: [{ epoch: number }];
  /**
   * This candidate stopped leading: its term ran out before a renewal came back (the process was
   * paused, Redis was slow or unreachable), another candidate holds the lease, or it was closed.
   */
  revoked: [{ epoch: number; reason: RevokeReason }];
  /** A campaign or renewal failed; the next one follows at the renewal interval. */
  'request.error': [{ operation: string; error: BrokerError }];
}

/** The leader of a term. */
export interface LeaseHolder {
  holderId: string;
  epoch: number;
}

interface Term {
  epoch: number;
  /** performance.now() before which the term is surely still valid in Redis. */
  validUntil: number;
  controller: AbortController;
}

/**
 * One candidate for the maintenance controller: among every candidate on the same Redis and key
 * prefix, at most one leads at a time. The leader renews its term every `renewIntervalMs`; when it
 * dies, another candidate takes over within `leaseMs`. A leader counts its term from before it sent
 * the renewal, so it gives up locally no later than Redis lets the term expire: a paused leader
 * that wakes up sees `isLeader === false` before it does any more work, and learns from the epoch
 * whether it was replaced.
 *
 * ```ts
 * const lease = brook.controllerLease({ leaseMs: 10_000 });
 * lease.on('elected', ({ epoch }) => log(`controller since term ${epoch}`));
 * await lease.start();
 * setInterval(() => { if (lease.isLeader) void brook.admin().enforceRetention(); }, 60_000);
 * ```
 */
export class ControllerLease extends EventEmitter<ControllerLeaseEvents> {
  readonly options: ResolvedControllerLeaseOptions;
  private status: 'idle' | 'running' | 'closed' = 'idle';
  private term: Term | undefined;
  private lastSeen: LeaseHolder | null = null;
  private campaignTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private campaigning: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly ctx: BrookContext,
    options?: ControllerLeaseOptions,
  ) {
    super();
    this.options = resolveControllerLeaseOptions(options, `${ctx.options.clientId}-${randomUUID()}`);
    ctx.track(this);
  }

  /** Names this candidate in the lease. */
  get holderId(): string {
    return this.options.holderId;
  }

  /** Whether this candidate leads right now; checked against the clock, so it turns false on time even without I/O. */
  get isLeader(): boolean {
    return this.term !== undefined && performance.now() < this.term.validUntil;
  }

  /** The epoch of the term this candidate leads, or null. */
  get epoch(): number | null {
    return this.isLeader ? this.term!.epoch : null;
  }

  /** Aborted when the current term ends; already aborted when this candidate does not lead. Pass it to long work. */
  get signal(): AbortSignal {
    return this.isLeader ? this.term!.controller.signal : AbortSignal.abort(notLeading(this.lastSeen));
  }

  /** The leader as last seen by this candidate (itself included), or null before any was seen. */
  get leader(): LeaseHolder | null {
    if (this.lastSeen?.holderId === this.holderId && !this.isLeader) return null;
    return this.lastSeen;
  }

  /** Starts campaigning; resolves after the first campaign, when `isLeader` tells whether it won. */
  async start(): Promise<void> {
    this.ctx.assertOpen();
    if (this.status === 'closed') throw new ClosedError('controller lease');
    if (this.status === 'idle') this.status = 'running';
    await this.campaign();
  }

  /**
   * Renews the term now and resolves whether this candidate still leads: for a step that must not
   * run under a term that ended a moment ago.
   */
  async confirm(): Promise<boolean> {
    if (this.status !== 'running') return false;
    await this.campaign();
    return this.isLeader;
  }

  /**
   * Stops campaigning and, when leading, ends the term so another candidate takes over at once.
   * Does not wait for a campaign in flight (Redis may be unreachable): should that one win, its term
   * is released as soon as the reply arrives. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.status = 'closed';
      clearTimeout(this.campaignTimer);
      const term = this.term;
      if (term !== undefined) {
        this.lose('closed');
        await this.release(term.epoch);
      }
      this.ctx.untrack(this);
    })();
    return this.closing;
  }

  private campaign(): Promise<void> {
    this.campaigning ??= this.attempt().finally(() => {
      this.campaigning = undefined;
    });
    return this.campaigning;
  }

  /** One campaign or renewal, then schedules the next. Never rejects. */
  private async attempt(): Promise<void> {
    clearTimeout(this.campaignTimer);
    if (this.term !== undefined && !this.isLeader) this.lose('expired');
    let nextInMs = this.options.renewIntervalMs;
    const sentAt = performance.now();
    const believed = this.term?.epoch ?? 0;
    const operation = believed === 0 ? 'campaign for the controller lease' : 'renew the controller lease';
    try {
      await this.ctx.ready();
      const reply = await this.ctx.call(SCRIPTS.acquireController, { holderId: this.holderId, epoch: believed, leaseMs: this.options.leaseMs });
      if (this.status === 'closed') {
        if (reply.held) await this.release(reply.epoch);
        return;
      }
      if (reply.held) {
        this.lastSeen = { holderId: this.holderId, epoch: reply.epoch };
        this.hold(reply.epoch, sentAt + this.options.leaseMs);
      } else {
        const { epoch, remainingMs, holder } = reply;
        this.lastSeen = { holderId: holder, epoch };
        if (this.term !== undefined) this.lose('taken');
        // Try again just after the leader's term would run out, so a dead leader is replaced within one lease time.
        nextInMs = Math.max(1, Math.min(nextInMs, remainingMs + 1));
      }
    } catch (error) {
      if (this.status === 'running') {
        const brokerError = error instanceof BrokerError ? error : this.ctx.translate(error, operation);
        this.ctx.logger.warn(`Could not ${operation}; trying again`, { error: brokerError.message });
        this.emit('request.error', { operation, error: brokerError });
      }
    }
    if (this.status === 'running') this.campaignTimer = setTimeout(() => void this.campaign(), nextInMs);
  }

  private async release(epoch: number): Promise<void> {
    try {
      await this.ctx.call(SCRIPTS.releaseController, { holderId: this.holderId, epoch });
    } catch (error) {
      // The term then ends by expiry instead.
      this.ctx.logger.warn('Could not release the controller lease; it expires on its own', { error: String(error) });
    }
  }

  /** Records that this candidate holds term `epoch` until `validUntil`. */
  private hold(epoch: number, validUntil: number): void {
    if (performance.now() >= validUntil) {
      // The reply came too late to trust; the term may already be someone else's.
      if (this.term !== undefined) this.lose('expired');
      return;
    }
    if (this.term !== undefined && this.term.epoch !== epoch) this.lose('expired');
    const isNew = this.term === undefined;
    if (isNew) this.term = { epoch, validUntil, controller: new AbortController() };
    else this.term!.validUntil = validUntil;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => {
      if (this.term !== undefined && !this.isLeader) this.lose('expired');
    }, Math.ceil(validUntil - performance.now()) + 1);
    if (isNew) this.emit('elected', { epoch });
  }

  private lose(reason: RevokeReason): void {
    const term = this.term;
    if (term === undefined) return;
    this.term = undefined;
    clearTimeout(this.expiryTimer);
    term.controller.abort(new BrokerError('FENCED', `This process no longer leads the controller: its term ${term.epoch} ended (${reason}).`));
    this.emit('revoked', { epoch: term.epoch, reason });
  }
}

function notLeading(leader: LeaseHolder | null): BrokerError {
  return new BrokerError('FENCED', `This process does not lead the controller${leader === null ? '' : `; '${leader.holderId}' led term ${leader.epoch} when last seen`}.`);
}
