// Log signatures: collapses up to millions of application log lines into a handful of
// Drain-style templates ("signatures") with counters, so the timeline can show one row per
// error signature and mark the first occurrence of each as a key event.
//
// Algorithm (Drain-like, single pass, no stored lines):
//   1. Take the first line of the message (stack traces cluster on their headline), truncated
//      to MAX_LINE_CHARS.
//   2. Tokenise on whitespace and pre-mask variable tokens (numbers with units, ratios, hex ids,
//      UUIDs, IPs, timestamps, query strings, quoted numbers) as `<*>`. Words, identifiers
//      (worker7, OrderSerializer.toJSON), error codes (ORA-00942, E1234), quoted words and paths
//      are kept. The scanner flags the few tokens that can need masking (a digit or '?', and not
//      a plain identifier); only those go through the masking code, and lazily.
//   3. Candidates are grouped by (token count, first token) — Drain's fixed-depth prefix tree.
//      Within a group the line joins the template with the highest fraction of equal tokens
//      (`<*>` in the template counts as equal) if that fraction is ≥ `similarity`; positions that
//      differ become `<*>`. Otherwise a new cluster starts — or, once `maxClusters` clusters
//      exist, the line is counted in a single `<other>` bucket.
//   4. Fast path: each group remembers its last matched cluster. A line whose literal tokens all
//      equal a template's (the rest falling under <*>) has similarity 1 and is counted there
//      directly, comparing line ranges without building the token array. Like Drain3's
//      fast-match, this skips the "most specific template" tie-break among equally perfect
//      matches, which only matters for templates that never generalised into each other.
//
// Memory is per signature (template, sample, capped service/host sets), never per line.
//
// Pure: no I/O, no dependencies.

const MAX_DETAIL_CHARS = 1500;

export interface LogSignature {
  /** Short stable id: 8 hex chars of the FNV-1a hash of `template`. */
  id: string;
  /** Token template with variable parts masked as `<*>`. */
  template: string;
  /** First line (≤ 500 chars) of the earliest message seen for this signature. */
  sample: string;
  /** The earliest message with its following lines (a stack trace names files and frames), ≤ 1,500 chars. */
  detail: string;
  count: number;
  /** Earliest / latest `timeMs` seen (NaN when no finite time was ever given). */
  firstMs: number;
  lastMs: number;
  /** Most severe level seen. */
  level: 'error' | 'warn' | 'info' | 'debug' | 'other';
  /** Distinct services seen, in order of first appearance (at most 10). */
  services: string[];
  /** Distinct host count (counting stops at 10000). */
  hosts: number;
}

type Level = LogSignature['level'];

const WILDCARD = '<*>';
const OTHER_TEMPLATE = '<other>';
const MAX_LINE_CHARS = 500;
const MAX_SERVICES = 10;
const MAX_HOSTS = 10_000;
const DEFAULT_SIMILARITY = 0.5;
const DEFAULT_MAX_CLUSTERS = 2000;

// ---------------------------------------------------------------------------------------------
// Levels

const LEVEL_RANK: Record<Level, number> = { other: 0, debug: 1, info: 2, warn: 3, error: 4 };
const RANK_LEVEL: readonly Level[] = ['other', 'debug', 'info', 'warn', 'error'];

/** Maps a status/level field to a severity bucket; unknown or missing → 'other'. */
export function levelOf(status: string | undefined): Level {
  if (status === undefined) return 'other';
  switch (status.trim().toLowerCase()) {
    case 'error':
    case 'err':
    case 'critical':
    case 'crit':
    case 'fatal':
    case 'emerg':
    case 'emergency':
    case 'alert':
    case 'panic':
      return 'error';
    case 'warn':
    case 'warning':
      return 'warn';
    case 'info':
    case 'notice':
    case 'informational':
      return 'info';
    case 'debug':
    case 'trace':
      return 'debug';
    default:
      return 'other';
  }
}

// ---------------------------------------------------------------------------------------------
// Masking

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
// Unit suffix characters: letters, '%', 'µ'.
const isUnitChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 37 || c === 181;
// Wrappers stripped before looking at a token's core:  ( [ { < " ' ` # $
const isOpen = (c: number): boolean =>
  c === 40 || c === 91 || c === 123 || c === 60 || c === 34 || c === 39 || c === 96 || c === 35 || c === 36;
