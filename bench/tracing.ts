/**
 * Tracing cost: the consume benchmark (200,000 JSON messages of about 200 bytes on 8 partitions,
 * one consumer, default options, a no-op handler) several ways, interleaved in one run:
 * - `tracing: false` — `@opentelemetry/api` is never loaded, as when it is not installed (the baseline);
 * - the API loaded and no SDK registered — what every user who has the API but no SDK gets;
 * - an SDK registered (NodeTracerProvider: AsyncLocalStorage context, W3C propagation, a
 *   BatchSpanProcessor) exporting to a no-op exporter, so every message gets a recorded CONSUMER
 *   span parented to its producer's context and its handler runs inside it.
 * The messages were produced with the SDK registered, so each carries a sampled `traceparent`.
 * Targets: ≥ 0.97× the baseline without an SDK, ≥ 0.85× with the SDK.
 * A fourth variant separates Brook's own spans from what the SDK costs the whole process: the SDK
 * registered and its AsyncLocalStorage context manager in use (as an HTTP instrumentation would
 * have it), with `tracing: false`. On Node 20 an AsyncLocalStorage in use hooks every promise the
 * process makes, Brook's and ioredis' included.
 * Each variant runs BENCH_ROUNDS times (default 3), interleaved; medians are reported.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Brook } from '@brook/broker';
import { benchRedis, formatRate, medians, produceOrders, rate, report } from './support/bench-redis.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 200_000);
const PARTITIONS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PREFIX = 'bench-tracing';
const TOPIC = 'bench.tracing';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Takes the spans and drops them: what is measured is Brook's and the SDK's work, not an exporter's I/O. */
class NoopExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.exported += spans.length;
    done({ code: 0 }); // ExportResultCode.SUCCESS
  }
  async shutdown(): Promise<void> {}
}

/** Registers an SDK for the duration of `work`, then removes it again (context manager and propagator included). */
async function withSdk<T>(exporter: SpanExporter, work: () => Promise<T>): Promise<T> {
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  try {
    return await work();
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  }
}

let groups = 0;
/** CPU time of this process per message, µs, for each run of each variant. */
const cpuPerMessage: Record<string, number[]> = { off: [], api: [], sdk: [], sdkUntraced: [] };

async function consume(url: string, tracing: boolean, variant: string): Promise<number> {
  const brook = new Brook({ redis: url, clientId: 'bench-consumer', prefix: PREFIX, logger: quiet, tracing });
  const consumer = brook.consumer({ group: `tracing-${++groups}` });
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  let handled = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const started = performance.now();
  const cpu = process.cpuUsage();
  await consumer.run({
    eachMessage: async () => {
      if (++handled === TOTAL) done();
    },
  });
  await finished;
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  cpuPerMessage[variant].push((used.user + used.system) / TOTAL);
  await brook.close();
  return rate(TOTAL, elapsed);
}

function cpu(variant: string): number {
  const values = [...cpuPerMessage[variant]].sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
}

const redis = await benchRedis();
try {
  const producerSpans = new NoopExporter();
  await withSdk(producerSpans, () => produceOrders(redis.url, { prefix: PREFIX, topic: TOPIC, partitions: PARTITIONS, total: TOTAL }));
  const exporter = new NoopExporter();
  const { off, api, sdk, sdkUntraced } = await medians(ROUNDS, {
    off: () => consume(redis.url, false, 'off'),
    api: () => consume(redis.url, true, 'api'),
    sdk: () => withSdk(exporter, () => consume(redis.url, true, 'sdk')),
    sdkUntraced: () =>
      withSdk(exporter, () => {
        // The context manager in use, as any instrumented request would leave it.
        context.with(context.active(), () => undefined);
        return consume(redis.url, false, 'sdkUntraced');
      }),
  });
  report(
    `tracing: median of ${ROUNDS} rounds, ${TOTAL.toLocaleString('en-US')} messages, ${PARTITIONS} partitions, one consumer, no-op handler`,
    [
      ['tracing: false (API never loaded)', formatRate(off)],
      ['API loaded, no SDK', `${formatRate(api)} (${(api / off).toFixed(2)}×)`],
      ['SDK, BatchSpanProcessor, no-op exporter', `${formatRate(sdk)} (${(sdk / off).toFixed(2)}×)`],
      ['SDK in use, tracing: false', `${formatRate(sdkUntraced)} (${(sdkUntraced / off).toFixed(2)}×); Brook's spans on top: ${(sdk / sdkUntraced).toFixed(2)}×`],
      [
        'CPU per message (this process)',
        `${cpu('off').toFixed(1)} µs; no SDK ${cpu('api').toFixed(1)} µs; SDK ${cpu('sdk').toFixed(1)} µs; SDK in use, tracing: false ${cpu('sdkUntraced').toFixed(1)} µs`,
      ],
      [
        'throughput ratio by CPU time',
        `no SDK ${(cpu('off') / cpu('api')).toFixed(2)}×; SDK ${(cpu('off') / cpu('sdk')).toFixed(2)}×; Brook's spans on top of the SDK in use ${(cpu('sdkUntraced') / cpu('sdk')).toFixed(2)}×`,
      ],
      ['spans exported (consumer, all rounds)', exporter.exported.toLocaleString('en-US')],
      ['send spans while producing', producerSpans.exported.toLocaleString('en-US')],
    ],
    [
      { label: 'no SDK / baseline', ratio: api / off, target: 0.97 },
      { label: 'SDK / baseline', ratio: sdk / off, target: 0.85 },
    ],
  );
} finally {
  await redis.stop();
}
