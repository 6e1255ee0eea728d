/**
 * Where pieces go: distinct operators, spread over regions round-robin, only inside the geofence
 * when one is given. Manifests go to nodes ranked by rendezvous hashing on the manifest id, so a
 * client on another machine finds them from the id alone.
 */
import { encodePacked, type Hex, keccak256 } from 'viem';
import { DepinError } from '../../core/errors.ts';
import type { StorageNodeRef } from './transport.ts';

/**
 * Picks up to `count` distinct nodes, alternating regions (the least used region first), in an order
 * shuffled by `seed` so that load spreads across the network.
 *
 * @example selectNodes(nodes, 16, { seed: fileId, geofence: ['eu'] })
 */
export function selectNodes(
  nodes: readonly StorageNodeRef[],
  count: number,
  options: { seed: Hex; geofence?: readonly string[]; exclude?: ReadonlySet<string> },
): StorageNodeRef[] {
  const fence = options.geofence && options.geofence.length > 0 ? new Set(options.geofence) : undefined;
  const eligible = nodes.filter((n) => !options.exclude?.has(n.id) && (!fence || fence.has(n.region)));
  const byRegion = new Map<string, StorageNodeRef[]>();
  for (const n of eligible.sort((a, b) => (rank(options.seed, a.id) < rank(options.seed, b.id) ? -1 : 1))) {
    const list = byRegion.get(n.region) ?? [];
    list.push(n);
    byRegion.set(n.region, list);
  }
  const regions = [...byRegion.keys()].sort();
  const out: StorageNodeRef[] = [];
  for (let round = 0; out.length < count; round++) {
    let added = false;
    for (const r of regions) {
      const n = byRegion.get(r)![round];
      if (n && out.length < count) {
        out.push(n);
        added = true;
      }
    }
    if (!added) break;
  }
  return out;
}

/** Nodes ranked for a key by rendezvous (highest random weight) hashing. */
export function rendezvous(nodes: readonly StorageNodeRef[], key: Hex): StorageNodeRef[] {
  return [...nodes].sort((a, b) => (rank(key, a.id) < rank(key, b.id) ? -1 : 1));
}

function rank(seed: Hex, id: Hex): Hex {
  return keccak256(encodePacked(['bytes32', 'address'], [seed, id]));
}

/** Fails clearly when the network cannot hold a segment with the requested redundancy. */
export function requireNodes(available: number, needed: number, what: string): void {
  if (available < needed) {
    throw new DepinError(
      'STORAGE_NOT_ENOUGH_NODES',
      `${what} needs ${needed} storage nodes; ${available} are eligible.`,
      {
        details: { needed, available },
      },
    );
  }
}
