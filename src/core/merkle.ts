/**
 * The reward manifest: a Merkle tree over (account, cumulative amount), byte-for-byte the tree that
 * `StandardMerkleTree.of(entries, ['address', 'uint256'])` of @openzeppelin/merkle-tree builds, so the
 * root and every proof are the ones the Rewards contract (OpenZeppelin `MerkleProof`) accepts:
 *
 * - leaf = keccak256(keccak256(abi.encode(account, amount)));
 * - leaves sorted ascending by hash and stored from the end of a heap-layout array of 2n−1 nodes
 *   (the smallest leaf at index 2n−2), inner node i = keccak256(sort(node[2i+1], node[2i+2]));
 * - a proof lists the siblings from the leaf up to (not including) the root.
 *
 * For 0 entries (OpenZeppelin throws) the root is bytes32(0): no proof can verify against it, and
 * the contract pays nothing under it.
 *
 * It is built ~100 times faster than the library: every leaf is encoded into one WebAssembly memory,
 * hashed there in batches (keccak.ts), by this thread and a helper thread for big trees
 * (keccakTasks.ts), sorted as indices by bucketing on the hashes' top bits, and the inner nodes are
 * hashed in place, independent subtrees in parallel; no hex strings or per-leaf objects on the way.
 */
import { crc32 } from 'node:zlib';
import { keccak256 } from 'viem';
import {
  compareBytes,
  copyBytes,
  isStrictlyAscending,
  parseBytes32,
  sortRecords,
  toHex,
  writeAddress,
  writeUint256,
} from './byteRecords.ts';
import { DepinError } from './errors.ts';
import { createKeccakKernel, growKeccakKernel, KECCAK_RESERVED_BYTES, type KeccakKernel } from './keccak.ts';
import { type KeccakTask, runKeccakTasks, TASK_LEAVES, TASK_SUBTREE } from './keccakTasks.ts';

/** A 0x-prefixed hex string. */
export type Hex = `0x${string}`;

/** One leaf of the reward tree: an account and its cumulative reward in base units. */
export type RewardEntry = { account: `0x${string}`; amount: bigint };

/** Error codes of the reward tree. */
export type MerkleErrorCode =
  | 'MERKLE_BAD_ENTRY'
  | 'MERKLE_DUPLICATE_ACCOUNT'
  | 'MERKLE_UNKNOWN_ACCOUNT'
  | 'MERKLE_TOO_LARGE'
  | 'MERKLE_BAD_DUMP';

/**
 * A built (or loaded) reward tree. It owns its memory; proofs are served from it without rehashing.
 *
 * @example
 * const tree = buildRewardTree([{ account: '0x1111111111111111111111111111111111111111', amount: 5n }]);
 * tree.root; // '0x…' — what validators sign and post
 * tree.proof('0x1111111111111111111111111111111111111111'); // [] for a single leaf
 */
export type RewardTree = {
  /** The root to post on-chain; bytes32(0) for an empty tree. */
  readonly root: Hex;
  /** Number of leaves (accounts). */
  readonly leafCount: number;
  /** Sibling hashes from the account's leaf upwards; throws `MERKLE_UNKNOWN_ACCOUNT` if absent. */
  proof(account: `0x${string}`): Hex[];
  /** The account's cumulative amount in this tree, or `undefined`. Case-insensitive. */
  amountOf(account: `0x${string}`): bigint | undefined;
  /** The whole tree as one compact binary blob for {@link loadRewardTree}. */
  dump(): Uint8Array;
};

/** Above this many leaves the tree would not fit one WebAssembly memory. */
export const MAX_REWARD_TREE_LEAVES = 1 << 24;

const ZERO_ROOT: Hex = `0x${'0'.repeat(64)}`;

/**
 * Builds the reward tree of `entries` (any order; accounts case-insensitive and unique). From
 * 16,384 entries the hashing is shared with a helper thread; `threads: 1` keeps it on this one.
 *
 * @example
 * const tree = buildRewardTree(result.cumulative); // result of rewardEpoch()
 * await writeFile(`epoch-${epoch}.tree`, tree.dump());
 */
