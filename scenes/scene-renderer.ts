/**
 * Synthetic car scenes: a frame with a wall and road, a car seen from
 * behind (body, rear window, lights, bumper) and a rendered plate on it,
 * plus optional signs with other text, then lighting, blur and sensor
 * noise. Everything is deterministic from the spec (and its seed), so
 * tests and benchmarks can render the same JPEG bytes every time and know
 * exactly where the plate is (`plateQuad`) and what it says (`text`).
 *
 * The car is drawn in millimetres around the plate's centre and scaled by
 * the plate's pixels per millimetre, so a small plate comes with a small
 * car; an in-plane tilt is a camera roll, turning wall, road, car and plate
 * together about the plate's centre.
 */
import sharp from 'sharp';
import type { PlateSpec } from './plate-renderer.js';
import { plateSizeMm, renderPlate } from './plate-renderer.js';
import { SeededRandom } from './seeded-random.js';

export interface SceneSpec {
  plate: PlateSpec;
  /** frame size in pixels, e.g. 1280 x 720 */
  width: number;
  height: number;
  /** plate width in frame pixels */
  plateWidth: number;
  /** plate centre in the frame */
  centre: { x: number; y: number };
  /** in-plane tilt in degrees, clockwise positive, e.g. -15..15 */
  rotationDeg?: number;
  /** multiplier, 1 = normal (0.4 dark .. 1.3 bright) */
  brightness?: number;
  /** 1 = normal, 0.4 = low contrast (washed out) */
  contrast?: number;
  /** gaussian blur of the whole frame, 0 = none */
  blurSigma?: number;
  /** standard deviation of added gaussian pixel noise (0..25), deterministic from the seed */
  noise?: number;
  /** other text in the scene (signs, a dealer's name), drawn away from the plate */
  distractors?: string[];
  /** for noise and the scene's look (car colour, wall, sign places) */
  seed?: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface RenderedScene {
  jpeg: Buffer;
  width: number;
  height: number;
  /** plate corners in frame pixels: tl, tr, br, bl */
  plateQuad: Point[];
  /** plate text without spaces, dashes or dots */
  text: string;
}

const JPEG_QUALITY = 90;

/** a car is about 1.8 m wide, whatever its plate */
const CAR_WIDTH_MM = 1800;

/** Colours of one scene, chosen from the seed. */
interface SceneLook {
  wallTop: string;
  wallBottom: string;
  road: string;
  body: string;
  bodyShade: string;
  /** wall panels: x positions of vertical joints, as fractions of the frame width */
  panelJoints: number[];
  parkingLines: boolean;
}

const WALLS: ReadonlyArray<[string, string]> = [
  ['#b9b4aa', '#8f8a80'],
  ['#c9c2b0', '#a39a86'],
  ['#8e9aa3', '#5f6b74'],
  ['#a0685a', '#6e4238'],
  ['#4a4d52', '#2c2e31'],
  ['#d8d8d4', '#a9a9a4'],
];

const ROADS = ['#4b4d50', '#5c5a57', '#3a3c3f', '#6a6b6d'];

/** car paint and its darker shade */
const PAINTS: ReadonlyArray<[string, string]> = [
  ['#e9eaec', '#b8bbc0'],
  ['#a7abb1', '#767b82'],
  ['#1c1d20', '#0b0b0c'],
  ['#8e1c1f', '#5c1012'],
  ['#1f3558', '#12213a'],
  ['#5b6066', '#3a3e43'],
  ['#6f7f5a', '#48553a'],
  ['#c7b28a', '#9a8763'],
];

/**
 * Renders a scene to JPEG. The plate PNG is rotated with sharp (transparent
 * corners) and composited at `centre`; `plateQuad` is computed from where
 * it actually landed, after rounding to whole pixels.
 */
export async function renderScene(spec: SceneSpec): Promise<RenderedScene> {
  checkSpec(spec);
  const random = new SeededRandom(spec.seed ?? 1);
  const look = chooseLook(random);
  const angle = spec.rotationDeg ?? 0;

  const plate = await renderPlate(spec.plate, spec.plateWidth);
  const rotated =
    angle === 0
      ? { data: plate.png, info: { width: plate.width, height: plate.height } }
      : await sharp(plate.png)
          .rotate(angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
          .png()
          .toBuffer({ resolveWithObject: true });
  // sharp rotates about the image centre and grows the canvas to the rotated bounds
  const left = Math.round(spec.centre.x - rotated.info.width / 2);
  const top = Math.round(spec.centre.y - rotated.info.height / 2);
  const plateCentre = { x: left + rotated.info.width / 2, y: top + rotated.info.height / 2 };
  const plateQuad = rotatedRectangle(plateCentre, plate.width, plate.height, angle);

  const svg = sceneSvg(spec, look, plateCentre, plateQuad, random);
  const overlay = await visiblePart(
    rotated.data,
    rotated.info.width,
    rotated.info.height,
    left,
    top,
    spec.width,
    spec.height,
  );
  const composed = await sharp(Buffer.from(svg))
    .composite(overlay ? [{ input: overlay.data, left: overlay.left, top: overlay.top }] : [])
    .removeAlpha()
    .raw()
    .toBuffer();

  const raw = { width: spec.width, height: spec.height, channels: 3 as const };
  let lit = sharp(composed, { raw }).linear(...lighting(spec.brightness ?? 1, spec.contrast ?? 1));
  if ((spec.blurSigma ?? 0) > 0) lit = lit.blur(Math.max(0.3, spec.blurSigma!));
  const pixels = await lit.raw().toBuffer();
  if ((spec.noise ?? 0) > 0) addNoise(pixels, spec.noise!, random);
  const jpeg = await sharp(pixels, { raw }).jpeg({ quality: JPEG_QUALITY }).toBuffer();

  return { jpeg, width: spec.width, height: spec.height, plateQuad, text: plainText(spec.plate.text) };
}

/** The plate's characters as a reader reports them: no spaces, dashes or dots. */
export function plainText(text: string): string {
  return text.replace(/[\s\-·.•]/g, '');
}

function checkSpec(spec: SceneSpec): void {
  for (const [name, value] of [
    ['width', spec.width],
    ['height', spec.height],
    ['plateWidth', spec.plateWidth],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0)
      throw new RangeError(`scene ${name} must be a positive integer, got ${value}`);
  }
  if (spec.seed !== undefined && !Number.isInteger(spec.seed)) {
    throw new RangeError(`scene seed must be an integer, got ${spec.seed}`);
  }
  if ((spec.noise ?? 0) < 0 || (spec.blurSigma ?? 0) < 0)
    throw new RangeError('noise and blurSigma must not be negative');
}

function chooseLook(random: SeededRandom): SceneLook {
  const [wallTop, wallBottom] = random.pick(WALLS);
  const [body, bodyShade] = random.pick(PAINTS);
  const jointCount = random.int(0, 3);
  const panelJoints: number[] = [];
  for (let i = 0; i < jointCount; i++) panelJoints.push(random.between(0.05, 0.95));
  return {
    wallTop,
    wallBottom,
    road: random.pick(ROADS),
    body,
    bodyShade,
    panelJoints,
    parkingLines: random.chance(0.5),
  };
}

/** Corners tl, tr, br, bl of a width x height rectangle turned clockwise by `angleDeg` about `centre` (y down). */
function rotatedRectangle(centre: Point, width: number, height: number, angleDeg: number): Point[] {
  const theta = (angleDeg * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const corners: Point[] = [
    { x: -width / 2, y: -height / 2 },
    { x: width / 2, y: -height / 2 },
    { x: width / 2, y: height / 2 },
    { x: -width / 2, y: height / 2 },
  ];
  return corners.map((p) => ({ x: centre.x + p.x * cos - p.y * sin, y: centre.y + p.x * sin + p.y * cos }));
}

/** The part of an overlay placed at (left, top) that lies inside the frame, or null when none does. */
async function visiblePart(
  png: Buffer,
  width: number,
  height: number,
  left: number,
  top: number,
  frameWidth: number,
  frameHeight: number,
): Promise<{ data: Buffer; left: number; top: number } | null> {
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const x1 = Math.min(frameWidth, left + width);
  const y1 = Math.min(frameHeight, top + height);
  if (x1 <= x0 || y1 <= y0) return null;
  if (x0 === left && y0 === top && x1 === left + width && y1 === top + height) return { data: png, left, top };
  const data = await sharp(png)
    .extract({ left: x0 - left, top: y0 - top, width: x1 - x0, height: y1 - y0 })
    .png()
    .toBuffer();
  return { data, left: x0, top: y0 };
}

/** sharp.linear() terms for a brightness multiplier and a contrast about mid grey. */
function lighting(brightness: number, contrast: number): [number, number] {
  return [brightness * contrast, brightness * 128 * (1 - contrast)];
}

function addNoise(pixels: Buffer, sigma: number, random: SeededRandom): void {
  for (let i = 0; i < pixels.length; i++) {
    const value = pixels[i]! + Math.round(random.gaussian() * sigma);
    pixels[i] = value < 0 ? 0 : value > 255 ? 255 : value;
  }
}

/**
 * The scene without the plate. An in-plane tilt is a camera roll: wall, road
 * and car all turn about the plate's centre (the background is drawn three
 * frames wide so no corner is left bare); signs stay upright, as overlays.
 */
function sceneSvg(
  spec: SceneSpec,
  look: SceneLook,
  plateCentre: Point,
  plateQuad: Point[],
  random: SeededRandom,
): string {
  const { width, height } = spec;
  const plateMm = plateSizeMm[spec.plate.style];
  const pxPerMm = spec.plateWidth / plateMm.width;
  const groundY = plateCentre.y + 480 * pxPerMm;
  const roadTop = Math.min(height - 1, Math.max(height * 0.35, plateCentre.y + 120 * pxPerMm));
  const outer = { left: -width, top: -height, width: 3 * width, bottom: 2 * height };
  const joints = look.panelJoints
    .map(
      (f) =>
        `<rect x="${px(f * width)}" y="${outer.top}" width="3" height="${px(roadTop - outer.top)}" ` +
        `fill="#000000" fill-opacity="0.18"/>`,
    )
    .join('');
  const parking = look.parkingLines
    ? [-1, 1]
        .map((side) => {
          const x = plateCentre.x + side * (CAR_WIDTH_MM / 2 + 350) * pxPerMm;
          const xAtBottom = x + side * 0.25 * (outer.bottom - roadTop);
          return (
            `<line x1="${px(x)}" y1="${px(roadTop)}" x2="${px(xAtBottom)}" y2="${outer.bottom}" ` +
            `stroke="#e8e4d0" stroke-opacity="0.8" stroke-width="${px(Math.max(2, 100 * pxPerMm))}"/>`
          );
        })
        .join('')
    : '';
  const signs = placeSigns(spec.distractors ?? [], spec, plateQuad, random);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<defs>` +
    verticalGradient(
      'wall',
      [
        [0, look.wallTop],
        [1, look.wallBottom],
      ],
      { from: 0, to: roadTop },
    ) +
    verticalGradient(
      'road',
      [
        [0, look.road],
        [1, '#2a2b2d'],
      ],
      { from: roadTop, to: height },
    ) +
    verticalGradient('paint', [
      [0, look.body],
      [0.55, look.body],
      [1, look.bodyShade],
    ]) +
    verticalGradient('glass', [
      [0, '#1b222b'],
      [1, '#3b4857'],
    ]) +
    `</defs>` +
    `<g transform="rotate(${px(spec.rotationDeg ?? 0)} ${px(plateCentre.x)} ${px(plateCentre.y)})">` +
    `<rect x="${outer.left}" y="${outer.top}" width="${outer.width}" height="${px(roadTop - outer.top)}" fill="url(#wall)"/>` +
    joints +
    `<rect x="${outer.left}" y="${px(roadTop)}" width="${outer.width}" height="${px(outer.bottom - roadTop)}" ` +
    `fill="url(#road)"/>` +
    `<rect x="${outer.left}" y="${px(roadTop)}" width="${outer.width}" height="4" fill="#000000" fill-opacity="0.25"/>` +
    parking +
    `<ellipse cx="${px(plateCentre.x)}" cy="${px(groundY)}" rx="${px(1000 * pxPerMm)}" ry="${px(60 * pxPerMm)}" ` +
    `fill="#000000" fill-opacity="0.45"/>` +
    `<g transform="translate(${px(plateCentre.x)} ${px(plateCentre.y)}) scale(${pxPerMm.toFixed(5)})">` +
    carRear(look, plateMm) +
    `</g>` +
    `</g>` +
    signs +
    `</svg>`
  );
}

/**
 * A top-to-bottom linear gradient: over each filled shape's own box, or,
 * given `span`, over fixed frame rows (so a shape larger than the frame
 * still shades within it).
 */
function verticalGradient(id: string, stops: Array<[number, string]>, span?: { from: number; to: number }): string {
  const geometry = span
    ? `gradientUnits="userSpaceOnUse" x1="0" y1="${px(span.from)}" x2="0" y2="${px(span.to)}"`
    : `x1="0" y1="0" x2="0" y2="1"`;
  const stopTags = stops.map(([offset, colour]) => `<stop offset="${offset}" stop-color="${colour}"/>`).join('');
  return `<linearGradient id="${id}" ${geometry}>${stopTags}</linearGradient>`;
}

/** A car seen from behind, in millimetres with the plate's centre at the origin (y down). */
function carRear(look: SceneLook, plateMm: { width: number; height: number }): string {
  const tyre = (x: number) => `<rect x="${x}" y="200" width="240" height="290" rx="35" fill="#141414"/>`;
  const light = (x: number) =>
    `<rect x="${x}" y="-400" width="280" height="150" rx="28" fill="#a3121b"/>` +
    `<rect x="${x + 30}" y="-375" width="220" height="40" rx="12" fill="#e0474f" fill-opacity="0.7"/>`;
  const recessWidth = plateMm.width + 60;
  const recessHeight = plateMm.height + 50;
  return (
    tyre(-860) +
    tyre(620) +
    // cabin and rear window
    `<path d="M-860 -420 L-660 -1000 Q0 -1060 660 -1000 L860 -420 Z" fill="url(#paint)"/>` +
    `<path d="M-770 -470 L-610 -940 Q0 -990 610 -940 L770 -470 Q0 -445 -770 -470 Z" fill="url(#glass)"/>` +
    `<path d="M-450 -930 L-250 -930 L-420 -490 L-620 -490 Z" fill="#ffffff" fill-opacity="0.07"/>` +
    // body, boot lid, lights, badge
    `<rect x="-900" y="-440" width="1800" height="750" rx="90" fill="url(#paint)"/>` +
    `<path d="M-840 -230 Q0 -205 840 -230" fill="none" stroke="${look.bodyShade}" stroke-width="8"/>` +
    light(-880) +
    light(600) +
    `<ellipse cx="0" cy="-330" rx="70" ry="40" fill="#c9ccd1" stroke="#7d8188" stroke-width="8"/>` +
    // bumper with the plate recess
    `<rect x="-905" y="130" width="1810" height="190" rx="60" fill="${look.bodyShade}"/>` +
    `<rect x="-860" y="270" width="1720" height="60" rx="25" fill="#1a1a1a"/>` +
    `<rect x="${-recessWidth / 2}" y="${-recessHeight / 2}" width="${recessWidth}" height="${recessHeight}" rx="14" ` +
    `fill="${look.bodyShade}"/>` +
    `<rect x="${-recessWidth / 2 + 12}" y="${-recessHeight / 2 + 12}" width="${recessWidth - 24}" height="${recessHeight - 24}" ` +
    `rx="10" fill="#000000" fill-opacity="0.35"/>`
  );
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const SIGN_COLOURS: ReadonlyArray<[string, string]> = [
  ['#ffffff', '#1b1b1b'],
  ['#1d4f9c', '#ffffff'],
  ['#f2c200', '#161616'],
  ['#1f6b3a', '#ffffff'],
  ['#b3121b', '#ffffff'],
];

/** Signs with the distractor texts, placed where they do not touch the plate (or each other). */
function placeSigns(texts: string[], spec: SceneSpec, plateQuad: Point[], random: SeededRandom): string {
  const xs = plateQuad.map((p) => p.x);
  const ys = plateQuad.map((p) => p.y);
  const margin = Math.max(40, spec.plateWidth / 2);
  const keepOut: Rect = {
    x: Math.min(...xs) - margin,
    y: Math.min(...ys) - margin,
    width: Math.max(...xs) - Math.min(...xs) + 2 * margin,
    height: Math.max(...ys) - Math.min(...ys) + 2 * margin,
  };
  const placed: Rect[] = [];
  const out: string[] = [];
  for (const text of texts) {
    const fontSize = random.int(20, 38);
    const signWidth = Math.round([...text].length * fontSize * 0.66 + fontSize * 1.2);
    const signHeight = Math.round(fontSize * 1.7);
    let sign: Rect | null = null;
    for (let attempt = 0; attempt < 60 && !sign; attempt++) {
      const candidate: Rect = {
        x: random.int(8, Math.max(8, spec.width - signWidth - 8)),
        y: random.int(8, Math.max(8, spec.height - signHeight - 8)),
        width: signWidth,
        height: signHeight,
      };
      if (!overlaps(candidate, keepOut) && !placed.some((other) => overlaps(candidate, other))) sign = candidate;
    }
    if (!sign) continue; // no free place in this frame: leave the text out rather than cover the plate
    placed.push(sign);
    const [background, ink] = random.pick(SIGN_COLOURS);
    out.push(
      `<rect x="${sign.x}" y="${sign.y}" width="${sign.width}" height="${sign.height}" rx="${Math.round(fontSize / 4)}" ` +
        `fill="${background}" stroke="#333333" stroke-width="2"/>` +
        `<text x="${sign.x + sign.width / 2}" y="${sign.y + Math.round(sign.height / 2 + fontSize * 0.36)}" ` +
        `text-anchor="middle" ` +
        `font-family="DejaVu Sans" font-weight="bold" font-size="${fontSize}" fill="${ink}">${escapeXml(text)}</text>`,
    );
  }
  return out.join('');
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A pixel coordinate for SVG, rounded to 1/100 px. */
function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}
