/**
 * Chinese plate formats (GA 36: province character, issuing-office letter,
 * serial). The special series end (or, for embassies, begin) with a
 * character naming the series.
 */
import type { PlateFormat } from './plate-format.js';

export const chinaFormats: readonly PlateFormat[] = [
  { countries: ['CN'], name: 'CN blue', pattern: 'PCYYYYY', specific: true },
  { countries: ['CN'], name: 'CN green small', pattern: 'PCEYNNNN', specific: true },
  { countries: ['CN'], name: 'CN green large', pattern: 'PCNNNNNE', specific: true },
  // special series: police 警, driving-school 学, trailer 挂, consulate 领 (粤A1234警)
  { countries: ['CN'], name: 'CN police', pattern: 'PCYYYY警', specific: true },
  { countries: ['CN'], name: 'CN coach', pattern: 'PCYYYY学', specific: true },
  { countries: ['CN'], name: 'CN trailer', pattern: 'PCYYYY挂', specific: true },
  { countries: ['CN'], name: 'CN consulate', pattern: 'PCYYYY领', specific: true },
  // embassy: 使, the embassy's three-digit number, a three-digit serial (使014578)
  { countries: ['CN'], name: 'CN embassy', pattern: '使NNNNNN', specific: true },
  // Hong Kong and Macau cross-boundary vehicles: Guangdong plates, issued by the Z office (粤Z1234港)
  { countries: ['CN'], name: 'CN Hong Kong cross-boundary', pattern: '粤CYYYY港', specific: true },
  { countries: ['CN'], name: 'CN Macau cross-boundary', pattern: '粤CYYYY澳', specific: true },
  // emergency rescue (fire and rescue services): province, team code, four digits, 应急 (京X1234应急)
  { countries: ['CN'], name: 'CN emergency', pattern: 'PYNNNN应急', specific: true },
];
