// Secret detection with a maintained rule set: gitleaks' default rules, converted to JavaScript
// regexes by scripts/refresh-secret-rules.mjs (secretRules.generated.ts). Matching follows
// gitleaks: a rule runs only on text that contains one of its keywords (case-insensitive); the
// secret is the rule's secretGroup, else its first non-empty group, else the whole match; a secret
// at or below the rule's entropy, or allowed by the global or the rule's allowlists, is no finding.
//
// Pure: no I/O. The keyword test is one pass of a single regex (the keywords as a trie), so text
// that names no provider costs one scan.

export interface SecretRegex {
  source: string;
  flags: string;
}

export interface SecretAllowlist {
  /** What the regexes are tested against: the secret, the whole match, or the line. */
  target: string;
  /** 'AND': every present check must pass; 'OR': any. */
  condition: string;
  regexes: readonly SecretRegex[];
  /** Lower-case; a secret containing one is allowed. */
  stopwords: readonly string[];
}

export interface SecretRule {
  id: string;
  description: string;
  source: string;
  flags: string;
  secretGroup: number;
  keywords: readonly string[];
  entropy: number;
  /** Rules scoped to file paths (e.g. only `*.tf`) do not apply to text without a path. */
  path?: string;
  allowlists: readonly SecretAllowlist[];
}

export interface SecretFinding {
  start: number;
  end: number;
  ruleId: string;
}

interface CompiledAllowlist {
  target: string;
  and: boolean;
  regexes: RegExp[];
  stopwords: readonly string[];
}

interface CompiledRule {
  id: string;
  re: RegExp;
  secretGroup: number;
  entropy: number;
  allowlists: CompiledAllowlist[];
}

/** Shannon entropy in bits per character, as gitleaks computes it. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let n = 0;
  for (const c of counts.values()) n += c;
  let bits = 0;
  for (const c of counts.values()) {
    const p = c / n;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function compileAllowlist(a: SecretAllowlist): CompiledAllowlist {
  return {
    target: a.target,
    and: a.condition.toUpperCase() === 'AND',
    regexes: a.regexes.map((r) => new RegExp(r.source, r.flags)),
    stopwords: a.stopwords,
  };
}

function allowed(a: CompiledAllowlist, secret: string, match: string, line: string): boolean {
  const target = a.target === 'match' ? match : a.target === 'line' ? line : secret;
  const regexHit = a.regexes.length > 0 && target !== '' && a.regexes.some((re) => re.test(target));
  let stopwordHit = false;
  if (a.stopwords.length > 0) {
    const lower = secret.toLowerCase();
    stopwordHit = a.stopwords.some((w) => lower.includes(w));
  }
  if (!a.and) return regexHit || stopwordHit;
  return (a.regexes.length === 0 || regexHit) && (a.stopwords.length === 0 || stopwordHit);
}

/**
 * Aho-Corasick automaton over lower-case ASCII keywords, as one dense table: a text is scanned once,
 * one table step per character, whatever the number of keywords. Case-insensitive for A-Z, and
 * every digit stands for any digit ("+0" finds "+4", "api03" finds "api47"): a pre-test may say
 * yes too often, never too rarely.
 */
export class KeywordScanner {
  /** Character code -> column (0: a character no keyword contains). */
  readonly #column = new Uint8Array(65536);
  readonly #columns: number;
  /** Row offset of the next state; negative (-offset - 1) when a keyword ends there. */
  readonly #table: Int32Array;
  /** Keyword ids ending at each state (by row offset / columns). */
  readonly #outputs: number[][];

