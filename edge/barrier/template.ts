/**
 * Placeholders in barrier driver settings: `{lane}`, `{command}` and
 * `{reason}` in a URL, request body or program argument are replaced by the
 * command's values, each passed through the caller's escape (URL encoding,
 * JSON string escaping, ...). Replacement is a single pass: a value that
 * itself contains `{lane}` is not expanded again. Other braces are left as
 * they are (so a JSON body template stays JSON).
 */
import type { BarrierCommand, BarrierContext } from './barrier-driver.js';

export const PLACEHOLDERS = ['lane', 'command', 'reason'] as const;
export type Escape = (value: string) => string;

const PATTERN = /\{(lane|command|reason)\}/g;

export function fillTemplate(
  template: string,
  command: BarrierCommand,
  context: BarrierContext,
  escape: Escape = (v) => v,
): string {
  const values = { lane: context.laneId, command, reason: context.reason };
  return template.replace(PATTERN, (_match, name: keyof typeof values) => escape(values[name]));
}

/** the escape that keeps a body of the given content type well formed (JSON strings, form fields; otherwise raw) */
export function escapeForContentType(contentType: string | undefined): Escape {
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('json')) return (v) => JSON.stringify(v).slice(1, -1);
  if (type.includes('x-www-form-urlencoded')) return encodeURIComponent;
  return (v) => v;
}
