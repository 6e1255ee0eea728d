/**
 * The validator's HTTP API: what peers fetch (its own evidence, its signed root, manifests) and
 * what operators fetch (their reward proof against the root on chain).
 */
import type { Hex } from 'viem';
import { DepinError } from '../core/errors.ts';
import type { Route } from '../core/http.ts';
import { buildRewardTree } from '../core/merkle.ts';
import type { Fault } from './finalizer.ts';
import type { ValidatorStore } from './store.ts';

export type ValidatorApiDeps = {
  store: ValidatorStore;
  me: Hex;
  fault?: Fault | undefined;
  health: () => unknown;
  /** True once no more evidence can be added for the epoch (it has ended, nothing in flight). */
  evidenceFinal: (epoch: bigint) => boolean;
  rewards: () => Promise<{
    root: Hex;
    manifest: { epoch: bigint; entries: { account: Hex; amount: bigint }[] } | undefined;
  }>;
};

const treeCache = new Map<string, ReturnType<typeof buildRewardTree>>();

export function validatorRoutes(deps: ValidatorApiDeps): Route[] {
  let flip = 0;
  return [
    { method: 'GET', path: '/health', handler: () => ({ body: deps.health() }) },
    {
      method: 'GET',
      path: '/v1/evidence/:epoch',
      handler: ({ params }) => {
        const epoch = parseEpoch(params.epoch);
        // Peers must all see the same set: an epoch's evidence is served once it can no longer change.
        if (!deps.evidenceFinal(epoch)) {
          throw new DepinError(
            'EVIDENCE_NOT_FINAL',
            `Epoch ${epoch} is still open or has challenges in flight: ask again shortly.`,
            {
              status: 425,
            },
          );
        }
        return { body: deps.store.evidenceOf(epoch) };
      },
    },
    {
      method: 'GET',
      path: '/v1/epochs/:epoch',
      handler: ({ params }) => {
        const epoch = parseEpoch(params.epoch);
        const rec = deps.store.getEpoch(epoch);
        if (!rec)
          throw new DepinError('EPOCH_NOT_SIGNED', `This validator has not signed epoch ${epoch} yet.`, {
            status: 404,
          });
        const alt = deps.fault === 'equivocate' ? deps.store.get(`equivocation:${epoch}`) : undefined;
        if (alt && flip++ % 2 === 1)
          return { body: { ...JSON.parse(alt), epoch: String(epoch), signer: deps.me } };
        return {
          body: {
            epoch: String(epoch),
            rewardsRoot: rec.rewardsRoot,
            evidenceRoot: rec.evidenceRoot,
            total: String(rec.total),
            signature: rec.signature,
            signer: deps.me,
            status: rec.status,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/epochs/:epoch/signatures',
      handler: ({ params }) => {
        const epoch = parseEpoch(params.epoch);
        const own = deps.store.getEpoch(epoch);
        const seen = deps.store.peerSignaturesOf(epoch).map((s) => ({ ...s, signer: s.validator }));
        const all = own ? [{ ...own, signer: deps.me }, ...seen] : seen;
        return {
          body: all.map((s) => ({
            epoch: String(epoch),
            rewardsRoot: s.rewardsRoot,
            evidenceRoot: s.evidenceRoot,
            total: String(s.total),
            signature: s.signature,
            signer: s.signer,
          })),
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/manifests/:root',
      handler: ({ params }) => {
        if (!/^0x[0-9a-fA-F]{64}$/.test(params.root ?? ''))
          throw new DepinError('BAD_ROOT', 'A root is 32 bytes of hex.');
        const m = deps.store.getManifest(params.root as Hex);
        if (!m)
          throw new DepinError('MANIFEST_UNKNOWN', `No manifest for root ${params.root}.`, { status: 404 });
        return {
          body: { epoch: String(m.epoch), entries: m.entries.map((e) => [e.account, String(e.amount)]) },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/rewards/:account',
      handler: async ({ params }) => {
        if (!/^0x[0-9a-fA-F]{40}$/.test(params.account ?? ''))
          throw new DepinError('BAD_ADDRESS', 'An account is a 20-byte hex address.');
        const account = params.account!.toLowerCase() as Hex;
        const { root, manifest } = await deps.rewards();
        if (!manifest)
          throw new DepinError('MANIFEST_UNKNOWN', `No manifest for the on-chain root ${root} yet.`, {
            status: 503,
          });
        let tree = treeCache.get(root);
        if (!tree) {
          tree = buildRewardTree(manifest.entries);
          treeCache.clear();
          treeCache.set(root, tree);
        }
        const amount = tree.amountOf(account);
        if (amount === undefined)
          return { body: { root, epoch: String(manifest.epoch), account, amount: '0', proof: [] } };
        return {
          body: {
            root,
            epoch: String(manifest.epoch),
            account,
            amount: String(amount),
            proof: tree.proof(account),
          },
        };
      },
    },
  ];
}

function parseEpoch(s: string | undefined): bigint {
  if (!s || !/^\d{1,20}$/.test(s)) throw new DepinError('BAD_EPOCH', 'An epoch is a non-negative integer.');
  return BigInt(s);
}
