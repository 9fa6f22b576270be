// A byte-level scanner over UTF-8 JSON: finds where values start and end without building them,
// so a large bundle can be parsed piecewise (see io/bundleLoader.ts). It only checks structure
// enough to find boundaries; every piece is then parsed by JSON.parse, which checks the rest.

export class JsonScanError extends Error {
  constructor(readonly offset: number) {
    super(`malformed JSON near byte ${offset}`);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export function skipWs(b: Uint8Array, i: number): number {
  while (i < b.length) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
  return i;
}

/** `i` at an opening quote; returns the index just after the closing quote. */
export function stringEnd(b: Uint8Array, i: number): number {
  // indexOf is native: string contents (most of a log bundle) are never visited byte by byte.
  let q = b.indexOf(QUOTE, i + 1);
  for (;;) {
    if (q === -1) throw new JsonScanError(b.length);
    let backslashes = 0;
    for (let k = q - 1; k > i && b[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    q = b.indexOf(QUOTE, q + 1);
  }
}

/** `i` at the first byte of a value; returns the index just after it. */
export function valueEnd(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c === OPEN_OBJ || c === OPEN_ARR) {
    let depth = 0;
    while (i < b.length) {
      const d = b[i]!;
      if (d === QUOTE) {
        i = stringEnd(b, i);
        continue;
      }
      if (d === OPEN_OBJ || d === OPEN_ARR) depth++;
      else if (d === CLOSE_OBJ || d === CLOSE_ARR) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw new JsonScanError(i);
  }
  if (c === undefined) throw new JsonScanError(i);
  // number, true, false, null
  const start = i;
  while (i < b.length) {
    const d = b[i]!;
    if (d === COMMA || d === CLOSE_OBJ || d === CLOSE_ARR || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
    i++;
  }
  if (i === start) throw new JsonScanError(i);
  return i;
}

export interface Member {
  key: string;
  start: number;
  end: number;
}

/** The members of the object starting at `i` (key and value span), in order, and its end. */
export function objectMembers(b: Uint8Array, i: number, decode: (start: number, end: number) => string): { members: Member[]; end: number } {
  if (b[i] !== OPEN_OBJ) throw new JsonScanError(i);
  const out: Member[] = [];
  i = skipWs(b, i + 1);
  if (b[i] === CLOSE_OBJ) return { members: out, end: i + 1 };
  for (;;) {
    if (b[i] !== QUOTE) throw new JsonScanError(i);
    const keyEnd = stringEnd(b, i);
    const key = JSON.parse(decode(i, keyEnd)) as string;
    i = skipWs(b, keyEnd);
    if (b[i] !== COLON) throw new JsonScanError(i);
    i = skipWs(b, i + 1);
    const end = valueEnd(b, i);
    out.push({ key, start: i, end });
    i = skipWs(b, end);
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1);
      continue;
    }
    if (b[i] === CLOSE_OBJ) return { members: out, end: i + 1 };
    throw new JsonScanError(i);
  }
}

/** Start/end offsets of the elements of the array starting at `i`, as a flat [s0, e0, s1, e1, …]. */
export function arrayElements(b: Uint8Array, i: number): Float64Array {
  return arraySpans(b, i).spans;
}

/** The element spans of the array starting at `i`, and the index just after its closing bracket. */
export function arraySpans(b: Uint8Array, i: number): { spans: Float64Array; end: number } {
  if (b[i] !== OPEN_ARR) throw new JsonScanError(i);
  let spans = new Float64Array(1024);
  let n = 0;
  i = skipWs(b, i + 1);
  if (b[i] === CLOSE_ARR) return { spans: spans.subarray(0, 0), end: i + 1 };
  for (;;) {
    const end = valueEnd(b, i);
    if (n + 2 > spans.length) {
      const bigger = new Float64Array(spans.length * 2);
      bigger.set(spans);
      spans = bigger;
    }
    spans[n++] = i;
    spans[n++] = end;
    i = skipWs(b, end);
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1);
      continue;
    }
    if (b[i] === CLOSE_ARR) return { spans: spans.subarray(0, n), end: i + 1 };
    throw new JsonScanError(i);
  }
}
