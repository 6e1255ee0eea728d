/**
 * What a download costs and whether a client's vouchers cover it: pure money logic of the node's
 * egress payments (docs/storage.md, "Egress payments"), no I/O.
 */

/** Bytes in a GiB: egress prices are Credits per GiB. */
export const GIB = 1n << 30n;

/**
 * `ceil(size × price / GiB)` Credits: every download of a priced piece costs at least one Credit,
 * and the node never serves a fraction of a Credit for free.
 *
 * @example egressCost(1n << 29n, 200n); // 100n
 */
export function egressCost(size: bigint, pricePerGiB: bigint): bigint {
  if (size <= 0n || pricePerGiB <= 0n) return 0n;
  return (size * pricePerGiB + GIB - 1n) / GIB;
}

/**
 * What a node holds for one client: `cumulative`, its latest voucher's total, and `served`, the
 * cost of everything served so far. Invariant: `cumulative ≥ served`.
 */
export type EgressAccount = { cumulative: bigint; served: bigint };

export type ChargeDecision =
  | { ok: true; account: EgressAccount; newVoucher: boolean }
  | { ok: false; code: 'PAYMENT_REQUIRED' | 'VOUCHER_STALE'; required: bigint };

/**
 * Charges `cost` to a client holding `held`, who sent a voucher for `voucher` (or none). The
 * download is served when the better of the held and the sent voucher covers `served + cost`; the
 * sent voucher is kept when it is higher. Refusals: `VOUCHER_STALE` when the sent voucher does not
 * exceed the one held (the client lost count: it should ask the node what it holds), else
 * `PAYMENT_REQUIRED`; both with `required`, the cumulative a voucher must reach.
 *
 * @example chargeEgress({ cumulative: 10n, served: 10n }, 15n, 5n); // ok, cumulative 15, served 15
 */
export function chargeEgress(held: EgressAccount, voucher: bigint | undefined, cost: bigint): ChargeDecision {
  const required = held.served + cost;
  const newVoucher = voucher !== undefined && voucher > held.cumulative;
  const best = newVoucher ? voucher : held.cumulative;
  if (best >= required) return { ok: true, account: { cumulative: best, served: required }, newVoucher };
  if (voucher !== undefined && !newVoucher) return { ok: false, code: 'VOUCHER_STALE', required };
  return { ok: false, code: 'PAYMENT_REQUIRED', required };
}
