/**
 * Storage throughput on the devnet against plain HTTP in the same run:
 * - `store.256MiB` / `get.256MiB`: `storeFile` / `getFile` of 256 MiB of random bytes on a local
 *   network of storage nodes (separate processes), against `http`: a plain PUT / GET of the same
 *   bytes to one local node:http server that writes them to disk the same way (temp file, fsync,
 *   rename) and streams them back.
 * - `audit.verify`: chunk proofs verified per second on one core (what a validator checks per audit),
 *   and `audit.traffic`: audit bytes (1 KiB chunk + proof) per stored byte for one audit per piece
 *   per epoch.
 *
 * Usage: npm run bench -- storage [--size MiB] [--nodes N]
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { devAccounts } from '../src/chain/devAccounts.ts';
import { startLocalNetwork } from '../src/devnet/network.ts';
import { getFile } from '../src/storage/client/getFile.ts';
import { chunkProof, pieceRoot, verifyChunk } from '../src/storage/client/pieces.ts';
import { createStorageClient, fitRedundancy } from '../src/storage/client/storageClient.ts';
import { storeFile } from '../src/storage/client/storeFile.ts';
import { report } from './report.ts';

async function plainHttp(dir: string) {
  const server = createServer(async (req, res) => {
    const file = join(dir, 'blob');
    if (req.method === 'PUT') {
      const tmp = `${file}.tmp`;
      await pipeline(req, createWriteStream(tmp));
      const fh = await open(tmp, 'r+');
      await fh.sync();
      await fh.close();
      renameSync(tmp, file);
      res.writeHead(201).end();
    } else {
      res.writeHead(200, { 'content-length': String(statSync(file).size) });
      await pipeline(createReadStream(file), res);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/blob`;
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export async function main(args: string[]): Promise<void> {
  const arg = (name: string, d: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const mib = arg('size', 256);
  const nodes = arg('nodes', 8);
  const data = new Uint8Array(randomBytes(mib * 1024 * 1024));
  const label = `${mib}MiB`;

  // Baseline: plain HTTP to one server on the same disk.
  const dir = mkdtempSync(join(tmpdir(), 'depin-bench-http-'));
  const http = await plainHttp(dir);
  let t0 = performance.now();
  await fetch(http.url, { method: 'PUT', body: data as Uint8Array<ArrayBuffer> });
  const httpPut = data.length / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const got = new Uint8Array(await (await fetch(http.url)).arrayBuffer());
  const httpGet = got.length / ((performance.now() - t0) / 1000);
  await http.close();

  rmSync(dir, { recursive: true, force: true });
  const netDir = mkdtempSync(join(tmpdir(), 'depin-bench-net-'));
  const net = await startLocalNetwork({
    dir: netDir,
    nodes,
    validators: 1,
    port: 0,
    epochLength: 30,
  });
  try {
    const sc = await createStorageClient({
      rpc: net.chain.rpc,
      deployment: net.chain.deployment,
      account: devAccounts(20)[19]!.account,
      secret: 'bench',
      redundancy: fitRedundancy(nodes),
    });
    t0 = performance.now();
    const { fileId } = await storeFile(sc, { data });
    const store = data.length / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    const back = await getFile(sc, { fileId });
    const get = back.length / ((performance.now() - t0) / 1000);
    if (!Buffer.from(back).equals(Buffer.from(data)))
      throw new Error('storage bench: the file came back different');
    const { k, total } = sc.redundancy;
    report(
      { bench: 'storage', case: `store.${label}`, value: store, unit: 'B/s' },
      { name: 'http', value: httpPut },
    );
    report(
      { bench: 'storage', case: `get.${label}`, value: get, unit: 'B/s' },
      { name: 'http', value: httpGet },
    );
    report({ bench: 'storage', case: 'expansion', value: total / k, unit: 'x' });
  } finally {
    await net.stop();
    // Each run stores the file twice over on disk: leave nothing behind.
    rmSync(netDir, { recursive: true, force: true });
  }

  // Audits: verify chunk proofs of an 8 MiB piece (a 64 MiB segment at k = 8).
  const piece = new Uint8Array(randomBytes(8 * 1024 * 1024));
  const root = pieceRoot(piece);
  const proofs = Array.from({ length: 256 }, (_, i) => ({
    i: (i * 31) % 8192,
    ...chunkProof(piece, (i * 31) % 8192),
  }));
  let verified = 0;
  t0 = performance.now();
  while (performance.now() - t0 < 1000)
    for (const p of proofs) if (verifyChunk(root, p.i, p.chunk, p.proof)) verified++;
  report({
    bench: 'storage',
    case: 'audit.verify',
    value: verified / ((performance.now() - t0) / 1000),
    unit: 'proofs/s',
  });
  const proofBytes = 1024 + 32 * proofs[0]!.proof.length;
  report({
    bench: 'storage',
    case: 'audit.traffic',
    value: proofBytes / piece.length,
    unit: 'bytes per stored byte per epoch',
  });
}