// ) ] } > " ' `  and trailing punctuation , ; . : ! ?
const isClose = (c: number): boolean =>
  c === 41 || c === 93 || c === 125 || c === 62 || c === 34 || c === 39 || c === 96 ||
  c === 44 || c === 59 || c === 46 || c === 58 || c === 33 || c === 63;

/**
 * Fast path for the most common variable token: a number with optional sign, decimal/thousands
 * separators, '/'-ratios and a short unit suffix (137, -5, 2.5MB, 5004ms, 99.9%, 10/10, 10.0.0.1).
 */
function isNumberish(s: string, a: number, b: number): boolean {
  let i = a;
  const c0 = s.charCodeAt(i);
  if (c0 === 45 || c0 === 43) i++;
  for (;;) {
    const start = i;
    while (i < b && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return false;
    if (i === b) return true;
    const c = s.charCodeAt(i);
    if ((c === 46 || c === 44 || c === 47) && i + 1 < b && isDigit(s.charCodeAt(i + 1))) {
      i++;
      continue;
    }
    break;
  }
  const unitStart = i;
  while (i < b && isUnitChar(s.charCodeAt(i))) i++;
  return i === b && i - unitStart <= 5;
}

const HEX_ID = '(?=[0-9a-fA-F]*\\d)[0-9a-fA-F]{7,}';
const VAR_RE = new RegExp(
  '^(?:' +
    [
      // number with unit (slow-path twin of isNumberish, e.g. inside composites)
      '[-+]?\\d+(?:[.,]\\d+)*[a-zA-Z%\\u00b5]{0,5}',
      // compound durations: 1h30m, 2m5.5s
      '(?:\\d+(?:\\.\\d+)?(?:ns|us|\\u00b5s|ms|s|m|h|d))+',
      // ratios / rates: 10/10, 5MB/10MB, 2024/01/02
      '[-+]?\\d+(?:[.,]\\d+)*[a-zA-Z%]{0,5}(?:/[-+]?\\d+(?:[.,]\\d+)*[a-zA-Z%]{0,5})+',
      // 0x-prefixed hex
      '0[xX][0-9a-fA-F]+',
      // hex ids ≥ 7 chars with at least one digit (git shas, trace ids)
      HEX_ID,
      // UUID
      '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
      // IPv4 with optional port
      '\\d{1,3}(?:\\.\\d{1,3}){3}(?::\\d{1,5})?',
      // IPv6 (and MAC addresses), optionally "[…]:port" (the leading '[' is stripped as a wrapper)
      '\\[?(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?:\\](?::\\d{1,5})?)?',
      // ISO date / date-time
      '\\d{4}-\\d{2}-\\d{2}(?:[Tt_]\\d{2}:\\d{2}(?::\\d{2}(?:[.,]\\d+)?)?)?(?:[Zz]|[+-]\\d{2}(?::?\\d{2})?)?',
      // clock time
      '\\d{1,2}:\\d{2}(?::\\d{2})?(?:[.,]\\d+)?(?:[Zz]|[+-]\\d{2}:?\\d{2})?',
    ].join('|') +
    ')$',
);
const HEX_ID_RE = new RegExp('^' + HEX_ID + '$');

const hasDigit = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (isDigit(s.charCodeAt(i))) return true;
  return false;
};

/** Masks one token `s[start, end)`; returns the slice itself when nothing is variable. */
function maskRange(s: string, start: number, end: number): string {
  let a = start;
  let b = end;
  while (a < b && isOpen(s.charCodeAt(a))) a++;
  while (b > a && isClose(s.charCodeAt(b - 1))) b--;
  if (a === b) return s.slice(start, end);
  let masked: string;
  if (isNumberish(s, a, b)) {
    masked = WILDCARD;
  } else {
    const core = s.slice(a, b);
    masked = maskCore(core);
    if (masked === core) return a === start && b === end ? core : s.slice(start, end);
  }
  if (a === start && b === end) return masked;
  let prefix = a > start ? s.slice(start, a) : '';
  let suffix = b < end ? s.slice(b, end) : '';
  if (masked === WILDCARD) {
    // A fully variable value absorbs list separators ("10/10," → "<*>"), keeping brackets/colons.
    if (suffix !== '') suffix = suffix.replace(/[,;]/g, '');
    // "[fe80::1]:8080": the bracket belongs to the address that was masked as a whole.
    if (prefix.endsWith('[') && s.lastIndexOf(']', b - 1) >= a) prefix = prefix.slice(0, -1);
  }
  return prefix + masked + suffix;
}

