import type { Producer } from '@brook/broker';
import type { FaultPhase, HistorySink } from './history.js';
import type { WorkloadValue } from './workload.js';

/**
 * Produces to each partition of a topic on its own, one key per partition (`<keyPrefix><partition>`), in a
 * loop per partition: a send that waits on a stuck shard holds up only its own partition's loop,
 * so the others keep getting messages. Every send is recorded in the history as `Workload` does.
 */
export class PartitionWorkload {
  private readonly seqs: number[];
  private running = false;
  private loops: Array<Promise<void>> = [];
  /** Sends that failed, counted by what they failed with (`<error name>: <message>`, numbers blanked). */
  readonly failures = new Map<string, number>();

  constructor(
    private readonly producer: Producer,
    readonly topic: string,
    readonly partitions: number,
    private readonly history: HistorySink,
    /** Starts every key, so several workloads can write one topic with keys of their own. @defaultValue `'p'` */
    private readonly keyPrefix = 'p',
  ) {
    this.seqs = new Array<number>(partitions).fill(0);
  }

  /** Messages sent to `partition` so far. */
  sent(partition: number): number {
    return this.seqs[partition];
  }

  /** Starts every partition's loop: `perSend` messages, then a pause of `everyMs`, until `stop()`. */
  start({ perSend = 1, everyMs = 100, phase }: { perSend?: number; everyMs?: number; phase: () => FaultPhase }): void {
    this.running = true;
    this.loops = Array.from({ length: this.partitions }, async (_, partition) => {
      while (this.running) {
        await Promise.all([this.produce(partition, perSend, phase()), new Promise((resolve) => setTimeout(resolve, everyMs))]);
      }
    });
  }

  /** Stops the loops; resolves once every send in flight has settled. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async produce(partition: number, count: number, phase: FaultPhase): Promise<void> {
    const key = `${this.keyPrefix}${partition}`;
    const values: WorkloadValue[] = Array.from({ length: count }, () => {
      const seq = this.seqs[partition]++;
      return { uid: `${key}#${seq}`, key, seq };
    });
    const at = Date.now();
    const record = (v: WorkloadValue, offset: number, acknowledged: boolean) =>
      this.history.record({ kind: 'produced', uid: v.uid, key, seq: v.seq, topic: this.topic, partition, offset, acks: this.producer.options.acks, acknowledged, at, phase });
    try {
      const metadata = await this.producer.send({ topic: this.topic, messages: values.map((value) => ({ partition, key, value })) });
      values.forEach((v, i) => record(v, metadata[i].offset, true));
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message.replace(/\d+/g, 'N')}` : String(error);
      this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
      for (const v of values) record(v, -1, false);
    }
  }
}
