/**
 * `depin devnet` (`npm start`): the whole network on this machine with a live status line;
 * `--epochs N --json` runs N rewarded epochs after every daemon is up, prints a JSON summary and exits.
 */
import { resolve } from 'node:path';
import type { Hex } from 'viem';
import { opt, parseCommand } from '../core/config.ts';
import { DepinError } from '../core/errors.ts';
import { startLocalNetwork } from '../devnet/network.ts';
import { networkSummary, readLiveStatus, waitForClaims } from '../devnet/summary.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    nodes: { type: 'string' },
    validators: { type: 'string' },
    epochs: { type: 'string' },
    'epoch-length': { type: 'string' },
    dir: { type: 'string' },
  });
  if (values.help) {
    return void console.log(
      'usage: depin devnet [--nodes 4] [--validators 3] [--epoch-length 10] [--epochs N --json] [--port 8545] [--dir .depin/devnet]',
    );
  }
  const nodes = Number(opt(values, 'nodes', '4'));
  const validators = Number(opt(values, 'validators', '3'));
  const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
  if (!Number.isInteger(nodes) || nodes < 1 || !Number.isInteger(validators) || validators < 1) {
    throw new DepinError('BAD_ARGUMENTS', '--nodes and --validators must be positive integers.');
  }
  if (epochs !== undefined && (!Number.isInteger(epochs) || epochs < 1))
    throw new DepinError('BAD_ARGUMENTS', '--epochs must be a positive integer.');
  const json = Boolean(values.json);
  const say = (s: string) => (json ? process.stderr.write(`${s}\n`) : console.log(s));
  const dir = resolve(opt(values, 'dir', '.depin/devnet'));
  say(`starting the chain, ${validators} validators and ${nodes} nodes (logs in ${dir}/logs) …`);
  const net = await startLocalNetwork({
    dir,
    nodes,
    validators,
    epochLength: Number(opt(values, 'epoch-length', '10')),
    port: Number(opt(values, 'port', '8545')),
  });
  say(`RPC ${net.chain.rpc}   deployment ${net.chain.deploymentPath}`);
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (!json) process.stdout.write('\nstopping …\n');
    await net.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const startStatus = await readLiveStatus(net);
  const firstEpoch = startStatus.epoch + 1n;
  const tty = process.stdout.isTTY && !json;
  let lastLine = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    if (stopping) return;
    let status: Awaited<ReturnType<typeof readLiveStatus>>;
    try {
      status = await readLiveStatus(net);
    } catch {
      continue;
    }
    const line = `epoch ${status.epoch} | nodes up ${status.nodesUp}/${net.nodes.length} | validators up ${status.validatorsUp}/${net.validators.length} | rewarded epochs ${status.rewardedThrough} | issued ${fmt(status.allocated)} DPN | claimed ${fmt(status.claimed)} DPN`;
    if (tty) process.stdout.write(`\r\x1b[2K${line}`);
    else if (line !== lastLine && !json) console.log(line);
    lastLine = line;
    if (epochs !== undefined && status.nextEpoch >= firstEpoch + BigInt(epochs)) {
      // Let every member claim what the last root gives it, then report.
      await waitForClaims(net, 3 * net.chain.deployment.settings.epochLength * 1000);
      const summary = await networkSummary(net, {
        fromEpoch: firstEpoch,
        toEpoch: firstEpoch + BigInt(epochs) - 1n,
      });
      if (json) console.log(JSON.stringify(summary));
      else console.log(`\n${JSON.stringify(summary, null, 2)}`);
      await stop(0);
      return;
    }
  }
}

function fmt(wei: bigint): string {
  return (Number(wei / 10n ** 14n) / 1e4).toFixed(2);
}

export type { Hex };
