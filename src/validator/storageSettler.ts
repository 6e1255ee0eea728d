/**
 * Settling storage each epoch: after an epoch closes (and its evidence is final), compute the
 * storage settlement (src/storage/validator/settlement.ts) from the agreed evidence, the deals on
 * chain at the next epoch's opening block, the placements and the state the last settlement
 * committed; sign it once (persisted before it is served), collect peers' matching signatures,
 * and post `StorageDeals.settle` once two thirds of the stake signed. An epoch whose posting window
 * closed without a quorum is left unpaid (its escrow stays unallocated) and the next one goes on
 * from the last state on chain.
 */
import { concatHex, type Hex, type LocalAccount } from 'viem';
import { storageDealsAbi } from '../chain/abi/index.ts';
import type { ChainClients } from '../chain/clients.ts';
import type { Deployment } from '../chain/deployment.ts';
import {
  NODE_STATUS,
  readEpochOpening,
  readNodes,
  readValidators,
  VALIDATOR_STATUS,
} from '../chain/reads.ts';
import { DepinError, isDepinError } from '../core/errors.ts';
import { fetchJson, type Route } from '../core/http.ts';
import type { Logger } from '../core/log.ts';
import { buildRewardTree } from '../core/merkle.ts';
import type { Domain } from '../core/messages.ts';
import type { PlacementStore } from '../storage/validator/placements.ts';
import { DEFAULT_REPUTATION } from '../storage/validator/reputation.ts';
import {
  computeSettlement,
  dealPayment,
  EMPTY_STATE,
  type StorageState,
  stateFromJson,
  stateToJson,
  storageStateHash,
} from '../storage/validator/settlement.ts';
import {
  actionsHash,
  type NodeAction,
  recoverSettlementSigner,
  type SettlementFields,
  signSettlement,
} from '../storage/validator/settlementSignature.ts';
import { collectEvidence, readParam } from './finalizer.ts';
import type { ValidatorStore } from './store.ts';

const GIB = 1n << 30n;

type SignedSettlement = {
  epoch: string;
  root: Hex;
  total: string;
  /** The on-chain state it starts from: a record over another one is stale and signed again. */
  prevStateHash: Hex;
  stateHash: Hex;
  actions: { node: Hex; kind: number; amount: string }[];
  signature: Hex;
};

export type StorageSettlerDeps = {
  account: LocalAccount;
  clients: ChainClients;
  deployment: Deployment;
  store: ValidatorStore;
  placements: PlacementStore;
  messageDomain: Domain;
  log: Logger;
  /** Fraction of an epoch after its end before it is settled. */
  cutoff: number;
};

