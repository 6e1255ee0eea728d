/**
 * A worker thread of the segment pool (segmentWorkers.ts): runs {@link encodeSegment} and
 * {@link decodeSegment} off the caller's thread. Buffers move in and out by transfer, never by copy:
 * the plaintext comes in and the n pieces (one buffer) go back on encode; the pieces come in and the
 * plaintext goes back on decode, or the pieces go back when decoding fails, so the caller can drop
 * the corrupt ones and try again.
 */
import { parentPort } from 'node:worker_threads';
import { DepinError } from '../../core/errors.ts';
import {
  type DecodeSegmentParameters,
  type DecodeSegmentReturnType,
  decodeSegment,
  type EncodeSegmentParameters,
  type EncodeSegmentReturnType,
  encodeSegment,
} from './segment.ts';
import { transferable } from './segmentWorkers.ts';

/** One task for a worker. */
export type SegmentWorkerRequest =
  | { id: number; op: 'encode'; parameters: EncodeSegmentParameters }
  | { id: number; op: 'decode'; parameters: DecodeSegmentParameters };

/** A failure, as plain data (a DepinError's fields when it was one). */
export type SegmentWorkerFailure = {
  message: string;
  code?: string;
  details?: Record<string, unknown>;
  status?: number;
};

/** The answer to a task: its result, or the failure and (decode) the pieces handed back. */
export type SegmentWorkerReply =
  | { id: number; encoded: EncodeSegmentReturnType }
  | { id: number; decoded: DecodeSegmentReturnType }
  | { id: number; failure: SegmentWorkerFailure; pieces?: readonly (Uint8Array | undefined)[] };

parentPort!.on('message', (request: SegmentWorkerRequest) => {
  const { id } = request;
  try {
    if (request.op === 'encode') {
      const encoded = encodeSegment(request.parameters);
      // Every piece is a view of one buffer: transferring it moves all n.
      const buffer = encoded.pieces[0]?.data.buffer as ArrayBuffer | undefined;
      parentPort!.postMessage({ id, encoded } satisfies SegmentWorkerReply, buffer ? [buffer] : []);
    } else {
      const decoded = decodeSegment(request.parameters);
      parentPort!.postMessage({ id, decoded } satisfies SegmentWorkerReply, [
        decoded.plaintext.buffer as ArrayBuffer,
      ]);
    }
  } catch (e) {
    const failure: SegmentWorkerFailure =
      e instanceof DepinError
        ? {
            message: e.shortMessage,
            code: e.code,
            status: e.status,
            ...(e.details ? { details: e.details } : {}),
          }
        : { message: e instanceof Error ? e.message : String(e) };
    if (request.op === 'encode') parentPort!.postMessage({ id, failure } satisfies SegmentWorkerReply);
    else {
      const pieces = request.parameters.pieces;
      parentPort!.postMessage({ id, failure, pieces } satisfies SegmentWorkerReply, transferable(pieces));
    }
  }
});
