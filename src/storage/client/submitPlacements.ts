/**
 * Tells the validators where a deal's pieces are (with each holder's signed receipt) so that they
 * can audit them. Every active validator is told; one that is down learns nothing of this deal, and
 * the others still audit it.
 */
import { readValidators, VALIDATOR_STATUS } from '../../chain/reads.ts';
import { DepinError } from '../../core/errors.ts';
import { fetchJson } from '../../core/http.ts';
import type { PlacementSubmission } from '../validator/placements.ts';
import type { StorageClient } from './storageClient.ts';

export async function submitPlacements(sc: StorageClient, placement: PlacementSubmission): Promise<number> {
  const validators = (await readValidators(sc.clients.public, sc.deployment)).filter(
    (v) => v.status === VALIDATOR_STATUS.active,
  );
  const results = await Promise.allSettled(
    validators.map((v) =>
      fetchJson(`${v.endpoint.replace(/\/$/, '')}/v1/storage/placements`, {
        body: placement,
        timeoutMs: 15_000,
      }),
    ),
  );
  const accepted = results.filter((r) => r.status === 'fulfilled').length;
  if (accepted === 0 && validators.length > 0) {
    const first = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    throw new DepinError(
      'STORAGE_PLACEMENT_REFUSED',
      `No validator accepted the placement of this deal: ${(first?.reason as Error)?.message}`,
      {
        cause: first?.reason,
      },
    );
  }
  return accepted;
}
