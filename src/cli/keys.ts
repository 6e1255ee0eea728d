/** `depin keys new`: a fresh key in an encrypted Web3 Secret Storage v3 keystore that wallets import. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { encryptKeystore } from '../chain/keystore.ts';
import { commonConfig, opt, parseCommand } from '../core/config.ts';
import { DepinError } from '../core/errors.ts';

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, { out: { type: 'string' } });
  if (values.help || positionals[0] !== 'new') {
    console.log('usage: depin keys new [--out FILE] (--password-file FILE | DEPIN_PASSWORD=…) [--json]');
    if (!values.help) process.exitCode = 1;
    return;
  }
  const { password } = commonConfig(values, '.depin');
  if (!password)
    throw new DepinError(
      'KEYSTORE_NO_PASSWORD',
      'Give the keystore a password: --password-file FILE or DEPIN_PASSWORD.',
    );
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  const out = resolve(opt(values, 'out', `.depin/keys/${address}.json`));
  if (existsSync(out)) throw new DepinError('KEYSTORE_EXISTS', `${out} exists; choose another --out.`);
  const json = await encryptKeystore(key, password);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(json, null, 2), { mode: 0o600 });
  if (values.json) console.log(JSON.stringify({ address, keystore: out }));
  else console.log(`address   ${address}\nkeystore  ${out}`);
}
