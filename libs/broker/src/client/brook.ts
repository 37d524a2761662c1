import { Admin } from '../admin/admin.js';
import { ClusterAdmin } from '../admin/cluster-admin.js';
import { Consumer } from '../consumer/consumer.js';
import { ShareConsumer } from '../consumer/share-consumer.js';
import type { ShareConsumerOptions } from '../consumer/share-consumer.options.js';
import { ControllerLease } from '../controller/controller-lease.js';
import type { ControllerLeaseOptions } from '../controller/controller-lease.options.js';
import type { ConsumerOptions } from '../consumer/consumer.options.js';
import { Producer } from '../producer/producer.js';
import type { ProducerOptions } from '../producer/producer.options.js';
import { AuditLog } from '../dead-letters/audit-log.js';
import { DeadLetterAdmin } from '../dead-letters/dead-letter-admin.js';
import { ReplayJobs } from '../dead-letters/replay-jobs.js';
import { DeadLetterRetentionPolicy } from '../dead-letters/dead-letter-retention.js';
import { GroupAdmin } from '../groups/group-admin.js';
import { TopicAdmin } from '../topics/topic-admin.js';
import { TopicRegistry } from '../topics/topic-registry.js';
import { resolveBrookOptions, type BrookOptions, type ResolvedBrookOptions } from './brook.options.js';
import { BrookContext } from './context.js';

/**
 * Entry point: one per process and Redis deployment. Creates producers, consumers and the admin
 * client, which share its connections; `close()` shuts all of them down.
 *
 * ```ts
 * const brook = new Brook({ redis: 'redis://127.0.0.1:6379', clientId: 'orders-svc' });
 * await brook.admin().createTopic({ topic: 'orders.created', partitions: 6 });
 * await brook.producer().send({ topic: 'orders.created', messages: [{ key: 'customer-42', value: { id: 1 } }] });
 * await brook.close();
 * ```
 */
export class Brook {
  private readonly ctx: BrookContext;
  private readonly registry: TopicRegistry;
  private readonly topicAdmin: TopicAdmin;
  private adminClient: Admin | undefined;
  private adminProducer: Producer | undefined;

  constructor(options: BrookOptions) {
    this.ctx = new BrookContext(resolveBrookOptions(options));
    this.registry = new TopicRegistry(this.ctx);
    this.topicAdmin = new TopicAdmin(this.ctx, this.registry);
  }

  /** The resolved options. */
  get options(): ResolvedBrookOptions {
    return this.ctx.options;
  }

  /** The admin client (one per Brook). */
  admin(): Admin {
    this.ctx.assertOpen();
    if (this.adminClient === undefined) {
      // One audit log for dead-letter operations, replay jobs and group deletions.
      const auditLog = new AuditLog(this.ctx);
      this.adminClient = new Admin(
        this.ctx,
        this.topicAdmin,
        new GroupAdmin(this.ctx, this.registry, auditLog),
        this.deadLetterAdmin(auditLog),
        new ClusterAdmin(this.ctx, this.registry),
      );
    }
    return this.adminClient;
  }

  private deadLetterAdmin(auditLog: AuditLog): DeadLetterAdmin {
    return new DeadLetterAdmin(this.ctx, this.registry, () => (this.adminProducer ??= this.producer()), auditLog, new ReplayJobs(this.ctx, auditLog), new DeadLetterRetentionPolicy(this.ctx, this.registry));
  }

  /** A new producer. */
  producer(options?: ProducerOptions): Producer {
    this.ctx.assertOpen();
    return new Producer(this.ctx, this.registry, this.topicAdmin, options);
  }

  /** A new member of a consumer group. */
  consumer(options: ConsumerOptions): Consumer {
    this.ctx.assertOpen();
    return new Consumer(this.ctx, this.registry, options);
  }

  /**
   * A new member of a share group: every member reads every partition, each record is acquired by
   * one member under a lock (Kafka's KIP-932 share groups).
   */
  shareConsumer(options: ShareConsumerOptions): ShareConsumer {
    this.ctx.assertOpen();
    return new ShareConsumer(this.ctx, this.registry, options);
  }

  /**
   * A candidate for the maintenance controller's leader lease: of all candidates on this Redis and
   * key prefix at most one leads at a time. Call `start()` to campaign; `close()` (or this client's)
   * hands the lease over.
   */
  controllerLease(options?: ControllerLeaseOptions): ControllerLease {
    this.ctx.assertOpen();
    return new ControllerLease(this.ctx, options);
  }

  /** Stops consumers, flushes producers and closes every connection. Idempotent. */
  close(): Promise<void> {
    return this.ctx.close();
  }
}
