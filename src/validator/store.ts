/**
 * The validator's persistent state (SQLite): its own signed evidence, peers' signatures as first
 * seen, and each epoch's outcome. Signing is recorded before a signature leaves the process, so a
 * restart re-serves the same signature and never signs a second root for an epoch.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Hex } from 'viem';
import type { Envelope } from '../core/messages.ts';

export type EpochRecord = {
  epoch: bigint;
  rewardsRoot: Hex;
  evidenceRoot: Hex;
  total: bigint;
  signature: Hex;
  status: 'signed' | 'posted' | 'abandoned';
};

export type PeerSignature = {
  epoch: bigint;
  validator: Hex;
  rewardsRoot: Hex;
  evidenceRoot: Hex;
  total: bigint;
  signature: Hex;
};

export type ValidatorStore = ReturnType<typeof openValidatorStore>;

/** Opens (creating if needed) the store at `path` (`:memory:` for tests). */
export function openValidatorStore(path: string) {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS evidence (
      epoch INTEGER NOT NULL, subject TEXT NOT NULL, slot INTEGER NOT NULL,
      outcome INTEGER NOT NULL, reason INTEGER NOT NULL, envelope TEXT NOT NULL,
      PRIMARY KEY (epoch, subject, slot));
    CREATE TABLE IF NOT EXISTS epochs (
      epoch INTEGER PRIMARY KEY, rewards_root TEXT NOT NULL, evidence_root TEXT NOT NULL,
      total TEXT NOT NULL, signature TEXT NOT NULL, status TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS manifests (root TEXT PRIMARY KEY, epoch INTEGER NOT NULL, entries TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS peer_signatures (
      epoch INTEGER NOT NULL, validator TEXT NOT NULL, rewards_root TEXT NOT NULL, evidence_root TEXT NOT NULL,
      total TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (epoch, validator, rewards_root, evidence_root, total));
    CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `);
  const q = {
    addEvidence: db.prepare(
      'INSERT OR IGNORE INTO evidence (epoch, subject, slot, outcome, reason, envelope) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    evidenceOf: db.prepare('SELECT envelope FROM evidence WHERE epoch = ? ORDER BY subject, slot'),
    hasEvidence: db.prepare('SELECT 1 FROM evidence WHERE epoch = ? AND subject = ? AND slot = ?'),
    getEpoch: db.prepare('SELECT * FROM epochs WHERE epoch = ?'),
    putEpoch: db.prepare(
      'INSERT INTO epochs (epoch, rewards_root, evidence_root, total, signature, status) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    setStatus: db.prepare('UPDATE epochs SET status = ? WHERE epoch = ?'),
    putManifest: db.prepare('INSERT OR IGNORE INTO manifests (root, epoch, entries) VALUES (?, ?, ?)'),
    getManifest: db.prepare('SELECT epoch, entries FROM manifests WHERE root = ?'),
    addPeerSig: db.prepare(
      'INSERT OR IGNORE INTO peer_signatures (epoch, validator, rewards_root, evidence_root, total, signature) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    peerSigs: db.prepare('SELECT * FROM peer_signatures WHERE epoch = ? AND validator = ?'),
    peerSigsOfEpoch: db.prepare('SELECT * FROM peer_signatures WHERE epoch = ?'),
    getKv: db.prepare('SELECT value FROM kv WHERE key = ?'),
    setKv: db.prepare(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ),
  };

  return {
    db,
    addEvidence(
      epoch: bigint,
      subject: Hex,
      slot: number,
      outcome: number,
      reason: number,
      env: Envelope,
    ): void {
      q.addEvidence.run(epoch, subject.toLowerCase(), slot, outcome, reason, JSON.stringify(env));
    },
    hasEvidence(epoch: bigint, subject: Hex, slot: number): boolean {
      return q.hasEvidence.get(epoch, subject.toLowerCase(), slot) !== undefined;
    },
    evidenceOf(epoch: bigint): Envelope[] {
      return (q.evidenceOf.all(epoch) as { envelope: string }[]).map(
        (r) => JSON.parse(r.envelope) as Envelope,
      );
    },
    getEpoch(epoch: bigint): EpochRecord | undefined {
      const r = q.getEpoch.get(epoch) as Record<string, string | number> | undefined;
      if (!r) return undefined;
      return {
        epoch: BigInt(r.epoch!),
        rewardsRoot: r.rewards_root as Hex,
        evidenceRoot: r.evidence_root as Hex,
        total: BigInt(r.total!),
        signature: r.signature as Hex,
        status: r.status as EpochRecord['status'],
      };
    },
    /** Records a signature; throws if one exists for the epoch (the caller must re-serve that one). */
    putEpoch(rec: EpochRecord): void {
      q.putEpoch.run(
        rec.epoch,
        rec.rewardsRoot,
        rec.evidenceRoot,
        rec.total.toString(),
        rec.signature,
        rec.status,
      );
    },
    setEpochStatus(epoch: bigint, status: EpochRecord['status']): void {
      q.setStatus.run(status, epoch);
    },
    putManifest(root: Hex, epoch: bigint, entries: { account: Hex; amount: bigint }[]): void {
      q.putManifest.run(
        root.toLowerCase(),
        epoch,
        JSON.stringify(entries.map((e) => [e.account, e.amount.toString()])),
      );
    },
    getManifest(root: Hex): { epoch: bigint; entries: { account: Hex; amount: bigint }[] } | undefined {
      const r = q.getManifest.get(root.toLowerCase()) as { epoch: number; entries: string } | undefined;
      if (!r) return undefined;
      const entries = (JSON.parse(r.entries) as [Hex, string][]).map(([account, amount]) => ({
        account,
        amount: BigInt(amount),
      }));
      return { epoch: BigInt(r.epoch), entries };
    },
    /** Records a peer's signature; returns the other (different) results the same peer signed for that epoch. */
    addPeerSignature(s: PeerSignature): PeerSignature[] {
      q.addPeerSig.run(
        s.epoch,
        s.validator.toLowerCase(),
        s.rewardsRoot,
        s.evidenceRoot,
        s.total.toString(),
        s.signature,
      );
      return (q.peerSigs.all(s.epoch, s.validator.toLowerCase()) as Record<string, string | number>[])
        .map(toPeerSignature)
        .filter(
          (o) => o.rewardsRoot !== s.rewardsRoot || o.evidenceRoot !== s.evidenceRoot || o.total !== s.total,
        );
    },
    /** Every signature seen from peers for an epoch (shared with peers so equivocation is seen by all). */
    peerSignaturesOf(epoch: bigint): PeerSignature[] {
      return (q.peerSigsOfEpoch.all(epoch) as Record<string, string | number>[]).map(toPeerSignature);
    },
    get(key: string): string | undefined {
      return (q.getKv.get(key) as { value: string } | undefined)?.value;
    },
    set(key: string, value: string): void {
      q.setKv.run(key, value);
    },
    close(): void {
      db.close();
    },
  };
}

function toPeerSignature(r: Record<string, string | number>): PeerSignature {
  return {
    epoch: BigInt(r.epoch!),
    validator: r.validator as Hex,
    rewardsRoot: r.rewards_root as Hex,
    evidenceRoot: r.evidence_root as Hex,
    total: BigInt(r.total!),
    signature: r.signature as Hex,
  };
}
