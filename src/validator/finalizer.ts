/**
 * Finalising an epoch: gather every validator's evidence, run the shared reward function, sign the
 * EpochRoot once (persisted first), collect peers' signatures, post with a two-thirds quorum, and
 * prove equivocation when a peer signs two results for one epoch.
 */
import type { Hex, LocalAccount, PublicClient } from 'viem';
import { paramsAbi, rewardsAbi, validatorsAbi } from '../chain/abi/index.ts';
import type { ChainClients } from '../chain/clients.ts';
import { paramKey } from '../chain/deploy.ts';
import type { Deployment } from '../chain/deployment.ts';
import {
  NODE_STATUS,
  readNodes,
  readRewardsState,
  readValidators,
  VALIDATOR_STATUS,
} from '../chain/reads.ts';
import { DepinError, isDepinError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { type Domain, verifyEnvelope } from '../core/messages.ts';
import { computeEpochResult, type EpochResult, type VerifiedEvidence } from './epochResult.ts';
import { type RootFields, recoverEpochRootSigner, signEpochRoot } from './epochRootSignature.ts';
import { peerEvidence, peerManifest, peerSeenSignatures, peerSignedRoot } from './peers.ts';
import type { EpochRecord, ValidatorStore } from './store.ts';

export type Fault = 'wrong-root' | 'equivocate';

export type FinalizerDeps = {
  account: LocalAccount;
  clients: ChainClients;
  deployment: Deployment;
  store: ValidatorStore;
  messageDomain: Domain;
  log: Logger;
  fault?: Fault | undefined;
};

/** The state of the network at an epoch's snapshot block (the block that fixed its randomness). */
export async function epochSnapshot(client: PublicClient, d: Deployment, blockNumber: bigint) {
  const [nodes, validators, perEpoch] = await Promise.all([
    readNodes(client, d, { blockNumber }),
    readValidators(client, d, { blockNumber }),
    client.readContract({
      address: d.contracts.Params,
      abi: paramsAbi,
      functionName: 'get',
      args: [paramKey('CHALLENGES_PER_EPOCH')],
      blockNumber,
    }),
  ]);
  return {
    nodes: nodes.filter((n) => n.status === NODE_STATUS.active),
    /** Active and suspended: audits go on for suspended nodes, so that they can recover. */
    auditable: nodes.filter((n) => n.status === NODE_STATUS.active || n.status === NODE_STATUS.suspended),
    validators: validators.filter((v) => v.status === VALIDATOR_STATUS.active),
    perEpoch: Number(perEpoch),
  };
}

/**
 * Computes (or reloads) this validator's signed result for `epoch`. Never signs twice: a stored
 * record is returned as it is.
 */
export async function computeAndSign(
  deps: FinalizerDeps,
  epoch: bigint,
  snapshotBlock: bigint,
): Promise<{ record: EpochRecord; result?: EpochResult }> {
  const { store, deployment: d, clients, log } = deps;
  const existing = store.getEpoch(epoch);
  if (existing) return { record: existing };
  const client = clients.public;
  const snap = await epochSnapshot(client, d, snapshotBlock);
  const me = deps.account.address.toLowerCase() as Hex;

  const evidence = await collectEvidence(deps, epoch, snap.validators);

  // Previous cumulative balances: the manifest of the root on chain now.
  const state = await readRewardsState(client, d);
  // Posted meanwhile by a quorum of peers: signing now would start from the wrong previous root.
  if (state.nextEpoch > epoch) {
    throw new DepinError(
      'EPOCH_ALREADY_POSTED',
      `Epoch ${epoch} was posted before this validator signed it.`,
    );
  }
  const previous = await manifestFor(
    deps,
    state.root,
    snap.validators.map((v) => v.endpoint),
  );
  if (!previous) throw new Error(`no manifest for on-chain root ${state.root}`);
  const [emission, cumulativeEmission, breaker, share] = await Promise.all([
    client.readContract({
      address: d.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'emissionForEpoch',
      args: [epoch],
    }),
    client.readContract({
      address: d.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'cumulativeEmission',
      args: [epoch],
    }),
    readParam(client, d, 'REWARDS_BREAKER_MULTIPLIER'),
    readParam(client, d, 'REWARDS_SHARE_VALIDATORS_BPS'),
  ]);
  const backlog = cumulativeEmission - BigInt(state.totalAllocated);
  const cap = emission * breaker;
  const distributable = backlog < cap ? backlog : cap;

  const result = computeEpochResult({
    epoch,
    nodes: snap.nodes.map((n) => ({ id: n.id, stake: n.stake })),
    validators: snap.validators.map((v) => ({ id: v.id, stake: v.stake })),
    evidence,
    perEpoch: snap.perEpoch,
    previous: previous.entries,
    distributable,
    validatorShareBps: share,
  });
  let fields: RootFields = {
    epoch,
    rewardsRoot: result.rewardsRoot,
    evidenceRoot: result.evidenceRoot,
    total: result.total,
  };
  if (deps.fault === 'wrong-root') {
    // Attacker mode for tests: claim an extra token for itself.
    const inflated = result.cumulative.map((e) =>
      e.account === me ? { ...e, amount: e.amount + 10n ** 18n } : e,
    );
    if (!inflated.some((e) => e.account === me)) inflated.push({ account: me, amount: 10n ** 18n });
    const { buildRewardTree } = await import('../core/merkle.ts');
    fields = { ...fields, rewardsRoot: buildRewardTree(inflated).root, total: result.total + 10n ** 18n };
  }
  store.putManifest(result.rewardsRoot, epoch, result.cumulative);
  const signature = await signEpochRoot(deps.account, d, fields);
  const record: EpochRecord = { ...fields, signature, status: 'signed' };
  store.putEpoch(record);
  if (deps.fault === 'equivocate') {
    const other = { ...fields, total: fields.total > 0n ? fields.total - 1n : 1n };
    store.set(
      `equivocation:${epoch}`,
      JSON.stringify({
        rewardsRoot: other.rewardsRoot,
        evidenceRoot: other.evidenceRoot,
        total: other.total.toString(),
        signature: await signEpochRoot(deps.account, d, other),
      }),
    );
  }
  log.info(
    {
      epoch: String(epoch),
      root: fields.rewardsRoot,
      total: String(fields.total),
      evidence: evidence.length,
      nodes: snap.nodes.length,
    },
    'epoch signed',
  );
  return { record, result };
}

/**
 * The verified evidence of `epoch`: our own records plus each peer's own (a peer serves only the
 * records it signed, and only once the epoch is final). A record that fails verification is
 * dropped; a peer still unreachable after retries is left out.
 */
export async function collectEvidence(
  deps: Pick<FinalizerDeps, 'account' | 'store' | 'messageDomain' | 'log'>,
  epoch: bigint,
  validators: readonly { id: Hex; endpoint: string }[],
): Promise<VerifiedEvidence[]> {
  const { store, log } = deps;
  const me = deps.account.address.toLowerCase() as Hex;
  const evidence: VerifiedEvidence[] = [];
  const addEnvelopes = async (envs: unknown[], from: Hex) => {
    for (const env of envs) {
      try {
        const { message, hash } = await verifyEnvelope(env, {
          type: 'Evidence',
          domain: deps.messageDomain,
          signerField: 'validator',
        });
        if (message.validator.toLowerCase() !== from || message.epoch !== epoch) continue;
        evidence.push({
          validator: from,
          kind: message.kind,
          subject: message.subject,
          slot: message.slot,
          outcome: message.outcome,
          reason: message.reason,
          hash,
        });
      } catch {
        // A record that fails verification is not used; the peer's other records still count.
      }
    }
  };
  await addEnvelopes(store.evidenceOf(epoch), me);
  await Promise.all(
    validators
      .filter((v) => v.id !== me)
      .map(async (v) => {
        try {
          await addEnvelopes(await withRetry(() => peerEvidence(v.endpoint, epoch), 5), v.id);
        } catch (e) {
          log.warn(
            { peer: v.id, epoch: String(epoch), err: (e as Error).message },
            'peer evidence unavailable',
          );
        }
      }),
  );
  return evidence;
}

/** The cumulative manifest behind `root`: from the store, else from a peer (checked against the root). */
export async function manifestFor(
  deps: Pick<FinalizerDeps, 'store' | 'log'>,
  root: Hex,
  peers: string[],
): Promise<{ epoch: bigint; entries: { account: Hex; amount: bigint }[] } | undefined> {
  if (/^0x0+$/.test(root)) return { epoch: -1n, entries: [] };
  const local = deps.store.getManifest(root);
  if (local) return local;
  for (const peer of peers) {
    try {
      const m = await peerManifest(peer, root);
      if (m) {
        deps.store.putManifest(root, m.epoch, m.entries);
        return m;
      }
    } catch {
      // try the next peer
    }
  }
  return undefined;
}

/**
 * Fetches every peer's signed result and the signatures it has seen for `epoch`, records them all,
 * proves equivocation on chain when one validator signed two results, and returns the signatures
 * (by signer) that match our own result.
 */
export async function gatherSignatures(deps: FinalizerDeps, record: EpochRecord): Promise<Map<Hex, Hex>> {
  const { clients, deployment: d, store } = deps;
  const all = await readValidators(clients.public, d);
  const known = new Set(all.map((v) => v.id));
  const removed = new Set(all.filter((v) => v.status === VALIDATOR_STATUS.removed).map((v) => v.id));
  const me = deps.account.address.toLowerCase() as Hex;
  const signatures = new Map<Hex, Hex>([[me, record.signature]]);
  const consider = async (s: { rewardsRoot: Hex; evidenceRoot: Hex; total: string; signature: Hex }) => {
    const fields = {
      epoch: record.epoch,
      rewardsRoot: s.rewardsRoot,
      evidenceRoot: s.evidenceRoot,
      total: BigInt(s.total),
    };
    const signer = await recoverEpochRootSigner(d, fields, s.signature);
    if (signer === me || !known.has(signer)) return;
    const conflicts = store.addPeerSignature({ ...fields, validator: signer, signature: s.signature });
    if (conflicts.length > 0 && !removed.has(signer))
      await proveEquivocation(deps, { ...fields, signature: s.signature }, conflicts[0]!);
    if (
      fields.rewardsRoot === record.rewardsRoot &&
      fields.evidenceRoot === record.evidenceRoot &&
      fields.total === record.total
    ) {
      signatures.set(signer, s.signature);
    }
  };
  await Promise.all(
    all
      .filter((v) => v.id !== me && v.status === VALIDATOR_STATUS.active)
      .map(async (v) => {
        const [own, seen] = await Promise.allSettled([
          peerSignedRoot(v.endpoint, record.epoch),
          peerSeenSignatures(v.endpoint, record.epoch),
        ]);
        for (const s of [
          ...(own.status === 'fulfilled' ? [own.value] : []),
          ...(seen.status === 'fulfilled' ? seen.value : []),
        ]) {
          try {
            await consider(s);
          } catch {
            // a signature that does not recover is ignored
          }
        }
      }),
  );
  return signatures;
}

/**
 * Posts the root once signers of our result hold two thirds of the active stake. Returns 'posted'
 * once the epoch is on chain (by us or anyone).
 */
export async function collectAndPost(
  deps: FinalizerDeps,
  record: EpochRecord,
): Promise<'posted' | 'pending'> {
  const { clients, deployment: d, store, log } = deps;
  const signatures = await gatherSignatures(deps, record);
  const state = await readRewardsState(clients.public, d);
  if (state.nextEpoch > record.epoch) return 'posted';
  const validators = (await readValidators(clients.public, d)).filter(
    (v) => v.status === VALIDATOR_STATUS.active,
  );
  const me = deps.account.address.toLowerCase() as Hex;
  const total = validators.reduce((a, v) => a + v.stake, 0n);
  const signed = validators.filter((v) => signatures.has(v.id)).reduce((a, v) => a + v.stake, 0n);
  if (signed * 3n < total * 2n) return 'pending';
  const signers = [...signatures.keys()].filter((s) => validators.some((v) => v.id === s)).sort();
  // Stagger: the first signer in address order posts at once, others wait their turn.
  const rank = signers.indexOf(me);
  const key = `postAttempt:${record.epoch}`;
  const firstSeen = Number(store.get(key) ?? Date.now());
  store.set(key, String(firstSeen));
  if (rank > 0 && Date.now() - firstSeen < rank * 1500) return 'pending';
  const packed = `0x${signers.map((s) => signatures.get(s)!.slice(2)).join('')}` as Hex;
  try {
    await clients.write({
      address: d.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'postRoot',
      args: [record.epoch, record.rewardsRoot, record.evidenceRoot, record.total, packed],
    });
    log.info({ epoch: String(record.epoch), signers: signers.length }, 'root posted');
    try {
      await clients.write({
        address: d.contracts.Rewards,
        abi: rewardsAbi,
        functionName: 'mintPending',
        args: [],
      });
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'mintPending failed');
    }
  } catch (e) {
    if (isDepinError(e, 'EPOCH_ALREADY_REWARDED')) return 'posted';
    throw e;
  }
  return 'posted';
}

async function proveEquivocation(
  deps: FinalizerDeps,
  a: RootFields & { signature: Hex },
  b: RootFields & { signature: Hex },
): Promise<void> {
  try {
    await deps.clients.write({
      address: deps.deployment.contracts.Validators,
      abi: validatorsAbi,
      functionName: 'proveEquivocation',
      args: [
        a.epoch,
        [a.rewardsRoot, b.rewardsRoot],
        [a.evidenceRoot, b.evidenceRoot],
        [a.total, b.total],
        a.signature,
        b.signature,
      ],
    });
    deps.log.warn({ epoch: String(a.epoch) }, 'equivocation proven on chain');
  } catch (e) {
    deps.log.info({ err: (e as Error).message }, 'equivocation proof not accepted (already removed?)');
  }
}

export async function readParam(client: PublicClient, d: Deployment, name: string): Promise<bigint> {
  return client.readContract({
    address: d.contracts.Params,
    abi: paramsAbi,
    functionName: 'get',
    args: [paramKey(name)],
  });
}

async function withRetry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 300 * (i + 1)));
    }
  }
  throw last;
}
