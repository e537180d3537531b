/** Creates onnxruntime-node CPU sessions from verified model bytes with the thread counts asked for. */
import ort from 'onnxruntime-node';

export interface SessionThreads {
  /** threads inside one operator (default 2: this product runs on 2-core gate units) */
  intraOp: number;
}

export async function createSession(modelBytes: Uint8Array, threads: SessionThreads): Promise<ort.InferenceSession> {
  if (!Number.isInteger(threads.intraOp) || threads.intraOp < 1 || threads.intraOp > 64) {
    throw new RangeError(`thread count must be an integer from 1 to 64, got ${String(threads.intraOp)}`);
  }
  return ort.InferenceSession.create(modelBytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads.intraOp,
    interOpNumThreads: 1,
    // no busy-waiting between operators: on a 2-core unit spinning pool threads take the CPU from the
    // JavaScript thread (pre- and post-processing, the other lane) and from each other; measured on
    // openalpr-us with 2 threads: median 116 -> 80 ms per scene
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
}

export { ort };
