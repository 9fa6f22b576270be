// Everything inside an incident bundle is untrusted: chat, commit messages, logs and alert bodies may
// carry credentials and people's identities. Every output of the product passes through this module.
// Secrets become the literal `[REDACTED]` (the key name around them is kept so the text stays
// readable); people become the role label the caller registered for them.
//
// Pure: no I/O, no dependencies. All regexes are built once (module load / constructor), and strings
// that cannot contain anything are rejected by a few cheap pre-tests. Every pattern is linear-time
// on hostile input (bounded repetitions, no nested ambiguity).
//
// Kinds: key=value assignments count as 'api_key' when the key names an API key, 'aws_secret_key'
// for a 40-character AWS-style secret, 'bearer_token' when an HTTP auth scheme (Bearer, Basic, …)
// precedes the value, 'high_entropy_value' for a random-looking value under a key name that only
// says "key" (AccountKey, DD_APP_KEY), else 'secret_assignment'. Stripe/Google keys are 'api_key';
// Slack webhook URLs are 'slack_token'. After these project rules, gitleaks' default rules
// (secretRules.ts) catch the provider tokens they do not know; those count under the rule id
// (e.g. 'sendgrid-api-token').

import { SecretRuleSet, shannonEntropy } from './secretRules.js';
import { GITLEAKS_GLOBAL_ALLOWLIST, GITLEAKS_RULES } from './secretRules.generated.js';

export type RedactionKind = BuiltinRedactionKind | (string & {});

type BuiltinRedactionKind =
  | 'aws_access_key'
  | 'aws_secret_key'
  | 'github_token'
  | 'slack_token'
  | 'bearer_token'
  | 'jwt'
  | 'private_key'
  | 'url_password'
  | 'secret_assignment'
  | 'api_key'
  | 'high_entropy_value'
  | 'email'
  | 'phone'
  | 'person';

export interface PersonAlias {
  alias: string;
  replacement: string;
}

const REDACTED = '[REDACTED]';
const UNKNOWN_MENTION = 'a responder';
const MIN_ALIAS_LENGTH = 3;

// ---------------------------------------------------------------------------------------------
// Secrets

/**
 * Cheap pre-tests, looked for in the same single scan as the keywords of the provider rules (see
 * PROVIDER_RULES), one table step per character, case-insensitive, any digit for a digit. A string
 * containing no secret hint cannot hold anything the project's own secret rules below replace; one
 * with no contact hint, no e-mail address or phone number. People have their own (#aliasGate).
 */
const SECRET_HINTS = [
  '-----begin', '://', 'akia', 'asia', 'aiza', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'ya29.',
  'pin=', 'pin:', 'session=', 'session:', 'sid=',
  '_live_', '_test_', 'whsec_', 'xox', 'xapp-', 'eyj', 'hooks.slack',
  'pass', 'pwd', 'secret', 'token', 'key', 'cred', 'auth', 'sig', 'cookie', 'bearer', 'basic', 'login',
];
/** '@', '+' and a digit, and the digit groups of CONTACT_HINT's North-American numbers. */
const CONTACT_HINTS = ['@', '+0', ...[' ', '.', ')', '-'].flatMap((a) => [' ', '.', '-'].map((b) => `${a}000${b}0000`))];
const SECRET_HINT_BIT = 1;
const CONTACT_HINT_BIT = 2;

// PEM private keys (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP … BLOCK).
const PEM_BEGIN = String.raw`-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`;
const PEM_END = String.raw`-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`;
/** A real line break, or a JSON-escaped one (`\n` as two characters, as in service-account files). */
const NL = String.raw`(?:\r?\n|(?:\\r)?\\n)`;
/** The body may not contain "-----", so each BEGIN scans at most to the next marker (linear time). */
const PEM_FULL_RE = new RegExp(String.raw`${PEM_BEGIN}(?:(?!-----)[\s\S])*${PEM_END}`, 'g');
const B64 = '[A-Za-z0-9+/=]';
/** A base64 chunk: long, or short but not a plain word (has a digit, + / =, or inner capitals). */
const B64_CHUNK = String.raw`(?:${B64}{16,}|(?=${B64}*(?:[0-9+/=]|[a-z][A-Z]))${B64}{1,15})`;
/** End of a line: a line break, the end of the text, the closing quote of a JSON string, or the … of a cut. */
const LINE_END = String.raw`(?=[ \t]*(?:${NL}|$|["'\x60…]))`;
/** A short, cut-off last line counts only when nothing but a fence, a quote or the end follows. */
const CUT_OFF_END = String.raw`(?=[ \t]*(?:$|["'\x60…]|${NL}[ \t]*(?:\x60\x60\x60|$)))`;
/**
 * A BEGIN line with no END (chat messages get cut off): the BEGIN line, optional `Proc-Type:` /
 * `DEK-Info:` headers, then the base64 body — whole lines of base64 (or space-separated chunks when
 * pasted on one line), plus a cut-off last line — up to the first thing that is not base64 (a
 * closing ``` fence, prose, a blank line) or the end of the text.
 */
