/**
 * `npm run bench -- erasure [--mib N]`: our WebAssembly Reed–Solomon coder against the npm coders
 * for the same shapes, on one core, as input bytes per second. One JSON line per (case, baseline);
 * a baseline that cannot run a shape (or cannot load) prints a line with `skipped` and the reason.
 */
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createErasureCoder } from '../src/storage/erasure/erasureCoder.ts';
import { bestTime, report } from './report.ts';

const require = createRequire(import.meta.url);
const BENCH = 'erasure';

type Shape = { k: number; m: number };
/** Encodes (or reconstructs) all `k·shardSize` bytes of `data` once. */
type Runner = (data: Uint8Array, shardSize: number) => unknown;
type Baseline = {
  name: string;
  encode?: (shape: Shape) => Runner | string;
  reconstruct?: (shape: Shape, lost: number[]) => Runner | string;
};

/** Runs the erasure benchmark; `--mib N` sets the input size per case (default 16 MiB). */
export async function main(args: string[]): Promise<void> {
  const mibArg = args.indexOf('--mib');
  const mib = mibArg >= 0 ? Number(args[mibArg + 1]) : 16;
  const baselines = await loadBaselines();
  for (const shape of [
    { k: 10, m: 4 },
    { k: 24, m: 6 },
    { k: 29, m: 51 },
    { k: 128, m: 128 },
  ]) {
    await encodeCase(shape, mib, baselines, shape.k === 29);
  }
  await reconstructCase({ k: 29, m: 51 }, mib, baselines);
}

async function encodeCase(shape: Shape, mib: number, baselines: Baseline[], withCopy: boolean) {
  const { k, m } = shape;
  const name = `encode.${k}+${m}`;
  const coder = createErasureCoder({ dataShards: k, parityShards: m });
  const shardSize = shardSizeFor(k, mib);
  const set = coder.allocateShards(shardSize);
  randomFillSync(set.data);
  const data = set.shards.slice(0, k);
  const parity = set.shards.slice(k);
  const ours = (k * shardSize) / (await bestTime(() => coder.encode(data, parity), 2000));
  if (!coder.verify(set.shards)) throw new Error(`${name}: the parity does not check`);
  const line = { bench: BENCH, case: name, value: ours, unit: 'B/s' };
  report(line);
  const input = Uint8Array.from(set.data);
  for (const baseline of baselines) {
    const runner = baseline.encode?.(shape) ?? 'no encoder';
    if (typeof runner === 'string') skip(name, baseline.name, runner);
    else
      report(line, {
        name: baseline.name,
        value: (k * shardSize) / (await bestTime(() => runner(input, shardSize))),
      });
  }
  if (withCopy) {
    const from = Buffer.from(input);
    const to = Buffer.alloc(from.length);
    report(line, { name: 'Buffer.copy', value: from.length / (await bestTime(() => from.copy(to))) });
  }
  set.release();
  coder.dispose();
}

async function reconstructCase(shape: Shape, mib: number, baselines: Baseline[]) {
  const { k, m } = shape;
  const name = `reconstruct.${k}+${m}`;
  const coder = createErasureCoder({ dataShards: k, parityShards: m });
  const shardSize = shardSizeFor(k, mib);
  const set = coder.allocateShards(shardSize);
  randomFillSync(set.data);
  coder.encode(set.shards.slice(0, k), set.shards.slice(k));
  // m shards lost: the first half of the data and the first parity shards.
  const lostData = Math.ceil(k / 2);
  const lost = [
    ...Array.from({ length: lostData }, (_, i) => i),
    ...Array.from({ length: m - lostData }, (_, i) => k + i),
  ];
  const original = Uint8Array.from(set.data);
  const ours =
    (k * shardSize) /
    (await bestTime(() => coder.reconstructInto(set.shards, lost, { dataOnly: true }), 2000));
  if (Buffer.compare(set.data, original) !== 0)
    throw new Error(`${name}: the rebuilt data differs from the original`);
  const line = { bench: BENCH, case: name, value: ours, unit: 'B/s' };
  report(line);
  const whole = new Uint8Array((k + m) * shardSize);
  set.shards.forEach((s, i) => {
    whole.set(s, i * shardSize);
  });
  for (const baseline of baselines) {
    const runner = baseline.reconstruct?.(shape, lost) ?? 'no decoder';
    if (typeof runner === 'string') skip(name, baseline.name, runner);
    else
      report(line, {
        name: baseline.name,
        value: (k * shardSize) / (await bestTime(() => runner(whole, shardSize))),
      });
  }
  set.release();
  coder.dispose();
}

/** Shard size for about `mib` MiB of input, a multiple of every baseline's stripe (64 KiB). */
function shardSizeFor(k: number, mib: number): number {
  return Math.max(65536, Math.floor((mib * 2 ** 20) / k / 65536) * 65536);
}

function skip(name: string, baseline: string, reason: string) {
  console.log(JSON.stringify({ bench: BENCH, case: name, baseline, skipped: reason }));
}

// ---------------------------------------------------------------------------------------------
// Baselines: each takes the k data shards laid end to end (or all k + m for reconstruction).

async function loadBaselines(): Promise<Baseline[]> {
  return [await typeberry(), ronomon(), digitalDefiance()];
}

