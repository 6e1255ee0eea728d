/**
 * `depin` — one entry point for every role. Commands are thin: they parse flags and call the
 * daemons and client actions.
 */
import { DepinError } from '../core/errors.ts';

type Command = { run: (argv: string[], command?: string) => Promise<void> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  devnet: {
    summary: 'run a whole local network: chain, contracts, nodes, validators (what `npm start` runs)',
    load: () => import('./devnet.ts'),
  },
  chain: {
    summary: 'run the embedded EVM as a JSON-RPC server on 127.0.0.1:8545 and deploy the contracts',
    load: () => import('./chain.ts'),
  },
  node: { summary: 'run an operator node daemon', load: () => import('./node.ts') },
  validator: { summary: 'run a validator daemon', load: () => import('./validator.ts') },
  store: {
    summary: 'store a file on the network (encrypted, erasure-coded); prints its id',
    load: () => import('./storage.ts'),
  },
  get: { summary: 'fetch a file by id (`-o OUT`), integrity-checked', load: () => import('./storage.ts') },
  ls: { summary: 'list the files this client stored', load: () => import('./storage.ts') },
  stat: { summary: "a file's segments, healthy pieces, nodes and deal", load: () => import('./storage.ts') },
  rm: {
    summary: "end a file's deal (refunding unspent escrow) and delete its pieces",
    load: () => import('./storage.ts'),
  },
  keys: {
    summary: 'manage keys: `depin keys new` writes an encrypted Web3 v3 keystore',
    load: () => import('./keys.ts'),
  },
};

function usage(): string {
  return [
    'usage: depin <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    '',
    "Run `depin <command> --help` for a command's options; docs/CONFIGURATION.md lists them all.",
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new DepinError('UNKNOWN_COMMAND', `Unknown command "${name}".\n\n${usage()}`);
  await (await command.load()).run(rest, name);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof DepinError) {
    console.error(`error ${e.code}: ${e.message}`);
  } else {
    console.error(e);
  }
  process.exit(1);
});
