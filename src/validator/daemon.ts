/**
 * `depin validator`: the one place that wires a validator. Each tick it opens the current epoch's
 * randomness, runs the challenges due in the current epoch, and finalises closed epochs in order
 * (evidence exchange → shared reward function → co-sign → quorum post). Progress is persisted:
 * a restart resumes at the same epoch and re-serves the signature it already gave.
 */
import { join } from 'node:path';
import type { Hex, LocalAccount } from 'viem';
import { epochsAbi, tokenAbi, validatorsAbi } from '../chain/abi/index.ts';
import { createClaimLoop } from '../chain/claimRewards.ts';
import { createChainClients } from '../chain/clients.ts';
import type { Deployment } from '../chain/deployment.ts';
import {
  isEpochOpen,
  type NodeRecord,
  readClock,
  readEpochOpening,
  readNodes,
  readRewardsState,
  readValidators,
} from '../chain/reads.ts';
import { type DepinError, isDepinError } from '../core/errors.ts';
import { EVIDENCE_KIND } from '../core/evidence.ts';
import { fetchJson, startJsonServer } from '../core/http.ts';
import type { Logger } from '../core/log.ts';
import { messageDomain, signMessage } from '../core/messages.ts';
import { createMetrics } from '../core/metrics.ts';
import { challengeSchedule } from '../core/schedule.ts';
import { DEFAULT_EGRESS_TOP_UP } from '../storage/client/egress.ts';
import { AUDIT_SLOT_BASE, auditPiece } from '../storage/validator/audit.ts';
import { createPlacementStore, placementRoute } from '../storage/validator/placements.ts';
import { sampleAudits } from '../storage/validator/sampling.ts';
import { validatorRoutes } from './api.ts';
import { challengeNode } from './challenger.ts';
import {
  collectAndPost,
  computeAndSign,
  epochSnapshot,
  type Fault,
  gatherSignatures,
  manifestFor,
} from './finalizer.ts';
import { createRepairs } from './repairs.ts';
import { createStorageSettler } from './storageSettler.ts';
import { openValidatorStore } from './store.ts';

export type ValidatorConfig = {
  rpc: string;
  deployment: Deployment;
  account: LocalAccount;
  dataDir: string;
  host: string;
  port: number;
  publicUrl?: string;
  stake: bigint;
  tickMs: number;
  /** Fraction of an epoch after its end before it is finalised (evidence cutoff). */
  cutoff: number;
  challengeTimeoutMs: number;
  claimEveryMs: number;
  /** Storage audits this validator runs per epoch. */
  auditsPerEpoch: number;
  /** How often to look for segments to repair (0: never repair). */
  repairEveryMs: number;
  fault?: Fault;
  log: Logger;
};

export type ValidatorDaemon = { url: string; start: () => Promise<void>; stop: () => Promise<void> };

