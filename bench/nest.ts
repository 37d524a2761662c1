/**
 * NestJS overhead: the consume benchmark through a `@Subscribe` handler in a Nest application context
 * (BrokerModule, Nest's handler pipeline: guards, interceptors, pipes, filters — none bound here, as
 * in most services), against the library consumer with the same no-op handler, on the same Redis in
 * the same run. The Nest variant is timed from app.init() (module init, subscribe, run) until the
 * last message was handled. Target: ≥ 0.8× the library consumer.
 * Each variant runs BENCH_ROUNDS times (default 3), interleaved; medians are reported.
 */
import 'reflect-metadata';
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Brook } from '@brook/broker';
import { BrokerModule, Payload, Subscribe } from '@brook/nest-adapter';
import { benchRedis, formatRate, medians, produceOrders, rate, report } from './support/bench-redis.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 200_000);
const PARTITIONS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PREFIX = 'bench-nest';
const TOPIC = 'bench.nest';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let groups = 0;
let handled = 0;
let done: () => void = () => undefined;

function finished(): Promise<void> {
  handled = 0;
  return new Promise<void>((resolve) => (done = resolve));
}

async function library(url: string): Promise<number> {
  const brook = new Brook({ redis: url, clientId: 'bench-library', prefix: PREFIX, logger: quiet });
  const consumer = brook.consumer({ group: `library-${++groups}` });
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const all = finished();
  const started = performance.now();
  await consumer.run({
    eachMessage: async () => {
      if (++handled === TOTAL) done();
    },
  });
  await all;
  const elapsed = performance.now() - started;
  await brook.close();
  return rate(TOTAL, elapsed);
}

function benchModule(url: string, group: string): DynamicModule {
  @Injectable()
  class Orders {
    @Subscribe(TOPIC, group, { fromBeginning: true })
    async handle(@Payload() _order: unknown) {
      if (++handled === TOTAL) done();
    }
  }
  @Module({})
  class BenchModule {}
  return { module: BenchModule, imports: [BrokerModule.forRoot({ redis: url, prefix: PREFIX, clientId: 'bench-nest', logger: quiet })], providers: [Orders] };
}

async function nest(url: string): Promise<number> {
  const app = await NestFactory.createApplicationContext(benchModule(url, `nest-${++groups}`), { logger: false, abortOnError: false });
  const all = finished();
  const started = performance.now();
  await app.init();
  await all;
  const elapsed = performance.now() - started;
  await app.close();
  return rate(TOTAL, elapsed);
}

const redis = await benchRedis();
try {
  await produceOrders(redis.url, { prefix: PREFIX, topic: TOPIC, partitions: PARTITIONS, total: TOTAL });
  const { lib, viaNest } = await medians(ROUNDS, { lib: () => library(redis.url), viaNest: () => nest(redis.url) });
  report(`nest: median of ${ROUNDS} rounds, ${TOTAL.toLocaleString('en-US')} messages, ${PARTITIONS} partitions, one consumer, no-op handler`, [
    ['library consumer', formatRate(lib)],
    ['@Subscribe handler in a Nest application', formatRate(viaNest)],
  ], { ratio: viaNest / lib, target: 0.8 });
} finally {
  await redis.stop();
}
