// File I/O at the edge: reading bundles and writing outputs atomically.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BundleError, parseBundleText, type Bundle } from '../core/bundle.js';

/** A user-facing input problem: exit code 2, one line. */
export class InputError extends Error {
  override name = 'InputError';
}

export function readBundleFile(path: string): Bundle {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new InputError(`${path}: is a directory, expected a bundle JSON file`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  try {
    return parseBundleText(text);
  } catch (err) {
    if (err instanceof BundleError) throw new InputError(`${path}: ${err.message}`);
    throw err;
  }
}

/** Writes via a temporary file and a rename, so a reader never sees half a file. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
