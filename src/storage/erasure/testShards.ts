import assert from 'node:assert/strict';

/**
 * Asserts two lists of shards are byte-for-byte equal with a short message. `assert.deepEqual`
 * on hundreds of shards builds a diff whose cost explodes while fast-check shrinks a failure.
 *
 * @example assertSameShards(coder.reconstruct(partial), original);
 */
export function assertSameShards(
  actual: readonly Uint8Array[],
  expected: readonly Uint8Array[],
  what = 'shards',
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} shards, expected ${expected.length}`,
  );
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (a.length !== e.length) assert.fail(`${what}: shard ${i} has ${a.length} bytes, expected ${e.length}`);
    if (Buffer.compare(a, e) === 0) return;
    const at = a.findIndex((x, j) => x !== e[j]);
    assert.fail(`${what}: shard ${i} differs first at byte ${at} (${a[at]} ≠ ${e[at]})`);
  });
}
