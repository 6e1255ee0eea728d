/** `depin node`: run an operator node. */
import { join } from 'node:path';
import { readDeployment } from '../chain/deployment.ts';
import { commonConfig, opt, parseAmount, parseCommand } from '../core/config.ts';
import { DepinError } from '../core/errors.ts';
import { loadAccount } from '../core/keys.ts';
import { createLogger } from '../core/log.ts';
import { createNode } from '../node/daemon.ts';
import { liveness } from '../node/liveness.ts';
import { DEFAULT_DEAL_GRACE, DEFAULT_PENDING_TTL, storage } from '../storage/node/storageService.ts';
import { runDaemon } from './daemonRunner.ts';

export const HELP = `usage: depin node [--rpc URL] [--deployment FILE] (--keystore FILE --password-file FILE | --key HEX)
                  [--data-dir DIR] [--host H] [--port P] [--public-url URL] [--stake AMOUNT]
                  [--region R] [--h3 CELL] [--capacity BYTES (alias of --storage-capacity)] [--claim-every MS]
                  [--storage-capacity BYTES] [--pending-ttl SECONDS] [--deal-grace SECONDS] [--gc-every MS]`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    stake: { type: 'string' },
    region: { type: 'string' },
    h3: { type: 'string' },
    capacity: { type: 'string' },
    'claim-every': { type: 'string' },
    'max-body': { type: 'string' },
    'storage-capacity': { type: 'string' },
    'pending-ttl': { type: 'string' },
    'deal-grace': { type: 'string' },
    'gc-every': { type: 'string' },
  });
  if (values.help) return void console.log(HELP);
  const common = commonConfig(values, '.depin/node');
  const log = createLogger('node', { level: common.logLevel });
  const account = await loadAccount(common);
  const storageCapacity = opt(values, 'storage-capacity', opt(values, 'capacity', String(10n * 2n ** 30n)));
  if (!/^\d{1,30}$/.test(storageCapacity)) {
    throw new DepinError(
      'BAD_ARGUMENTS',
      `--storage-capacity must be a number of bytes, got ${storageCapacity}.`,
    );
  }
  const wholeNumber = (key: string, fallback: number) => {
    const v = opt(values, key, String(fallback));
    if (!/^\d{1,10}$/.test(v))
      throw new DepinError('BAD_ARGUMENTS', `--${key} must be a whole number, got ${v}.`);
    return Number(v);
  };
  const storageInit = {
    capacity: BigInt(storageCapacity),
    pendingTtl: wholeNumber('pending-ttl', DEFAULT_PENDING_TTL),
    dealGrace: wholeNumber('deal-grace', DEFAULT_DEAL_GRACE),
    gcEveryMs: Math.max(100, wholeNumber('gc-every', 60_000)),
  };
  const node = createNode({
    rpc: common.rpc,
    deployment: readDeployment(common.deployment),
    account,
    dataDir: common.dataDir || join('.depin', 'node'),
    host: common.host,
    port: common.port,
    ...(common.publicUrl ? { publicUrl: common.publicUrl } : {}),
    stake: parseAmount(opt(values, 'stake', '250')),
    services: [liveness(), storage(storageInit)],
    // One capacity: what the node declares on chain is what its storage service enforces.
    capacity: BigInt(storageCapacity),
    h3: BigInt(opt(values, 'h3', '0')),
    region: opt(values, 'region', 'local'),
    prices: [100n, 200n, 0n],
    claimEveryMs: Number(opt(values, 'claim-every', '3000')),
    maxBody: Number(opt(values, 'max-body', String(1024 * 1024))),
    log,
  });
  await runDaemon(node, log);
}
