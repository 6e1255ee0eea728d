/**
 * Builds the WebAssembly erasure coder, build/erasure.wasm, from the AssemblyScript sources in
 * src/storage/erasure/assembly with the compiler from node_modules: SIMD128 with relaxed swizzle,
 * no runtime (the JavaScript side owns memory), imported shared memory so worker threads can code
 * disjoint columns of the same shards. Run directly (`node scripts/build-erasure.ts`) or from
 * scripts/build.ts.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Compiles src/storage/erasure/assembly/erasure.ts to build/erasure.wasm (and a .wat beside it). */
export async function buildErasure(): Promise<void> {
  const asc = (await import('assemblyscript/asc')).default;
  mkdirSync(join(root, 'build'), { recursive: true });
  const stderr: string[] = [];
  const { error } = await asc.main(
    [
      join(root, 'src/storage/erasure/assembly/erasure.ts'),
      '--outFile',
      join(root, 'build/erasure.wasm'),
      '--textFile',
      join(root, 'build/erasure.wat'),
      // AssemblyScript's minimal runtime (no GC): the kernels allocate nothing.
      '--runtime',
      'stub',
      '--optimizeLevel',
      '3',
      '--shrinkLevel',
      '0',
      '--noAssert',
      '--enable',
      'simd,relaxed-simd,threads',
      '--importMemory',
      '--sharedMemory',
      '--initialMemory',
      '2',
      '--maximumMemory',
      '65536',
      '--memoryBase',
      '65536',
    ],
    {
      stderr: {
        write(chunk: string | Uint8Array) {
          stderr.push(String(chunk));
          return true;
        },
      },
    },
  );
  if (error) throw new Error(`AssemblyScript failed to build the erasure coder:\n${stderr.join('')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await buildErasure();
