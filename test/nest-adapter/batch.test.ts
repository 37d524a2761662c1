import './support.js';
import {
  Catch,
  Injectable,
  ParseArrayPipe,
  UseFilters,
  UseGuards,
  UseInterceptors,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { IsInt, IsPositive } from 'class-validator';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Brook, type Message } from '@brook/broker';
import { BatchContext, Ctx, Payload, SubscribeBatch } from '@brook/nest-adapter';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { brokerOptions, startApp } from './support.js';

class LineDto {
  @IsInt() @IsPositive() n!: number;
}

/** Writes `messages` to partition 0 of a new one-partition topic before the app starts, so the first batch holds all of them. */
async function backlog(prefix: string, topic: string, messages: Message[]): Promise<void> {
  const brook = createBrook({ prefix });
  await brook.admin().createTopic({ topic, partitions: 1 });
  await brook.producer().send({ topic, messages });
}

describe('@SubscribeBatch', () => {
  it('hands the handler the array of values and a batch context, and retries only the messages it did not resolve', async () => {
    const topic = uniqueName('shipments');
    const options = brokerOptions({ topics: [{ topic, partitions: 1 }] });
    await backlog(options.prefix!, topic, Array.from({ length: 5 }, (_, n) => ({ key: `order-${n}`, value: { n }, headers: { source: 'test' } })));
    const calls: Array<{ values: unknown[]; ns: number[]; offsets: number[]; keys: Array<string | null>; topic: string; partition: number; first: number; last: number }> = [];

    @Injectable()
    class Store {
      @SubscribeBatch(topic, 'store', { fromBeginning: true })
      async write(@Payload() values: Array<{ n: number }>, @Payload('n') ns: number[], @Ctx() ctx: BatchContext) {
        calls.push({
          values,
          ns,
          offsets: ctx.messages.map((message) => message.offset),
          keys: ctx.messages.map((message) => message.key),
          topic: ctx.topic,
          partition: ctx.partition,
          first: ctx.firstOffset,
          last: ctx.lastOffset,
        });
        expect(ctx.messages.every((message) => message.headers.source === 'test')).toBe(true);
        expect(ctx.isRunning()).toBe(true);
        expect(ctx.signal.aborted).toBe(false);
        if (calls.length === 1) {
          // The bulk write stored the first three before failing.
          ctx.resolveOffset(ctx.messages[2].offset);
          throw new Error('bulk write failed after 3 rows');
        }
      }
    }

    const app = await startApp({ providers: [Store] }, options);
    await waitFor(() => calls.length === 2, { message: 'the batch and its retry' });
    expect(calls[0]).toEqual({
      values: [0, 1, 2, 3, 4].map((n) => ({ n })),
      ns: [0, 1, 2, 3, 4],
      offsets: [0, 1, 2, 3, 4],
      keys: ['order-0', 'order-1', 'order-2', 'order-3', 'order-4'],
      topic,
      partition: 0,
      first: 0,
      last: 4,
    });
    expect(calls[1]).toMatchObject({ values: [{ n: 3 }, { n: 4 }], offsets: [3, 4], first: 3, last: 4 });

    const admin = app.get(Brook).admin();
    await waitFor(async () => (await admin.describeGroup({ group: 'store', topic })).partitions[0].lag === 0, { message: 'the group to commit the batch' });
    expect((await admin.deadLetters.list({ topic, group: 'store' })).items).toEqual([]);
    expect(calls).toHaveLength(2);
  });

  it('runs pipes, guards, interceptors and exception filters once per batch, dead-lettering a batch a pipe or guard refuses', async () => {
    const topic = uniqueName('lines');
    const options = brokerOptions({ topics: [{ topic, partitions: 1 }] });
    await backlog(options.prefix!, topic, [{ value: { n: 1 } }, { value: { n: 2 } }]);
    const trail: string[] = [];
    const stored: LineDto[][] = [];
    const filtered: string[] = [];

    @Injectable()
    class DenyFlagged implements CanActivate {
      canActivate(context: ExecutionContext) {
        const ctx = context.switchToRpc().getContext<BatchContext>();
        trail.push(`guard:${context.getType()}:${ctx instanceof BatchContext}:${ctx.firstOffset}-${ctx.lastOffset}`);
        return ctx.messages.every((message) => message.headers.flag !== 'deny');
      }
    }

    @Injectable()
    class Count implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler) {
        const values = context.switchToRpc().getData<unknown[]>();
        trail.push(`before:${values.length}`);
        return next.handle().pipe(tap(() => trail.push(`after:${values.length}`)));
      }
    }

    @Catch()
    class RecordErrors implements ExceptionFilter {
      catch(error: unknown, host: ArgumentsHost) {
        filtered.push(`${(error as Error).constructor.name}:${host.switchToRpc().getData<unknown[]>().length}`);
        throw error;
      }
    }

    @Injectable()
    @UseGuards(DenyFlagged)
    @UseInterceptors(Count)
    @UseFilters(RecordErrors)
    class Store {
      @SubscribeBatch(topic, 'store', { fromBeginning: true })
      async write(@Payload(new ParseArrayPipe({ items: LineDto })) lines: LineDto[]) {
        trail.push(`handler:${lines.map((line) => line.n).join(',')}`);
        stored.push(lines);
      }
    }

    const app = await startApp({ providers: [Store, DenyFlagged, Count] }, options);
    await waitFor(() => stored.length === 1, { message: 'the first batch' });
    expect(stored[0].every((line) => line instanceof LineDto)).toBe(true);

    const producer = app.get(Brook).producer();
    await producer.send({ topic, messages: [{ value: { n: -3 } }] });
    const admin = app.get(Brook).admin();
    await waitFor(async () => (await admin.deadLetters.list({ topic, group: 'store' })).items.length === 1, { message: 'the invalid batch to be dead-lettered' });
    await producer.send({ topic, messages: [{ value: { n: 4 }, headers: { flag: 'deny' } }] });
    await waitFor(async () => (await admin.deadLetters.list({ topic, group: 'store' })).items.length === 2, { message: 'the refused batch to be dead-lettered' });

    expect(trail).toEqual(['guard:brook:true:0-1', 'before:2', 'handler:1,2', 'after:2', 'guard:brook:true:2-2', 'before:1', 'guard:brook:true:3-3']);
    expect(filtered).toEqual(['BadRequestException:1', 'ForbiddenException:1']);
    const dead = (await admin.deadLetters.list({ topic, group: 'store' })).items;
    expect(dead.map((d) => [d.offset, d.reason, d.attempts, d.handler])).toEqual([
      [2, 'validation', 1, 'Store.write'],
      [3, 'non-retriable', 1, 'Store.write'],
    ]);
    expect(dead[0].error.message).toMatch(/n must be a positive number/);
  });
});
