/** `depin chain`: the embedded EVM as a JSON-RPC server, with the contracts deployed. */
import { resolve } from 'node:path';
import { opt, parseCommand } from '../core/config.ts';
import { startEmbeddedChain } from '../devnet/chain.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, { out: { type: 'string' }, 'epoch-length': { type: 'string' } });
  if (values.help) {
    return void console.log(
      'usage: depin chain [--port 8545] [--host 127.0.0.1] [--out .depin/devnet/deployment.json] [--epoch-length 10]',
    );
  }
  const chain = await startEmbeddedChain({
    port: Number(opt(values, 'port', '8545')),
    host: opt(values, 'host', '127.0.0.1'),
    deploymentPath: opt(values, 'out', '.depin/devnet/deployment.json'),
    epochLength: Number(opt(values, 'epoch-length', '10')),
  });
  const info = {
    rpc: chain.rpc,
    chainId: chain.deployment.chainId,
    deployment: resolve(chain.deploymentPath),
    contracts: chain.deployment.contracts,
  };
  if (values.json) console.log(JSON.stringify(info));
  else {
    console.log(`RPC URL     ${chain.rpc}   (chain id ${chain.deployment.chainId})`);
    console.log(`deployment  ${info.deployment}`);
    for (const [name, address] of Object.entries(chain.deployment.contracts))
      console.log(`  ${name.padEnd(13)} ${address}`);
    console.log('dev accounts (devnet only; public keys of the test mnemonic):');
    for (const a of chain.devnet.accounts.slice(0, 5)) console.log(`  ${a.address}  ${a.privateKey}`);
  }
  const stop = () => chain.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