export function createValidator(config: ValidatorConfig): ValidatorDaemon {
  const d = config.deployment;
  const log = config.log;
  const me = config.account.address.toLowerCase() as Hex;
  const clients = createChainClients({ rpc: config.rpc, chainId: d.chainId });
  const store = openValidatorStore(join(config.dataDir, 'validator.sqlite'));
  const placements = createPlacementStore(store.db);
  const domain = messageDomain(d.chainId, d.contracts.Registry);
  const metrics = createMetrics('depin_validator');
  const evidenceCount = metrics.counter('depin_validator_evidence_total', 'Evidence records signed', [
    'outcome',
    'reason',
  ]);
  const epochsPosted = metrics.gauge('depin_validator_last_finalised_epoch', 'Last epoch finalised');
  const inflight = new Set<string>();
  let server: Awaited<ReturnType<typeof startJsonServer>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let stopped = false;
  const snapshots = new Map<
    bigint,
    {
      block: bigint;
      randomness: Hex;
      nodes: NodeRecord[];
      auditable: NodeRecord[];
      validators: { id: Hex }[];
      perEpoch: number;
    }
  >();

  const wallet = createChainClients({ rpc: config.rpc, chainId: d.chainId, account: config.account });
  const claims = createClaimLoop(
    { clients: wallet, deployment: d, account: config.account, log },
    config.claimEveryMs,
  );
  const deps = {
    account: config.account,
    clients: wallet,
    deployment: d,
    store,
    messageDomain: domain,
    log,
    fault: config.fault,
  };
  const settler = createStorageSettler({ ...deps, placements, cutoff: config.cutoff });
  const repairs = createRepairs({
    account: config.account,
    clients: wallet,
    deployment: d,
    placements,
    domain,
    log,
    suspended: settler.suspended,
    egress: {
      account: config.account,
      clients: wallet,
      deployment: d,
      egress: { autoDeposit: true, minTopUp: DEFAULT_EGRESS_TOP_UP },
    },
    bindDeal: async (node, dealId, pieceIds) => {
      await fetchJson(`${node.endpoint.replace(/\/$/, '')}/v1/storage/deals`, {
        body: { dealId: String(dealId), pieceIds },
        timeoutMs: 10_000,
      });
    },
  });
  let lastRepair = 0;
  let settling: Promise<void> | undefined;
  let repairing: Promise<void> | undefined;

  async function ensureJoined(url: string): Promise<void> {
    const v = await clients.public.readContract({
      address: d.contracts.Validators,
      abi: validatorsAbi,
      functionName: 'getValidator',
      args: [config.account.address],
    });
    if (v.status !== 0) {
      if (v.status === 1 && v.endpoint !== url) {
        await wallet.write({
          address: d.contracts.Validators,
          abi: validatorsAbi,
          functionName: 'setEndpoint',
          args: [url],
        });
        log.info({ endpoint: url }, 'validator endpoint moved');
      } else log.info({ status: v.status, stake: String(v.stake) }, 'already in the validator set');
      return;
    }
    await wallet.write({
      address: d.contracts.Token,
      abi: tokenAbi,
      functionName: 'approve',
      args: [d.contracts.Validators, config.stake],
    });
    await wallet.write({
      address: d.contracts.Validators,
      abi: validatorsAbi,
      functionName: 'join',
      args: [config.stake, url],
    });
    log.info({ stake: String(config.stake), endpoint: url }, 'joined the validator set');
  }

  async function snapshot(epoch: bigint) {
    const cached = snapshots.get(epoch);
    if (cached) return cached;
    const opening = await readEpochOpening(clients.public, d, epoch);
    if (!opening) return undefined;
    const snap = await epochSnapshot(clients.public, d, opening.blockNumber);
    const value = { block: opening.blockNumber, randomness: opening.randomness, ...snap };
    snapshots.set(epoch, value);
    for (const k of snapshots.keys()) if (k < epoch - 4n) snapshots.delete(k);
    return value;
  }

  async function tick(): Promise<void> {
    const { now, epoch } = await readClock(clients.public, d);
    if (!(await isEpochOpen(clients.public, d, epoch))) {
      try {
        await wallet.write({
          address: d.contracts.Epochs,
          abi: epochsAbi,
          functionName: 'open',
          args: [epoch],
        });
      } catch (e) {
        if (!isDepinError(e, 'RANDOMNESS_ALREADY_SET')) throw e;
      }
    }
    await runChallenges(epoch, now);
    await finalise(epoch, now);
    // Storage settlement and repair wait on peers and move pieces: they run beside the tick, one
    // of each at a time, so that they never delay challenges or the reward root.
    if (!settling)
      settling = settler
        .tick(epoch, now)
        .catch((e: unknown) =>
          log.warn({ err: (e as Error).message, code: (e as DepinError).code }, 'storage settlement failed'),
        )
        .finally(() => {
          settling = undefined;
        });
    if (!repairing && config.repairEveryMs > 0 && Date.now() - lastRepair >= config.repairEveryMs) {
      lastRepair = Date.now();
      repairing = repairs
        .work()
        .catch((e: unknown) => log.warn({ err: (e as Error).message }, 'repair round failed'))
        .then(() => undefined)
        .finally(() => {
          repairing = undefined;
        });
    }
  }

  async function runChallenges(epoch: bigint, now: number): Promise<void> {
    const snap = await snapshot(epoch);
    if (!snap?.validators.some((v) => v.id === me)) return;
    const start = d.settings.epochGenesis + Number(epoch) * d.settings.epochLength;
    const elapsed = now - start + 0.999;
    const schedule = challengeSchedule({
      randomness: snap.randomness,
      validator: me,
      nodes: snap.nodes.map((n) => n.id),
      perEpoch: snap.perEpoch,
      epochLength: d.settings.epochLength,
    });
    for (const item of schedule) {
      if (item.offset > elapsed) break;
      const key = `${epoch}:${item.node}:${item.slot}`;
      if (inflight.has(key) || store.hasEvidence(epoch, item.node, item.slot)) continue;
      const node = snap.nodes.find((n) => n.id === item.node)!;
      inflight.add(key);
      challengeNode({
        account: config.account,
        domain,
        store,
        epoch,
        slot: item.slot,
        node,
        timeoutMs: config.challengeTimeoutMs,
      })
        .then((r) => evidenceCount.inc({ outcome: String(r.outcome), reason: String(r.reason) }))
        .catch((e: unknown) =>
          log.warn({ err: (e as Error).message, node: node.id }, 'challenge failed to record'),
        )
        .finally(() => inflight.delete(key));
    }
    runAudits(epoch, elapsed, snap);
  }

  /** Storage audits: a size-weighted sample of placed pieces, spread over the epoch's first 70%. */
  function runAudits(
    epoch: bigint,
    elapsed: number,
    snap: NonNullable<Awaited<ReturnType<typeof snapshot>>>,
  ): void {
    const active = new Map(snap.auditable.map((n) => [n.id, n]));
    const candidates = placements.all().filter((p) => active.has(p.node));
    if (candidates.length === 0) return;
    const roots = new Map(candidates.map((p) => [`${p.pieceId}:${p.node}`, p.pieceRoot]));
    const picks = sampleAudits({
      randomness: snap.randomness,
      validator: me,
      pieces: candidates,
      count: config.auditsPerEpoch,
    });
    picks.forEach((pick, i) => {
      const offset = ((i + 1) / (picks.length + 1)) * 0.7 * d.settings.epochLength;
      const slot = AUDIT_SLOT_BASE + i;
      const key = `${epoch}:${pick.node}:${slot}`;
      if (offset > elapsed || inflight.has(key) || store.hasEvidence(epoch, pick.node, slot)) return;
      inflight.add(key);
      const node = active.get(pick.node)!;
      auditPiece({
        account: config.account,
        domain,
        epoch,
        pick: { ...pick, pieceRoot: roots.get(`${pick.pieceId}:${pick.node}`)! },
        node,
        timeoutMs: config.challengeTimeoutMs,
      })
        .then(async (r) => {
          const env = await signMessage(config.account, domain, 'Evidence', {
            epoch,
            validator: config.account.address,
            subject: node.id,
            kind: EVIDENCE_KIND.storageAudit,
            slot,
            outcome: r.outcome,
            reason: r.reason,
            measurement: BigInt(r.latencyMs),
          });
          store.addEvidence(epoch, node.id, slot, r.outcome, r.reason, env);
          evidenceCount.inc({ outcome: String(r.outcome), reason: String(r.reason) });
        })
        .catch((e: unknown) =>
          log.warn({ err: (e as Error).message, node: node.id }, 'audit failed to record'),
        )
        .finally(() => inflight.delete(key));
    });
  }

  async function finalise(current: bigint, now: number): Promise<void> {
    const chainState = await readRewardsState(clients.public, d);
    let next = BigInt(store.get('nextEpoch') ?? String(chainState.nextEpoch));
    if (next < chainState.nextEpoch) next = chainState.nextEpoch;
    store.set('nextEpoch', String(next));
    // Keep watching the last finalised epoch for equivocation: peers share what they saw.
    const last = store.getEpoch(next - 1n);
    if (last) await gatherSignatures(deps, last).catch(() => undefined);
    const len = d.settings.epochLength;
    const end = d.settings.epochGenesis + Number(next + 1n) * len;
    if (next >= current || now < end + config.cutoff * len) return;
    // The previous epoch must be settled on chain (or its posting window closed) so that every
    // validator starts from the same cumulative root.
    if (chainState.nextEpoch < next && current <= next + 1n) return;
    if (current > next + 2n) {
      log.warn({ epoch: String(next) }, 'epoch abandoned: its posting window closed without a quorum');
      if (store.getEpoch(next)) store.setEpochStatus(next, 'abandoned');
      store.set('nextEpoch', String(next + 1n));
      return;
    }
    const snap = await snapshot(next);
    if (!snap) {
      store.set('nextEpoch', String(next + 1n));
      return;
    }
    let record: Awaited<ReturnType<typeof computeAndSign>>['record'];
    try {
      ({ record } = await computeAndSign(deps, next, snap.block));
    } catch (e) {
      if (!isDepinError(e, 'EPOCH_ALREADY_POSTED')) throw e;
      store.set('nextEpoch', String(next + 1n));
      return;
    }
    const outcome = await collectAndPost(deps, record);
    if (outcome === 'posted') {
      store.setEpochStatus(next, 'posted');
      store.set('nextEpoch', String(next + 1n));
      epochsPosted.set(Number(next));
    }
  }

  function loop(): void {
    if (stopped) return;
    ticking = tick()
      .catch((e: unknown) =>
        log.warn({ err: (e as Error).message, code: (e as DepinError).code }, 'tick failed'),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, config.tickMs);
      });
  }

  return {
    get url() {
      return server?.url ?? '';
    },
    async start() {
      server = await startJsonServer({
        log,
        host: config.host,
        port: config.port,
        routes: [
          metrics.route,
          ...settler.routes,
          ...repairs.routes,
          placementRoute({
            store: placements,
            log,
            verify: { clients, deployment: d, domain, nodes: () => readNodes(clients.public, d) },
          }),
          ...validatorRoutes({
            store,
            me,
            fault: config.fault,
            health: () => ({ ok: true, validator: me }),
            // Final once the epoch has ended (by the clock, not by our own tick, which may be busy
            // finalising) and none of its challenges is in flight.
            evidenceFinal: (epoch) =>
              Date.now() / 1000 >= d.settings.epochGenesis + Number(epoch + 1n) * d.settings.epochLength &&
              ![...inflight].some((k) => k.startsWith(`${epoch}:`)),
            rewards: async () => {
              const st = await readRewardsState(clients.public, d);
              const peers = (await readValidators(clients.public, d)).map((v) => v.endpoint);
              const m = await manifestFor(deps, st.root, peers);
              return { root: st.root, manifest: m };
            },
          }),
        ],
        onRequest: (route, status) => metrics.requests.inc({ route, status: String(status) }),
      });
      const url = config.publicUrl ?? server.url;
      await ensureJoined(url);
      log.info({ url, validator: me }, 'validator serving');
      loop();
      claims.start();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
      await Promise.all([settling, repairing]);
      await claims.stop();
      await server?.stop();
      store.close();
    },
  };
}
