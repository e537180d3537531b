/**
 * Plate colour cues from a rectified strip: how much of it is the blue of a
 * Chinese blue plate, the green of a Chinese new-energy plate, or the
 * yellow of a Chinese large-vehicle, coach or trailer plate (and of British
 * and Dutch rear plates). Pure
 * arithmetic over the strip's RGB bytes; hue and saturation rather than raw
 * channel differences, so washed-out and dim plates still count and the
 * grey-blue of car paint or sky does not.
 */
export interface PlateColour {
  /** fraction of pixels that are plate blue (0..1) */
  blue: number;
  /** fraction of pixels that are plate green (0..1) */
  green: number;
  /** fraction of pixels that are plate yellow (0..1; absent: not measured) */
  yellow?: number;
}

export function plateColour(rgb: Uint8Array): PlateColour {
  let blue = 0;
  let green = 0;
  let yellow = 0;
  const n = Math.floor(rgb.length / 3);
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i]!;
    const g = rgb[i + 1]!;
    const b = rgb[i + 2]!;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const chroma = max - min;
    if (max < 60 || chroma === 0) continue;
    const saturation = chroma / max;
    let hue: number; // degrees
    if (max === r) hue = (60 * (g - b)) / chroma + (g < b ? 360 : 0);
    else if (max === g) hue = (60 * (b - r)) / chroma + 120;
    else hue = (60 * (r - g)) / chroma + 240;
    if (hue >= 195 && hue <= 255 && saturation >= 0.35) blue++;
    else if (hue >= 80 && hue <= 170 && saturation >= 0.2 && max >= 90) green++;
    else if (hue >= 35 && hue <= 65 && saturation >= 0.45 && max >= 110) yellow++;
  }
  return { blue: n ? blue / n : 0, green: n ? green / n : 0, yellow: n ? yellow / n : 0 };
}
