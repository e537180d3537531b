/**
 * The accounting export's CSV, one settlement per line. Pure: no I/O.
 *
 * RFC 4180: fields separated by commas, lines ended by CRLF, a field that
 * holds a comma, a quote, CR or LF is quoted with its quotes doubled. A
 * field a spreadsheet would take for a formula (it starts with =, +, -, @,
 * a tab or CR; OWASP "CSV injection") gets a leading apostrophe and is
 * quoted, so it shows as text. Numbers written by the export itself (amounts
 * are never negative here) are not touched.
 *
 * Times are ISO 8601 in the lot's local time with its offset
 * (2026-03-02T08:00:00.000+08:00); amounts both in minor units and formatted
 * in major units with the currency's decimals (1250 CNY -> 12.50).
 */

export const CSV_HEADER = [
  'settlement_id',
  'session_id',
  'plate',
  'entry_at',
  'exit_at',
  'amount_minor',
  'amount',
  'currency',
  'payment_account_id',
  'payment_method',
  'ledger_index',
  'settled_at',
] as const;

/** A settlement as the export reads it. */
export interface ExportedSettlement {
  id: string;
  sessionId: string;
  plate: string;
  entryAt: number;
  exitAt: number;
  amount: number;
  currency: string;
  accountId: string | null;
  method: string;
  /** its place in the signed ledger, or null while it waits for one */
  ledgerIndex: number | null;
  settledAt: number;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field, quoted where RFC 4180 needs it, with formula-looking text defused. */
export function csvField(value: string): string {
  let text = value;
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) || text !== value ? `"${text.replace(/"/g, '""')}"` : text;
}

/** one CSV line (CRLF included) from fields */
export function csvLine(fields: readonly string[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

const digitsOf = new Map<string, number>();

/** how many decimals the currency's minor unit has (CNY, EUR: 2; JPY: 0; BHD: 3) */
export function currencyDecimals(currency: string): number {
  let digits = digitsOf.get(currency);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsOf.set(currency, digits);
  }
  return digits;
}

/** 1250, "CNY" -> "12.50"; integer arithmetic only, no grouping, "-" for a negative amount */
export function formatMinorUnits(amount: number, currency: string): string {
  const digits = currencyDecimals(currency);
  const sign = amount < 0 ? '-' : '';
  const whole = String(Math.abs(amount));
  if (digits === 0) return sign + whole;
  const padded = whole.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/** ms since the epoch -> ISO 8601 in a zone `utcOffsetMinutes` east of UTC, with that offset */
export function isoWithOffset(ms: number, utcOffsetMinutes: number): string {
  const local = new Date(ms + utcOffsetMinutes * 60_000).toISOString().slice(0, -1);
  if (utcOffsetMinutes === 0) return `${local}Z`;
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}

/** the CSV line of one settlement, its times in the lot's zone */
export function settlementLine(s: ExportedSettlement, utcOffsetMinutes: number): string {
  return csvLine([
    s.id,
    s.sessionId,
    s.plate,
    isoWithOffset(s.entryAt, utcOffsetMinutes),
    isoWithOffset(s.exitAt, utcOffsetMinutes),
    String(s.amount),
    formatMinorUnits(s.amount, s.currency),
    s.currency,
    s.accountId ?? '',
    s.method,
    s.ledgerIndex === null ? '' : String(s.ledgerIndex),
    isoWithOffset(s.settledAt, utcOffsetMinutes),
  ]);
}
