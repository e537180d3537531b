/**
 * The training plot: training and validation loss (left scale) and
 * validation accuracy (right scale, 0-100%) per epoch, drawn into pixels
 * and written as a PNG with sharp. No text rendering: the legend is the
 * colours (red: training loss, orange: validation loss, blue: validation
 * accuracy), stated in the model card and the command's output.
 */
import sharp from 'sharp';
import type { EpochFigures } from './ctc-epoch.js';

const W = 640;
const H = 360;
const PAD = 30;

type Rgb = [number, number, number];

export async function writeLossPlot(history: readonly EpochFigures[], file: string): Promise<void> {
  const px = Buffer.alloc(W * H * 3, 255);
  const dot = (x: number, y: number, c: Rgb) => {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const i = (Math.round(y) * W + Math.round(x)) * 3;
    px[i] = c[0];
    px[i + 1] = c[1];
    px[i + 2] = c[2];
  };
  const line = (x0: number, y0: number, x1: number, y1: number, c: Rgb) => {
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let k = 0; k <= n; k++) {
      const x = x0 + ((x1 - x0) * k) / n;
      const y = y0 + ((y1 - y0) * k) / n;
      dot(x, y, c);
      dot(x, y + 1, c);
    }
  };
  // axes and a light grid at every 10% of the accuracy scale
  const grey: Rgb = [200, 200, 200];
  for (let g = 0; g <= 10; g++)
    line(PAD, H - PAD - ((H - 2 * PAD) * g) / 10, W - PAD, H - PAD - ((H - 2 * PAD) * g) / 10, grey);
  line(PAD, PAD, PAD, H - PAD, [0, 0, 0]);
  line(PAD, H - PAD, W - PAD, H - PAD, [0, 0, 0]);
  line(W - PAD, PAD, W - PAD, H - PAD, [0, 0, 0]);
  if (history.length > 0) {
    const losses = history.flatMap((h) => [h.trainLoss, h.validationLoss]).filter(Number.isFinite);
    const maxLoss = Math.max(1e-9, ...losses);
    const x = (i: number) => PAD + (W - 2 * PAD) * (history.length === 1 ? 0.5 : i / (history.length - 1));
    const yLoss = (v: number) => H - PAD - ((H - 2 * PAD) * v) / maxLoss;
    const yAcc = (v: number) => H - PAD - (H - 2 * PAD) * v;
    const series: Array<[(h: EpochFigures) => number, (v: number) => number, Rgb]> = [
      [(h) => h.trainLoss, yLoss, [220, 30, 30]],
      [(h) => h.validationLoss, yLoss, [240, 150, 0]],
      [(h) => h.validationAccuracy, yAcc, [30, 80, 220]],
    ];
    for (const [value, y, colour] of series) {
      history.forEach((h, i) => {
        for (let d = -2; d <= 2; d++) line(x(i) - 2, y(value(h)) + d, x(i) + 2, y(value(h)) + d, colour);
        if (i > 0) line(x(i - 1), y(value(history[i - 1]!)), x(i), y(value(h)), colour);
      });
    }
  }
  await sharp(px, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(file);
}
