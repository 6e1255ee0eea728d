import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createErasureCoder } from './erasureCoder.ts';
import { assertSameShards } from './testShards.ts';
import { createErasureWorkerPool } from './workerPool.ts';

const pool = createErasureWorkerPool({ threads: 2, minColumnsPerThread: 1024 });
after(() => pool.close());

for (const [k, m] of [
  [10, 4],
  [29, 51],
] as const) {
  test(`${k}+${m}: worker threads split by columns give the same parity and rebuild the same shards`, async () => {
    const coder = createErasureCoder({ dataShards: k, parityShards: m, pool });
    const set = coder.allocateShards(50_000);
    set.data.forEach((_, i) => {
      set.data[i] = (i * 2654435761) >>> 24;
    });
    const data = set.shards.slice(0, k);
    const expected = coder.encode(data);
    await coder.encodeParallel(data, set.shards.slice(k));
    assertSameShards(set.shards.slice(k), expected);
    const original = set.shards.map((s) => Uint8Array.from(s));
    const missing = [0, k - 1, k + m - 1];
    for (const i of missing) set.shards[i]!.fill(0);
    await coder.reconstructParallel(set.shards, missing);
    assertSameShards(set.shards, original);
    // Shards outside the coder's memory are copied in once and coded the same way.
    assertSameShards(await coder.encodeParallel(original.slice(0, k)), expected);
    set.release();
    coder.dispose();
  });
}

test('refuses parallel coding without a pool', async () => {
  const coder = createErasureCoder({ dataShards: 2, parityShards: 1 });
  await assert.rejects(coder.encodeParallel([new Uint8Array(4), new Uint8Array(4)]), {
    code: 'ERASURE_BAD_ARGUMENT',
  });
  coder.dispose();
});

test('refuses work once the pool is closed', async () => {
  const closedPool = createErasureWorkerPool({ threads: 1 });
  await closedPool.close();
  const coder = createErasureCoder({ dataShards: 2, parityShards: 1, pool: closedPool });
  await assert.rejects(coder.encodeParallel([new Uint8Array(4), new Uint8Array(4)]), {
    code: 'ERASURE_BAD_ARGUMENT',
  });
  coder.dispose();
});