const PEM_TRUNCATED_RE = new RegExp(
  PEM_BEGIN +
    String.raw`(?:(?:[ \t]*${NL}[ \t]*[A-Za-z][A-Za-z-]*:[^\r\n\\]*)+(?:[ \t]*${NL})?)?` +
    String.raw`(?:[ \t]+${B64_CHUNK}(?:${LINE_END}|(?=[ \t]+${B64})))*` +
    String.raw`(?:[ \t]+${B64}+${CUT_OFF_END})?` +
    String.raw`(?:[ \t]*${NL}[ \t]*${B64_CHUNK}${LINE_END})*` +
    String.raw`(?:[ \t]*${NL}[ \t]*${B64}+${CUT_OFF_END})?`,
  'g',
);

const SLACK_WEBHOOK_RE = /(https?:\/\/hooks\.slack(?:-gov)?\.com\/(?:services|workflows|triggers)\/)[A-Za-z0-9/_-]+/g;
/** scheme://user:password@host — only the password goes. */
const URL_PASSWORD_RE = /([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:@/?#[\]]*:)([^\s@/?#]+)(?=@)/gi;

/** Self-identifying tokens; the group that matched names the kind. */
const TOKEN_KINDS: readonly RedactionKind[] = ['aws_access_key', 'github_token', 'slack_token', 'api_key', 'jwt'];
const TOKEN_RE = new RegExp(
  [
    String.raw`(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16,24}(?![A-Za-z0-9])`,
    String.raw`(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{16,255}|github_pat_[A-Za-z0-9_]{20,255})`,
    String.raw`(?<![A-Za-z0-9])(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{8,}`,
    String.raw`(?<![A-Za-z0-9])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|[a-z]{2,8}_(?:live|prod)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{16,}|AIza[0-9A-Za-z_-]{30,}|ya29\.[0-9A-Za-z_.-]{12,})`,
    String.raw`(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`,
  ]
    .map((p) => `(${p})`)
    .join('|'),
  'g',
);

/**
 * key=value, key: value, "key": "value", key = 'value' where the key name looks secret. The key
 * candidates are found loosely here and judged by isSecretKey(); an HTTP auth scheme in front of
 * the value (`Authorization: Bearer …`) is kept. An already redacted value is matched whole, so
 * the scheme word is never taken for the value on a second pass. Key lengths are bounded to keep
 * the scan linear. Groups: 1 key, 2 operator, 3 quote, 4/5 scheme and value when quoted, 6/7 bare.
 */
const KEY_HINT = String.raw`pass|pwd|secret|token|key|sig|credential|creds|auth|cookie|pin|session|sid|bearer`;
const ASSIGN_HINT = new RegExp(KEY_HINT, 'i');
const AUTH_SCHEME = String.raw`(?:(?:bearer|basic|token|digest|negotiate)[ \t]+)?`;
const ASSIGN_RE = new RegExp(
  String.raw`(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]{0,64}?(?:${KEY_HINT})[A-Za-z0-9_.-]{0,64})` +
    String.raw`(["']?[ \t]*(?::|=(?![=>~]))[ \t]*)` +
    String.raw`(?:(["'\x60])(${AUTH_SCHEME})((?:\\.|(?!\3)[^\\\r\n])+)\3|(${AUTH_SCHEME})(\[REDACTED\][^\s"'\x60,;&<>(){}[\]]*|\$\{[^}\s]*\}?|[^\s"'\x60,;&<>(){}[\]]+))`,
  'gi',
);

/** A bare `Bearer <token>` / `Basic <credentials>` outside any key: value. */
const BEARER_HINT = /bearer|basic/i;
const BEARER_RE = /\b(bearer|basic)([ \t]+)([A-Za-z0-9._~+/-]+=*)/gi;

/** Words in a key that make its value a secret, matched against the key with separators removed. */
const SECRET_KEY_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'apikey',
  'accesskey',
  'privatekey',
  'credential',
  'signature',
  'cookie',
];
/** Whole key segments (split on _ - . and camelCase) that mark a secret. */
const SECRET_KEY_SEGMENTS = new Set(['pwd', 'pass', 'auth', 'authorization', 'creds', 'token', 'bearer', 'pin', 'passcode']);
/** A last segment that says the value is metadata about a secret, not the secret itself. */
const METADATA_SUFFIXES = new Set([
  'count', 'counts', 'limit', 'limits', 'ttl', 'expiry', 'expires', 'expiration', 'exp', 'at', 'ms',
  'sec', 'secs', 'seconds', 'len', 'length', 'size', 'type', 'types', 'kind', 'name', 'names', 'path',
  'file', 'dir', 'url', 'uri', 'endpoint', 'host', 'enabled', 'disabled', 'required', 'mode', 'method',
  'methods', 'provider', 'version', 'errors', 'error', 'failures', 'failed', 'retries', 'rate',
  'latency', 'header', 'status', 'scope', 'scopes', 'policy', 'rotation', 'rotated', 'store',
  'manager', 'arn', 'ref', 'used', 'remaining', 'total', 'usage', 'budget', 'format', 'issuer',
  'audience', 'algorithm', 'alg',
]);

function keySegments(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((s) => s.length > 0);
}

function isSecretKey(key: string): boolean {
  const segments = keySegments(key);
  if (segments.length === 0) return false;
  const last = segments[segments.length - 1]!;
  if (segments.length > 1 && METADATA_SUFFIXES.has(last)) return false;
  const joined = segments.join('');
  if (SECRET_KEY_PARTS.some((part) => joined.includes(part))) return true;
  // "token", "authtoken", "accessToken" yes; "tokens", "max_tokens" (a count in prose/config) no.
  return segments.some((s) => SECRET_KEY_SEGMENTS.has(s) || s.endsWith('token'));
}

/** Values that are already redacted, templated or obviously not a credential. */
const PLACEHOLDER_RE =
  /^(?:\[REDACTED\].*|\*+|x{3,}|\.{3}|…|null|none|nil|undefined|true|false|yes|no|n\/a|redacted|\d{1,3}|<[^>]*>|\$\{[^}]*\}?|\$\([^)]*\)?|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*|%[A-Za-z_]+%)$/i;