function maskCore(core: string): string {
  if (VAR_RE.test(core)) return WILDCARD;
  const q = core.indexOf('?');
  if (q >= 0 && (core.indexOf('=', q) > q || core.lastIndexOf('/', q) >= 0)) {
    // URL query string: everything after '?' is variable.
    const head = core.slice(0, q);
    return (head === '' ? '' : maskComposite(head, 0)) + '?' + WILDCARD;
  }
  if (!hasDigit(core)) return core;
  const eq = core.indexOf('=');
  if (eq > 0) {
    const value = core.slice(eq + 1);
    if (value === '') return core;
    const mv = maskRange(value, 0, value.length);
    return mv === value ? core : core.slice(0, eq + 1) + mv;
  }
  return maskComposite(core, 0);
}

const DELIMS = ['/', ':', '-'] as const;

/**
 * Masks variable parts of composite tokens: path segments (/v1/orders/12345 → /v1/orders/<*>),
 * host:port, and hex ids inside dashed names (api-7f9c8d6b5-x2x9k → api-<*>-x2x9k). Dashed
 * parts are only masked when they are hex ids, so error codes like ORA-00942 survive.
 */
function maskComposite(s: string, level: number): string {
  for (let d = level; d < DELIMS.length; d++) {
    const ch = DELIMS[d]!;
    if (s.indexOf(ch) === -1) continue;
    const parts = s.split(ch);
    let changed = false;
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      if (p === '' || !hasDigit(p)) continue;
      let m: string;
      if (ch === '-') m = HEX_ID_RE.test(p) ? WILDCARD : p;
      else m = VAR_RE.test(p) ? WILDCARD : maskComposite(p, d + 1);
      if (m !== p) {
        parts[k] = m;
        changed = true;
      }
    }
    return changed ? parts.join(ch) : s;
  }
  return s;
}

// Scanner character classes (ASCII only; anything else is a plain token character).
const CC_WS = 1;
const CC_DIGIT = 2;
const CC_QUESTION = 4;
const CC_SEP = 8; // : - / =
const CHAR_CLASS = (() => {
  const t = new Uint8Array(128);
  for (const c of [9, 10, 11, 12, 13, 32]) t[c] = CC_WS;
  for (let c = 48; c <= 57; c++) t[c] = CC_DIGIT;
  t[63] = CC_QUESTION;
  for (const c of [58, 45, 47, 61]) t[c] = CC_SEP;
  return t;
})();

