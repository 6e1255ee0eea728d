/**
 * Egress payments end to end on a devnet of 6 storage nodes as separate processes, each with its
 * own egress price: a client without a deposit is refused clearly; with one, every node that served
 * pieces redeems its vouchers and is paid exactly bytes served × its price, out of the client's
 * deposit.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Hex } from 'viem';
import { creditsAbi, storageDealsAbi } from '../../src/chain/abi/index.ts';
import { devAccounts } from '../../src/chain/devAccounts.ts';
import { depositEgress, readEgressDeposit } from '../../src/storage/client/egress.ts';
import { getFile } from '../../src/storage/client/getFile.ts';
import { createStorageClient, type StorageClient } from '../../src/storage/client/storageClient.ts';
import { storeFile } from '../../src/storage/client/storeFile.ts';
import { GIB } from '../../src/storage/node/egressCharge.ts';
import { startTestNetwork, waitFor } from '../helpers.ts';

type Net = Awaited<ReturnType<typeof startTestNetwork>>;

// Node i charges (i + 1) Credits per byte: a piece's cost is exactly its size × (i + 1).
const price = (i: number) => GIB * BigInt(i + 1);

describe('egress payments on a 6-node devnet', { timeout: 240_000 }, () => {
  let net: Net;
  const client = (autoDeposit: boolean) =>
    createStorageClient({
      rpc: net.chain.rpc,
      deployment: net.chain.deployment,
      account: devAccounts(20)[19]!.account,
      secret: 'egress e2e',
      redundancy: { k: 3, repair: 4, success: 5, total: 6 },
      keyParams: { passes: 1, memoryKiB: 8192, parallelism: 1 },
      autoDeposit,
    });
  let sc: StorageClient;
  const data = new Uint8Array(randomBytes(1_000_000));
  let fileId: Hex;

  /** A node's Credits apart from storage payments (its claim loop also collects those). */
  const credits = async (who: Hex) =>
    (await net.client.readContract({
      address: net.chain.deployment.contracts.Credits,
      abi: creditsAbi,
      functionName: 'balanceOf',
      args: [who],
    })) -
    (await net.client.readContract({
      address: net.chain.deployment.contracts.StorageDeals,
      abi: storageDealsAbi,
      functionName: 'claimed',
      args: [who],
    }));
  const egressBytes = async (url: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return BigInt(/^depin_node_storage_egress_bytes_total (\d+)$/m.exec(text)?.[1] ?? '0');
  };

  before(async () => {
    net = await startTestNetwork({
      nodes: 6,
      validators: 1,
      epochLength: 6,
      nodeArgs: (i) => [
        '--egress-price',
        String(price(i)),
        '--egress-redeem-threshold',
        '1',
        '--egress-redeem-every',
        '1000',
      ],
    });
    sc = await client(true);
    ({ fileId } = await storeFile(sc, { data }));
  });
  after(() => net?.stop());

  test('a download without an egress deposit is refused with INSUFFICIENT_DEPOSIT and the amounts', async () => {
    const noTopUp = await client(false);
    assert.equal((await readEgressDeposit(noTopUp)).balance, 0n);
    await assert.rejects(
      getFile(noTopUp, { fileId }),
      (e: { code: string; status: number; details: Record<string, string> }) => {
        assert.equal(e.code, 'INSUFFICIENT_DEPOSIT');
        assert.equal(e.status, 402);
        assert.equal(e.details.deposit, '0');
        assert.ok(BigInt(e.details.owed ?? '0') > 0n);
        return true;
      },
    );
  });

  test('each serving node is paid bytes served × its price from the client deposit', async () => {
    await depositEgress(sc, 50_000_000n);
    const deposit0 = (await readEgressDeposit(sc)).balance;
    const credits0 = await Promise.all(net.nodes.map((n) => credits(n.address)));
    const bytes0 = await Promise.all(net.nodes.map((n) => egressBytes(n.url)));
    const back = await getFile(sc, { fileId });
    assert.ok(Buffer.from(back).equals(Buffer.from(data)), 'the file came back identical');
    // A hedged request getFile cancelled may still be counted (and charged) a moment later: settle.
    const total = async () =>
      (await Promise.all(net.nodes.map((n) => egressBytes(n.url)))).reduce((a, b) => a + b, 0n);
    for (let last = -1n, now = await total(); now !== last; now = await total()) {
      last = now;
      await new Promise((r) => setTimeout(r, 500));
    }
    const served = (await Promise.all(net.nodes.map((n) => egressBytes(n.url)))).map(
      (b, i) => b - bytes0[i]!,
    );
    const due = served.map((b, i) => (b * price(i)) / GIB);
    assert.ok(served.filter((b) => b > 0n).length >= 3, 'at least k nodes served pieces');
    await waitFor(
      'every node to redeem what it served',
      async () => {
        const now = await Promise.all(net.nodes.map((n) => credits(n.address)));
        return now.every((c, i) => c - credits0[i]! === due[i]);
      },
      60_000,
      500,
    );
    const paid = due.reduce((a, b) => a + b, 0n);
    assert.equal(
      (await readEgressDeposit(sc)).balance,
      deposit0 - paid,
      'the deposit fell by what nodes were paid',
    );
  });
});
