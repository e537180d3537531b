/**
 * The log's side of witnessing: after each checkpoint, ask every configured
 * witness to cosign it (with a consistency proof from the size the witness
 * last cosigned), check the returned cosignature, and keep it. A checkpoint
 * is final once `quorum` witnesses have cosigned it.
 */
import type { Ledger, SignedCheckpoint } from './ledger.js';
import type { NoteKey } from './signed-note.js';
import { parseNote, verifyCosignature } from './signed-note.js';

export interface WitnessEndpoint {
  url: string;
  key: NoteKey;
}

export class WitnessClient {
  /** the size each witness last cosigned, as far as we know */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly ledger: Ledger,
    private readonly witnesses: readonly WitnessEndpoint[],
  ) {}

  /** Collects cosignatures for `checkpoint`; returns the names of witnesses that cosigned. Never throws. */
  async collect(checkpoint: SignedCheckpoint): Promise<string[]> {
    const results = await Promise.all(this.witnesses.map((w) => this.ask(w, checkpoint).catch(() => false)));
    return this.witnesses.filter((_, i) => results[i]).map((w) => w.key.name);
  }

  private async ask(w: WitnessEndpoint, checkpoint: SignedCheckpoint, retry = true): Promise<boolean> {
    if (!this.known.has(w.key.name)) {
      const res = await fetch(`${w.url.replace(/\/$/, '')}/state`);
      if (!res.ok) return false;
      this.known.set(w.key.name, ((await res.json()) as { size: number }).size);
    }
    const oldSize = this.known.get(w.key.name)!;
    const size = checkpoint.checkpoint.size;
    if (oldSize > size) return false;
    const proof = oldSize === 0 || oldSize === size ? [] : this.ledger.consistencyProof(oldSize, size);
    const body = parseNote(checkpoint.note).body;
    const res = await fetch(`${w.url.replace(/\/$/, '')}/cosign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        note: checkpoint.note,
        oldSize,
        proof: proof.map((h) => Buffer.from(h).toString('base64')),
      }),
    });
    if (res.status === 409 && retry) {
      this.known.delete(w.key.name);
      return this.ask(w, checkpoint, false);
    }
    if (!res.ok) return false;
    const line = ((await res.json()) as { cosignature: string }).cosignature;
    const sig = parseNote(body + '\n' + (line.endsWith('\n') ? line : line + '\n')).signatures[0];
    if (!sig || !verifyCosignature(body, sig, w.key)) return false;
    this.ledger.addCosignature(size, w.key.name, line.endsWith('\n') ? line : line + '\n');
    this.known.set(w.key.name, size);
    return true;
  }
}
