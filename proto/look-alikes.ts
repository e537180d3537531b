/**
 * Characters that OCR confuses on plates because their glyphs are nearly
 * the same (0/O/D/Q, 1/I, 8/B, 5/S, 2/Z, 6/G). Pure data and functions.
 */
const GROUPS = ['0ODQ', '1I', '8B', '5S', '2Z', '6G'];

const groupOf = new Map<string, number>();
GROUPS.forEach((g, i) => {
  for (const c of g) groupOf.set(c, i);
});

export function areLookAlikes(a: string, b: string): boolean {
  if (a === b) return true;
  const ga = groupOf.get(a);
  return ga !== undefined && ga === groupOf.get(b);
}

/** Same length, and every differing position holds two look-alike characters. */
export function differsOnlyByLookAlikes(a: string, b: string): boolean {
  const x = [...a];
  const y = [...b];
  if (x.length !== y.length) return false;
  return x.every((c, i) => areLookAlikes(c, y[i]!));
}

/**
 * The plate with each look-alike character replaced by the first of its
 * group (O, D, Q -> 0; I -> 1; B -> 8; S -> 5; Z -> 2; G -> 6). Two plates
 * differ only by look-alikes exactly when their folds are equal.
 */
export function foldLookAlikes(plate: string): string {
  let out = '';
  for (const c of plate) {
    const g = groupOf.get(c);
    out += g === undefined ? c : GROUPS[g]![0]!;
  }
  return out;
}