const AWS_SECRET_VALUE_RE = /^[A-Za-z0-9/+=]{40}$/;

/**
 * A bare AWS secret access key pasted with its key id ("AKIA… / wJalr…"): in a text that holds a
 * key id, 40 characters of base64 with both letter cases (never a lower-case hex commit id).
 */
const AWS_KEY_ID_RE = /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/;
const AWS_BARE_SECRET_RE =
  /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

/**
 * The contextual rule for key names that only say "key" or "sig" (AccountKey, DD_APP_KEY, sig=…
 * in a SAS URL): the value goes when it looks random, never when it is an identifier the analysis
 * needs (a UUID, a time, a path) or the key is a kind of database/cache/routing key.
 */
const CONTEXT_KEY_LAST = new Set(['key', 'sig', 'session', 'sid', 'sessionid']);
const NON_SECRET_KEY_QUALIFIERS = new Set([
  'public', 'pub', 'primary', 'foreign', 'partition', 'sort', 'cache', 'idempotency', 'routing', 'dedup',
  'dedupe', 'dedupl', 'object', 'bucket', 'hot', 'idx', 'index', 'natural', 'schema', 'sequence', 'lookup',
  'map', 'hash', 'shard', 'row', 'group', 'message', 'msg', 'trace', 'join', 'composite', 'surrogate',
  'unique', 'dictionary', 'dict', 'hotkey', 'short', 'keyboard', 'license', 'product', 'translation', 'i18n',
]);
const CONTEXT_VALUE_RE = /^[A-Za-z0-9+/=_~.%-]{16,}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_START_RE = /^\d{4}-\d{2}-\d{2}/;
const PATH_LIKE_RE = /^\/|\/.*\.[A-Za-z]{1,5}$/;
/** Metric, host and module names: lower-case words joined by dots. */
const DOTTED_NAME_RE = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$/;
const MIN_CONTEXT_ENTROPY = 3.2;

function isContextKey(key: string): boolean {
  const segments = keySegments(key);
  const last = segments[segments.length - 1];
  if (last === undefined || !CONTEXT_KEY_LAST.has(last)) return false;
  return !segments.slice(0, -1).some((s) => NON_SECRET_KEY_QUALIFIERS.has(s));
}

