/** Argument parsing shared by the commands: node's parseArgs with errors turned into UsageError. */
import { recognizerKinds } from '../edge/vision/plate-reader.js';
import type { RecognizerKind } from '../edge/vision/plate-reader.js';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { Country } from '../proto/regions.js';
import { parseRegions } from '../proto/regions.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function positiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

/** `--regions BR,AR` or `EU,US`: the countries (or groups) whose plates to read; a usage error names what is not one. */
export function regionsOption(value: string): Country[] {
  try {
    return parseRegions(value);
  } catch (err) {
    throw new UsageError(`--regions: ${(err as Error).message}`);
  }
}

/** `--recognizer`: generic or plate (edge/vision/plate-reader.ts) */
export function recognizerOption(value: string, name = '--recognizer'): RecognizerKind {
  if (!(recognizerKinds as readonly string[]).includes(value)) {
    throw new UsageError(`${name} must be one of ${recognizerKinds.join(', ')}, got "${value}"`);
  }
  return value as RecognizerKind;
}

/** A number >= 0 from the command line, or a UsageError naming the option. */
export function nonNegativeNumber(value: string, name: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0) {
    throw new UsageError(`${name} must be a number >= 0, got "${value}"`);
  }
  return x;
}
