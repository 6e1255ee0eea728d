/**
 * The node's egress ledger in SQLite: per client, the latest (highest) voucher it signed to this
 * node, what was served against it and what was redeemed on chain. A voucher is written before the
 * piece is streamed, so a node that stops (or crashes) keeps every voucher it served against and
 * redeems it after the restart.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Hex } from 'viem';
import type { EgressAccount } from './egressCharge.ts';

export type EgressLedgerEntry = EgressAccount & {
  client: Hex;
  /** The signature of the voucher for `cumulative` (`0x` while no voucher was kept). */
  signature: Hex;
  /** Credits this client → node pair has redeemed on chain, as last seen. */
  redeemed: bigint;
  /** Unix seconds of the last redemption attempt (or of the first charge, before any). */
  attemptedAt: number;
};

export type EgressLedger = {
  /** The client's entry; zeros for a client never seen. */
  get(client: Hex): EgressLedgerEntry;
  /** Records a charge: the new served total and, when `voucher` is given, the new highest voucher. */
  charge(client: Hex, account: EgressAccount, voucher?: { cumulative: bigint; signature: Hex }): void;
  /** Records a redemption attempt and the pair's redeemed total it left on chain. */
  redeemed(client: Hex, redeemed: bigint, at: number): void;
  /** Entries whose voucher is above what was redeemed, largest first. */
  unredeemed(): EgressLedgerEntry[];
  /** Σ (cumulative − redeemed) over all clients. */
  totalUnredeemed(): bigint;
};

type Row = {
  client: string;
  cumulative: string;
  served: string;
  signature: string;
  redeemed: string;
  attemptedAt: number;
};

/**
 * @example const ledger = createEgressLedger(db); ledger.get(client).cumulative
 */
export function createEgressLedger(db: DatabaseSync): EgressLedger {
  // Amounts as decimal text: Credits are uint256 on chain.
  db.exec(`CREATE TABLE IF NOT EXISTS egress_vouchers (
    client TEXT PRIMARY KEY, cumulative TEXT NOT NULL, served TEXT NOT NULL, signature TEXT NOT NULL,
    redeemed TEXT NOT NULL, attemptedAt INTEGER NOT NULL)`);
  const q = {
    get: db.prepare('SELECT * FROM egress_vouchers WHERE client = ?'),
    upsert:
      db.prepare(`INSERT INTO egress_vouchers (client, cumulative, served, signature, redeemed, attemptedAt)
      VALUES (?, ?, ?, ?, '0', unixepoch()) ON CONFLICT (client) DO UPDATE SET cumulative = excluded.cumulative,
      served = excluded.served, signature = excluded.signature`),
    redeemed: db.prepare('UPDATE egress_vouchers SET redeemed = ?, attemptedAt = ? WHERE client = ?'),
    all: db.prepare('SELECT * FROM egress_vouchers'),
  };
  const entry = (r: Row): EgressLedgerEntry => ({
    client: r.client as Hex,
    cumulative: BigInt(r.cumulative),
    served: BigInt(r.served),
    signature: r.signature as Hex,
    redeemed: BigInt(r.redeemed),
    attemptedAt: r.attemptedAt,
  });
  const ledger: EgressLedger = {
    get(client) {
      const r = q.get.get(client.toLowerCase()) as Row | undefined;
      return r
        ? entry(r)
        : {
            client: client.toLowerCase() as Hex,
            cumulative: 0n,
            served: 0n,
            signature: '0x',
            redeemed: 0n,
            attemptedAt: 0,
          };
    },
    charge(client, account, voucher) {
      const held = ledger.get(client);
      q.upsert.run(
        client.toLowerCase(),
        (voucher?.cumulative ?? held.cumulative).toString(),
        account.served.toString(),
        voucher?.signature ?? held.signature,
      );
    },
    redeemed(client, redeemed, at) {
      q.redeemed.run(redeemed.toString(), at, client.toLowerCase());
    },
    unredeemed() {
      return (q.all.all() as Row[])
        .map(entry)
        .filter((e) => e.cumulative > e.redeemed)
        .sort((a, b) => (b.cumulative - b.redeemed > a.cumulative - a.redeemed ? 1 : -1));
    },
    totalUnredeemed() {
      return ledger.unredeemed().reduce((s, e) => s + e.cumulative - e.redeemed, 0n);
    },
  };
  return ledger;
}
