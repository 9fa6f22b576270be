// Reads a bundle file piece by piece. The file stays one Buffer; every part of the bundle except
// `sources.logs` is parsed as usual, while log lines are parsed one at a time when the analysis
// visits them and never held all at once. On a bundle with a million log lines this keeps peak
// memory near the file size instead of several times it.
import { readFileSync, statSync } from 'node:fs';
import { BundleError, logSourceOf, readBundle, SkipLog, toLogRecord, type Bundle, type LogSource, type ReadOptions } from '../core/bundle.js';
import { arrayElements, arraySpans, JsonScanError, objectMembers, skipWs } from '../core/jsonScan.js';
import { InputError } from './files.js';

export interface LoadedBundle {
  /** the bundle without its malformed elements and without `sources.logs` (see `logs`) */
  bundle: Bundle;
  logs: LogSource;
  /** what was left out of `bundle`; log lines left out are in `logs.skipped` once visited */
  skipped: SkipLog;
}

function readBytes(path: string): Buffer {
  try {
    if (statSync(path).isDirectory()) throw new InputError(`${path}: is a directory, expected a bundle JSON file`);
    return readFileSync(path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
}

function asInputError(path: string, err: unknown): never {
  if (err instanceof BundleError) throw new InputError(`${path}: ${err.message}`);
  throw err;
}

/**
 * Reads a bundle file. Only what no analysis can do without throws (an InputError naming the file
 * and the JSON path); other malformed elements are left out and counted, unless `strict`.
 */
export function loadBundleFile(path: string, options: ReadOptions = {}): LoadedBundle {
  const bytes = readBytes(path);
  const decode = (start: number, end: number) => bytes.toString('utf8', start, end);
  const parse = (start: number, end: number): unknown => JSON.parse(decode(start, end));
  try {
    let root: Record<string, unknown>;
    let logSpans: Float64Array | null = null;
    const fast = cutOutLogs(bytes);
    if (fast) {
      root = fast.root;
      logSpans = fast.spans;
    } else try {
      const start = skipWs(bytes, bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0);
      root = {};
      const top = objectMembers(bytes, start, decode);
      for (const m of top.members) {
        if (m.key === 'sources' && bytes[m.start] === 0x7b) {
          const sources: Record<string, unknown> = {};
          for (const s of objectMembers(bytes, m.start, decode).members) {
            if (s.key === 'logs' && bytes[s.start] === 0x5b) {
              logSpans = arrayElements(bytes, s.start);
              delete sources.logs;
            } else {
              sources[s.key] = parse(s.start, s.end);
              if (s.key === 'logs') logSpans = null;
            }
          }
          root[m.key] = sources;
        } else root[m.key] = parse(m.start, m.end);
      }
      if (skipWs(bytes, top.end) !== bytes.length) throw new JsonScanError(top.end);
    } catch (err) {
      if (!(err instanceof JsonScanError) && !(err instanceof SyntaxError)) throw err;
      // Not a well-formed object: the ordinary parser produces the exact message users expect.
      const whole = readBundle(parseWhole(bytes.toString('utf8')), options);
      return { bundle: whole.bundle, logs: logSourceOf(whole.bundle, options), skipped: whole.skipped };
    }
    const { bundle, skipped } = readBundle(root, options);
    const spans = logSpans;
    if (!spans) return { bundle, logs: emptyLogs(), skipped };
    const count = spans.length / 2;
    const logsSkipped = options.strict ? null : new SkipLog();
    return {
      bundle,
      skipped,
      logs: {
        count,
        skipped: logsSkipped ?? undefined,
        forEach(visit) {
          logsSkipped?.clear();
          // A few thousand lines per JSON.parse call: far fewer calls than one per line, and only
          // one chunk of parsed lines alive at a time.
          const CHUNK = 4096;
          try {
            for (let first = 0; first < count; first += CHUNK) {
              const last = Math.min(count, first + CHUNK) - 1;
              let lines: unknown[];
              try {
                lines = JSON.parse(`[${decode(spans[2 * first]!, spans[2 * last + 1]!)}]`) as unknown[];
              } catch {
                lines = [];
                for (let i = first; i <= last; i++) {
                  try {
                    lines.push(parse(spans[2 * i]!, spans[2 * i + 1]!));
                  } catch (err) {
                    // The file is not JSON: fatal even when tolerant, as for any other file.
                    throw new BundleError(`sources.logs[${i}]`, `not valid JSON (${(err as Error).message})`);
                  }
                }
              }
              for (let k = 0; k < lines.length; k++) {
                const record = toLogRecord(lines[k], first + k, logsSkipped);
                if (record) visit(record, first + k);
              }
            }
          } catch (err) {
            asInputError(path, err);
          }
        },
      },
    };
  } catch (err) {
    return asInputError(path, err);
  }
}

const LOGS_KEY = Buffer.from('"logs"');
const SENTINEL = '\u0000hindsight:logs';

/**
 * Fast path: find `"logs": [` by byte search, scan only that array, and parse everything else in
 * one JSON.parse with a sentinel where the array was. The sentinel landing at `sources.logs`
 * proves the match was the real key (not text inside a string, not another source's `logs`);
 * otherwise the next match is tried, and after a few the caller falls back to a full scan.
 */
function cutOutLogs(bytes: Buffer): { root: Record<string, unknown>; spans: Float64Array } | null {
  let at = bytes.indexOf(LOGS_KEY);
  for (let attempt = 0; at !== -1 && attempt < 4; attempt++, at = bytes.indexOf(LOGS_KEY, at + 1)) {
    let i = skipWs(bytes, at + LOGS_KEY.length);
    if (bytes[i] !== 0x3a) continue;
    i = skipWs(bytes, i + 1);
    if (bytes[i] !== 0x5b) continue;
    try {
      const { spans, end } = arraySpans(bytes, i);
      const rest = `${bytes.toString('utf8', 0, i)}${JSON.stringify(SENTINEL)}${bytes.toString('utf8', end)}`;
      const root = JSON.parse(rest.charCodeAt(0) === 0xfeff ? rest.slice(1) : rest) as Record<string, unknown>;
      const sources = root?.sources as Record<string, unknown> | undefined;
      if (root && typeof root === 'object' && !Array.isArray(root) && sources?.logs === SENTINEL) {
        delete sources.logs;
        return { root, spans };
      }
    } catch {
      // not the real key, or not well-formed: try the next match
    }
  }
  return null;
}

function parseWhole(text: string): unknown {
  if (text.trim() === '') throw new BundleError('', 'the bundle is empty');
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new BundleError('', `not valid JSON (${(err as Error).message})`);
  }
}

function emptyLogs(): LogSource {
  return { count: 0, forEach: () => undefined };
}
