/**
 * `depin store | get | ls | stat | rm`: the storage client on the command line. Against the
 * devnet (`npm start`) they need no set-up: the client key defaults to the last dev account and the
 * secret to a devnet-only default; elsewhere pass --keystore/--key and --secret-file (or DEPIN_SECRET).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Hex, LocalAccount } from 'viem';
import { readDeployment } from '../chain/deployment.ts';
import { devAccounts } from '../chain/devAccounts.ts';
import { commonConfig, opt, parseCommand } from '../core/config.ts';
import { DepinError } from '../core/errors.ts';
import { loadAccount } from '../core/keys.ts';
import { addToIndex, readIndex, removeFile, removeFromIndex, statFile } from '../storage/client/files.ts';
import { getFile } from '../storage/client/getFile.ts';
import { createStorageClient, fitRedundancy, type StorageClient } from '../storage/client/storageClient.ts';
import { storeFile } from '../storage/client/storeFile.ts';

const DEVNET_CHAIN_ID = 31337;
const DEVNET_SECRET = 'depin devnet secret (public: never use outside the devnet)';

async function client(
  values: Record<string, string | boolean | undefined>,
): Promise<{ sc: StorageClient; index: string }> {
  const common = commonConfig(values, '.depin/client');
  const deployment = readDeployment(common.deployment);
  const devnet = deployment.chainId === DEVNET_CHAIN_ID;
  let account: LocalAccount;
  if (common.key || common.keystore) account = await loadAccount(common);
  else if (devnet) account = devAccounts(20)[19]!.account;
  else throw new DepinError('NO_KEY', 'Pass --keystore FILE (or --key) to act as a storage client.');
  const secretFile = opt(values, 'secret-file');
  const secret = secretFile
    ? readFileSync(secretFile, 'utf8').trim()
    : (process.env.DEPIN_SECRET ?? (devnet ? DEVNET_SECRET : undefined));
  if (!secret)
    throw new DepinError(
      'NO_SECRET',
      'Pass --secret-file FILE or DEPIN_SECRET: every key of your files derives from it.',
    );
  // The deployment file names the RPC it was deployed through; an explicit --rpc wins.
  const rpc = opt(values, 'rpc') ?? deployment.rpc ?? common.rpc;
  const sc = await createStorageClient({ rpc, deployment, account, secret });
  return { sc, index: join(common.dataDir, `files-${account.address.toLowerCase()}.json`) };
}

function progress(label: string, json: boolean) {
  const start = performance.now();
  return (done: number, total: number) => {
    if (json || !process.stderr.isTTY) return;
    const frac = total === 0 ? 1 : done / total;
    const width = 30;
    const filled = Math.round(frac * width);
    const mbps = done / 1048576 / Math.max(0.001, (performance.now() - start) / 1000);
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mbps.toFixed(1)} MiB/s`,
    );
    if (done >= total) process.stderr.write('\n');
  };
}

const options = {
  'secret-file': { type: 'string' },
  output: { type: 'string', short: 'o' },
  k: { type: 'string' },
  repair: { type: 'string' },
  success: { type: 'string' },
  total: { type: 'string' },
  geofence: { type: 'string' },
  duration: { type: 'string' },
  permanent: { type: 'boolean' },
} as const;

export async function run(argv: string[], command?: string): Promise<void> {
  const { values, positionals } = parseCommand(argv, options);
  const json = Boolean(values.json);
  const print = (human: string, data: unknown) =>
    console.log(json ? JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) : human);
  if (values.help) {
    return void console.log(
      'usage: depin store FILE [--geofence eu,us] [--duration EPOCHS | --permanent] [--k K --repair R --success S --total N]\n' +
        '       depin get ID [-o OUT]   depin ls   depin stat ID   depin rm ID\n' +
        '       common: [--json] [--rpc URL] [--deployment FILE] [--keystore FILE --password-file F | --key HEX] [--secret-file F]',
    );
  }
  const { sc, index } = await client(values);
  const arg = positionals[0];
  switch (command) {
    case 'store': {
      if (!arg) throw new DepinError('BAD_ARGUMENTS', 'usage: depin store FILE');
      const data = new Uint8Array(readFileSync(arg));
      const nodes = (await sc.nodes()).length;
      const fitted = fitRedundancy(nodes);
      const num = (name: string, d: number) => Number(opt(values, name, String(d)));
      sc.redundancy = {
        k: num('k', fitted.k),
        repair: num('repair', fitted.repair),
        success: num('success', fitted.success),
        total: num('total', fitted.total),
      };
      const geofence = opt(values, 'geofence')?.split(',').filter(Boolean);
      const duration = opt(values, 'duration');
      const r = await storeFile(sc, {
        data,
        ...(geofence ? { geofence } : {}),
        ...(duration ? { durationEpochs: Number(duration) } : {}),
        permanent: Boolean(values.permanent),
        onProgress: progress('store', json),
      });
      addToIndex(index, {
        fileId: r.fileId,
        name: basename(arg),
        size: r.size,
        dealId: String(r.dealId),
        storedAt: Date.now(),
      });
      return print(
        `${r.fileId}\n(deal ${r.dealId}, ${r.segments} segments, ${r.pieces} pieces, ${sc.redundancy.k}-of-${sc.redundancy.total})`,
        {
          id: r.fileId,
          dealId: String(r.dealId),
          size: r.size,
          segments: r.segments,
          pieces: r.pieces,
        },
      );
    }
    case 'get': {
      if (!arg) throw new DepinError('BAD_ARGUMENTS', 'usage: depin get ID [-o OUT]');
      const data = await getFile(sc, { fileId: arg as Hex, onProgress: progress('get', json) });
      const out = opt(values, 'output');
      if (out) {
        writeFileSync(out, data);
        return print(`wrote ${data.length} bytes to ${out}`, { id: arg, size: data.length, output: out });
      }
      if (json) return print('', { id: arg, size: data.length, data: Buffer.from(data).toString('base64') });
      process.stdout.write(data);
      return;
    }
    case 'ls': {
      const entries = readIndex(index);
      return print(
        entries
          .map((e) => `${e.fileId}  ${String(e.size).padStart(12)}  deal ${e.dealId}  ${e.name}`)
          .join('\n') || '(no files)',
        entries,
      );
    }
    case 'stat': {
      if (!arg) throw new DepinError('BAD_ARGUMENTS', 'usage: depin stat ID');
      const entry = readIndex(index).find((e) => e.fileId === arg);
      const s = await statFile(sc, arg as Hex, entry ? BigInt(entry.dealId) : undefined);
      const lines = [
        `file ${s.fileId}  ${s.size} bytes  ${s.k}-of-${s.n} (${s.algorithm})`,
        ...s.segments.map(
          (x) => `  segment ${x.index}: ${x.size} bytes, ${x.healthy}/${x.pieces} pieces healthy`,
        ),
        s.deal
          ? `deal ${s.deal.id}: ${s.deal.active ? 'active' : 'ended'}, escrow ${s.deal.escrow} credits, paid until ${s.deal.paidUntil ?? 'forever (permanent)'}`
          : 'no deal found',
      ];
      return print(lines.join('\n'), s);
    }
    case 'rm': {
      if (!arg) throw new DepinError('BAD_ARGUMENTS', 'usage: depin rm ID');
      const r = await removeFile(sc, arg as Hex);
      removeFromIndex(index, arg as Hex);
      return print(
        `removed ${arg} (deal ${r.dealId ?? 'none'} ended; ${r.deleted} piece deletions acknowledged)`,
        { id: arg, ...r },
      );
    }
    default:
      throw new DepinError('UNKNOWN_COMMAND', `Unknown storage command ${command}.`);
  }
}
