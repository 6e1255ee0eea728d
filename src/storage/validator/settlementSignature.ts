/**
 * The StorageSettlement validators sign after an epoch closes: EIP-712 struct
 * StorageSettlement(epoch, root, total, prevStateHash, stateHash, actionsHash) under the Validators
 * contract's domain, where `prevStateHash` is the state the settlement starts from (the one on
 * chain when it is posted, or the quorum check fails), the digest `StorageDeals.settle` hands to `Validators.verifyQuorum`. `actionsHash` is
 * keccak256(abi.encode(NodeAction[])) over the node actions in the order they are posted.
 */
import { encodeAbiParameters, type Hex, keccak256, type LocalAccount, recoverTypedDataAddress } from 'viem';

/** StorageDeals' action kinds. */
export const ACTION = { suspend: 1, reinstate: 2, slash: 3 } as const;

export type NodeAction = { node: Hex; kind: number; amount: bigint };

export type SettlementFields = {
  epoch: bigint;
  root: Hex;
  total: bigint;
  prevStateHash: Hex;
  stateHash: Hex;
  actionsHash: Hex;
};

export const STORAGE_SETTLEMENT_TYPES = {
  StorageSettlement: [
    { name: 'epoch', type: 'uint256' },
    { name: 'root', type: 'bytes32' },
    { name: 'total', type: 'uint256' },
    { name: 'prevStateHash', type: 'bytes32' },
    { name: 'stateHash', type: 'bytes32' },
    { name: 'actionsHash', type: 'bytes32' },
  ],
} as const;

/** The Validators contract's EIP-712 domain, which every quorum-signed struct uses. */
export type QuorumDomain = { chainId: number; validators: Hex };

function domainOf(d: QuorumDomain) {
  return { name: 'depin', version: '1', chainId: d.chainId, verifyingContract: d.validators } as const;
}

/**
 * @example actionsHash([{ node, kind: ACTION.suspend, amount: 0n }])
 */
export function actionsHash(actions: readonly NodeAction[]): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        {
          type: 'tuple[]',
          components: [
            { name: 'node', type: 'address' },
            { name: 'kind', type: 'uint8' },
            { name: 'amount', type: 'uint256' },
          ],
        },
      ],
      [actions.map((a) => ({ node: a.node, kind: a.kind, amount: a.amount }))],
    ),
  );
}

export function signSettlement(account: LocalAccount, d: QuorumDomain, s: SettlementFields): Promise<Hex> {
  return account.signTypedData({
    domain: domainOf(d),
    types: STORAGE_SETTLEMENT_TYPES,
    primaryType: 'StorageSettlement',
    message: s,
  });
}

export async function recoverSettlementSigner(
  d: QuorumDomain,
  s: SettlementFields,
  signature: Hex,
): Promise<Hex> {
  const a = await recoverTypedDataAddress({
    domain: domainOf(d),
    types: STORAGE_SETTLEMENT_TYPES,
    primaryType: 'StorageSettlement',
    message: s,
    signature,
  });
  return a.toLowerCase() as Hex;
}
