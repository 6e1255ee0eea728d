/**
 * A worker thread of the segment pool (segmentWorkers.ts): runs {@link encodeSegment} and
 * {@link decodeSegment} off the caller's thread. Buffers move in and out by transfer, never by copy:
 * on encode the plaintext (or the buffer it lies at the start of) comes in and the pieces, one
 * buffer, go back; on decode the pieces and the plaintext buffer come in and all go back, decoded
 * or not, so the caller can drop corrupt pieces and retry, and reuse every buffer for the next
 * segment.
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

/** The buffers a decode task hands back, in the places they came from. */
export type SegmentWorkerBuffers = { pieces?: readonly (Uint8Array | undefined)[]; into?: Uint8Array };

/** The answer to a task: its result or failure, and (decode) the buffers handed back. */
export type SegmentWorkerReply =
  | { id: number; encoded: EncodeSegmentReturnType }
  | ({ id: number; decoded: DecodeSegmentReturnType } & SegmentWorkerBuffers)
  | ({ id: number; failure: SegmentWorkerFailure } & SegmentWorkerBuffers);

parentPort!.on('message', (request: SegmentWorkerRequest) => {
  const { id } = request;
  const back: SegmentWorkerBuffers =
    request.op === 'decode'
      ? {
          pieces: request.parameters.pieces,
          ...(request.parameters.into ? { into: request.parameters.into } : {}),
        }
      : {};
  try {
    if (request.op === 'encode') {
      const encoded = encodeSegment(request.parameters);
      // Every piece is a view of one buffer: transferring it moves all n.
      reply({ id, encoded }, transferable(encoded.pieces.map((p) => p.data)));
    } else {
      const decoded = decodeSegment(request.parameters);
      reply({ id, decoded, ...back }, transferable([decoded.plaintext, back.into, ...(back.pieces ?? [])]));
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
    reply({ id, failure, ...back }, transferable([back.into, ...(back.pieces ?? [])]));
  }
});

function reply(message: SegmentWorkerReply, transfer: ArrayBuffer[]): void {
  parentPort!.postMessage(message, transfer);
}
