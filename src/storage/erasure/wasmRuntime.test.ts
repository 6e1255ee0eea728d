import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { isDepinError } from '../../core/errors.ts';
import { ERASURE_WASM_PATH, getErasureRuntime, loadErasureModule } from './wasmRuntime.ts';

test('tells the user to run npm run build when the WebAssembly coder is missing', () => {
  assert.throws(
    () => loadErasureModule('/nonexistent/erasure.wasm'),
    (e) => isDepinError(e, 'ERASURE_NOT_BUILT') && e.shortMessage.includes('npm run build'),
  );
});

test('loads build/erasure.wasm, a module built from source with SIMD kernels and no embedded data', () => {
  assert.ok(existsSync(ERASURE_WASM_PATH));
  const module = loadErasureModule();
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const name of ['cauchyApply', 'leoEncode', 'leoDecode', 'xorInto'])
    assert.ok(exports.includes(name), name);
  const imports = WebAssembly.Module.imports(module);
  assert.deepEqual(
    imports.map((i) => `${i.module}.${i.name}:${i.kind}`),
    ['env.memory:memory'],
  );
});

test('keeps views handed out valid when the shared memory grows', () => {
  const { heap } = getErasureRuntime();
  const a = heap.alloc(1024);
  const view = heap.view(a, 1024);
  view.fill(7);
  const big = heap.alloc(64 * 1024 * 1024);
  assert.equal(view.length, 1024);
  assert.equal(view[1023], 7);
  assert.equal(heap.addressOf(view), a);
  heap.free(big);
  heap.free(a);
});
