import './support.js';
import {
  Catch,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { IsInt, IsPositive, IsString } from 'class-validator';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Brook, NonRetriableError, UnknownTopicError } from '@brook/broker';
import { Ctx, InjectProducer, MessageContext, Payload, Producer, Subscribe, BrookHealthIndicator } from '@brook/nest-adapter';
import { uniqueName, waitFor } from '../support/brook.js';
import { brokerOptions, startApp } from './support.js';

class OrderCreatedDto {
  @IsString() orderId!: string;
  @IsInt() @IsPositive() amount!: number;
}

describe('BrokerModule', () => {
  it('publishes through @Producer, consumes through @Subscribe, retries and dead-letters', async () => {
    const topic = uniqueName('orders.created');
    const completed = uniqueName('payments.completed');
    const seen: Array<{ order: unknown; topic: string; partition: number; offset: number; key: string | null; attempt: number; headers: Record<string, string> }> = [];

    @Injectable()
    class Orders {
      @Producer(topic, { key: (order: { customerId: string }) => order.customerId, headers: (_order, _customerId: string, source: string) => ({ source }) })
      async create(customerId: string, _source: string, amount: number) {
        return { orderId: `o-${amount}`, customerId, amount };
      }
    }

    @Injectable()
    class Billing {
      constructor(@InjectProducer() private readonly producer: Producer) {}

      @Subscribe(topic, 'billing', { retry: { attempts: 2 } })
      async charge(@Payload() order: { orderId: string; amount: number }, @Ctx() ctx: MessageContext) {
        seen.push({ order, topic: ctx.topic, partition: ctx.partition, offset: ctx.offset, key: ctx.key, attempt: ctx.attempt, headers: ctx.headers });
        if (order.amount === 13 && ctx.attempt < 2) throw new Error('gateway timeout');
        if (order.amount === 666) throw new Error('card processor exploded');
        await this.producer.send({ topic: completed, messages: [{ key: order.orderId, value: { orderId: order.orderId } }] });
      }
    }

    const app = await startApp({ providers: [Orders, Billing] }, brokerOptions({ topics: [{ topic, partitions: 3 }, { topic: completed, partitions: 1 }] }));
    const orders = app.get(Orders);
    expect(await orders.create('customer-42', 'api', 10)).toEqual({ orderId: 'o-10', customerId: 'customer-42', amount: 10 });
    await orders.create('customer-7', 'api', 13);
    await orders.create('customer-9', 'batch', 666);

    await waitFor(() => seen.filter((s) => (s.order as { amount: number }).amount === 666).length === 2 && seen.length === 5, { message: 'all deliveries' });
    const first = seen.find((s) => (s.order as { amount: number }).amount === 10)!;
    expect(first).toMatchObject({ topic, key: 'customer-42', attempt: 1, headers: { source: 'api' } });
    expect(seen.filter((s) => (s.order as { amount: number }).amount === 13).map((s) => s.attempt)).toEqual([1, 2]);

    const admin = app.get(Brook).admin();
    const dead = await waitFor(async () => (await admin.deadLetters.list({ topic, group: 'billing' })).items[0]);
    expect(dead).toMatchObject({ reason: 'handler-error', attempts: 2, handler: 'Billing.charge', message: { key: 'customer-9', headers: { source: 'batch' } } });
    const paid = await waitFor(async () => {
      const [partition] = (await admin.describeTopic(completed)).partitions;
      return partition.highOffset === 2 ? partition : undefined;
    });
    expect(paid.highOffset).toBe(2);
  });

  it('runs pipes on @Payload and dead-letters a validation failure at once with reason validation', async () => {
    const topic = uniqueName('orders');
    const valid: OrderCreatedDto[] = [];
    let calls = 0;

    @Injectable()
    class Billing {
      @Subscribe(topic, 'billing')
      async charge(@Payload(new ValidationPipe({ transform: true })) order: OrderCreatedDto) {
        calls++;
        valid.push(order);
      }
    }

    const app = await startApp({ providers: [Billing] }, brokerOptions({ topics: [{ topic, partitions: 1 }] }));
    const brook = app.get(Brook);
    await brook.producer().send({ topic, messages: [{ value: { orderId: 'a', amount: -5 } }, { value: { orderId: 'b', amount: 5 } }] });
    await waitFor(() => valid.length === 1);
    expect(valid[0]).toBeInstanceOf(OrderCreatedDto);
    expect(calls).toBe(1);
    const [dead] = (await brook.admin().deadLetters.list({ topic, group: 'billing' })).items;
    expect(dead).toMatchObject({ offset: 0, reason: 'validation', attempts: 1, error: { name: 'MessageValidationError' } });
    expect(dead.error.message).toMatch(/amount must be a positive number/);
  });

  it('runs guards and interceptors around handlers and lets exception filters see handler errors', async () => {
    const topic = uniqueName('orders');
    const trail: string[] = [];
    const filtered: unknown[] = [];

    @Injectable()
    class DenyFlagged implements CanActivate {
      canActivate(context: ExecutionContext) {
        const ctx = context.switchToRpc().getContext<MessageContext>();
        trail.push(`guard:${context.getType()}:${ctx.offset}`);
        return ctx.headers.flag !== 'deny';
      }
    }

    @Injectable()
    class Timing implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler) {
        const value = context.switchToRpc().getData<{ n: number }>();
        trail.push(`before:${value.n}`);
        return next.handle().pipe(tap(() => trail.push(`after:${value.n}`)));
      }
    }

    @Catch()
    class RecordErrors implements ExceptionFilter {
      catch(error: unknown, _host: ArgumentsHost) {
        filtered.push(error);
        throw error instanceof Error && error.message === 'fatal' ? new NonRetriableError('fatal, do not retry', { cause: error }) : error;
      }
    }

    @Injectable()
    @UseGuards(DenyFlagged)
    @UseInterceptors(Timing)
    @UseFilters(RecordErrors)
    class Billing {
      @Subscribe(topic, 'billing')
      async charge(@Payload('n') n: number) {
        trail.push(`handler:${n}`);
        if (n === 3) throw new Error('fatal');
      }
    }

    const app = await startApp({ providers: [Billing, DenyFlagged, Timing] }, brokerOptions({ topics: [{ topic, partitions: 1 }] }));
    const brook = app.get(Brook);
    await brook.producer().send({ topic, messages: [{ value: { n: 1 } }, { value: { n: 2 }, headers: { flag: 'deny' } }, { value: { n: 3 } }, { value: { n: 4 } }] });
    await waitFor(() => trail.includes('after:4'));
    expect(trail).toEqual([
      'guard:brook:0', 'before:1', 'handler:1', 'after:1',
      'guard:brook:1',
      'guard:brook:2', 'before:3', 'handler:3',
      'guard:brook:3', 'before:4', 'handler:4', 'after:4',
    ]);
    expect(filtered.map((error) => (error as Error).message)).toEqual(['Forbidden resource', 'fatal']);
    const dead = (await brook.admin().deadLetters.list({ topic, group: 'billing' })).items;
    expect(dead.map((d) => [d.offset, d.reason, d.attempts])).toEqual([
      [1, 'non-retriable', 1],
      [2, 'non-retriable', 1],
    ]);
  });

  it('rejects a @Producer call when publishing fails, and publishes arrays element by element', async () => {
    const topic = uniqueName('shipments');

    @Injectable()
    class Shipping {
      @Producer(topic, { array: true, key: (shipment: { id: string }) => shipment.id })
      async shipAll(ids: string[]) {
        return ids.map((id) => ({ id }));
      }

      @Producer('no-such-topic')
      async broken() {
        return { ok: true };
      }

      @Producer(topic)
      async nothing() {
        return undefined;
      }
    }

    const app = await startApp({ providers: [Shipping] }, brokerOptions({ topics: [{ topic, partitions: 2 }] }));
    const shipping = app.get(Shipping);
    await shipping.shipAll(['a', 'b', 'c']);
    const partitions = (await app.get(Brook).admin().describeTopic(topic)).partitions;
    expect(partitions.reduce((sum, p) => sum + p.highOffset, 0)).toBe(3);
    await expect(shipping.broken()).rejects.toBeInstanceOf(UnknownTopicError);
    await expect(shipping.nothing()).rejects.toThrow(/Shipping.nothing resolved undefined/);
    await expect(new Shipping().shipAll(['x'])).rejects.toThrow(/no Brook producer is attached/);
  });

  it('drains in-flight handlers on shutdown: nothing is lost or handled twice across a restart', async () => {
    const topic = uniqueName('orders');
    const options = brokerOptions({ topics: [{ topic, partitions: 2 }], consumer: { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 100 } });
    const handled: number[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));

    @Injectable()
    class Billing {
      @Subscribe(topic, 'billing', { fromBeginning: true })
      async charge(@Payload('n') n: number) {
        if (n === 5) await slow;
        handled.push(n);
      }
    }

    const first = await startApp({ providers: [Billing] }, options);
    await first.get(Brook).producer().send({ topic, messages: Array.from({ length: 10 }, (_, n) => ({ value: { n }, partition: 0 })) });
    await waitFor(() => handled.length === 5, { message: 'the handler to reach the slow message' });
    const closing = first.close();
    setTimeout(release, 100);
    await closing;
    expect(handled).toContain(5);

    const second = await startApp({ providers: [Billing] }, options);
    await second.get(Brook).producer().send({ topic, messages: [{ value: { n: 10 }, partition: 1 }] });
    await waitFor(() => handled.length === 11, { message: 'the rest after the restart' });
    expect([...handled].sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, n) => n));
  });

  it('reports health: Redis reachable, consumers running, lag within the limit', async () => {
    const topic = uniqueName('orders');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));

    @Injectable()
    class Billing {
      @Subscribe(topic, 'billing', { fromBeginning: true })
      async charge() {
        await held;
      }
    }

    const app = await startApp({ providers: [Billing] }, brokerOptions({ topics: [{ topic, partitions: 1 }] }));
    const health = app.get(BrookHealthIndicator);
    expect(await health.isHealthy('brook')).toEqual({ brook: { status: 'up', redis: 'up', consumers: ['billing'] } });
    await app.get(Brook).producer().send({ topic, messages: Array.from({ length: 5 }, (_, n) => ({ value: { n } })) });
    const behind = await waitFor(async () => {
      const result = await health.isHealthy('brook', { maxLag: 2 });
      return result.brook.status === 'down' ? result : undefined;
    });
    expect(behind.brook.message).toMatch(/Lag over 2: billing\/.*=5/);
    release();
    await waitFor(async () => (await health.isHealthy('brook', { maxLag: 2 })).brook.status === 'up');
  });
});
