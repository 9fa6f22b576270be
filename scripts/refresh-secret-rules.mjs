#!/usr/bin/env node
// Converts gitleaks' default rule set (config/gitleaks.toml) into src/core/secretRules.generated.ts.
//
//   node scripts/refresh-secret-rules.mjs [path/to/gitleaks.toml] [--commit SHA]
//
// Default input: the vendored copy third_party/gitleaks/gitleaks.toml (its commit is read from
// third_party/gitleaks/COMMIT). To refresh: copy a newer config/gitleaks.toml and LICENSE from
// github.com/gitleaks/gitleaks over the vendored ones, write the commit into COMMIT, run this.
//
// Go RE2 syntax is translated to JavaScript: a leading (?i) becomes the i flag; case-insensitive or
// case-sensitive regions inside a pattern ((?i:…), (?-i:…), a mid-pattern (?i)) are expanded into
// explicit character classes; (?s:.) becomes [\s\S]; \z, \A, [[:alnum:]]-style classes and a
// leading ] in a class are rewritten. A rule using anything else is skipped and counted.
//
// One deliberate widening: most rules end a token with gitleaks' boundary (?:[\x60'"\s;]|\\[nr]|$)
// (a quote, a space, a semicolon, an escaped line break or the end). Incident chat is prose, where a
// token is also ended by sentence punctuation ("the key is …." ), so that boundary also accepts
// . , ! ? or ) followed by a space or the end.
//
// And one rewrite that changes no finding: the optional key-name prefix [\w.-]{0,50}? that keyword
// rules start with (sometimes twice, nested) only widens the match to the left of the keyword; the
// secret is a later group. It is dropped, because each one multiplies the work at every position
// of a hostile text (a long run of "sumo.sumo.…" took seconds with both).
//
// Plain Node ESM, node:* only. The TOML reader covers the shape of that file (tables, arrays of
// tables, strings, numbers, booleans, arrays) and fails loudly on anything else.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VENDOR_DIR = path.join(ROOT, 'third_party', 'gitleaks');
const OUT = path.join(ROOT, 'src', 'core', 'secretRules.generated.ts');

// ---------------------------------------------------------------------------------------------
// TOML (the subset gitleaks.toml uses)

export function parseToml(text) {
  const root = {};
  let table = root;
  let i = 0;
  let line = 1;
  const fail = (msg) => {
    throw new Error(`TOML line ${line}: ${msg}`);
  };
  const skipSpace = (newlines) => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\r') i++;
      else if (c === '\n' && newlines) (i++, line++);
      else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
      else return;
    }
  };
  const bareKey = () => {
    const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 200));
    if (!m) fail('expected a key');
    i += m[0].length;
    return m[0];
  };
  const dottedKey = () => {
    const parts = [bareKey()];
    while (text[i] === '.') (i++, parts.push(bareKey()));
    return parts;
  };
  const basicString = () => {
    i++; // "
    let s = '';
    for (;;) {
      const c = text[i++];
      if (c === undefined || c === '\n') fail('unterminated string');
      if (c === '"') return s;
      if (c !== '\\') {
        s += c;
        continue;
      }
      const e = text[i++];
      const simple = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' }[e];
      if (simple !== undefined) s += simple;
      else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        s += String.fromCodePoint(parseInt(text.slice(i, i + n), 16));
        i += n;
      } else fail(`unknown escape \\${e}`);
    }
  };
  const value = () => {
    if (text.startsWith("'''", i)) {
      const end = text.indexOf("'''", i + 3);
      if (end < 0) fail('unterminated literal string');
      let s = text.slice(i + 3, end);
      line += s.split('\n').length - 1;
      i = end + 3;
      if (s.startsWith('\n')) s = s.slice(1);
      return s;
    }
    if (text.startsWith('"""', i)) fail('multi-line basic strings are not supported');
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      const s = text.slice(i + 1, end);
      if (end < 0 || s.includes('\n')) fail('unterminated literal string');
      i = end + 1;
      return s;
    }
    if (c === '"') return basicString();
    if (c === '[') {
      i++;
      const out = [];
      for (;;) {
        skipSpace(true);
        if (text[i] === ']') return (i++, out);
        out.push(value());
        skipSpace(true);
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail('expected , or ] in array');
      }
    }
    const m = /^(?:true|false|[+-]?\d+(?:\.\d+)?)/.exec(text.slice(i, i + 40));
    if (!m) fail('unsupported value');
    i += m[0].length;
    return m[0] === 'true' ? true : m[0] === 'false' ? false : Number(m[0]);
  };
  const descend = (keys, arrayTable) => {
    let t = root;
    keys.forEach((k, n) => {
      const last = n === keys.length - 1;
      if (last && arrayTable) {
        t[k] ??= [];
        if (!Array.isArray(t[k])) fail(`${k} is not an array of tables`);
        const fresh = {};
        t[k].push(fresh);
        t = fresh;
        return;
      }
      t[k] ??= {};
      t = Array.isArray(t[k]) ? t[k][t[k].length - 1] : t[k];
    });
    return t;
  };
  for (;;) {
    skipSpace(true);
    if (i >= text.length) return root;
    if (text[i] === '[') {
      const arrayTable = text[i + 1] === '[';
      i += arrayTable ? 2 : 1;
      const keys = dottedKey();
      if (text.slice(i, i + (arrayTable ? 2 : 1)) !== (arrayTable ? ']]' : ']')) fail('unclosed table header');
      i += arrayTable ? 2 : 1;
      table = descend(keys, arrayTable);
      continue;
    }
    const key = bareKey();
    skipSpace(false);
    if (text[i] !== '=') fail(`expected = after ${key}`);
    i++;
    skipSpace(false);
    if (key in table) fail(`duplicate key ${key}`);
    table[key] = value();
    skipSpace(false);
    if (i < text.length && text[i] !== '\n') fail('expected end of line');
  }
}