/** @typeberry/native: reed-solomon-simd (GF(2^16) FFT) in wasm; shards under 64 KiB. */
async function typeberry(): Promise<Baseline> {
  const name = '@typeberry/native';
  const { init, reedSolomon } = await import('@typeberry/native');
  await init.reedSolomon();
  const stripe = 32768;
  return {
    name,
    encode: ({ k, m }) => {
      return (data, shardSize) => {
        for (let c = 0; c < shardSize; c += stripe) {
          const piece = columns(data, k, shardSize, c, stripe);
          reedSolomon.encode(m, new reedSolomon.ShardsCollection(stripe, piece)).take_data();
        }
      };
    },
    reconstruct: ({ k, m }, lost) => {
      const kept = [...Array(k + m).keys()].filter((i) => !lost.includes(i)).slice(0, k);
      const indices = Uint16Array.from(kept);
      return (whole, shardSize) => {
        for (let c = 0; c < shardSize; c += stripe) {
          const piece = new Uint8Array(kept.length * stripe);
          kept.forEach((s, j) => {
            piece.set(whole.subarray(s * shardSize + c, s * shardSize + c + stripe), j * stripe);
          });
          reedSolomon.decode(k, m, new reedSolomon.ShardsCollection(stripe, piece, indices)).take_data();
        }
      };
    },
  };
}

/** The k shards' columns [c, c + width) as one buffer of k·width bytes. */
function columns(data: Uint8Array, k: number, shardSize: number, c: number, width: number): Uint8Array {
  const out = new Uint8Array(k * width);
  for (let j = 0; j < k; j++) out.set(data.subarray(j * shardSize + c, j * shardSize + c + width), j * width);
  return out;
}

/**
 * @ronomon/reed-solomon: a native (N-API) addon. npm builds it at install; when the binary is
 * missing or does not load, rebuild it once with node-gyp against the headers at hand (N-API is
 * ABI-stable, so Node 20's headers serve Node 24), and skip it with the reason if that fails.
 */
function ronomon(): Baseline {
  const name = '@ronomon/reed-solomon';
  type Ronomon = {
    MAX_K: number;
    MAX_M: number;
    create(k: number, m: number): unknown;
    encode(...args: unknown[]): void;
  };
  let rs: Ronomon;
  try {
    rs = loadRonomon();
  } catch (error) {
    const reason = `cannot load the native addon: ${String((error as Error).message).split('\n')[0]}`;
    return { name, encode: () => reason, reconstruct: () => reason };
  }
  return {
    name,
    encode: ({ k, m }) => {
      if (k > rs.MAX_K || m > rs.MAX_M) return `shape beyond MAX_K=${rs.MAX_K}, MAX_M=${rs.MAX_M}`;
      const context = rs.create(k, m);
      let sources = 0;
      for (let i = 0; i < k; i++) sources |= 1 << i;
      let targets = 0;
      for (let i = k; i < k + m; i++) targets |= 1 << i;
      let parity: Buffer | undefined;
      return (data, shardSize) => {
        const buffer = Buffer.from(data.buffer, data.byteOffset, data.length);
        parity ??= Buffer.alloc(shardSize * m);
        return new Promise<void>((resolve, reject) => {
          rs.encode(
            context,
            sources,
            targets,
            buffer,
            0,
            k * shardSize,
            parity,
            0,
            m * shardSize,
            (e: unknown) => (e ? reject(e) : resolve()),
          );
        });
      };
    },
    reconstruct: () => `shape beyond MAX_K=${rs.MAX_K}, MAX_M=${rs.MAX_M}`,
  };
}

function loadRonomon() {
  try {
    return require('@ronomon/reed-solomon');
  } catch {
    const headers = [join(dirname(process.execPath), '..'), '/usr'].find((dir) =>
      existsSync(join(dir, 'include/node/node_api.h')),
    );
    const env = { ...process.env, ...(headers ? { npm_config_nodedir: headers } : {}) };
    execFileSync('npm', ['rebuild', '@ronomon/reed-solomon', '--foreground-scripts'], {
      cwd: join(dirname(new URL(import.meta.url).pathname), '..'),
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return require('@ronomon/reed-solomon');
  }
}

/** @digitaldefiance/reed-solomon-erasure.wasm: the reed-solomon-erasure crate (GF(2^8) matrix) in wasm. */
function digitalDefiance(): Baseline {
  const name = '@digitaldefiance/reed-solomon-erasure.wasm';
  const { ReedSolomonErasure } = require('@digitaldefiance/reed-solomon-erasure.wasm');
  const rs = ReedSolomonErasure.fromCurrentDirectorySync();
  const stripe = 65536;
  return {
    name,
    encode: ({ k, m }) => {
      const shards = new Uint8Array((k + m) * stripe);
      return (data, shardSize) => {
        for (let c = 0; c < shardSize; c += stripe) {
          shards.set(columns(data, k, shardSize, c, stripe));
          if (rs.encode(shards, k, m) !== 0) throw new Error(`${name} failed to encode`);
        }
      };
    },
    reconstruct: ({ k, m }, lost) => {
      const available = [...Array(k + m).keys()].map((i) => !lost.includes(i));
      const shards = new Uint8Array((k + m) * stripe);
      return (whole, shardSize) => {
        for (let c = 0; c < shardSize; c += stripe) {
          shards.set(columns(whole, k + m, shardSize, c, stripe));
          if (rs.reconstruct(shards, k, m, available) !== 0) throw new Error(`${name} failed to reconstruct`);
        }
      };
    },
  };
}
