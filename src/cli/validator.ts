/** `depin validator`: run a validator. */
import { readDeployment } from '../chain/deployment.ts';
import { commonConfig, opt, parseAmount, parseCommand } from '../core/config.ts';
import { DepinError } from '../core/errors.ts';
import { loadAccount } from '../core/keys.ts';
import { createLogger } from '../core/log.ts';
import { createValidator } from '../validator/daemon.ts';
import type { Fault } from '../validator/finalizer.ts';
import { runDaemon } from './daemonRunner.ts';

export const HELP = `usage: depin validator [--rpc URL] [--deployment FILE] (--keystore FILE --password-file FILE | --key HEX)
                       [--data-dir DIR] [--host H] [--port P] [--public-url URL] [--stake AMOUNT]
                       [--tick MS] [--cutoff FRACTION] [--challenge-timeout MS] [--audits-per-epoch N]
                       [--repair-every MS]`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    stake: { type: 'string' },
    tick: { type: 'string' },
    cutoff: { type: 'string' },
    'challenge-timeout': { type: 'string' },
    'claim-every': { type: 'string' },
    'audits-per-epoch': { type: 'string' },
    'repair-every': { type: 'string' },
    fault: { type: 'string' },
  });
  if (values.help) return void console.log(HELP);
  const common = commonConfig(values, '.depin/validator');
  const log = createLogger('validator', { level: common.logLevel });
  const fault = opt(values, 'fault');
  if (fault !== undefined && fault !== 'wrong-root' && fault !== 'equivocate') {
    throw new DepinError('BAD_ARGUMENTS', '--fault is for tests: wrong-root or equivocate.');
  }
  const validator = createValidator({
    rpc: common.rpc,
    deployment: readDeployment(common.deployment),
    account: await loadAccount(common),
    dataDir: common.dataDir,
    host: common.host,
    port: common.port,
    ...(common.publicUrl ? { publicUrl: common.publicUrl } : {}),
    stake: parseAmount(opt(values, 'stake', '1000')),
    tickMs: Number(opt(values, 'tick', '500')),
    cutoff: Number(opt(values, 'cutoff', '0.3')),
    challengeTimeoutMs: Number(opt(values, 'challenge-timeout', '2000')),
    claimEveryMs: Number(opt(values, 'claim-every', '3000')),
    auditsPerEpoch: Number(opt(values, 'audits-per-epoch', '4')),
    repairEveryMs: Number(opt(values, 'repair-every', '5000')),
    ...(fault ? { fault: fault as Fault } : {}),
    log,
  });
  await runDaemon(validator, log);
}
