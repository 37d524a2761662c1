import 'reflect-metadata';
import { Injectable, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { NonRetriableError } from '@brook/broker';
import { BrokerModule, Ctx, InjectBrook, MessageContext, Payload, Subscribe, type BrokerModuleOptions } from '@brook/nest-adapter';
import { Brook } from '@brook/broker';
import { uniqueName, waitFor } from '../support/brook.js';
import { brokerOptions } from './support.js';

/** One line the application's logger received. */
interface Line {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
  context: string | undefined;
}

/** A Nest logger that keeps every line, as an application's logger would print it. */
function captureLogger(lines: Line[]): LoggerService {
  const keep = (level: Line['level']) => (message: unknown, ...rest: unknown[]) => {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    const text = message instanceof Error ? `${message.message}\n${message.stack}` : String(message);
    const extra = rest.slice(0, context === undefined ? rest.length : -1).map(String);
    lines.push({ level, message: [text, ...extra].join('\n'), context });
  };
  return { log: keep('log'), error: keep('error'), warn: keep('warn'), debug: keep('debug'), verbose: keep('verbose'), fatal: keep('fatal') };
}

const closing: Array<{ close(): Promise<unknown> }> = [];

afterEach(async () => {
  for (const app of closing.splice(0)) await app.close().catch(() => undefined);
});

async function startLoggedApp(metadata: ModuleMetadata, options: BrokerModuleOptions, lines: Line[]) {
  const moduleRef = await Test.createTestingModule({ ...metadata, imports: [BrokerModule.forRoot(options)] })
    .setLogger(captureLogger(lines))
    .compile();
  closing.push(moduleRef);
  await moduleRef.init();
  return moduleRef;
}

function handlerFor(topic: string, group: string, fail: (text: string, attempt: number) => void) {
  @Injectable()
  class Handler {
    readonly handled: string[] = [];
    @Subscribe(topic, group, { retry: { attempts: 3, backoff: { type: 'fixed', initialMs: 20, jitter: 0 } } })
    async handle(@Payload() text: string, @Ctx() ctx: MessageContext) {
      fail(text, ctx.attempt);
      this.handled.push(text);
    }
  }
  return Handler;
}

function failing(text: string, attempt: number): void {
  if (text === 'flaky' && attempt < 3) throw new Error(`gateway timeout on attempt ${attempt}`);
  if (text === 'poison') throw new NonRetriableError('order 42 was cancelled');
}

describe('logging of handler failures', () => {
  it('logs one WARN line per failed attempt and per dead letter, stacks at debug only, and nothing from ExceptionsHandler', async () => {
    const topic = uniqueName('orders');
    const group = uniqueName('billing');
    const lines: Line[] = [];
    const Handler = handlerFor(topic, group, failing);
    const app = await startLoggedApp({ providers: [Handler] }, brokerOptions({ topics: [{ topic, partitions: 1 }] }), lines);
    const producer = app.get(Brook).producer();
    await producer.send({ topic, messages: [{ value: 'flaky' }, { value: 'poison' }, { value: 'fine' }] });
    await waitFor(() => app.get(Handler).handled.includes('fine'), { timeoutMs: 20_000 });
    await producer.close();

    const failures = lines.filter((line) => /failed on|Dead-lettered/.test(line.message));
    expect(failures.map((line) => [line.level, line.context])).toEqual([
      ['warn', 'Brook'],
      ['warn', 'Brook'],
      ['warn', 'Brook'],
    ]);
    expect(failures[0].message).toContain(`Attempt 1 failed on ${topic}[0]@0 in group '${group}': Error: gateway timeout on attempt 1; attempt 2 in 20 ms`);
    expect(failures[0].message).toContain(`topic=${topic} partition=0 offset=0 attempt=1`);
    expect(failures[1].message).toContain('attempt=2');
    expect(failures[2].message).toContain(`Dead-lettered ${topic}[0]@1 for group '${group}': non-retriable after 1 attempt(s): NonRetriableError: order 42 was cancelled`);
    // One line each: no stack in the WARN lines.
    for (const line of failures) expect(line.message).not.toContain('\n');
    // The stacks are there, at debug.
    const stacks = lines.filter((line) => line.level === 'debug' && line.message.includes('    at '));
    expect(stacks).toHaveLength(3);
    // Nobody logs the failures at ERROR, and Nest's ExceptionsHandler does not log them again.
    expect(lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
    expect(lines.filter((line) => line.context === 'ExceptionsHandler')).toEqual([]);
  });

  it('follows the logging option: attempts off, dead letters at error, no stacks', async () => {
    const topic = uniqueName('orders');
    const group = uniqueName('billing');
    const lines: Line[] = [];
    const Handler = handlerFor(topic, group, failing);
    const options = brokerOptions({ topics: [{ topic, partitions: 1 }], logging: { failedAttempt: 'off', deadLetter: 'error', stack: 'off' } });
    const app = await startLoggedApp({ providers: [Handler] }, options, lines);
    const producer = app.get(Brook).producer();
    await producer.send({ topic, messages: [{ value: 'flaky' }, { value: 'poison' }, { value: 'fine' }] });
    await waitFor(() => app.get(Handler).handled.includes('fine'), { timeoutMs: 20_000 });
    await producer.close();

    expect(lines.filter((line) => line.message.includes('failed on'))).toEqual([]);
    expect(lines.filter((line) => line.message.includes('Dead-lettered')).map((line) => line.level)).toEqual(['error']);
    expect(lines.filter((line) => line.message.includes('    at '))).toEqual([]);
  });

  it('refuses an unknown logging setting at bootstrap, naming the fix', async () => {
    const lines: Line[] = [];
    await expect(
      startLoggedApp({ providers: [] }, brokerOptions({ logging: { failedAttempt: 'loud' as 'warn' } }), lines),
    ).rejects.toThrow(/logging.failedAttempt must be one of 'verbose', 'debug', 'log', 'warn', 'error', 'off'; got "loud"/);
  });
});
