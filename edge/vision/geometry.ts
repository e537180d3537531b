/** Plain 2-D geometry for text boxes: points, quads (tl, tr, br, bl) and rectangles. */

export interface Point {
  x: number;
  y: number;
}

/** Four corners in image pixels, clockwise from top-left: tl, tr, br, bl. */
export type Quad = [Point, Point, Point, Point];

/** An axis-aligned region of interest in frame pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const distance = (a: Point, b: Point): number => Math.hypot(a.x - b.x, a.y - b.y);

/** Orders any four corners as tl, tr, br, bl (the order PaddleOCR's crop expects). */
export function orderCorners(points: Point[]): Quad {
  const byX = [...points].sort((a, b) => a.x - b.x);
  const left = byX.slice(0, 2).sort((a, b) => a.y - b.y);
  const right = byX.slice(2, 4).sort((a, b) => a.y - b.y);
  return [left[0]!, right[0]!, right[1]!, left[1]!];
}

/** Width (mean of top and bottom edges) and height (mean of left and right edges) of a quad. */
export function quadSize(q: Quad): { width: number; height: number } {
  return {
    width: (distance(q[0], q[1]) + distance(q[3], q[2])) / 2,
    height: (distance(q[0], q[3]) + distance(q[1], q[2])) / 2,
  };
}

export function quadBounds(q: Quad): Rect {
  const xs = q.map((p) => p.x);
  const ys = q.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/** Area of the overlap of two rectangles (0 when they are apart). */
export function rectIntersection(a: Rect, b: Rect): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return ix * iy;
}

export function rectIou(a: Rect, b: Rect): number {
  const inter = rectIntersection(a, b);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Grows a quad along its own axes: `dx` pixels at each end of its width, `dy` at each end of its height. */
export function growQuad(q: Quad, dx: number, dy: number): Quad {
  const ux = unit(q[0], q[1]);
  const uy = unit(q[0], q[3]);
  const move = (p: Point, sx: number, sy: number): Point => ({
    x: p.x + sx * dx * ux.x + sy * dy * uy.x,
    y: p.y + sx * dx * ux.y + sy * dy * uy.y,
  });
  return [move(q[0], -1, -1), move(q[1], 1, -1), move(q[2], 1, 1), move(q[3], -1, 1)];
}

function unit(a: Point, b: Point): Point {
  const d = distance(a, b) || 1;
  return { x: (b.x - a.x) / d, y: (b.y - a.y) / d };
}
