/**
 * Replay protection: each signed message carries a nonce and an expiry; a nonce is accepted once
 * until its expiry passes. Persisted in SQLite so a restart does not reopen the window.
 */
import type { DatabaseSync } from 'node:sqlite';

export type NonceStore = {
  /** Records the nonce; false when it was already used (a replay). */
  use: (nonce: string, expiry: number) => boolean;
};

export function createNonceStore(db: DatabaseSync): NonceStore {
  db.exec('CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expiry INTEGER NOT NULL)');
  const insert = db.prepare('INSERT OR IGNORE INTO nonces (nonce, expiry) VALUES (?, ?)');
  const prune = db.prepare('DELETE FROM nonces WHERE expiry < ?');
  let uses = 0;
  return {
    use(nonce, expiry) {
      if (++uses % 1000 === 0) prune.run(Math.floor(Date.now() / 1000) - 60);
      return insert.run(nonce.toLowerCase(), expiry).changes === 1;
    },
  };
}