// ---------------------------------------------------------------------------------------------
// Go RE2 -> JavaScript

class Unsupported extends Error {}

const POSIX = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-/:-@[-`{-~', space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};
const CLASS_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S']);
const isLetter = (c) => /^[A-Za-z]$/.test(c);
const swapCase = (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());

/** A character class item -> [lo, hi] code points, or a verbatim JS escape. */
function classItems(src, start) {
  let i = start;
  const items = [];
  let negated = false;
  if (src[i] === '^') (negated = true), i++;
  let first = true;
  const single = () => {
    const c = src[i];
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) throw new Unsupported('trailing backslash');
      if (CLASS_ESCAPES.has(e)) return (i += 2), { verbatim: `\\${e}` };
      if (e === 'x') {
        if (src[i + 2] === '{') {
          const end = src.indexOf('}', i);
          const cp = parseInt(src.slice(i + 3, end), 16);
          i = end + 1;
          return { cp };
        }
        const cp = parseInt(src.slice(i + 2, i + 4), 16);
        i += 4;
        return { cp };
      }
      const named = { n: 10, r: 13, t: 9, f: 12, v: 11, a: 7 }[e];
      if (named !== undefined) return (i += 2), { cp: named };
      if (/[A-Za-z0-9]/.test(e)) throw new Unsupported(`\\${e} in a class`);
      i += 2;
      return { cp: e.codePointAt(0) };
    }
    if (c === '[' && src[i + 1] === ':') {
      const end = src.indexOf(':]', i);
      const name = src.slice(i + 2, end);
      if (end < 0 || !(name in POSIX)) throw new Unsupported(`[:${name}:]`);
      i = end + 2;
      return { verbatim: POSIX[name] };
    }
    if (c === undefined) throw new Unsupported('unterminated class');
    i += 1;
    return { cp: c.codePointAt(0) };
  };
  for (;;) {
    if (src[i] === ']' && !first) return { items, negated, end: i + 1 };
    first = false;
    const a = single();
    if (a.cp !== undefined && src[i] === '-' && src[i + 1] !== ']') {
      i++;
      const b = single();
      if (b.cp === undefined) throw new Unsupported('range to a class escape');
      items.push({ lo: a.cp, hi: b.cp });
    } else if (a.cp !== undefined) items.push({ lo: a.cp, hi: a.cp });
    else items.push(a);
  }
}

function charInClass(cp) {
  const c = String.fromCodePoint(cp);
  if (/[\\\]\[^-]/.test(c)) return `\\${c}`;
  if (cp < 0x20 || cp > 0x7e) return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  return c;
}

function emitClass({ items, negated }, caseless) {
  const ranges = [];
  const verbatim = [];
  for (const it of items) {
    if (it.verbatim !== undefined) verbatim.push(it.verbatim);
    else ranges.push([it.lo, it.hi]);
  }
  if (caseless) {
    for (const [lo, hi] of ranges.slice()) {
      for (const [from, to, delta] of [[65, 90, 32], [97, 122, -32]]) {
        const a = Math.max(lo, from);
        const b = Math.min(hi, to);
        if (a <= b) ranges.push([a + delta, b + delta]);
      }
    }
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const merged = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([...r]);
  }
  const body = merged.map(([lo, hi]) => (lo === hi ? charInClass(lo) : `${charInClass(lo)}-${charInClass(hi)}`)).join('');
  return `[${negated ? '^' : ''}${body}${verbatim.join('')}]`;
}

/**
 * Translates one Go regex. Returns { source, flags }. In 'flag' mode a case-insensitive pattern is
 * emitted plainly with the i flag; in 'expand' mode every case-insensitive letter is spelled out.
 */
export function translateGoRegex(goSource) {
  let src = goSource;
  let leadingI = false;
  if (src.startsWith('(?i)')) (leadingI = true), (src = src.slice(4));
  const mixedCase = /\(\?-i|\(\?i[:)]/.test(src);
  const expand = mixedCase;
  const out = [];
  // Group frames: case-insensitivity and dot-all for the rest of the group.
  const frames = [{ ci: leadingI, dotAll: false }];
  const top = () => frames[frames.length - 1];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const ci = top().ci && expand;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) throw new Unsupported('trailing backslash');
      if (e === 'z') out.push('(?![\\s\\S])');
      else if (e === 'A') out.push('^');
      else if (e === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        const lit = src.slice(i + 2, end < 0 ? src.length : end);
        for (const ch of lit) out.push(ci && isLetter(ch) ? `[${ch}${swapCase(ch)}]` : ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'));
        i = end < 0 ? src.length : end + 2;
        continue;
      } else if (e === 'x' && src[i + 2] === '{') {
        const end = src.indexOf('}', i);
        const cp = parseInt(src.slice(i + 3, end), 16);
        if (!(cp <= 0xffff)) throw new Unsupported('\\x{…} beyond the BMP');
        out.push(`\\u${cp.toString(16).padStart(4, '0')}`);
        i = end + 1;
        continue;
      } else if (e === 'x') {
        out.push(src.slice(i, i + 4));
        i += 4;
        continue;
      } else if (/[pPCXRKGZEh]/.test(e) || /[0-9]/.test(e)) throw new Unsupported(`\\${e}`);
      else if (isLetter(e) && !/[bBdDwWsSnrtfva]/.test(e)) throw new Unsupported(`\\${e}`);
      else if (e === 'a') out.push('\\x07');
      else out.push(`\\${e}`);
      i += 2;
      continue;
    }
    if (c === '[') {
      const parsed = classItems(src, i + 1);
      out.push(emitClass(parsed, ci));
      i = parsed.end;
      continue;
    }
    if (c === '(') {
      if (src[i + 1] !== '?') {
        frames.push({ ...top() });
        out.push('(');
        i++;
        continue;
      }
      const m = /^\(\?(?:P?<([A-Za-z_]\w*)>|([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)]))/.exec(src.slice(i));
      if (!m) throw new Unsupported(`group syntax at ${src.slice(i, i + 6)}`);
      if (m[1] !== undefined) {
        frames.push({ ...top() });
        out.push(`(?<${m[1]}>`);
        i += m[0].length;
        continue;
      }
      const on = m[2] ?? '';
      const off = m[3] ?? '';
      if (/[^is]/.test(on + off)) throw new Unsupported(`flags (?${on}-${off})`);
      const apply = (f) => {
        if (on.includes('i')) f.ci = true;
        if (off.includes('i')) f.ci = false;
        if (on.includes('s')) f.dotAll = true;
        if (off.includes('s')) f.dotAll = false;
      };
      if (m[4] === ')') {
        // (?i) mid-pattern: for the rest of the current group.
        if (!expand && on.includes('i')) throw new Unsupported('mid-pattern (?i)');
        apply(top());
      } else {
        const f = { ...top() };
        apply(f);
        frames.push(f);
        out.push('(?:');
      }
      i += m[0].length;
      continue;
    }
    if (c === ')') {
      if (frames.length === 1) throw new Unsupported('unbalanced )');
      frames.pop();
      out.push(')');
      i++;
      continue;
    }
    if (c === '.') {
      out.push(top().dotAll ? '[\\s\\S]' : '[^\\n]');
      i++;
      continue;
    }
    if (c === '{') {
      // A repetition, or a literal brace (both languages read a non-quantifier brace literally,
      // but JS only outside the u flag; keep it escaped so the pattern means the same either way).
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (m) {
        if (Number(m[1]) > 1000 || Number(m[3] || 0) > 1000) throw new Unsupported('repetition over 1000');
        out.push(m[0]);
        i += m[0].length;
        continue;
      }
      out.push('\\{');
      i++;
      continue;
    }
    if (c === '}') {
      out.push('\\}');
      i++;
      continue;
    }
    if (c === '/') {
      out.push('\\/');
      i++;
      continue;
    }
    if (ci && isLetter(c)) out.push(`[${c}${swapCase(c)}]`);
    else out.push(c);
    i++;
  }
  if (frames.length !== 1) throw new Unsupported('unbalanced (');
  const source = out.join('');
  const flags = leadingI && !expand ? 'i' : '';
  try {
    new RegExp(source, flags);
  } catch (err) {
    throw new Unsupported(`not a valid JS regex: ${err.message}`);
  }
  return { source, flags };
}

// ---------------------------------------------------------------------------------------------
// Conversion

function convertAllowlist(a, where, notes) {
  const target = a.regexTarget ?? 'secret';
  const condition = (a.condition ?? 'OR').toUpperCase();
  const hasPaths = Array.isArray(a.paths) && a.paths.length > 0;
  const hasCommits = Array.isArray(a.commits) && a.commits.length > 0;
  // We scan text that has no file path or commit: an AND allowlist that needs one never applies,
  // and an OR allowlist keeps only its regex and stop-word parts.
  if (condition === 'AND' && (hasPaths || hasCommits)) return null;
  const regexes = [];
  for (const r of a.regexes ?? []) {
    try {
      regexes.push(translateGoRegex(r));
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
      notes.push(`${where}: allowlist regex dropped (${err.message})`);
    }
  }
  const stopwords = (a.stopwords ?? []).map((s) => s.toLowerCase());
  if (regexes.length === 0 && stopwords.length === 0) return null;
  return { target, condition, regexes, stopwords };
}

const GITLEAKS_BOUNDARY = String.raw`(?:[\x60'"\s;]|\\[nr]|$)`;
const PROSE_BOUNDARY = String.raw`(?:[\x60'"\s;]|\\[nr]|$|[.,!?)](?:\s|$))`;

const KEY_PREFIX = String.raw`[\w.-]{0,50}?`;

/** Drops the leading key-name prefix(es), also just inside a leading (?i) or (?i: group. */
export function dropKeyPrefix(goSource) {
  let src = goSource;
  for (;;) {
    const lead = /^(?:\(\?i\)|\(\?i:)*/.exec(src)[0];
    if (!src.startsWith(KEY_PREFIX, lead.length)) return src;
    src = lead + src.slice(lead.length + KEY_PREFIX.length);
  }
}

export function convert(config) {
  let widened = 0;
  let unprefixed = 0;
  const rules = [];
  const skipped = [];
  const notes = [];
  const global = config.allowlist ? convertAllowlist(config.allowlist, 'global', notes) : null;
  for (const r of config.rules ?? []) {
    const known = new Set(['id', 'description', 'regex', 'secretGroup', 'entropy', 'keywords', 'path', 'allowlists', 'tags']);
    for (const k of Object.keys(r)) if (!known.has(k)) notes.push(`${r.id}: unknown field ${k} ignored`);
    if (r.regex === undefined) {
      skipped.push({ id: r.id, reason: 'path-only rule (matches file names, not text)' });
      continue;
    }
    let regex;
    try {
      const bounded = r.regex.split(GITLEAKS_BOUNDARY).join(PROSE_BOUNDARY);
      if (bounded !== r.regex) widened++;
      const source = dropKeyPrefix(bounded);
      if (source !== bounded) unprefixed++;
      regex = translateGoRegex(source);
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
      skipped.push({ id: r.id, reason: err.message });
      continue;
    }
    const allowlists = [];
    for (const a of r.allowlists ?? []) {
      const c = convertAllowlist(a, r.id, notes);
      if (c) allowlists.push(c);
    }
    rules.push({
      id: r.id,
      description: r.description ?? '',
      source: regex.source,
      flags: regex.flags,
      secretGroup: r.secretGroup ?? 0,
      keywords: (r.keywords ?? []).map((k) => k.toLowerCase()),
      entropy: r.entropy ?? 0,
      ...(r.path !== undefined ? { path: r.path } : {}),
      allowlists,
    });
  }
  return { rules, skipped, notes, global, widened, unprefixed };
}

function render({ rules, global }, { commit, license }) {
  const q = (v) => JSON.stringify(v);
  const regexes = (list) => `[${list.map((r) => `{ source: ${q(r.source)}, flags: ${q(r.flags)} }`).join(', ')}]`;
  const allowlist = (a) =>
    `{ target: ${q(a.target)}, condition: ${q(a.condition)}, regexes: ${regexes(a.regexes)}, stopwords: ${q(a.stopwords)} }`;
  const lines = [
    '// GENERATED by scripts/refresh-secret-rules.mjs from third_party/gitleaks/gitleaks.toml — do not edit.',
    `// Source: https://github.com/gitleaks/gitleaks/blob/${commit}/config/gitleaks.toml`,
    '// The rules are the work of the gitleaks authors, used under the MIT licence:',
    '//',
    ...license.trim().split('\n').map((l) => `//   ${l}`.trimEnd()),
    '',
    "import type { SecretAllowlist, SecretRule } from './secretRules.js';",
    '',
    `export const GITLEAKS_COMMIT = ${q(commit)};`,
    '',
    `export const GITLEAKS_GLOBAL_ALLOWLIST: SecretAllowlist | null = ${global ? allowlist(global) : 'null'};`,
    '',
    'export const GITLEAKS_RULES: readonly SecretRule[] = [',
  ];
  for (const r of rules) {
    lines.push('  {');
    lines.push(`    id: ${q(r.id)},`);
    lines.push(`    description: ${q(r.description)},`);
    lines.push(`    source: ${q(r.source)},`);
    lines.push(`    flags: ${q(r.flags)},`);
    lines.push(`    secretGroup: ${r.secretGroup},`);
    lines.push(`    keywords: ${q(r.keywords)},`);
    lines.push(`    entropy: ${r.entropy},`);
    if (r.path !== undefined) lines.push(`    path: ${q(r.path)},`);
    lines.push(`    allowlists: [${r.allowlists.map(allowlist).join(', ')}],`);
    lines.push('  },');
  }
  lines.push('];', '');
  return lines.join('\n');
}

function main(argv) {
  let input = path.join(VENDOR_DIR, 'gitleaks.toml');
  let commit;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--commit') commit = argv[++i];
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node scripts/refresh-secret-rules.mjs [gitleaks.toml] [--commit SHA]');
      return 0;
    } else input = path.resolve(argv[i]);
  }
  commit ??= fs.readFileSync(path.join(VENDOR_DIR, 'COMMIT'), 'utf8').trim();
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`--commit must be a 40-hex commit id, got "${commit}"`);
  const license = fs.readFileSync(path.join(VENDOR_DIR, 'LICENSE'), 'utf8');
  const converted = convert(parseToml(fs.readFileSync(input, 'utf8')));
  fs.writeFileSync(OUT, render(converted, { commit, license }));
  const total = converted.rules.length + converted.skipped.length;
  const pct = ((100 * converted.rules.length) / total).toFixed(1);
  console.log(`${path.relative(ROOT, OUT)}: ${converted.rules.length} of ${total} rules converted (${pct}%), ${converted.skipped.length} skipped`);
  console.log(`  ${converted.widened} rules' token boundary also accepts sentence punctuation`);
  console.log(`  ${converted.unprefixed} rules' optional key-name prefix dropped`);
  for (const s of converted.skipped) console.log(`  skipped ${s.id}: ${s.reason}`);
  for (const n of converted.notes) console.log(`  note: ${n}`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`refresh-secret-rules: ${err.message}\n`);
    process.exitCode = 2;
  }
}
