/**
 * Credits for a client's payments (deal escrow, egress deposit): what the account holds, topped up
 * by minting from its Token at the oracle price when it holds less than a payment needs.
 */
import { creditsAbi, tokenAbi } from '../../chain/abi/index.ts';
import type { StorageClient } from './storageClient.ts';

/**
 * Makes sure the client holds at least `amount` Credits, minting the shortfall from its Token
 * (approve, then `Credits.mint` with the shortfall as the minimum out).
 *
 * @example await ensureCredits(sc, escrow);
 */
export async function ensureCredits(
  sc: Pick<StorageClient, 'account' | 'clients' | 'deployment'>,
  amount: bigint,
): Promise<void> {
  const c = sc.deployment.contracts;
  const pub = sc.clients.public;
  const me = sc.account.address;
  const balance = await pub.readContract({
    address: c.Credits,
    abi: creditsAbi,
    functionName: 'balanceOf',
    args: [me],
  });
  if (balance >= amount) return;
  const per = await pub.readContract({
    address: c.Credits,
    abi: creditsAbi,
    functionName: 'quoteMint',
    args: [10n ** 18n],
  });
  // One hundredth of a token of margin: the price may move between the quote and the mint.
  const tokens = ((amount - balance) * 10n ** 18n) / (per || 1n) + 10n ** 16n;
  await sc.clients.write({
    address: c.Token,
    abi: tokenAbi,
    functionName: 'approve',
    args: [c.Credits, tokens],
  });
  await sc.clients.write({
    address: c.Credits,
    abi: creditsAbi,
    functionName: 'mint',
    args: [me, tokens, amount - balance],
  });
}
