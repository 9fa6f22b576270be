// Minimal flag parsing shared by the CLI commands (node:util parseArgs, errors as InputError).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../io/files.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseFlags(argv: string[], options: Options, allowPositionals = false): ParsedFlags {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: parsed.values as ParsedFlags['values'], positionals: parsed.positionals };
  } catch (err) {
    throw new InputError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new InputError(`--${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

export function parseTimeFlag(name: string, value: string | undefined, parse: (v: string) => number | null): number | undefined {
  if (value === undefined) return undefined;
  const ms = parse(value);
  if (ms === null) throw new InputError(`--${name}: not an ISO-8601 time: "${value}"`);
  return ms;
}