export function createStorageSettler(deps: StorageSettlerDeps) {
  const { clients, deployment: d, store, log } = deps;
  const pub = clients.public;
  const me = deps.account.address.toLowerCase() as Hex;
  const quorumDomain = { chainId: d.chainId, validators: d.contracts.Validators };
  const read = <N extends 'nextEpoch' | 'stateHash'>(functionName: N) =>
    pub.readContract({ address: d.contracts.StorageDeals, abi: storageDealsAbi, functionName });

  let treeFor: { hash: Hex; tree: ReturnType<typeof buildRewardTree> } | undefined;
  const putState = (s: StorageState): Hex => {
    const hash = storageStateHash(s);
    store.set(`storageState:${hash}`, JSON.stringify(stateToJson(s)));
    return hash;
  };
  const localState = (hash: Hex): StorageState | undefined => {
    const raw = store.get(`storageState:${hash}`);
    return raw ? stateFromJson(JSON.parse(raw)) : undefined;
  };

  /** The state behind `hash`: ours, else a peer's whose content hashes to it. */
  async function stateFor(hash: Hex): Promise<StorageState | undefined> {
    if (/^0x0+$/.test(hash)) return EMPTY_STATE;
    const local = localState(hash);
    if (local) return local;
    for (const v of await readValidators(pub, d)) {
      if (v.id === me) continue;
      try {
        const s = stateFromJson(
          await fetchJson(`${trim(v.endpoint)}/v1/storage/state/${hash}`, { timeoutMs: 3000 }),
        );
        if (storageStateHash(s) === hash) {
          putState(s);
          return s;
        }
      } catch {
        // next peer
      }
    }
    return undefined;
  }

  /**
   * What each deal pays for the epochs `from` … `to`, as the chain says at `block` (the opening of
   * epoch `to` + 1).
   */
  async function payableDeals(from: bigint, to: bigint, block: bigint) {
    const count = await pub.readContract({
      address: d.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'dealCount',
      blockNumber: block,
    });
    const price = await readParam(pub, d, 'STORAGE_PRICE_GIB_EPOCH');
    const out: { dealId: bigint; amount: bigint }[] = [];
    for (let id = 1n; id <= count; id++) {
      const deal = await pub.readContract({
        address: d.contracts.StorageDeals,
        abi: storageDealsAbi,
        functionName: 'deal',
        args: [id],
        blockNumber: block,
      });
      const perEpoch = deal.permanent ? (BigInt(deal.size) * price + GIB - 1n) / GIB : deal.pricePerEpoch;
      const amount = dealPayment(deal, perEpoch, from, to);
      if (amount > 0n) out.push({ dealId: id, amount });
    }
    return out;
  }

  function signedRecord(epoch: bigint): SignedSettlement | undefined {
    const raw = store.get(`settlement:${epoch}`);
    return raw ? (JSON.parse(raw) as SignedSettlement) : undefined;
  }

  function fieldsOf(s: SignedSettlement): { fields: SettlementFields; actions: NodeAction[] } {
    const actions = s.actions.map((a) => ({ node: a.node, kind: a.kind, amount: BigInt(a.amount) }));
    return {
      fields: {
        epoch: BigInt(s.epoch),
        root: s.root,
        total: BigInt(s.total),
        prevStateHash: s.prevStateHash,
        stateHash: s.stateHash,
        actionsHash: actionsHash(actions),
      },
      actions,
    };
  }

  /**
   * Computes and signs `epoch`'s settlement from the state on chain, or returns the one already
   * signed from that state. (Signing again from a newer state is no equivocation: only one of the
   * two can ever pass the quorum check.)
   */
  async function sign(epoch: bigint): Promise<SignedSettlement | undefined> {
    const [onChainHash, nextPaid] = await Promise.all([read('stateHash'), read('nextEpoch')]);
    if (nextPaid > epoch) return undefined;
    const existing = signedRecord(epoch);
    if (existing?.prevStateHash === onChainHash) return existing;
    const opening = await readEpochOpening(pub, d, epoch);
    const nextOpening = await readEpochOpening(pub, d, epoch + 1n);
    if (!opening || !nextOpening) return undefined;
    const previous = await stateFor(onChainHash);
    if (!previous) throw new Error(`no storage state for on-chain hash ${onChainHash}`);
    const [nodes, validators] = await Promise.all([
      readNodes(pub, d, { blockNumber: opening.blockNumber }),
      readValidators(pub, d, { blockNumber: opening.blockNumber }),
    ]);
    const activeValidators = validators.filter((v) => v.status === VALIDATOR_STATUS.active);
    const evidence = await collectEvidence(deps, epoch, activeValidators);
    const [deals, slashLossBps, repairFeeEpochs] = await Promise.all([
      // From the epoch after the last settled one: epochs skipped since are paid now.
      payableDeals(previous.epoch + 1n, epoch, nextOpening.blockNumber),
      readParam(pub, d, 'SLASH_STORAGE_LOSS_BPS'),
      readParam(pub, d, 'STORAGE_REPAIR_FEE_EPOCHS'),
    ]);
    const result = computeSettlement({
      epoch,
      previous,
      nodes: nodes.filter((n) => n.status === NODE_STATUS.active || n.status === NODE_STATUS.suspended),
      validators: activeValidators,
      evidence,
      deals,
      placements: deps.placements.all(),
      // Repairs since the last settlement (those of skipped epochs too).
      repairs: deps.placements.repairsIn(previous.epoch + 1n, epoch),
      slashLossBps,
      repairFeeEpochs,
      reputation: DEFAULT_REPUTATION,
    });
    putState(result.state);
    const fields: SettlementFields = {
      epoch,
      root: result.root,
      total: result.total,
      prevStateHash: onChainHash,
      stateHash: result.stateHash,
      actionsHash: actionsHash(result.actions),
    };
    const record: SignedSettlement = {
      epoch: String(epoch),
      root: result.root,
      total: String(result.total),
      prevStateHash: onChainHash,
      stateHash: result.stateHash,
      actions: result.actions.map((a) => ({ node: a.node, kind: a.kind, amount: String(a.amount) })),
      signature: await signSettlement(deps.account, quorumDomain, fields),
    };
    store.set(`settlement:${epoch}`, JSON.stringify(record));
    log.info(
      {
        epoch: String(epoch),
        total: String(result.total),
        actions: result.actions.length,
        withheld: String(result.state.withheld),
      },
      'storage settlement signed',
    );
    return record;
  }

  /** Posts once the signers of our settlement hold two thirds of the active stake. */
  async function collectAndPost(record: SignedSettlement): Promise<boolean> {
    const { fields, actions } = fieldsOf(record);
    // Another settlement was posted since this one was signed: it no longer applies.
    if ((await read('stateHash')) !== record.prevStateHash) return false;
    const validators = (await readValidators(pub, d)).filter((v) => v.status === VALIDATOR_STATUS.active);
    const signatures = new Map<Hex, Hex>([[me, record.signature]]);
    await Promise.all(
      validators
        .filter((v) => v.id !== me)
        .map(async (v) => {
          try {
            const theirs = await fetchJson<SignedSettlement>(
              `${trim(v.endpoint)}/v1/storage/settlements/${record.epoch}`,
              { timeoutMs: 3000 },
            );
            const signer = await recoverSettlementSigner(quorumDomain, fields, theirs.signature);
            if (signer === v.id) signatures.set(signer, theirs.signature);
          } catch {
            // not signed yet, a different result, or unreachable
          }
        }),
    );
    const total = validators.reduce((a, v) => a + v.stake, 0n);
    const signed = validators.filter((v) => signatures.has(v.id)).reduce((a, v) => a + v.stake, 0n);
    if (signed * 3n < total * 2n) return false;
    const packed = concatHex(
      [...signatures.entries()].sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : 1)).map(([, s]) => s),
    );
    try {
      await clients.write({
        address: d.contracts.StorageDeals,
        abi: storageDealsAbi,
        functionName: 'settle',
        args: [fields.epoch, fields.root, fields.total, fields.stateHash, actions, packed],
      });
      log.info(
        { epoch: record.epoch, total: record.total, actions: actions.length },
        'storage settlement posted',
      );
    } catch (e) {
      if (!isDepinError(e, 'EPOCH_ALREADY_PAID')) throw e;
    }
    return true;
  }

  async function tick(current: bigint, now: number): Promise<void> {
    const onChain = await read('nextEpoch');
    let next = BigInt(store.get('storageNextEpoch') ?? '0');
    if (next < onChain) next = onChain;
    store.set('storageNextEpoch', String(next));
    const len = d.settings.epochLength;
    const end = d.settings.epochGenesis + Number(next + 1n) * len;
    if (next >= current || now < end + deps.cutoff * len) return;
    if (current > next + 2n) {
      log.warn(
        { epoch: String(next) },
        'storage epoch skipped: its posting window closed without a quorum; the next settlement pays it',
      );
      store.set('storageNextEpoch', String(next + 1n));
      return;
    }
    const record = await sign(next);
    if (!record) {
      if ((await read('nextEpoch')) > next) store.set('storageNextEpoch', String(next + 1n));
      return;
    }
    if (await collectAndPost(record)) store.set('storageNextEpoch', String(next + 1n));
  }

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/v1/storage/settlements/:epoch',
      handler: async ({ params }) => {
        const record = /^[0-9]{1,20}$/.test(params.epoch!) ? signedRecord(BigInt(params.epoch!)) : undefined;
        if (!record)
          throw new DepinError(
            'SETTLEMENT_NOT_FOUND',
            `No storage settlement signed for epoch ${params.epoch}.`,
            {
              status: 404,
            },
          );
        return { body: record };
      },
    },
    {
      method: 'GET',
      path: '/v1/storage/state/:hash',
      handler: async ({ params }) => {
        const s = /^0x[0-9a-f]{64}$/.test(params.hash!) ? localState(params.hash as Hex) : undefined;
        if (!s)
          throw new DepinError('STATE_NOT_FOUND', `No storage state with hash ${params.hash}.`, {
            status: 404,
          });
        return { body: stateToJson(s) };
      },
    },
    {
      method: 'GET',
      path: '/v1/storage/credits/:account',
      handler: async ({ params }) => {
        if (!/^0x[0-9a-fA-F]{40}$/.test(params.account ?? ''))
          throw new DepinError('BAD_ADDRESS', 'An account is a 20-byte hex address.');
        const account = params.account!.toLowerCase() as Hex;
        const hash = await read('stateHash');
        const s = await stateFor(hash);
        if (!s)
          throw new DepinError('STATE_UNKNOWN', `No storage state for the on-chain hash ${hash} yet.`, {
            status: 503,
          });
        // One tree per settled state: nodes ask for their proofs every claim round.
        if (treeFor?.hash !== hash) treeFor = { hash, tree: buildRewardTree(s.cumulative) };
        const tree = treeFor.tree;
        const amount = tree.amountOf(account);
        return {
          body: {
            root: tree.root,
            epoch: String(s.epoch),
            account,
            amount: String(amount ?? 0n),
            proof: amount === undefined ? [] : tree.proof(account),
          },
        };
      },
    },
  ];

  /** The nodes the last settlement on chain left suspended (empty before the first). */
  async function suspended(): Promise<ReadonlySet<string>> {
    const s = await stateFor(await read('stateHash'));
    return new Set((s ?? EMPTY_STATE).suspended.map((x) => x.toLowerCase()));
  }

  return { tick, routes, suspended };
}

const trim = (u: string) => u.replace(/\/$/, '');