export function buildRewardTree(
  entries: readonly RewardEntry[],
  options: { threads?: number } = {},
): RewardTree {
  const n = entries.length;
  if (n > MAX_REWARD_TREE_LEAVES) {
    throw new DepinError<MerkleErrorCode>(
      'MERKLE_TOO_LARGE',
      `A reward tree holds at most ${MAX_REWARD_TREE_LEAVES} accounts; split the epoch's rewards across roots.`,
      { details: { entries: n } },
    );
  }
  if (n === 0) return emptyTree();
  // Memory: [reserved][records: 64n, abi.encode(account, amount)][32 spare][tree: 32(2n−1)].
  // The leaf hashes are first written in entry order to tree slots −1..n−2 (inner nodes not yet
  // computed), then copied in hash order to the leaf slots n−1..2n−2, which do not overlap them.
  const rec = KECCAK_RESERVED_BYTES;
  const hashes = rec + 64 * n;
  const tree = hashes + 32;
  const size = tree + 32 * (2 * n - 1);
  // Small trees are built in one reused memory and copied out (a WebAssembly memory per tree would
  // reserve gigabytes of address space each); big ones keep the memory they were built in.
  const big = n >= PARALLEL_MIN_LEAVES;
  const kernel = big ? createKeccakKernel(size) : scratch(size);
  const mem = new Uint8Array(kernel.memory.buffer);
  if (!big) mem.fill(0, rec, hashes);
  const view = new DataView(kernel.memory.buffer);
  for (let i = 0; i < n; i++) {
    const entry = entries[i]!;
    const p = rec + 64 * i;
    if (!writeAddress(mem, p + 12, entry.account)) throw badEntry(i, 'account', entry.account);
    if (!writeUint256(view, p + 32, entry.amount)) throw badEntry(i, 'amount', entry.amount);
  }
  const byAccount = isStrictlyAscending(mem, rec + 12, 64, 20, n)
    ? null
    : sortRecords(mem, rec + 12, 64, 20, n);
  if (byAccount) rejectDuplicates(mem, rec + 12, byAccount, entries);

  const threads = big ? (options.threads ?? 2) : 1;
  const leafTasks: KeccakTask[] = [];
  for (let s = 0; s < n; s += LEAF_CHUNK) {
    leafTasks.push([TASK_LEAVES, rec + 64 * s, Math.min(LEAF_CHUNK, n - s), hashes + 32 * s]);
  }
  runKeccakTasks(kernel, leafTasks, threads);
  const byHash = sortRecords(mem, hashes, 32, 32, n);
  // The leaf of rank k goes to heap index 2n−2−k; copy 32 bytes as 8 words.
  const words = new Int32Array(kernel.memory.buffer);
  const leafIndex = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const e = byHash[k]!;
    const t = 2 * n - 2 - k;
    leafIndex[e] = t;
    const from = (hashes >>> 2) + 8 * e;
    const to = (tree >>> 2) + 8 * t;
    for (let w = 0; w < 8; w++) words[to + w] = words[from + w]!;
  }
  // The subtrees under heap level SUBTREE_LEVEL are independent: hash them in parallel, then the top.
  const top = 2 ** SUBTREE_LEVEL - 1;
  const subtrees: KeccakTask[] = [];
  for (let r = top; r < Math.min(2 * top + 1, n - 1); r++) subtrees.push([TASK_SUBTREE, tree, r, n - 1]);
  runKeccakTasks(kernel, subtrees, threads);
  kernel.hashNodes(tree, 0, Math.min(top, n - 1));

  if (big) {
    return new StoredTree(n, mem.subarray(tree, size), leafIndex, {
      accounts: { bytes: mem, offset: rec + 12, stride: 64 },
      amounts: { bytes: mem, offset: rec + 32, stride: 64 },
      order: byAccount,
    });
  }
  const records = mem.slice(rec, hashes);
  return new StoredTree(n, mem.slice(tree, size), leafIndex, {
    accounts: { bytes: records, offset: 12, stride: 64 },
    amounts: { bytes: records, offset: 32, stride: 64 },
    order: byAccount,
  });
}

/** From this many leaves a tree gets its own memory and the helper thread hashes half of it. */
const PARALLEL_MIN_LEAVES = 1 << 14;
const LEAF_CHUNK = 4096;
const SUBTREE_LEVEL = 6;

let scratchKernel: KeccakKernel | undefined;
function scratch(bytes: number): KeccakKernel {
  scratchKernel ??= createKeccakKernel(bytes, KECCAK_RESERVED_BYTES + 160 * PARALLEL_MIN_LEAVES);
  growKeccakKernel(scratchKernel, bytes);
  return scratchKernel;
}

/**
 * Checks an OpenZeppelin-format proof for (account, amount) against `root`, independently of the
 * builder (it hashes with viem's keccak). Never throws: malformed input is simply `false`.
 *
 * @example
 * verifyRewardProof(tree.root, account, amount, tree.proof(account)); // true
 */
