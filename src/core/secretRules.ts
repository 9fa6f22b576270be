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

const escapeRegex = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

interface TrieNode {
  end: boolean;
  next: Map<string, TrieNode>;
}

/** The keywords as one alternation shaped like a trie, longest alternative first at every node. */
function trieSource(words: readonly string[]): string {
  const root: TrieNode = { end: false, next: new Map() };
  for (const w of words) {
    let node = root;
    for (const ch of w) {
      let child = node.next.get(ch);
      if (!child) node.next.set(ch, (child = { end: false, next: new Map() }));
      node = child;
    }
    node.end = true;
  }
  const emit = (node: TrieNode): string => {
    const parts = [...node.next].map(([ch, child]) => escapeRegex(ch) + emit(child));
    if (parts.length === 0) return '';
    if (parts.length === 1 && !node.end) return parts[0]!;
    return `(?:${parts.join('|')}${node.end ? '|' : ''})`;
  };
  return emit(root);
}

export interface RuleSetOptions {
  /** Rule ids not to use (e.g. replaced by a project rule). */
  exclude?: ReadonlySet<string>;
  /** Project-wide allowlist, checked like the global one. */
  extraAllowlist?: SecretAllowlist;
}

export class SecretRuleSet {
  readonly #rules: CompiledRule[] = [];
  /** Rules run whatever the text (no keywords). */
  readonly #unconditional: number[] = [];
  /** Lower-case keyword -> rules to run when it occurs (including those of its prefixes). */
  readonly #byKeyword = new Map<string, number[]>();
  readonly #gate: RegExp | null;
  readonly #global: CompiledAllowlist[];

  constructor(rules: readonly SecretRule[], global: SecretAllowlist | null, options: RuleSetOptions = {}) {
    this.#global = [global, options.extraAllowlist].filter((a): a is SecretAllowlist => !!a).map(compileAllowlist);
    const keywordRules = new Map<string, number[]>();
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
      for (const k of r.keywords) {
        const list = keywordRules.get(k) ?? [];
        list.push(index);
        keywordRules.set(k, list);
      }
    }
    const keywords = [...keywordRules.keys()];
    for (const k of keywords) {
      const set = new Set<number>();
      for (const p of keywords) if (k.startsWith(p)) for (const i of keywordRules.get(p)!) set.add(i);
      this.#byKeyword.set(k, [...set].sort((a, b) => a - b));
    }
    this.#gate = keywords.length > 0 ? new RegExp(trieSource(keywords), 'gi') : null;
  }

  get size(): number {
    return this.#rules.length;
  }

  /** Indices of the rules whose keywords occur in `text`; empty when none can match. */
  candidates(text: string): number[] {
    const gate = this.#gate;
    if (gate === null) return this.#unconditional;
    gate.lastIndex = 0;
    let m = gate.exec(text);
    if (m === null) return this.#unconditional;
    const picked = new Set<number>(this.#unconditional);
    while (m !== null) {
      for (const i of this.#byKeyword.get(m[0].toLowerCase()) ?? []) picked.add(i);
      // Every start position: a keyword may begin inside another one.
      gate.lastIndex = m.index + 1;
      m = gate.exec(text);
    }
    return [...picked].sort((a, b) => a - b);
  }

  /** Secrets found by the given rules (from candidates()), in rule order. */
  find(text: string, candidates: readonly number[]): SecretFinding[] {
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
        if (finding) findings.push(finding);
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