const PROSE_CREDENTIAL_HINT = /token|secret|passw|passphrase|passcode|api.?key|credential|creds|login|access.?key|private.?key|\[REDACTED\]/i;
// A value right after a redaction is often the rest of the same secret (`secret "$9$…"`).
const PROSE_CREDENTIAL_WORD = /\b(?:tokens?|secrets?|passwords?|passwd|passphrase|passcode|api[ _-]?keys?|credentials?|creds|logins?|access[ _-]?keys?|private[ _-]?keys?)\b|\[REDACTED\]/gi;
/** Passwords people type: 12+ characters mixing at least three of lower, upper, digit and symbol. */
const TYPED_PASSWORD = /(?<![^\s"'`(=:/])(?=[^\s"'`()]*[a-z])(?=[^\s"'`()]*[A-Z])(?=[^\s"'`()]*\d)(?=[^\s"'`()]*[!#$%&*+?@^~])[^\s"'`()]{12,64}(?![^\s"'`),.;])/g;
const PROSE_TOKEN = /(?<![A-Za-z0-9+/=_~.%$-])[A-Za-z0-9+/=_~.%$-]{16,}/g;

/** `session_cache_v2_20240512`, `checkout-api-7d9f`: names made of words and numbers, not secrets. */
function wordsOnly(value: string): boolean {
  // commit SHAs (full or short) are evidence, never credentials in prose
  if (/^[0-9a-f]{40}$|^[0-9a-f]{7,12}$/.test(value)) return true;
  const parts = value.split(/[_.:/-]+/).filter(Boolean);
  const words = parts.filter((part) => /^[a-z]{2,}$|^[A-Z][a-z]+$|^\d+$|^v\d+$/.test(part));
  // a host or pod name keeps one short generated suffix: checkout-api-7d9f
  const others = parts.filter((p) => !words.includes(p));
  return others.length === 0 || (words.length >= 2 && others.length === 1 && others[0]!.length <= 6);
}

function looksRandom(value: string): boolean {
  return (
    CONTEXT_VALUE_RE.test(value) &&
    /\d/.test(value) &&
    /[A-Za-z]/.test(value) &&
    !UUID_RE.test(value) &&
    !DATE_START_RE.test(value) &&
    !PATH_LIKE_RE.test(value) &&
    !DOTTED_NAME_RE.test(value) &&
    shannonEntropy(value) >= MIN_CONTEXT_ENTROPY
  );
}

/**
 * gitleaks' default rules, after the project's own rules above. Its generic-api-key rule is left
 * out: the key=value rule here (with its metadata and placeholder exceptions) plays that part.
 */
const PROVIDER_RULES = new SecretRuleSet(GITLEAKS_RULES, GITLEAKS_GLOBAL_ALLOWLIST, {
  exclude: new Set(['generic-api-key']),
  extraKeywords: [SECRET_HINTS, CONTACT_HINTS],
  extraAllowlist: { target: 'secret', condition: 'OR', regexes: [{ source: 'REDACTED', flags: '' }], stopwords: [] },
});

function assignmentKind(key: string, value: string, scheme: string): RedactionKind {
  if (scheme) return 'bearer_token';
  const joined = keySegments(key).join('');
  if (AWS_SECRET_VALUE_RE.test(value) && (joined.includes('secret') || joined.includes('accesskey'))) {
    return 'aws_secret_key';
  }
  if (joined.includes('apikey')) return 'api_key';
  return 'secret_assignment';
}

/** Outside `Authorization:`, "Bearer"/"Basic" is often prose ("bearer token", "basic auth"). */
function looksLikeCredential(token: string): boolean {
  if (token.length < 8) return false;
  return /\d/.test(token) || /[a-z][A-Z]/.test(token) || /[+/=]/.test(token);
}

// ---------------------------------------------------------------------------------------------
// People and contact details

const EMAIL = String.raw`(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])`;
const MENTION = String.raw`<@[UW][A-Z0-9]{2,20}(?:\|[^>\r\n]{0,80})?>`;
/** +country code, 8–15 digits with at most two separators between digits. */
const PHONE_INTL = String.raw`(?<![A-Za-z0-9_+])\+\d(?:[ .()-]{0,2}\d){7,14}(?!\d)`;
/** North-American style: (415) 555-0100, 415-555-0100, 415.555.0100. */
const PHONE_NANP = String.raw`(?<![A-Za-z0-9_+./:-])(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![A-Za-z0-9_]|[./:-]\d)`;
/** Cheap pre-test for the contact patterns above. */
const CONTACT_HINT = /@|\+\d|[ .)-]\d{3}[ .-]\d{4}/;
const DATE_LIKE_RE = /\d{4}[-/.]\d{2}[-/.]\d{2}/;
const MENTION_PARTS_RE = /^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$/i;

const CONTACT_RE = new RegExp(`(?<email>${EMAIL})|(?<mention>${MENTION})|(?<phone>${PHONE_INTL}|${PHONE_NANP})`, 'g');

const WORD_CHAR_RE = /[\p{L}\p{M}\p{N}_]/u;
const WORD_RUN_RE = /[\p{L}\p{M}\p{N}_]+/u;
const WORD_RUNS_RE = /[\p{L}\p{M}\p{N}_]+/gu;
const ASCII_WORD_RE = /^[A-Za-z0-9_]$/;
const NOT_AFTER_WORD = String.raw`(?<![\p{L}\p{M}\p{N}_])`;
const NOT_BEFORE_WORD = String.raw`(?![\p{L}\p{M}\p{N}_])`;
const APOSTROPHES = String.raw`['\u2019\u02BC]`;

function normalizeAlias(s: string): string {
  return s.trim().replace(/[\u2019\u02BC]/g, "'").replace(/\s+/g, ' ').toLowerCase();
}

/** Case folding for index keys, close to what a /iu regex considers equal (ς/σ, ſ/s, K/k, ẞ/ß). */
function fold(s: string): string {
  return s.toUpperCase().toLowerCase().replace(/ß/g, 'ss');
}

/** Regex source for one alias: escaped, any apostrophe form, flexible spaces, Unicode word bounds. */
function aliasPattern(alias: string): string {
  let body = '';
  for (const ch of alias) {
    if (/\s/.test(ch)) body += body.endsWith(String.raw`\s+`) ? '' : String.raw`\s+`;
    else if (ch === "'" || ch === '\u2019' || ch === '\u02BC') body += APOSTROPHES;
    else if (/[\\^$.*+?()[\]{}|/]/.test(ch)) body += '\\' + ch;
    else body += ch;
  }
  const chars = [...alias];
  const startsWord = WORD_CHAR_RE.test(chars[0] ?? '');
  const endsWord = WORD_CHAR_RE.test(chars[chars.length - 1] ?? '');
  return (startsWord ? NOT_AFTER_WORD : '') + body + (endsWord ? NOT_BEFORE_WORD : '');
}

interface AliasMatcher {
  /** Sticky, case-insensitive, Unicode: tried only where the alias can start. */
  re: RegExp;
  /** UTF-16 length of the non-word characters before the alias's first word (e.g. "<@"). */
  prefixLength: number;
  replacement: string;
}

/**
 * Pre-test for the aliases: the first run of word characters of each alias, case-insensitive,
 * with ASCII word boundaries (implied by the real Unicode ones, so it never misses a match).
 */
function aliasGate(aliases: readonly PersonAlias[]): RegExp | null {
  if (aliases.length === 0) return null;
  const bounded = new Map<string, string>();
  const loose = new Map<string, string>();
  for (const { alias } of aliases) {
    const run = WORD_RUN_RE.exec(alias)?.[0];
    if (run === undefined) return /[^]/; // no word characters at all: always run the full pass
    const chars = [...run];
    // \b is ASCII-only: use it only where the run has ASCII word characters at both ends.
    const ascii = ASCII_WORD_RE.test(chars[0] ?? '') && ASCII_WORD_RE.test(chars[chars.length - 1] ?? '');
    (ascii ? bounded : loose).set(run.toLowerCase(), run);
  }
  const alternatives: string[] = [];
  if (bounded.size > 0) alternatives.push(String.raw`\b(?:${[...bounded.values()].join('|')})\b`);
  alternatives.push(...loose.values());
  // Not 'u' (much slower here). The few letters that fold differently under 'u' (long s, Kelvin
  // sign, capital sharp s, final sigma and other Greek variants) are let through to the full pass.
  alternatives.push('[\u017F\u212A\u1E9E\u03C2\u03D0\u03D1\u03D5\u03D6\u03F0\u03F1\u03F5\u1E9B\u1FBE]');
  return new RegExp(alternatives.join('|'), 'i');
}

interface Span {
  start: number;
  end: number;
  replacement: string;
  kind: RedactionKind;
}

// ---------------------------------------------------------------------------------------------

let makeSecretsOnly: () => Redactor;

export class Redactor {
  readonly #counts = new Map<RedactionKind, number>();
  /** Normalised alias → replacement (for e-mails and Slack mentions). */
  readonly #aliasMap = new Map<string, string>();
  /** Folded first word of an alias → its matchers, longest alias first. */
  readonly #aliasIndex = new Map<string, AliasMatcher[]>();
  /** Aliases without any word character, scanned for everywhere. */
  readonly #wordlessAliases: Array<{ re: RegExp; replacement: string }> = [];
  readonly #aliasGate: RegExp | null;
  #people = true;

  static {
    makeSecretsOnly = () => {
      const r = new Redactor();
      r.#people = false;
      return r;
    };
  }

  constructor(people: PersonAlias[] = []) {
    const seen = new Set<string>();
    const aliases: PersonAlias[] = [];
    for (const p of people) {
      if (!p || typeof p.alias !== 'string' || typeof p.replacement !== 'string') continue;
      const alias = p.alias.trim();
      const key = normalizeAlias(alias);
      if ([...alias].length < MIN_ALIAS_LENGTH || key === 'redacted' || seen.has(key)) continue;
      seen.add(key);
      aliases.push({ alias, replacement: p.replacement });
      this.#aliasMap.set(key, p.replacement);
    }
    // Longest first, so "Jane Doe" wins over "Jane" at the same position.
    aliases.sort((a, b) => [...b.alias].length - [...a.alias].length);
    for (const { alias, replacement } of aliases) {
      const run = WORD_RUNS_RE.exec(alias);
      WORD_RUNS_RE.lastIndex = 0;
      if (!run) {
        this.#wordlessAliases.push({ re: new RegExp(aliasPattern(alias), 'giu'), replacement });
        continue;
      }
      const key = fold(run[0]);
      const list = this.#aliasIndex.get(key) ?? [];
      list.push({ re: new RegExp(aliasPattern(alias), 'iuy'), prefixLength: run.index, replacement });
      this.#aliasIndex.set(key, list);
    }
    this.#aliasGate = aliasGate(aliases);
  }

  /** Redacts secrets, contact details and people in one string, counting every replacement. */
  redact(text: string): string {
    if (typeof text !== 'string' || text.length === 0) return text;
    const found = PROVIDER_RULES.candidates(text);
    const maybeSecret = (found.extra & SECRET_HINT_BIT) !== 0 || found.rules.length > 0;
    const maybeContact = (found.extra & CONTACT_HINT_BIT) !== 0;
    const maybePerson = this.#aliasGate !== null && this.#aliasGate.test(text);
    if (!maybeSecret && !maybeContact && !maybePerson) return text;
    let out = text;
    if ((found.extra & SECRET_HINT_BIT) !== 0) out = this.#redactSecrets(out);
    if (found.rules.length > 0) out = this.#redactProviderTokens(out, found.rules);
    if (maybePerson || (maybeContact && CONTACT_HINT.test(out))) out = this.#redactPeople(out, maybePerson);
    return out;
  }

  /** A deep copy of `value` with every string value (not object keys) redacted. */
  redactDeep<T>(value: T): T {
    return this.#deep(value, new WeakMap()) as T;
  }

  /** Cumulative counts by kind. */
  counts(): Partial<Record<RedactionKind, number>> {
    return Object.fromEntries(this.#counts) as Partial<Record<RedactionKind, number>>;
  }

  total(): number {
    let n = 0;
    for (const c of this.#counts.values()) n += c;
    return n;
  }

  #count(kind: RedactionKind): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
  }

  #redactSecrets(input: string): string {
    let text = input;
    if (text.includes('-----BEGIN')) {
      text = text.replace(PEM_FULL_RE, () => (this.#count('private_key'), REDACTED));
      text = text.replace(PEM_TRUNCATED_RE, () => (this.#count('private_key'), REDACTED));
    }
    if (text.includes('://')) {
      if (text.includes('hooks.slack')) {
        text = text.replace(SLACK_WEBHOOK_RE, (_m, prefix: string) => (this.#count('slack_token'), prefix + REDACTED));
      }
      text = text.replace(URL_PASSWORD_RE, (m, prefix: string, password: string) => {
        if (PLACEHOLDER_RE.test(password)) return m;
        this.#count('url_password');
        return prefix + REDACTED;
      });
    }
    if (AWS_KEY_ID_RE.test(text)) {
      text = text.replace(AWS_BARE_SECRET_RE, () => (this.#count('aws_secret_key'), REDACTED));
    }
    text = text.replace(TOKEN_RE, (...args: unknown[]) => {
      const i = args.slice(1, 1 + TOKEN_KINDS.length).findIndex((g) => g !== undefined);
      this.#count(TOKEN_KINDS[i] ?? 'api_key');
      return REDACTED;
    });
    if ((text.includes('=') || text.includes(':')) && ASSIGN_HINT.test(text)) {
      text = text.replace(
        ASSIGN_RE,
        (
          m: string,
          key: string,
          op: string,
          quote: string | undefined,
          qScheme: string | undefined,
          qValue: string | undefined,
          bScheme: string | undefined,
          bValue: string | undefined,
        ) => {
          const value = (quote ? qValue : bValue) ?? '';
          const scheme = (quote ? qScheme : bScheme) ?? '';
          if (PLACEHOLDER_RE.test(value)) return m;
          // `log-signature:ab12cd34`, `signature: 9f2c1e0`: a signature named by a short hash is an id.
          if (/signature$/i.test(key) && /^[0-9a-f]{6,16}$/.test(value)) return m;
          if (isSecretKey(key)) this.#count(assignmentKind(key, value, scheme));
          else if (isContextKey(key) && looksRandom(value)) this.#count('high_entropy_value');
          else return m;
          return quote ? `${key}${op}${quote}${scheme}${REDACTED}${quote}` : `${key}${op}${scheme}${REDACTED}`;
        },
      );
    }
    if (PROSE_CREDENTIAL_HINT.test(text)) text = this.#redactProseCredentials(text);
    if (BEARER_HINT.test(text)) {
      text = text.replace(BEARER_RE, (m, scheme: string, space: string, token: string) => {
        if (!looksLikeCredential(token)) return m;
        this.#count('bearer_token');
        return scheme + space + REDACTED;
      });
    }
    return text;
  }

  /**
   * Credentials pasted in prose ("the vault token I used: s.Qm9k…", "publish token for the job is
   * …"): a random-looking value within the same line, a few words after a credential word.
   */
  #redactProseCredentials(text: string): string {
    const spans: Array<[number, number]> = [];
    for (const k of text.matchAll(PROSE_CREDENTIAL_WORD)) {
      const from = k.index! + k[0].length;
      const lineEnd = text.indexOf('\n', from);
      const limit = Math.min(from + 100, lineEnd === -1 ? text.length : lineEnd);
      // tokens that start within the window are taken whole, however long
      TYPED_PASSWORD.lastIndex = from;
      for (let t = TYPED_PASSWORD.exec(text); t !== null && t.index < limit; t = TYPED_PASSWORD.exec(text)) {
        if (!/:\/\/|^\/|\.[a-z]{2,4}$/.test(t[0])) spans.push([t.index, t.index + t[0].length]);
      }
      PROSE_TOKEN.lastIndex = from;
      for (let t = PROSE_TOKEN.exec(text); t !== null && t.index < limit; t = PROSE_TOKEN.exec(text)) {
        const value = t[0].replace(/[.,;:!?)]+$/, '');
        // crypt-style hashes and Junos secrets carry a `$n$` prefix before the random part
        const body = value.replace(/^\$\w{1,2}\$/, '');
        if (!looksRandom(body) || wordsOnly(body)) continue;
        spans.push([t.index, t.index + value.length]);
      }
    }
    if (!spans.length) return text;
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let out = '';
    let at = 0;
    for (const [start, end] of spans) {
      if (start < at) continue;
      out += text.slice(at, start) + REDACTED;
      at = end;
      this.#count('high_entropy_value');
    }
    return out + text.slice(at);
  }

  /** gitleaks findings, overlapping ones merged into one replacement counted under the first rule. */
  #redactProviderTokens(text: string, candidates: readonly number[]): string {
    const findings = PROVIDER_RULES.find(text, candidates);
    if (findings.length === 0) return text;
    findings.sort((a, b) => a.start - b.start || b.end - a.end);
    let out = '';
    let at = 0;
    for (const f of findings) {
      if (f.start < at) {
        at = Math.max(at, f.end);
        continue;
      }
      out += text.slice(at, f.start) + REDACTED;
      at = f.end;
      this.#count(f.ruleId);
    }
    return out + text.slice(at);
  }

  /**
   * E-mails, Slack mentions, phone numbers and aliases, in one pass over the text: the matches are
   * collected as spans (contact details first, then aliases that do not overlap them) and the text
   * is rebuilt once, so a replacement is never scanned again.
   */
  #redactPeople(text: string, withAliases: boolean): string {
    const spans: Span[] = [];
    for (const m of text.matchAll(CONTACT_RE)) {
      const span = this.#contactSpan(m, text);
      if (span) spans.push(span);
    }
    if (withAliases) this.#aliasSpans(text, spans);
    if (spans.length === 0) return text;
    spans.sort((a, b) => a.start - b.start);
    let out = '';
    let at = 0;
    for (const span of spans) {
      out += text.slice(at, span.start) + span.replacement;
      at = span.end;
      this.#count(span.kind);
    }
    return out + text.slice(at);
  }

  #contactSpan(m: RegExpMatchArray, text: string): Span | null {
    const match = m[0];
    const start = m.index ?? 0;
    const end = start + match.length;
    const groups = m.groups ?? {};
    if (groups.email !== undefined) {
      const local = match.slice(0, match.indexOf('@'));
      // git@github.com:org/repo and ssh://git@host are addresses of machines, not people.
      if (local.toLowerCase() === 'git' || text.slice(Math.max(0, start - 3), start) === '://') return null;
      const person = this.#people ? this.#aliasMap.get(match.toLowerCase()) : undefined;
      if (person !== undefined) return { start, end, replacement: person, kind: 'person' };
      return { start, end, replacement: REDACTED, kind: 'email' };
    }
    if (groups.mention !== undefined) {
      if (!this.#people) return null;
      const [, id = '', label] = MENTION_PARTS_RE.exec(match) ?? [];
      const replacement =
        this.#aliasMap.get(`<@${id.toLowerCase()}>`) ??
        (label ? this.#aliasMap.get(normalizeAlias(label.replace(/^@/, ''))) : undefined) ??
        UNKNOWN_MENTION;
      return { start, end, replacement, kind: 'person' };
    }
    if (DATE_LIKE_RE.test(match)) return null;
    return { start, end, replacement: REDACTED, kind: 'phone' };
  }

  /** Adds the alias matches that do not overlap a span already found. */
  #aliasSpans(text: string, spans: Span[]): void {
    const taken = spans.slice();
    const free = (start: number, end: number) => taken.every((s) => end <= s.start || start >= s.end);
    const add = (span: Span) => {
      spans.push(span);
      taken.push(span);
    };
    const words = new RegExp(WORD_RUNS_RE.source, 'gu');
    for (let w = words.exec(text); w !== null; w = words.exec(text)) {
      const matchers = this.#aliasIndex.get(fold(w[0]));
      if (!matchers) continue;
      for (const { re, prefixLength, replacement } of matchers) {
        let start = w.index - prefixLength;
        if (start < 0) continue;
        re.lastIndex = start;
        const m = re.exec(text);
        if (!m) continue;
        const end = start + m[0].length;
        // A chat handle's "@" goes with the name.
        if (prefixLength === 0 && text[start - 1] === '@') start -= 1;
        if (!free(start, end)) continue;
        add({ start, end, replacement, kind: 'person' });
        words.lastIndex = end;
        break;
      }
    }
    for (const { re, replacement } of this.#wordlessAliases) {
      re.lastIndex = 0;
      for (const m of text.matchAll(re)) {
        const start = m.index ?? 0;
        const end = start + m[0].length;
        if (free(start, end)) add({ start, end, replacement, kind: 'person' });
      }
    }
  }

  #deep(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    const cached = seen.get(value);
    if (cached !== undefined) return cached;

    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const item of value) out.push(this.#deep(item, seen));
      return out;
    }
    if (value instanceof Date) return new Date(value.getTime());
    if (value instanceof Map) {
      const out = new Map<unknown, unknown>();
      seen.set(value, out);
      for (const [k, v] of value) out.set(k, this.#deep(v, seen));
      return out;
    }
    if (value instanceof Set) {
      const out = new Set<unknown>();
      seen.set(value, out);
      for (const v of value) out.add(this.#deep(v, seen));
      return out;
    }
    if (value instanceof Error) {
      const out = new Error(this.redact(value.message));
      seen.set(value, out);
      out.name = value.name;
      out.stack = value.stack === undefined ? undefined : this.redact(value.stack);
      for (const [k, v] of Object.entries(value)) (out as unknown as Record<string, unknown>)[k] = this.#deep(v, seen);
      return out;
    }
    if (ArrayBuffer.isView(value)) return structuredClone(value);
    const out = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
    seen.set(value, out);
    for (const [k, v] of Object.entries(value)) out[k] = this.#deep(v, seen);
    return out;
  }
}

let secretsOnly: Redactor | undefined;

/**
 * Secrets only — no people roster, Slack mentions left alone — for logs and error messages.
 * E-mail addresses and phone numbers are still replaced with `[REDACTED]`.
 */
export function redactSecrets(text: string): string {
  secretsOnly ??= makeSecretsOnly();
  return secretsOnly.redact(text);
}

/**
 * `text` on one line (runs of whitespace become one space), cut to at most `max` characters with
 * a trailing "…". The cut never splits a word: the word it would fall in is dropped whole, so a
 * credential is either kept entire (and recognised by the redaction pass that follows) or left out,
 * never kept as an unrecognisable piece.
 */
export function clipWhole(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const space = flat.lastIndexOf(' ', max - 1);
  return space > 0 ? `${flat.slice(0, space)}…` : '…';
}
