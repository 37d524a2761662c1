import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, type RunOptions } from '@brook/broker';
import { createBrook, uniqueName } from '../support/brook.js';

const eachMessage = async () => undefined;
const eachBatch = async () => undefined;

describe('run options of the parallel modes', () => {
  it.each<[string, RunOptions, RegExp]>([
    ['an unknown ordering', { ordering: 'bogus' as never, eachMessage }, /ordering must be one of 'partition', 'key', 'none'; got "bogus"/],
    ["eachBatch with ordering 'key'", { ordering: 'key', eachBatch }, /eachBatch .* takes ordering: 'partition'; use eachMessage with ordering: 'key'/],
    ["eachBatch with ordering 'none'", { ordering: 'none', eachBatch }, /eachBatch .* takes ordering: 'partition'; use eachMessage with ordering: 'none'/],
    ['eachMessage and eachBatch together', { eachMessage, eachBatch }, /run takes eachMessage or eachBatch, not both/],
    ["partitionsConsumedConcurrently with ordering 'key'", { ordering: 'key', partitionsConsumedConcurrently: 4, eachMessage }, /with ordering: 'key' set concurrency/],
    ['concurrency 0', { ordering: 'none', concurrency: 0, eachMessage }, /concurrency must be an integer from 1 to 10000; got 0/],
  ])('rejects %s with an InvalidArgumentError naming the fix, and joins nothing', async (_, options, message) => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    const group = uniqueName('billing');
    await brook.admin().createTopic({ topic, partitions: 2 });
    const consumer = brook.consumer({ group });
    await consumer.subscribe({ topic, fromBeginning: true });

    const run = consumer.run(options);
    await expect(run).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(run).rejects.toThrow(message);
    expect((await brook.admin().listGroups()).map((listing) => listing.group)).not.toContain(group);
  });
});
