/**
 * Cuts a raw video byte stream (ffmpeg's `-f rawvideo` on a pipe) into
 * fixed-size frames, whatever the chunk boundaries: a chunk may end inside
 * a frame, hold several frames, or both.
 *
 * Guarantees: every frame returned is a new array of exactly `frameBytes`
 * bytes, in stream order; bytes of an unfinished frame are kept for the
 * next push (see `pending`) and never returned as a frame.
 */
export class RawFrameSplitter {
  private current: Uint8Array;
  private filled = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) {
      throw new RangeError(`frame size must be a positive integer, got ${frameBytes}`);
    }
    this.current = new Uint8Array(frameBytes);
  }

  /** Bytes of the frame being filled. */
  get pending(): number {
    return this.filled;
  }

  /** Takes the next chunk of the stream; returns the frames it completed, oldest first. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      this.current.set(chunk.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.frameBytes) {
        frames.push(this.current);
        this.current = new Uint8Array(this.frameBytes);
        this.filled = 0;
      }
    }
    return frames;
  }

  /** Forgets an unfinished frame (a new stream starts). */
  reset(): void {
    this.filled = 0;
  }
}