function hashRange(s: string, a: number, b: number): number {
  let h = 0x811c9dc5;
  for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

const isHexChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/** Whether s[a, b) minus trailing punctuation is ≥ 7 hex chars (digit presence is checked by the caller). */
function looksHexId(s: string, a: number, b: number): boolean {
  while (b > a && isClose(s.charCodeAt(b - 1))) b--;
  if (b - a < 7) return false;
  for (let i = a; i < b; i++) if (!isHexChar(s.charCodeAt(i))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Clustering

class Cluster {
  tpl: string[];
  /**
   * 1 where the template token contains no <*>: masking only ever inserts <*>, so such a token
   * equals a line's masked token exactly when it equals the raw token (no masking needed).
   */
  plain: Uint8Array;
  sample = '';
  detail = '';
  count = 0;
  firstMs = Infinity;
  lastMs = -Infinity;
  levelRank = 0;
  services: Set<string> | null = null;
  hosts: Set<string> | null = null;
  lastService: string | undefined = undefined;
  lastHost: string | undefined = undefined;
  constructor(tpl: string[]) {
    this.tpl = tpl;
    this.plain = new Uint8Array(tpl.length);
    for (let i = 0; i < tpl.length; i++) this.plain[i] = tpl[i]!.includes(WILDCARD) ? 0 : 1;
  }
}

/** One leaf of Drain's prefix tree: lines with the same token count and first token. */
interface Group {
  n: number;
  first: string;
  clusters: Cluster[];
  last: Cluster | null;
  /** Next group with the same hash key. */
  next: Group | null;
}

/**
 * Copies a string that may be a slice of a much larger message (a stack trace, say), so a
 * cluster's template/sample does not keep the whole message alive. Best effort: relies on V8
 * flattening the concatenation before slicing; short strings are copied by slice() anyway.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export class LogClusterer {
  private readonly similarity: number;
  private readonly maxClusters: number;
  /** hash(token count, first token) → group (collisions chained through `next`) */
  private readonly groups = new Map<number, Group>();
  private readonly all: Cluster[] = [];
  private other: Cluster | null = null;
  // Per-line scratch (reused; a line has at most MAX_LINE_CHARS / 2 + 1 tokens).
  private readonly starts = new Int32Array(MAX_LINE_CHARS / 2 + 1);
  private readonly ends = new Int32Array(MAX_LINE_CHARS / 2 + 1);
  private readonly flagged = new Uint8Array(MAX_LINE_CHARS / 2 + 1);
  private readonly masked: (string | undefined)[] = new Array<string | undefined>(MAX_LINE_CHARS / 2 + 1);
  /** Raw status string → level rank (status vocabularies are tiny; capped anyway). */
  private readonly statusRanks = new Map<string, number>();

  constructor(opts?: { similarity?: number; maxClusters?: number }) {
    const sim = opts?.similarity ?? DEFAULT_SIMILARITY;
    this.similarity = Number.isFinite(sim) ? Math.min(1, Math.max(0, sim)) : DEFAULT_SIMILARITY;
    const max = opts?.maxClusters ?? DEFAULT_MAX_CLUSTERS;
    this.maxClusters = Number.isFinite(max) ? Math.max(0, Math.floor(max)) : DEFAULT_MAX_CLUSTERS;
  }

  add(message: string, timeMs: number, meta?: { service?: string; status?: string; host?: string }): void {
    let line = message;
    // Cluster on the first non-blank line (a message may start with a newline).
    if (line.length > 0 && line.charCodeAt(0) <= 32) line = line.trimStart();
    const nl = line.indexOf('\n');
    if (nl !== -1) line = line.slice(0, nl);
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (line.length > MAX_LINE_CHARS) line = line.slice(0, MAX_LINE_CHARS);

    const n = this.scan(line);
    const group = this.groupFor(line, n);

    // Fast path: a line that fits an existing template exactly (its literal tokens equal, the
    // rest under <*>) has similarity 1 and needs no merging; check the group's last match
    // first, then its other clusters. Compares line ranges, so only tokens facing a literal
    // template token that contains a digit get materialised.
    let cluster: Cluster | null = null;
    const last = group.last;
    if (last !== null && this.fits(last, line, n)) {
      cluster = last;
    } else {
      for (const c of group.clusters) {
        if (c !== last && this.fits(c, line, n)) {
          cluster = c;
          group.last = c;
          break;
        }
      }
    }
    if (cluster === null) {
      const toks = new Array<string>(n);
      for (let i = 0; i < n; i++) toks[i] = this.tokenAt(line, i);
      cluster = this.place(group, toks);
    }
    this.record(cluster, message, line, timeMs, meta);
  }

  signatures(): LogSignature[] {
    // Two clusters can converge on the same template; report them as one signature.
    const byTemplate = new Map<string, Cluster[]>();
    const clusters = this.other === null ? this.all : [...this.all, this.other];
    for (const c of clusters) {
      const t = c === this.other ? OTHER_TEMPLATE : c.tpl.join(' ');
      const list = byTemplate.get(t);
      if (list === undefined) byTemplate.set(t, [c]);
      else list.push(c);
    }
    const out: LogSignature[] = [];
    for (const [template, list] of byTemplate) {
      let count = 0;
      let firstMs = Infinity;
      let lastMs = -Infinity;
      let rank = 0;
      let sample = list[0]!.sample;
      let detail = list[0]!.detail;
      const services: string[] = [];
      const hostSet = new Set<string>();
      for (const c of list) {
        count += c.count;
        if (c.firstMs < firstMs) {
          firstMs = c.firstMs;
          sample = c.sample;
          detail = c.detail;
        }
        if (c.lastMs > lastMs) lastMs = c.lastMs;
        if (c.levelRank > rank) rank = c.levelRank;
        if (c.services !== null) {
          for (const s of c.services) {
            if (services.length < MAX_SERVICES && !services.includes(s)) services.push(s);
          }
        }
        if (c.hosts !== null) {
          for (const h of c.hosts) {
            if (hostSet.size >= MAX_HOSTS) break;
            hostSet.add(h);
          }
        }
      }
      out.push({
        id: fnv1a(template),
        template,
        sample,
        detail,
        count,
        firstMs: firstMs === Infinity ? NaN : firstMs,
        lastMs: lastMs === -Infinity ? NaN : lastMs,
        level: RANK_LEVEL[rank]!,
        services,
        hosts: hostSet.size,
      });
    }
    out.sort(compareSignatures);
    return out;
  }

  /** The prefix-tree leaf for the scanned line, keyed without allocating for plain first tokens. */
  private groupFor(line: string, n: number): Group {
    let key: number;
    let first: string | null = null;
    if (n === 0) key = 0;
    else if (this.flagged[0] === 1) {
      first = this.tokenAt(line, 0);
      key = hashRange(first, 0, first.length);
    } else key = hashRange(line, this.starts[0]!, this.ends[0]!);
    key = (key ^ Math.imul(n, 0x9e3779b1)) >>> 0;
    const head = this.groups.get(key);
    for (let g: Group | null = head ?? null; g !== null; g = g.next) {
      if (g.n !== n) continue;
      if (n === 0 || (first !== null ? g.first === first : this.isToken(line, 0, g.first))) return g;
    }
    const g: Group = {
      n,
      first: n === 0 ? '' : detach(this.tokenAt(line, 0)),
      clusters: [],
      last: null,
      next: head ?? null,
    };
    this.groups.set(key, g);
    return g;
  }

  /** Whether unmasked token `i` of the scanned line equals `t`. */
  private isToken(line: string, i: number, t: string): boolean {
    const s = this.starts[i]!;
    const len = t.length;
    if (len !== this.ends[i]! - s) return false;
    for (let k = 0; k < len; k++) if (t.charCodeAt(k) !== line.charCodeAt(s + k)) return false;
    return true;
  }

  /** Finds (or creates) the cluster for a line that did not exactly match the group's last one. */
  private place(group: Group, toks: string[]): Cluster {
    const n = toks.length;
    let best: Cluster | null = null;
    let bestEq = -1;
    let bestExact = -1;
    for (const c of group.clusters) {
      const tpl = c.tpl;
      let eq = 0;
      let exact = 0;
      for (let i = 0; i < n; i++) {
        const t = tpl[i];
        if (t === toks[i]) {
          eq++;
          exact++;
        } else if (t === WILDCARD) {
          eq++;
        }
      }
      // Best similarity; ties go to the more specific template (more literal matches).
      if (eq > bestEq || (eq === bestEq && exact > bestExact)) {
        best = c;
        bestEq = eq;
        bestExact = exact;
      }
    }
    if (best !== null && (n === 0 || bestEq / n >= this.similarity)) {
      const tpl = best.tpl;
      for (let i = 0; i < n; i++) {
        if (tpl[i] !== toks[i] && tpl[i] !== WILDCARD) {
          tpl[i] = WILDCARD;
          best.plain[i] = 0;
        }
      }
      group.last = best;
      return best;
    }
    if (this.all.length < this.maxClusters) {
      for (let i = 0; i < n; i++) toks[i] = detach(toks[i]!);
      const c = new Cluster(toks);
      group.clusters.push(c);
      this.all.push(c);
      group.last = c;
      return c;
    }
    if (this.other === null) this.other = new Cluster([OTHER_TEMPLATE]);
    return this.other;
  }

  private record(
    c: Cluster,
    message: string,
    line: string,
    timeMs: number,
    meta: { service?: string; status?: string; host?: string } | undefined,
  ): void {
    c.count++;
    // The sample is the first line of the earliest message (the first added if times tie or are not finite).
    if (c.count === 1 || timeMs < c.firstMs) {
      c.sample = line.length === message.length ? line : detach(line);
      c.detail = message.length === line.length ? c.sample : detach(message.slice(0, MAX_DETAIL_CHARS));
    }
    if (timeMs < c.firstMs) c.firstMs = timeMs;
    if (timeMs > c.lastMs) c.lastMs = timeMs;
    if (meta === undefined) return;
    const status = meta.status;
    if (status !== undefined) {
      let rank = this.statusRanks.get(status);
      if (rank === undefined) {
        rank = LEVEL_RANK[levelOf(status)];
        if (this.statusRanks.size < 256) this.statusRanks.set(status, rank);
      }
      if (rank > c.levelRank) c.levelRank = rank;
    }
    const service = meta.service;
    if (service !== undefined && service !== c.lastService && service !== '') {
      c.lastService = service;
      if (c.services === null) c.services = new Set();
      if (c.services.size < MAX_SERVICES) c.services.add(service);
    }
    const host = meta.host;
    if (host !== undefined && host !== c.lastHost && host !== '') {
      c.lastHost = host;
      if (c.hosts === null) c.hosts = new Set();
      if (c.hosts.size < MAX_HOSTS) c.hosts.add(host);
    }
  }

  /**
   * Records whitespace token boundaries of `line` in the scratch arrays, flags tokens that need
   * masking (contain a digit or '?'), and returns the token count. Allocates nothing.
   */
  private scan(line: string): number {
    const { starts, ends, flagged, masked } = this;
    const len = line.length;
    let n = 0;
    let i = 0;
    while (i < len) {
      let c = line.charCodeAt(i);
      let k = c < 128 ? CHAR_CLASS[c]! : 0;
      if ((k & CC_WS) !== 0) {
        i++;
        continue;
      }
      const start = i;
      let bits = 0;
      do {
        bits |= k;
        if (++i >= len) break;
        c = line.charCodeAt(i);
        k = c < 128 ? CHAR_CLASS[c]! : 0;
      } while ((k & CC_WS) === 0);
      let flag = 0;
      if ((bits & CC_QUESTION) !== 0) flag = 1;
      else if ((bits & CC_DIGIT) !== 0) {
        // Identifiers like worker7, type2, E1234, ERR_HTTP2_STREAM (letter first, no separator
        // and not a hex id) are never masked: skip the masking machinery for them.
        flag = (bits & CC_SEP) !== 0 || !isIdentStart(line.charCodeAt(start)) || looksHexId(line, start, i) ? 1 : 0;
      }
      starts[n] = start;
      ends[n] = i;
      flagged[n] = flag;
      masked[n] = undefined;
      n++;
    }
    return n;
  }

  /** Token `i` of the last scanned line, masked; memoised per line. */
  private tokenAt(line: string, i: number): string {
    let t = this.masked[i];
    if (t === undefined) {
      const s = this.starts[i]!;
      const e = this.ends[i]!;
      t = this.flagged[i] === 1 ? maskRange(line, s, e) : line.slice(s, e);
      this.masked[i] = t;
    }
    return t;
  }

  /** True when every literal template token equals the line's (masked) token. Token 0 is the group key. */
  private fits(c: Cluster, line: string, n: number): boolean {
    const tpl = c.tpl;
    const plain = c.plain;
    for (let i = 1; i < n; i++) {
      const t = tpl[i]!;
      if (t === WILDCARD) continue;
      if (plain[i] === 1 || this.flagged[i] === 0) {
        if (!this.isToken(line, i, t)) return false;
      } else if (this.tokenAt(line, i) !== t) {
        return false;
      }
    }
    return true;
  }
}

function compareSignatures(a: LogSignature, b: LogSignature): number {
  const fa = a.firstMs;
  const fb = b.firstMs;
  const naA = Number.isNaN(fa);
  const naB = Number.isNaN(fb);
  if (naA !== naB) return naA ? 1 : -1;
  if (!naA && fa !== fb) return fa - fb;
  if (a.count !== b.count) return b.count - a.count;
  return a.template < b.template ? -1 : a.template > b.template ? 1 : 0;
}
