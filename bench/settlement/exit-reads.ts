/**
 * The reads a gate would send for each image of a labelled dataset: every
 * image is read once with the gate's own reader and voted as the lane votes
 * a single frame (edge/lane/plate-vote.ts), so the plate and confidence are
 * exactly what the cloud would receive. The settlement bench then matches
 * these cached reads millions of times without reading again.
 */
import { resolve } from 'node:path';
import { loadDataset } from '../../edge/vision/evaluation.js';
import type { PlateReader } from '../../edge/vision/plate-reader.js';
import { votePlates } from '../../edge/lane/plate-vote.js';

/** One image: its labelled plate and the exit read the cloud would get (null: the lane read nothing). */
export interface ExitObservation {
  file: string;
  truth: string;
  read: { plate: string; confidence: number } | null;
}

/** The lane rounds the confidence it sends to 4 decimals (edge/lane/lane.ts). */
const laneRound = (x: number) => Math.round(x * 10_000) / 10_000;

export async function readDataset(
  reader: PlateReader,
  dir: string,
  progress: (done: number, total: number) => void = () => {},
): Promise<ExitObservation[]> {
  const items = await loadDataset(dir);
  const out: ExitObservation[] = [];
  for (const [i, item] of items.entries()) {
    const path = resolve(dir, item.file);
    let read: ExitObservation['read'] = null;
    try {
      const reads = item.box ? await reader.read(path) : await reader.readCrop(path);
      const best = reads[0];
      if (best) {
        const voted = votePlates([{ text: best.text, charConfidences: best.charConfidences, format: best.format }]);
        if (voted.text) read = { plate: voted.text, confidence: laneRound(voted.confidence) };
      }
    } catch {
      read = null; // an unreadable image is a no-read at the gate
    }
    out.push({ file: item.file, truth: item.plate, read });
    progress(i + 1, items.length);
  }
  return out;
}