export function verifyRewardProof(
  root: Hex,
  account: `0x${string}`,
  amount: bigint,
  proof: readonly Hex[],
): boolean {
  const encoded = new Uint8Array(64);
  if (!writeAddress(encoded, 12, account)) return false;
  if (!writeUint256(new DataView(encoded.buffer), 32, amount)) return false;
  let node = keccak256(keccak256(encoded, 'bytes'), 'bytes');
  const pair = new Uint8Array(64);
  for (const sibling of proof) {
    const s = parseBytes32(sibling);
    if (!s) return false;
    const [a, b] = compareBytes(node, 0, s, 0, 32) <= 0 ? [node, s] : [s, node];
    pair.set(a, 0);
    pair.set(b, 32);
    node = keccak256(pair, 'bytes');
  }
  const r = parseBytes32(root);
  return r !== null && compareBytes(node, 0, r, 0, 32) === 0;
}

// Dump layout (integers little-endian): "DPRT" | version u32 | n u32 | crc32 u32 of everything after
// the root | root (32) | accounts ascending (20n) | amounts, same order, big-endian (32n) |
// heap index of each leaf, same order, u32 (4n) | the 2n−1 nodes (32 each).
const MAGIC = 0x54525044; // "DPRT"
const VERSION = 1;
const HEADER = 48;

/**
 * Loads a tree written by `dump()`. Always checks the layout, the checksum and the account order;
 * with `verify: true` it also rebuilds the tree from the accounts and amounts and demands the same
 * nodes (about as slow as a build). Compare `root` with the on-chain root before serving proofs.
 *
 * @example
 * const tree = loadRewardTree(await readFile(`epoch-${epoch}.tree`));
 * if (tree.root !== onChainRoot) throw new Error('stale manifest');
 */
export function loadRewardTree(bytes: Uint8Array, options: { verify?: boolean } = {}): RewardTree {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER || view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) {
    throw badDump('it does not start with a version-1 reward tree header');
  }
  const n = view.getUint32(8, true);
  const nodes = n === 0 ? 0 : 2 * n - 1;
  if (n > MAX_REWARD_TREE_LEAVES || bytes.length !== HEADER + 56 * n + 32 * nodes) {
    throw badDump(`its length does not match its ${n} leaves`);
  }
  if (crc32(bytes.subarray(HEADER)) !== view.getUint32(12, true))
    throw badDump('its checksum does not match');
  if (n === 0) return emptyTree();
  const accounts = HEADER;
  const amounts = accounts + 20 * n;
  const indices = amounts + 32 * n;
  const tree = bytes.subarray(indices + 4 * n);
  if (!isStrictlyAscending(bytes, accounts, 20, 20, n))
    throw badDump('its accounts are not strictly ascending');
  if (compareBytes(bytes, 16, tree, 0, 32) !== 0) throw badDump('its root is not its first node');
  const leafIndex = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const t = view.getUint32(indices + 4 * i, true);
    if (t < n - 1 || t > 2 * n - 2) throw badDump('a leaf index points outside the leaves');
    leafIndex[i] = t;
  }
  const loaded = new StoredTree(n, tree, leafIndex, {
    accounts: { bytes, offset: accounts, stride: 20 },
    amounts: { bytes, offset: amounts, stride: 32 },
    order: null,
  });
  if (options.verify) {
    const rebuilt = buildRewardTree(loaded.entries());
    const again = rebuilt.dump();
    if (again.length !== bytes.length || compareBytes(again, 0, bytes, 0, bytes.length) !== 0) {
      throw badDump('its nodes are not the tree of its accounts and amounts');
    }
  }
  return loaded;
}

type Column = { bytes: Uint8Array; offset: number; stride: number };

/** A tree whose nodes, accounts and amounts live in byte arrays (a kernel's memory or a dump). */
class StoredTree implements RewardTree {
  readonly root: Hex;
  readonly leafCount: number;
  readonly #nodes: Uint8Array;
  /** Heap index of entry i's leaf (entry order, as in `accounts`). */
  readonly #leafIndex: Uint32Array;
  readonly #accounts: Column;
  readonly #amounts: Column;
  /** Entry indices in ascending account order, or null when the entries already are. */
  readonly #order: Uint32Array | null;

  constructor(
    n: number,
    nodes: Uint8Array,
    leafIndex: Uint32Array,
    columns: { accounts: Column; amounts: Column; order: Uint32Array | null },
  ) {
    this.leafCount = n;
    this.#nodes = nodes;
    this.#leafIndex = leafIndex;
    this.#accounts = columns.accounts;
    this.#amounts = columns.amounts;
    this.#order = columns.order;
    this.root = toHex(nodes, 0, 32);
  }

