/** What a validator asks of its peers over HTTP: their evidence, their signed roots, manifests. */
import type { Hex } from 'viem';
import { fetchJson } from '../core/http.ts';
import { buildRewardTree } from '../core/merkle.ts';
import type { Envelope } from '../core/messages.ts';

export type SignedRoot = {
  epoch: string;
  rewardsRoot: Hex;
  evidenceRoot: Hex;
  total: string;
  signature: Hex;
  signer: Hex;
};

export function peerEvidence(endpoint: string, epoch: bigint): Promise<Envelope[]> {
  return fetchJson<Envelope[]>(`${trim(endpoint)}/v1/evidence/${epoch}`, { timeoutMs: 3000 });
}

export function peerSignedRoot(endpoint: string, epoch: bigint): Promise<SignedRoot> {
  return fetchJson<SignedRoot>(`${trim(endpoint)}/v1/epochs/${epoch}`, { timeoutMs: 3000 });
}

/** The signatures a peer has seen for an epoch (its own and others'), for equivocation detection. */
export function peerSeenSignatures(endpoint: string, epoch: bigint): Promise<SignedRoot[]> {
  return fetchJson<SignedRoot[]>(`${trim(endpoint)}/v1/epochs/${epoch}/signatures`, { timeoutMs: 3000 });
}

/** Fetches a manifest by root from a peer and checks that it really builds that root. */
export async function peerManifest(
  endpoint: string,
  root: Hex,
): Promise<{ epoch: bigint; entries: { account: Hex; amount: bigint }[] } | undefined> {
  const m = await fetchJson<{ epoch: string; entries: [Hex, string][] }>(
    `${trim(endpoint)}/v1/manifests/${root}`,
    {
      timeoutMs: 10_000,
    },
  );
  const entries = m.entries.map(([account, amount]) => ({ account, amount: BigInt(amount) }));
  if (buildRewardTree(entries).root.toLowerCase() !== root.toLowerCase()) return undefined;
  return { epoch: BigInt(m.epoch), entries };
}

function trim(url: string): string {
  return url.replace(/\/$/, '');
}
