/**
 * Audit reputation with forgetting (after Storj's beta reputation): each audit outcome updates
 * α ← λ·α + (success ? 1 : 0), β ← λ·β + (failure ? 1 : 0); the score is α / (α + β). Old history
 * fades at rate λ, so a node that had an honest incident recovers by passing audits again; a node
 * below the suspension threshold is suspended, and lifted once it climbs back over the reinstate
 * threshold (hysteresis, so it does not flap). Pure and deterministic: fixed-point integers (1e9).
 */

export const SCALE = 1_000_000_000n;

export type Reputation = { alpha: bigint; beta: bigint };

export type ReputationParams = {
  /** Forgetting factor λ in 1e9 units (0.95 → 950_000_000). */
  lambda: bigint;
  /** Below this score (1e9 units) a node is suspended. */
  suspendBelow: bigint;
  /** A suspended node is reinstated at or above this score. */
  reinstateAt: bigint;
};

/** Devnet defaults: fast forgetting so that a demo shows suspension and recovery within minutes. */
export const DEFAULT_REPUTATION: ReputationParams = {
  lambda: 900_000_000n,
  suspendBelow: 600_000_000n,
  reinstateAt: 800_000_000n,
};

/**
 * A new node starts with five successes' worth of trust: one or two failed audits (a restart, a
 * network blip) do not suspend it; three in a row do.
 */
export const INITIAL_REPUTATION: Reputation = { alpha: 5n * SCALE, beta: 0n };

/**
 * @example let r = INITIAL_REPUTATION; r = updateReputation(r, false, DEFAULT_REPUTATION); score(r) // < 1e9
 */
export function updateReputation(r: Reputation, success: boolean, p: ReputationParams): Reputation {
  return {
    alpha: (r.alpha * p.lambda) / SCALE + (success ? SCALE : 0n),
    beta: (r.beta * p.lambda) / SCALE + (success ? 0n : SCALE),
  };
}

/** Score α / (α + β) in 1e9 units; 1e9 for a node with no failures. */
export function score(r: Reputation): bigint {
  const total = r.alpha + r.beta;
  return total === 0n ? SCALE : (r.alpha * SCALE) / total;
}

/** Whether the node should be suspended next, given whether it is suspended now. */
export function shouldSuspend(r: Reputation, suspended: boolean, p: ReputationParams): boolean {
  const s = score(r);
  return suspended ? s < p.reinstateAt : s < p.suspendBelow;
}