  proof(account: `0x${string}`): Hex[] {
    const e = this.#find(account);
    if (e < 0) {
      throw new DepinError<MerkleErrorCode>(
        'MERKLE_UNKNOWN_ACCOUNT',
        'This account has no leaf in the reward tree; it earned nothing up to this epoch.',
        { details: { account }, status: 404 },
      );
    }
    const out: Hex[] = [];
    for (let t = this.#leafIndex[e]!; t > 0; t = (t - 1) >> 1) {
      const sibling = t % 2 === 1 ? t + 1 : t - 1;
      out.push(toHex(this.#nodes, 32 * sibling, 32));
    }
    return out;
  }

  amountOf(account: `0x${string}`): bigint | undefined {
    const e = this.#find(account);
    return e < 0 ? undefined : this.#amount(e);
  }

  dump(): Uint8Array {
    const n = this.leafCount;
    const out = new Uint8Array(HEADER + 56 * n + 32 * (2 * n - 1));
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, VERSION, true);
    view.setUint32(8, n, true);
    out.set(this.#nodes.subarray(0, 32), 16);
    const acc = this.#accounts;
    const amt = this.#amounts;
    for (let r = 0; r < n; r++) {
      const e = this.#order ? this.#order[r]! : r;
      copyBytes(acc.bytes, acc.offset + acc.stride * e, out, HEADER + 20 * r, 20);
      copyBytes(amt.bytes, amt.offset + amt.stride * e, out, HEADER + 20 * n + 32 * r, 32);
      view.setUint32(HEADER + 52 * n + 4 * r, this.#leafIndex[e]!, true);
    }
    out.set(this.#nodes, HEADER + 56 * n);
    view.setUint32(12, crc32(out.subarray(HEADER)), true);
    return out;
  }

  /** The entries in ascending account order (lowercase accounts). */
  entries(): RewardEntry[] {
    const out: RewardEntry[] = [];
    for (let r = 0; r < this.leafCount; r++) {
      const e = this.#order ? this.#order[r]! : r;
      const a = this.#accounts;
      out.push({ account: toHex(a.bytes, a.offset + a.stride * e, 20), amount: this.#amount(e) });
    }
    return out;
  }

  #amount(e: number): bigint {
    const { bytes, offset, stride } = this.#amounts;
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset + stride * e, 32);
    let v = 0n;
    for (let w = 0; w < 32; w += 8) v = (v << 64n) | view.getBigUint64(w);
    return v;
  }

  /** Entry index of `account`, or −1: binary search over the accounts in ascending order. */
  #find(account: `0x${string}`): number {
    const key = new Uint8Array(20);
    if (!writeAddress(key, 0, account)) return -1;
    const { bytes, offset, stride } = this.#accounts;
    let lo = 0;
    let hi = this.leafCount - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.#order ? this.#order[mid]! : mid;
      const c = compareBytes(bytes, offset + stride * e, key, 0, 20);
      if (c === 0) return e;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

function emptyTree(): RewardTree {
  return {
    root: ZERO_ROOT,
    leafCount: 0,
    proof(account) {
      throw new DepinError<MerkleErrorCode>(
        'MERKLE_UNKNOWN_ACCOUNT',
        'The reward tree is empty: nobody has earned anything yet.',
        { details: { account }, status: 404 },
      );
    },
    amountOf: () => undefined,
    dump() {
      const out = new Uint8Array(HEADER);
      const view = new DataView(out.buffer);
      view.setUint32(0, MAGIC, true);
      view.setUint32(4, VERSION, true);
      view.setUint32(12, crc32(out.subarray(HEADER)), true);
      return out;
    },
  };
}

function rejectDuplicates(
  mem: Uint8Array,
  base: number,
  order: Uint32Array,
  entries: readonly RewardEntry[],
): void {
  for (let r = 1; r < order.length; r++) {
    const a = order[r - 1]!;
    const b = order[r]!;
    if (compareBytes(mem, base + 64 * a, mem, base + 64 * b, 20) === 0) {
      throw new DepinError<MerkleErrorCode>(
        'MERKLE_DUPLICATE_ACCOUNT',
        'An account appears twice in the reward entries; merge its amounts into one cumulative entry.',
        {
          details: { account: entries[b]!.account.toLowerCase(), indices: [Math.min(a, b), Math.max(a, b)] },
        },
      );
    }
  }
}

function badEntry(index: number, field: string, value: unknown): DepinError<MerkleErrorCode> {
  return new DepinError<MerkleErrorCode>(
    'MERKLE_BAD_ENTRY',
    `Reward entry ${index} has an invalid ${field}: accounts are 0x + 40 hex digits, amounts bigints in [0, 2^256).`,
    { details: { index, [field]: typeof value === 'bigint' ? value.toString() : String(value) } },
  );
}

function badDump(why: string): DepinError<MerkleErrorCode> {
  return new DepinError<MerkleErrorCode>(
    'MERKLE_BAD_DUMP',
    `This is not a usable reward tree dump: ${why}. Rebuild the tree from the epoch's rewards.`,
  );
}
