/**
 * Egress receipts a node has collected: client-signed `EgressReceipt` envelopes kept in SQLite by
 * epoch, so validators can fetch them to pay the node for bytes served. A receipt carries no nonce;
 * it is stored once per EIP-712 hash, so re-submitting one changes nothing.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Hex } from 'viem';
import type { EgressReceiptMessage, Envelope } from '../../core/messages.ts';

export type EgressReceiptStore = {
  /** Keeps a verified receipt; false when it was already kept. */
  add(hash: Hex, message: EgressReceiptMessage, envelope: Envelope): boolean;
  /** The receipts of an epoch, in arrival order. */
  byEpoch(epoch: bigint): Envelope[];
};

/**
 * @example
 * const receipts = createEgressReceiptStore(db);
 * receipts.add(hash, message, envelope);
 * receipts.byEpoch(12n);
 */
export function createEgressReceiptStore(db: DatabaseSync): EgressReceiptStore {
  db.exec(`CREATE TABLE IF NOT EXISTS egress_receipts (
    hash TEXT PRIMARY KEY, epoch TEXT NOT NULL, client TEXT NOT NULL, pieceId TEXT NOT NULL,
    bytes TEXT NOT NULL, envelope TEXT NOT NULL, receivedAt INTEGER NOT NULL)`);
  db.exec('CREATE INDEX IF NOT EXISTS egress_receipts_epoch ON egress_receipts (epoch, receivedAt)');
  const insert = db.prepare(
    'INSERT OR IGNORE INTO egress_receipts (hash, epoch, client, pieceId, bytes, envelope, receivedAt) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const select = db.prepare(
    'SELECT envelope FROM egress_receipts WHERE epoch = ? ORDER BY receivedAt, rowid',
  );
  return {
    add(hash, m, envelope) {
      const r = insert.run(
        hash.toLowerCase(),
        m.epoch.toString(),
        m.client.toLowerCase(),
        m.pieceId.toLowerCase(),
        m.bytes.toString(),
        JSON.stringify(envelope),
        Date.now(),
      );
      return r.changes === 1;
    },
    byEpoch(epoch) {
      return (select.all(epoch.toString()) as { envelope: string }[]).map(
        (r) => JSON.parse(r.envelope) as Envelope,
      );
    },
  };
}
