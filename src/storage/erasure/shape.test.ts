import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDepinError } from '../../core/errors.ts';
import {
  chooseErasureAlgorithm,
  erasureCost,
  leopardSupports,
  resolveAlgorithm,
  validateShape,
} from './shape.ts';

test('picks the Cauchy coder for few shards and Leopard for many, the same way every time', () => {
  assert.equal(chooseErasureAlgorithm({ dataShards: 10, parityShards: 4 }), 'cauchy');
  assert.equal(chooseErasureAlgorithm({ dataShards: 24, parityShards: 6 }), 'cauchy');
  assert.equal(chooseErasureAlgorithm({ dataShards: 29, parityShards: 51 }), 'leopard');
  assert.equal(chooseErasureAlgorithm({ dataShards: 128, parityShards: 128 }), 'leopard');
});

test('keeps few data shards beside many parity shards on Cauchy, whose rebuild is far faster there', () => {
  // Measured: at 6+30 and 12+20 Leopard's decoder is 4–15× slower; at 16+16 and 64+16 Leopard wins both ways.
  assert.equal(chooseErasureAlgorithm({ dataShards: 6, parityShards: 30 }), 'cauchy');
  assert.equal(chooseErasureAlgorithm({ dataShards: 12, parityShards: 20 }), 'cauchy');
  assert.equal(chooseErasureAlgorithm({ dataShards: 16, parityShards: 16 }), 'leopard');
  assert.equal(chooseErasureAlgorithm({ dataShards: 20, parityShards: 20 }), 'leopard');
  assert.equal(chooseErasureAlgorithm({ dataShards: 8, parityShards: 8 }), 'cauchy');
  assert.equal(chooseErasureAlgorithm({ dataShards: 64, parityShards: 16 }), 'leopard');
  const cost = erasureCost({ dataShards: 29, parityShards: 51 });
  assert.ok(cost.leopard < cost.cauchy);
});

test('falls back to Cauchy when the data does not fit beside the rounded-up parity', () => {
  assert.equal(leopardSupports({ dataShards: 200, parityShards: 56 }), false);
  assert.equal(chooseErasureAlgorithm({ dataShards: 200, parityShards: 56 }), 'cauchy');
  assert.throws(
    () => resolveAlgorithm({ dataShards: 200, parityShards: 56 }, 'leopard'),
    (e) => isDepinError(e, 'ERASURE_BAD_ALGORITHM'),
  );
});

test('rejects zero data shards, zero parity shards, more than 256 shards and fractions', () => {
  for (const shape of [
    { dataShards: 0, parityShards: 4 },
    { dataShards: 4, parityShards: 0 },
    { dataShards: 200, parityShards: 57 },
    { dataShards: 2.5, parityShards: 2 },
    { dataShards: -1, parityShards: 2 },
  ]) {
    assert.throws(
      () => validateShape(shape),
      (e) => isDepinError(e, 'ERASURE_BAD_SHAPE'),
    );
  }
});

test('rejects an algorithm it does not know', () => {
  assert.throws(
    () => resolveAlgorithm({ dataShards: 4, parityShards: 2 }, 'vandermonde' as never),
    (e) => isDepinError(e, 'ERASURE_BAD_ALGORITHM'),
  );
});