  constructor(keywords: readonly string[]) {
    let columns = 1;
    for (const k of keywords) {
      for (const ch of k) {
        const c = ch.charCodeAt(0);
        if (c > 0x7f || (c >= 65 && c <= 90)) throw new Error(`keyword "${k}" must be lower-case ASCII`);
        if (c >= 48 && c <= 57) continue;
        if (this.#column[c] === 0) this.#column[c] = columns++;
      }
    }
    const digit = columns++;
    if (columns > 255) throw new Error('too many distinct keyword characters');
    for (let c = 65; c <= 90; c++) this.#column[c] = this.#column[c + 32]!;
    for (let c = 48; c <= 57; c++) this.#column[c] = digit;
    this.#columns = columns;

    const goto: Array<Map<number, number>> = [new Map()];
    const outputs: number[][] = [[]];
    keywords.forEach((k, id) => {
      let state = 0;
      for (const ch of k) {
        const col = this.#column[ch.charCodeAt(0)]!;
        let next = goto[state]!.get(col);
        if (next === undefined) {
          next = goto.length;
          goto.push(new Map());
          outputs.push([]);
          goto[state]!.set(col, next);
        }
        state = next;
      }
      outputs[state]!.push(id);
    });
    const states = goto.length;
    const delta = new Int32Array(states * columns);
    const fail = new Int32Array(states);
    const queue: number[] = [];
    for (const [col, next] of goto[0]!) {
      delta[col] = next;
      queue.push(next);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      outputs[state] = [...outputs[state]!, ...outputs[fail[state]!]!];
      for (let col = 0; col < columns; col++) {
        const next = goto[state]!.get(col);
        if (next === undefined) delta[state * columns + col] = delta[fail[state]! * columns + col]!;
        else {
          fail[next] = delta[fail[state]! * columns + col]!;
          delta[state * columns + col] = next;
          queue.push(next);
        }
      }
    }
    this.#table = new Int32Array(states * columns);
    for (let i = 0; i < delta.length; i++) {
      const next = delta[i]!;
      this.#table[i] = outputs[next]!.length > 0 ? -(next * columns) - 1 : next * columns;
    }
    this.#outputs = outputs;
  }

  /** Calls onKeyword(id) for every keyword occurrence; returns how many there were. */
  scan(text: string, onKeyword: (id: number) => void): number {
    const table = this.#table;
    const column = this.#column;
    let state = 0;
    let count = 0;
    for (let i = 0; i < text.length; i++) {
      state = table[state + column[text.charCodeAt(i)]!]!;
      if (state < 0) {
        state = -state - 1;
        for (const id of this.#outputs[state / this.#columns]!) {
          count++;
          onKeyword(id);
        }
      }
    }
    return count;
  }
}

/** Window and overlap of find() on long texts; the overlap is longer than any token the rules find. */
const SCAN_WINDOW = 4096;
const SCAN_OVERLAP = 512;

export interface RuleSetOptions {
  /** Rule ids not to use (e.g. replaced by a project rule). */
  exclude?: ReadonlySet<string>;
  /** Project-wide allowlist, checked like the global one. */
  extraAllowlist?: SecretAllowlist;
  /**
   * Groups of more lower-case keywords to look for in the same scan (the caller's own pre-tests);
   * candidates() reports which groups occurred. At most 31 groups.
   */
  extraKeywords?: ReadonlyArray<readonly string[]>;
}

export interface Candidates {
  /** Indices of the rules to run, in rule order. */
  rules: readonly number[];
  /** Bit i set: a keyword of extra group i occurred. */
  extra: number;
}

const NO_CANDIDATES: Candidates = Object.freeze({ rules: Object.freeze([]), extra: 0 });

export class SecretRuleSet {
  readonly #rules: CompiledRule[] = [];
  /** Rules run whatever the text (no keywords). */
  readonly #unconditional: number[] = [];
  /** Keyword id -> rules it enables; ids past the rules' keywords are the extra keywords. */
  readonly #rulesOf: number[][] = [];
  readonly #scanner: KeywordScanner;
  /** Keyword id -> extra groups it belongs to, as bits. */
  readonly #extraBits: number[] = [];
  /** State of the scan in progress (candidates() is not re-entrant). */
  #rulesFound: number[] = [];
  #extraFound = 0;
  readonly #onKeyword = (id: number): void => {
    this.#extraFound |= this.#extraBits[id] ?? 0;
    for (const rule of this.#rulesOf[id]!) {
      if (this.#picked[rule] === this.#stamp) continue;
      this.#picked[rule] = this.#stamp;
      this.#rulesFound.push(rule);
    }
  };
  /** Results without rules, by extra bits (nothing to allocate for them). */
  readonly #extraOnly = new Map<number, Candidates>();
  readonly #global: CompiledAllowlist[];
  /** Per-rule stamp of the scan that picked it, so a rule is listed once per text. */
  readonly #picked: Uint32Array;
  #stamp = 0;

