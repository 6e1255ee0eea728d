import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chargeEgress, type EgressAccount, egressCost, GIB } from './egressCharge.ts';

describe('egress charge', () => {
  it('costs ceil(size × price / GiB), zero only when free or empty', () => {
    assert.equal(egressCost(GIB, 200n), 200n);
    assert.equal(egressCost(1n, 200n), 1n);
    assert.equal(egressCost(GIB / 2n + 1n, 2n), 2n);
    assert.equal(egressCost(5n, 0n), 0n);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1n << 40n }),
        fc.bigInt({ min: 1n, max: 1n << 40n }),
        (size, price) => {
          const c = egressCost(size, price);
          assert.ok(c * GIB >= size * price && (c - 1n) * GIB < size * price);
        },
      ),
    );
  });

  it('serves when the voucher covers what was served plus this download, and keeps the higher voucher', () => {
    const held = { cumulative: 100n, served: 100n };
    assert.deepEqual(chargeEgress(held, 130n, 30n), {
      ok: true,
      account: { cumulative: 130n, served: 130n },
      newVoucher: true,
    });
    assert.deepEqual(chargeEgress(held, 129n, 30n), { ok: false, code: 'PAYMENT_REQUIRED', required: 130n });
    assert.deepEqual(chargeEgress(held, undefined, 30n), {
      ok: false,
      code: 'PAYMENT_REQUIRED',
      required: 130n,
    });
    assert.deepEqual(chargeEgress(held, 100n, 30n), { ok: false, code: 'VOUCHER_STALE', required: 130n });
    // A voucher the node already holds may have paid ahead (a download that failed after it arrived).
    assert.deepEqual(chargeEgress({ cumulative: 200n, served: 100n }, 150n, 30n), {
      ok: true,
      account: { cumulative: 200n, served: 130n },
      newVoucher: false,
    });
  });

  it('never serves more than the vouchers held cover, and never lowers what is held (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cost: fc.bigInt({ min: 0n, max: 1000n }),
            voucher: fc.option(fc.bigInt({ min: 0n, max: 20_000n }), { nil: undefined }),
          }),
          { maxLength: 40 },
        ),
        (steps) => {
          let held: EgressAccount = { cumulative: 0n, served: 0n };
          let servedCost = 0n;
          for (const s of steps) {
            const d = chargeEgress(held, s.voucher, s.cost);
            if (!d.ok) {
              assert.ok(d.required === held.served + s.cost);
              continue;
            }
            assert.ok(d.account.cumulative >= held.cumulative, 'held voucher never decreases');
            assert.equal(d.account.served, held.served + s.cost, 'served grows by exactly the cost');
            servedCost += s.cost;
            held = d.account;
            assert.ok(held.cumulative >= held.served, 'every served Credit is covered by a signed voucher');
          }
          assert.equal(held.served, servedCost);
        },
      ),
    );
  });
});
