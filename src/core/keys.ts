/** The daemon's signing key: a raw hex key (devnet) or a Web3 Secret Storage v3 keystore. */
import { readFileSync } from 'node:fs';
import type { LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { CommonConfig } from './config.ts';
import { DepinError } from './errors.ts';

export async function loadAccount(
  config: Pick<CommonConfig, 'key' | 'keystore' | 'password'>,
): Promise<LocalAccount> {
  if (config.key) return privateKeyToAccount(config.key);
  if (config.keystore) {
    if (config.password === undefined) {
      throw new DepinError(
        'KEYSTORE_NO_PASSWORD',
        'The keystore needs a password: --password-file FILE or DEPIN_PASSWORD.',
      );
    }
    const { decryptKeystore } = await import('../chain/keystore.ts');
    const json = readFileSync(config.keystore, 'utf8');
    return privateKeyToAccount(await decryptKeystore(json, config.password));
  }
  throw new DepinError(
    'NO_KEY',
    'No key: pass --keystore FILE (make one with `depin keys new`) or --key 0x… on a devnet.',
  );
}