  constructor(rules: readonly SecretRule[], global: SecretAllowlist | null, options: RuleSetOptions = {}) {
    this.#global = [global, options.extraAllowlist].filter((a): a is SecretAllowlist => !!a).map(compileAllowlist);
    const keywordIds = new Map<string, number>();
    const idOf = (k: string) => {
      let id = keywordIds.get(k);
      if (id === undefined) {
        id = keywordIds.size;
        keywordIds.set(k, id);
        this.#rulesOf.push([]);
      }
      return id;
    };
    for (const r of rules) {
      if (r.path !== undefined || options.exclude?.has(r.id)) continue;
      const index = this.#rules.length;
      this.#rules.push({
        id: r.id,
        re: new RegExp(r.source, `${r.flags}gd`),
        secretGroup: r.secretGroup,
        entropy: r.entropy,
        allowlists: r.allowlists.map(compileAllowlist),
      });
      if (r.keywords.length === 0) this.#unconditional.push(index);
      for (const k of new Set(r.keywords)) this.#rulesOf[idOf(k)]!.push(index);
    }
    (options.extraKeywords ?? []).forEach((group, bit) => {
      for (const k of group) {
        const id = idOf(k.toLowerCase());
        this.#extraBits[id] = (this.#extraBits[id] ?? 0) | (1 << bit);
      }
    });
    this.#scanner = new KeywordScanner([...keywordIds.keys()]);
    this.#picked = new Uint32Array(this.#rules.length);
  }

  get size(): number {
    return this.#rules.length;
  }

  /** The rules whose keywords occur in `text`, and which extra groups do. */
  candidates(text: string): Candidates {
    this.#stamp = (this.#stamp + 1) >>> 0 || 1;
    this.#extraFound = 0;
    if (this.#rulesFound.length > 0) this.#rulesFound = [];
    const hits = this.#scanner.scan(text, this.#onKeyword);
    if (hits === 0 && this.#unconditional.length === 0) return NO_CANDIDATES;
    for (const rule of this.#unconditional) if (this.#picked[rule] !== this.#stamp) this.#rulesFound.push(rule);
    const extra = this.#extraFound;
    if (this.#rulesFound.length === 0) {
      let cached = this.#extraOnly.get(extra);
      if (!cached) this.#extraOnly.set(extra, (cached = Object.freeze({ rules: Object.freeze([]), extra })));
      return cached;
    }
    const rules = this.#rulesFound.sort((a, b) => a - b);
    this.#rulesFound = [];
    return { rules, extra };
  }

  /**
   * Secrets found by the given rules (from candidates()), in rule order. A long text is scanned in
   * overlapping windows: some rules look far ahead from every keyword (a curl command up to its
   * header), which on a hostile text full of keywords would cost its length squared.
   */
  find(text: string, candidates: readonly number[]): SecretFinding[] {
    if (text.length <= SCAN_WINDOW) return this.#findIn(text, 0, candidates);
    const findings: SecretFinding[] = [];
    for (let start = 0; ; start += SCAN_WINDOW - SCAN_OVERLAP) {
      findings.push(...this.#findIn(text.slice(start, start + SCAN_WINDOW), start, candidates));
      if (start + SCAN_WINDOW >= text.length) return findings;
    }
  }

  #findIn(text: string, offset: number, candidates: readonly number[]): SecretFinding[] {
    const findings: SecretFinding[] = [];
    for (const index of candidates) {
      const rule = this.#rules[index]!;
      const re = rule.re;
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const finding = this.#finding(rule, m, text);
        if (finding) findings.push({ ...finding, start: finding.start + offset, end: finding.end + offset });
      }
    }
    return findings;
  }

  #finding(rule: CompiledRule, m: RegExpExecArray, text: string): SecretFinding | null {
    const indices = m.indices!;
    let group = 0;
    if (m.length > 1) {
      if (rule.secretGroup > 0) group = rule.secretGroup;
      else {
        for (let g = 1; g < m.length; g++) {
          if (m[g]) {
            group = g;
            break;
          }
        }
      }
    }
    const span = indices[group];
    if (!span) return null;
    let [start, end] = span;
    // gitleaks trims line breaks around the match.
    while (start < end && text[start] === '\n') start++;
    while (end > start && text[end - 1] === '\n') end--;
    if (start === end) return null;
    const secret = text.slice(start, end);
    if (rule.entropy > 0 && shannonEntropy(secret) <= rule.entropy) return null;
    const match = m[0];
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    const lineEndAt = text.indexOf('\n', m.index + match.length);
    const line = text.slice(lineStart, lineEndAt < 0 ? text.length : lineEndAt);
    for (const a of this.#global) if (allowed(a, secret, match, line)) return null;
    for (const a of rule.allowlists) if (allowed(a, secret, match, line)) return null;
    return { start, end, ruleId: rule.id };
  }
}
