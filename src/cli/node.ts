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
                  [--storage-capacity BYTES] [--pending-ttl SECONDS] [--deal-grace SECONDS] [--gc-every MS]
                  [--egress-price CREDITS_PER_GIB] [--egress-redeem-threshold CREDITS] [--egress-redeem-every MS]`;

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
    'egress-price': { type: 'string' },
    'egress-redeem-threshold': { type: 'string' },
    'egress-redeem-every': { type: 'string' },
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
  const whole = (flag: string, fallback: string): bigint => {
    const v = opt(values, flag, fallback);
    if (!/^\d{1,30}$/.test(v))
      throw new DepinError('BAD_ARGUMENTS', `--${flag} must be a whole number, got ${v}.`);
    return BigInt(v);
  };
  const egressPrice = whole('egress-price', '200');
  const storageInit = {
    capacity: BigInt(storageCapacity),
    pendingTtl: Number(whole('pending-ttl', String(DEFAULT_PENDING_TTL))),
    dealGrace: Number(whole('deal-grace', String(DEFAULT_DEAL_GRACE))),
    gcEveryMs: Math.max(100, Number(whole('gc-every', '60000'))),
    egress: {
      redeemThreshold: whole('egress-redeem-threshold', '100000'),
      redeemEveryMs: Number(whole('egress-redeem-every', '3600000')),
    },
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
    // Storage (Credits per GiB-epoch, informational), egress (Credits per GiB, charged), compute.
    prices: [100n, egressPrice, 0n],
    claimEveryMs: Number(opt(values, 'claim-every', '3000')),
    maxBody: Number(opt(values, 'max-body', String(1024 * 1024))),
    log,
  });
  await runDaemon(node, log);
}
