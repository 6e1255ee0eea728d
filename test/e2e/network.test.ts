/**
 * The coordination layer end to end: a real chain, validators and nodes as separate processes
 * talking HTTP, epochs passing, roots posted with quorum, rewards claimed.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Hex } from 'viem';
import { registryAbi, rewardsAbi, tokenAbi, validatorsAbi } from '../../src/chain/abi/index.ts';
import { readRewardsState } from '../../src/chain/reads.ts';
import { fetchJson } from '../../src/core/http.ts';
import { DEV_TOKEN_BALANCE } from '../../src/devnet/chain.ts';
import { waitForClaims } from '../../src/devnet/summary.ts';
import {
  currentEpoch,
  postedRoots,
  startTestNetwork,
  untilEpochFraction,
  waitFor,
  waitForRewardedEpoch,
} from '../helpers.ts';

const EPOCH = 5;

async function earned(validatorUrl: string, account: Hex): Promise<bigint> {
  return BigInt((await fetchJson<{ amount: string }>(`${validatorUrl}/v1/rewards/${account}`)).amount);
}

describe('a local network', { timeout: 240_000 }, () => {
  test('registers nodes, agrees on every epoch, pays every honest node and pays less to a node that was down', async () => {
    const net = await startTestNetwork({ nodes: 4, validators: 3, epochLength: EPOCH });
    after(() => net.stop());
    const d = net.chain.deployment;
    for (const n of net.nodes) {
      const rec = await net.client.readContract({
        address: d.contracts.Registry,
        abi: registryAbi,
        functionName: 'getNode',
        args: [n.address],
      });
      assert.equal(rec.status, 1, 'node is active');
      assert.ok(rec.stake >= 200n * 10n ** 18n, 'node staked at least the required stake');
      assert.equal(rec.endpoint, n.url);
    }
    const first = (await currentEpoch(net)) + 1n;
    await waitForRewardedEpoch(net, first);
    // Earnings are compared from here on: nodes register one by one at start-up, and one alone in
    // an early epoch takes that epoch's whole node share.
    const v0 = net.validators[0]!.url;
    const startEarned = new Map(
      await Promise.all(net.nodes.map(async (n) => [n.address, await earned(v0, n.address)] as const)),
    );
    const earnedSince = async (a: Hex) => (await earned(v0, a)) - startEarned.get(a)!;
    const down = net.nodes[3]!;
    await down.kill();
    const downSince = await currentEpoch(net);
    await waitForRewardedEpoch(net, downSince + 2n);
    await down.start();
    const last = (await currentEpoch(net)) + 1n;
    await waitForRewardedEpoch(net, last);
    assert.ok(await waitForClaims(net, 4 * EPOCH * 1000), 'every member claimed what it earned');

    const roots = await postedRoots(net);
    const epochs = roots.map((r) => r.epoch).filter((e) => e >= first);
    assert.deepEqual(
      epochs,
      Array.from({ length: epochs.length }, (_, i) => first + BigInt(i)),
      'no epoch skipped after start-up',
    );
    // The validators agreed: a two-thirds quorum signed each posted root and none signed another
    // (a validator that fell behind may skip signing an epoch already on chain).
    for (const r of roots.filter((x) => x.epoch >= first)) {
      let signed = 0;
      for (const v of net.validators) {
        const s = await fetchJson<{ rewardsRoot: Hex }>(`${v.url}/v1/epochs/${r.epoch}`).catch(
          () => undefined,
        );
        if (!s) continue;
        assert.equal(
          s.rewardsRoot,
          r.rewardsRoot,
          `validator ${v.name} signed the posted root of epoch ${r.epoch}`,
        );
        signed++;
      }
      assert.ok(signed * 3 >= net.validators.length * 2, `a quorum signed epoch ${r.epoch}`);
    }
    const claimed = async (a: Hex) =>
      net.client.readContract({
        address: d.contracts.Rewards,
        abi: rewardsAbi,
        functionName: 'claimed',
        args: [a],
      });
    const honest = net.nodes.slice(0, 3);
    for (const n of honest) assert.ok((await claimed(n.address)) > 0n, `${n.name} claimed a positive reward`);
    const downEarned = await earnedSince(down.address);
    for (const n of honest)
      assert.ok(downEarned < (await earnedSince(n.address)), 'the node that was down earned less');
    const state = await readRewardsState(net.client, d);
    const emitted = await net.client.readContract({
      address: d.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'cumulativeEmission',
      args: [state.nextEpoch - 1n],
    });
    let totalClaimed = 0n;
    for (const m of [...net.nodes, ...net.validators]) totalClaimed += await claimed(m.address);
    assert.ok(BigInt(state.totalAllocated) <= emitted, 'allocations never exceed the emission');
    assert.ok(totalClaimed <= BigInt(state.totalAllocated), 'claims never exceed allocations');
  });

  test('killing and restarting a validator and a node mid-epoch loses nothing and pays nothing twice', async () => {
    const net = await startTestNetwork({ nodes: 3, validators: 3, epochLength: EPOCH });
    after(() => net.stop());
    const d = net.chain.deployment;
    const first = (await currentEpoch(net)) + 1n;
    await waitForRewardedEpoch(net, first);
    // Crash a validator that signed the first epoch (a quorum did; a slow third may not have).
    let v1: (typeof net.validators)[number] | undefined;
    let before: { signature: Hex } | undefined;
    for (const v of net.validators) {
      before = await fetchJson<{ signature: Hex }>(`${v.url}/v1/epochs/${first}`).catch(() => undefined);
      if (before) {
        v1 = v;
        break;
      }
    }
    assert.ok(v1 && before, 'a quorum signed the first epoch');
    const n0 = net.nodes[0]!;
    // Mid-epoch: crash both, restart at once.
    const crashEpoch = await untilEpochFraction(net, 0.4);
    await Promise.all([v1.kill(), n0.kill()]);
    await Promise.all([v1.start(), n0.start()]);
    await waitForRewardedEpoch(net, crashEpoch + 2n);
    assert.ok(await waitForClaims(net, 4 * EPOCH * 1000));

    const roots = (await postedRoots(net)).filter((r) => r.epoch >= first);
    assert.deepEqual(
      roots.map((r) => r.epoch),
      Array.from({ length: roots.length }, (_, i) => first + BigInt(i)),
      'every epoch was rewarded: none lost to the crash',
    );
    const after_ = await fetchJson<{ signature: Hex }>(`${v1.url}/v1/epochs/${first}`);
    assert.equal(
      after_.signature,
      before.signature,
      'the restarted validator serves the signature it gave before',
    );
    const v = await net.client.readContract({
      address: d.contracts.Validators,
      abi: validatorsAbi,
      functionName: 'getValidator',
      args: [v1.address],
    });
    assert.equal(v.status, 1, 'the restarted validator was not slashed: it never signed two roots');
    // Paid exactly once: balance = genesis − stake + claimed, and claimed = cumulative earned.
    const node = await net.client.readContract({
      address: d.contracts.Registry,
      abi: registryAbi,
      functionName: 'getNode',
      args: [n0.address],
    });
    const claimed = await net.client.readContract({
      address: d.contracts.Rewards,
      abi: rewardsAbi,
      functionName: 'claimed',
      args: [n0.address],
    });
    const balance = await net.client.readContract({
      address: d.contracts.Token,
      abi: tokenAbi,
      functionName: 'balanceOf',
      args: [n0.address],
    });
    assert.equal(claimed, await earned(net.validators[0]!.url, n0.address));
    assert.equal(balance, DEV_TOKEN_BALANCE - node.stake + claimed);
    assert.ok(claimed > 0n);
  });

  test('a validator signing a wrong root cannot reach quorum, and one that equivocates is slashed', async () => {
    const net = await startTestNetwork({
      nodes: 2,
      validators: 4,
      epochLength: EPOCH,
      validatorArgs: (i) => (i === 0 ? ['--fault', 'wrong-root'] : i === 3 ? ['--fault', 'equivocate'] : []),
    });
    after(() => net.stop());
    const d = net.chain.deployment;
    const cheat = net.validators[3]!;
    const before = await net.client.readContract({
      address: d.contracts.Validators,
      abi: validatorsAbi,
      functionName: 'getValidator',
      args: [cheat.address],
    });
    const removed = await waitFor(
      'the equivocating validator to be removed',
      async () => {
        const v = await net.client.readContract({
          address: d.contracts.Validators,
          abi: validatorsAbi,
          functionName: 'getValidator',
          args: [cheat.address],
        });
        return v.status === 3 ? v : undefined;
      },
      12 * EPOCH * 1000,
    );
    assert.equal(removed.stake, 0n);
    assert.equal(removed.unbonding, before.stake / 2n, 'half of its stake was slashed');
    const first = (await currentEpoch(net)) + 1n;
    await waitForRewardedEpoch(net, first);
    const roots = await postedRoots(net);
    assert.ok(roots.length > 0);
    for (const r of roots) {
      const wrong = await fetchJson<{ rewardsRoot: Hex }>(
        `${net.validators[0]!.url}/v1/epochs/${r.epoch}`,
      ).catch(() => undefined);
      if (wrong)
        assert.notEqual(
          wrong.rewardsRoot,
          r.rewardsRoot,
          `the wrong root of epoch ${r.epoch} was never posted`,
        );
      const honest = await fetchJson<{ rewardsRoot: Hex }>(`${net.validators[1]!.url}/v1/epochs/${r.epoch}`);
      assert.equal(honest.rewardsRoot, r.rewardsRoot, 'the honest root was posted');
    }
  });
});
