/**
 * Segment coding off the calling thread: worker threads (segmentWorker.ts) that run
 * {@link encodeSegment} and {@link decodeSegment}, so that `storeFile` codes segment i + 1 while
 * segment i uploads and `getFile` fetches segment i + 1 while segment i is checked and opened. On
 * the calling thread the two would take turns: sealing, coding and hashing a 64 MiB segment is about
 * half a second of CPU during which no socket is served.
 *
 * Buffers move by transfer, never by copy, except a plaintext that is not already in the buffer the
 * pieces are coded into (the caller keeps its file): callers that reuse their buffers across
 * segments allocate nothing per segment, which also spares the garbage collector (every large
 * allocation counts towards its next full collection).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DepinError } from '../../core/errors.ts';
import { storageError } from './errors.ts';
import type {
  DecodeSegmentParameters,
  DecodeSegmentReturnType,
  EncodeSegmentParameters,
  EncodeSegmentReturnType,
} from './segment.ts';
import type { SegmentWorkerReply, SegmentWorkerRequest } from './segmentWorker.ts';

/** Options of {@link createSegmentWorkers}. */
export type SegmentWorkersInit = {
  /** Worker threads (default: 2, or 1 on a single core). */
  threads?: number;
};

/** A pool of segment workers; idle workers do not keep the process alive. */
export type SegmentWorkers = {
  readonly threads: number;
  /**
   * {@link encodeSegment} in a worker. The plaintext is copied, unless it lies at the start of
   * `into`; `into` moves to the worker (it is detached here) and the pieces come back as views of it.
   */
  encode(parameters: EncodeSegmentParameters): Promise<EncodeSegmentReturnType>;
  /**
   * {@link decodeSegment} in a worker. The pieces' buffers and `into` move to the worker (pieces
   * that share a buffer with another, or do not span their own, are copied instead) and come back
   * when it answers, decoded or not: into `parameters.pieces` and `parameters.into`, so the caller
   * can drop corrupt pieces and retry, or reuse the buffers for the next segment.
   */
  decode(
    parameters: DecodeSegmentParameters & { pieces: (Uint8Array | undefined)[] },
  ): Promise<DecodeSegmentReturnType>;
  /** Stops the workers; pending tasks fail with STORAGE_WORKER_FAILED. */
  close(): Promise<void>;
};

type Task = { resolve: (reply: SegmentWorkerReply) => void; reject: (e: unknown) => void };
type Slot = { worker: Worker; pending: Map<number, Task> };
type Request = SegmentWorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/**
 * Starts a pool (threads start on first use).
 *
 * @example
 * const workers = createSegmentWorkers();
 * const segment = await workers.encode({ plaintext, index: 0, fileId, segmentKey, k: 8, n: 16 });
 * await workers.close();
 */
export function createSegmentWorkers(init: SegmentWorkersInit = {}): SegmentWorkers {
  const threads = Math.max(1, Math.floor(init.threads ?? Math.min(2, availableParallelism())));
  const slots: (Slot | undefined)[] = new Array(threads).fill(undefined);
  let nextId = 0;
  let closed = false;

  const spawn = (at: number): Slot => {
    const worker = new Worker(new URL('./segmentWorker.ts', import.meta.url));
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (reply: SegmentWorkerReply) => {
      const task = slot.pending.get(reply.id);
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      task?.resolve(reply);
    });
    const fail = (cause: unknown) => {
      if (slots[at] === slot) slots[at] = undefined;
      for (const task of slot.pending.values()) {
        task.reject(
          storageError('STORAGE_WORKER_FAILED', 'A segment worker thread stopped: try again.', {}, cause),
        );
      }
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`segment worker exited with code ${code}`)));
    worker.unref();
    return slot;
  };

  const run = (request: Request, transfer: ArrayBuffer[]) =>
    new Promise<SegmentWorkerReply>((resolve, reject) => {
      if (closed) {
        throw storageError('STORAGE_WORKER_FAILED', 'These segment workers are closed: create new ones.');
      }
      // The least busy thread; a missing (not yet started or crashed) one counts as idle.
      let best = 0;
      for (let i = 1; i < threads; i++) {
        if ((slots[i]?.pending.size ?? 0) < (slots[best]?.pending.size ?? 0)) best = i;
      }
      const slot = slots[best] ?? spawn(best);
      slots[best] = slot;
      const id = nextId++;
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ ...request, id }, transfer);
    });

  return {
    threads,
    async encode(parameters) {
      const { plaintext, into } = parameters;
      if (!(plaintext instanceof Uint8Array)) return unwrap(await run({ op: 'encode', parameters }, []));
      // A plaintext at the start of `into` travels with it; any other is copied (the caller keeps it).
      const inside = into instanceof Uint8Array && into.buffer === plaintext.buffer;
      const text = inside ? plaintext : plaintext.slice();
      const reply = await run(
        { op: 'encode', parameters: { ...parameters, plaintext: text } },
        transferable([text, into]),
      );
      if ('encoded' in reply) return reply.encoded;
      return unwrap(reply);
    },
    async decode(parameters) {
      const pieces = parameters.pieces;
      const moved = Array.isArray(pieces) ? pieces.map((p, i) => movable(p, pieces, i)) : pieces;
      const reply = await run(
        { op: 'decode', parameters: { ...parameters, pieces: moved } },
        transferable([...(Array.isArray(moved) ? moved : []), parameters.into]),
      );
      if (!('encoded' in reply)) {
        if (reply.pieces && Array.isArray(pieces)) {
          reply.pieces.forEach((p, i) => {
            pieces[i] = p;
          });
        }
        if (reply.into) parameters.into = reply.into;
      }
      if ('decoded' in reply) return reply.decoded;
      return unwrap(reply);
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((slot) => slot?.worker.terminate()));
    },
  };
}

let shared: SegmentWorkers | undefined;

/**
 * This process's segment workers, created on first use and kept (idle threads hold nothing open).
 *
 * @example const encoded = await getSegmentWorkers().encode(parameters);
 */
export function getSegmentWorkers(): SegmentWorkers {
  shared ??= createSegmentWorkers();
  return shared;
}

/**
 * The distinct non-shared buffers under `views`, for a transfer list.
 *
 * @example worker.postMessage(pieces, transferable(pieces));
 */
export function transferable(views: readonly unknown[]): ArrayBuffer[] {
  // Shared buffers are shared, not moved; detached ones (length 0) cannot move again.
  const buffers = new Set<ArrayBuffer>();
  // Shared buffers are shared, not moved; a detached one (length 0) cannot move again.
  for (const v of views) {
    if (v instanceof Uint8Array && v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0) {
      buffers.add(v.buffer);
    }
  }
  return [...buffers];
}

/** The piece itself when it alone spans its own buffer (so it can move), else a copy that can. */
function movable<T>(piece: T, all: readonly unknown[], i: number): T {
  if (!(piece instanceof Uint8Array)) return piece;
  const alone =
    piece.buffer instanceof ArrayBuffer &&
    piece.byteOffset === 0 &&
    piece.byteLength === piece.buffer.byteLength &&
    all.every((other, j) => j === i || !(other instanceof Uint8Array) || other.buffer !== piece.buffer);
  return (alone ? piece : piece.slice()) as T;
}

function unwrap(reply: SegmentWorkerReply): never {
  if (!('failure' in reply)) throw new Error('segment worker: unexpected reply');
  const { failure } = reply;
  if (failure.code === undefined) throw new Error(failure.message);
  throw new DepinError(failure.code, failure.message, {
    ...(failure.details ? { details: failure.details } : {}),
    ...(failure.status === undefined ? {} : { status: failure.status }),
  });
}
