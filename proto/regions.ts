/**
 * The country and region codes a gate can be told to read (`--regions`,
 * config `regions`), and the groups that stand for several of them. Pure
 * data and one parser, no I/O.
 *
 * Codes are ISO 3166-1 alpha-2, except `UK` (the United Kingdom's plate
 * code, accepted beside ISO's `GB`).
 */

/** Every country whose plate formats are known, with its name (for errors and README). */
export const countries = {
  CN: 'China',
  US: 'United States',
  BR: 'Brazil',
  AR: 'Argentina',
  MX: 'Mexico',
  CL: 'Chile',
  CO: 'Colombia',
  PE: 'Peru',
  AT: 'Austria',
  BE: 'Belgium',
  BG: 'Bulgaria',
  HR: 'Croatia',
  CY: 'Cyprus',
  CZ: 'Czechia',
  DK: 'Denmark',
  EE: 'Estonia',
  FI: 'Finland',
  FR: 'France',
  DE: 'Germany',
  GR: 'Greece',
  HU: 'Hungary',
  IE: 'Ireland',
  IT: 'Italy',
  LV: 'Latvia',
  LT: 'Lithuania',
  LU: 'Luxembourg',
  MT: 'Malta',
  NL: 'Netherlands',
  PL: 'Poland',
  PT: 'Portugal',
  RO: 'Romania',
  SK: 'Slovakia',
  SI: 'Slovenia',
  ES: 'Spain',
  SE: 'Sweden',
  GB: 'United Kingdom',
  NO: 'Norway',
  CH: 'Switzerland',
  TR: 'Turkey',
  RU: 'Russia',
  UA: 'Ukraine',
  CA: 'Canada',
  IN: 'India',
  ID: 'Indonesia',
  MY: 'Malaysia',
  PH: 'Philippines',
  VN: 'Vietnam',
  KZ: 'Kazakhstan',
  AU: 'Australia',
  NZ: 'New Zealand',
} as const;

export type Country = keyof typeof countries;

const EU: Country[] = [
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
];

/**
 * Codes that stand for several countries. `EU` keeps reading Norwegian
 * plates as it did before countries were listed one by one (Norway's
 * format is Denmark's), but Norway itself is only in `EUROPE`.
 */
export const regionGroups: Record<string, readonly Country[]> = {
  EU,
  EUROPE: [...EU, 'GB', 'NO', 'CH', 'TR'],
  LATAM: ['BR', 'AR', 'MX', 'CL', 'CO', 'PE'],
  UK: ['GB'],
};

/** Every country, in the order of `countries`: what a gate reads unless told otherwise. */
export const allCountries: readonly Country[] = Object.keys(countries) as Country[];

function isCountry(code: string): code is Country {
  return Object.hasOwn(countries, code);
}

/**
 * The countries in a list such as ["CN"] or "BR,AR" or "EU,US" (a gate in
 * one country reads only its plates: fewer formats to mistake a plate for).
 * Groups are expanded, repeats dropped; throws naming every code that is
 * neither a country nor a group.
 */
export function parseRegions(value: unknown): Country[] {
  const items = typeof value === 'string' ? value.split(',').map((x) => x.trim()) : value;
  const known = `countries ${allCountries.join(', ')}; groups ${Object.keys(regionGroups).join(', ')}`;
  if (!Array.isArray(items) || items.length === 0) throw new RangeError(`expected a list of regions (${known})`);
  const unknown = items.filter((x) => typeof x !== 'string' || !(isCountry(x) || Object.hasOwn(regionGroups, x)));
  if (unknown.length > 0) {
    const names = unknown.map((x) => JSON.stringify(x)).join(', ');
    throw new RangeError(`${names} ${unknown.length === 1 ? 'is' : 'are'} not a known region (${known})`);
  }
  const out: Country[] = [];
  for (const item of items as string[]) {
    for (const c of isCountry(item) ? [item] : regionGroups[item]!) if (!out.includes(c)) out.push(c);
  }
  return out;
}
