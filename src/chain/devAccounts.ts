import { type HDAccount, mnemonicToAccount } from 'viem/accounts';

/** The well-known test mnemonic: dev accounts exist only on the devnet and are public. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

export type DevAccount = { address: `0x${string}`; privateKey: `0x${string}`; account: HDAccount };

const cache: DevAccount[] = [];

/**
 * The first `count` accounts of the dev mnemonic (m/44'/60'/0'/0/i), the same as Hardhat's and Anvil's.
 *
 * @example devAccounts(2)[0].address // 0xf39F…2266
 */
export function devAccounts(count: number): DevAccount[] {
  for (let i = cache.length; i < count; i++) {
    const account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i });
    const hd = account.getHdKey();
    const privateKey = `0x${Buffer.from(hd.privateKey!).toString('hex')}` as const;
    cache.push({ address: account.address, privateKey, account });
  }
  return cache.slice(0, count);
}
