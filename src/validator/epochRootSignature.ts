/**
 * The EpochRoot validators sign: EIP-712 struct EpochRoot(epoch, rewardsRoot, evidenceRoot, total)
 * under the Validators contract's domain, the same digest `Validators.verifyEpochRoot` checks.
 */
import { type Hex, type LocalAccount, recoverTypedDataAddress } from 'viem';
import type { Deployment } from '../chain/deployment.ts';

export const EPOCH_ROOT_TYPES = {
  EpochRoot: [
    { name: 'epoch', type: 'uint256' },
    { name: 'rewardsRoot', type: 'bytes32' },
    { name: 'evidenceRoot', type: 'bytes32' },
    { name: 'total', type: 'uint256' },
  ],
} as const;

export function validatorsDomain(d: Deployment) {
  return {
    name: 'depin',
    version: '1',
    chainId: d.chainId,
    verifyingContract: d.contracts.Validators,
  } as const;
}

export type RootFields = { epoch: bigint; rewardsRoot: Hex; evidenceRoot: Hex; total: bigint };

export async function signEpochRoot(account: LocalAccount, d: Deployment, r: RootFields): Promise<Hex> {
  return account.signTypedData({
    domain: validatorsDomain(d),
    types: EPOCH_ROOT_TYPES,
    primaryType: 'EpochRoot',
    message: r,
  });
}

export async function recoverEpochRootSigner(d: Deployment, r: RootFields, signature: Hex): Promise<Hex> {
  const a = await recoverTypedDataAddress({
    domain: validatorsDomain(d),
    types: EPOCH_ROOT_TYPES,
    primaryType: 'EpochRoot',
    message: r,
    signature,
  });
  return a.toLowerCase() as Hex;
}
