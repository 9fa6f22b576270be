// Features of a past incident that similar-incident search compares, read from plain text: error
// signature templates, files, config keys, hosts, failure modes, trigger kind, severity. Pure.
import { modesOfSymptom } from '../core/failureModes.js';
import type { TriggerKind } from './types.js';

const ERROR_WORDS =
  /\b(error|exception|fail(ed|ure|ing)?|refused|timed? ?out|timeout|unavailable|denied|forbidden|exhausted|exceeded|panic|fatal|oom|oomkilled|killed|invalid|unreachable|rejected|expired|cannot|could not|unable|too many|no such|not found|no space|out of memory|deadlock|lock|lag|backlog|stale|overflow|reset|nxdomain|enotfound|econnrefused|econnreset|etimedout|5\d\d|4(29|01|03))\b/i;

/** An error message with its variable parts masked, lower-cased, so two occurrences compare equal. */
export function signatureTemplate(line: string): string {
  return line
    .toLowerCase()
    // the engine's own log templates mask variables as <*>
    .replace(/<\*>/g, '0')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<ip>')
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/g, '<hex>')
    .replace(/\b\d{4}-\d\d-\d\dt[\d:.]+z?\b/g, '<ts>')
    .replace(/(?<![a-z0-9_])\d+(\.\d+)?(ms|s|m|h|kb|mb|gb|%|x)?\b/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Text looks like an error message a log or alert would carry (not prose about one). */
export function looksLikeError(text: string): boolean {
  const t = text.trim();
  return t.length >= 8 && t.length <= 300 && ERROR_WORDS.test(t);
}

/** Words of a template, without its masks: how two slightly different signatures are compared. */
export function templateWords(template: string): Set<string> {
  return new Set(template.split(/[^a-z0-9_]+/).filter((w) => w.length > 1 && w !== 'n' && w !== 'ip' && w !== 'hex' && w !== 'id' && w !== 'ts'));
}

export function jaccard<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const x of a) if (b.has(x)) shared++;
  return shared / (a.size + b.size - shared);
}

const FILE_EXT = 'ts|tsx|js|mjs|cjs|go|py|java|kt|rb|rs|cs|php|lua|scala|c|cc|cpp|h|sql|proto|sh|yaml|yml|json|toml|tf|tfvars|hcl|conf|cfg|ini|properties|env|xml|gradle|lock|j2|tpl|erb|vcl|nginx';
const FILE_RE = new RegExp(`(?<![\\w/.-])((?:[\\w.-]+/)*[\\w-]+(?:\\.[\\w-]+)*\\.(?:${FILE_EXT}))(?![\\w-])`, 'g');
const TLD = 'com|net|org|io|dev|cloud|internal|local|lan|corp|svc|cluster|amazonaws|azure|gcp|app|co|us|eu|uk|de';
const HOST_RE = new RegExp(`(?<![\\w.@/-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+(?:${TLD})(?:\\.[a-z]{2,})*)(?::\\d+)?(?![\\w-])`, 'g');
const IP_RE = /(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?(?![\d.])/g;
// machine names such as db-primary-3 or kafka-broker-12: at least two dashes, ending in a number
const NODE_HOST_RE = /(?<![\w.-])([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)+-\d+[a-z]?)(?![\w.-])/g;
const DOTTED_KEY_RE = /(?<![\w./-])([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*){1,6})(?![\w/-])/gi;
const ENV_KEY_RE = /(?<![\w-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+){1,6})(?![\w-])/g;
const SNAKE_KEY_RE = /(?<![\w.-])([a-z][a-z0-9]*(?:_[a-z0-9]+){1,6})(?![\w-])/g;
const NOT_HOST_WORDS = new Set(['e.g', 'i.e', 'etc']);
const SETTING_SUFFIX = /_(ms|s|sec|secs|seconds|minutes|hours|days|size|max|min|limit|limits|count|timeout|ttl|enabled|percent|pct|rate|bytes|kb|mb|gb|threshold|interval|retries|workers|threads|connections|replicas)$/;

export interface Entities {
  files: string[];
  config_keys: string[];
  hosts: string[];
}

function uniq(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/**
 * Files, config keys and hosts named in a text. `code` holds the spans the document marked as code,
 * where a bare snake_case name is taken as a key; in prose only dotted or SCREAMING_SNAKE names are.
 */
export function entitiesOf(prose: string, code: readonly string[] = []): Entities {
  const files = new Set<string>();
  const keys = new Set<string>();
  const hosts = new Set<string>();
  const all = [prose, ...code].join('\n');
  for (const m of all.matchAll(FILE_RE)) files.add(m[1]!.toLowerCase());
  for (const m of all.toLowerCase().matchAll(HOST_RE)) {
    const host = m[1]!;
    if (!files.has(host) && !NOT_HOST_WORDS.has(host)) hosts.add(host);
  }
  for (const m of all.matchAll(IP_RE)) if (m[1]!.split('.').every((o) => Number(o) <= 255)) hosts.add(m[1]!);
  for (const m of all.matchAll(NODE_HOST_RE)) hosts.add(m[1]!);
  const fileParts = new Set([...files].flatMap((f) => [f, f.replace(/\.[^.]+$/, '')]));
  for (const m of all.matchAll(DOTTED_KEY_RE)) {
    const key = m[1]!.toLowerCase();
    if (hosts.has(key) || fileParts.has(key) || [...files].some((f) => f.endsWith(key)) || NOT_HOST_WORDS.has(key)) continue;
    if ([...hosts].some((h) => h.startsWith(key + '.') || h.endsWith('.' + key))) continue;
    keys.add(key);
  }
  for (const m of all.matchAll(ENV_KEY_RE)) keys.add(m[1]!.toLowerCase());
  for (const c of code) for (const m of c.matchAll(SNAKE_KEY_RE)) keys.add(m[1]!.toLowerCase());
  // in prose, a snake_case name that reads like a setting (a unit or limit suffix, or three parts)
  for (const m of prose.matchAll(SNAKE_KEY_RE)) {
    const key = m[1]!.toLowerCase();
    if (SETTING_SUFFIX.test(key) || key.split('_').length >= 3) keys.add(key);
  }
  for (const m of prose.matchAll(/\b([a-z][a-z0-9]*(?:_[a-z0-9]+){1,6})\s*[=:]\s*\S/g)) keys.add(m[1]!.toLowerCase());
  return { files: uniq(files), config_keys: uniq(keys), hosts: uniq(hosts) };
}

/** Error-like lines of a text and of its code spans, as templates. */
export function errorSignaturesOf(code: readonly string[], prose = ''): string[] {
  const out = new Set<string>();
  const consider = (line: string) => {
    if (looksLikeError(line)) out.add(signatureTemplate(line));
  };
  for (const c of code) for (const line of c.split('\n')) consider(line);
  // A quoted message in prose ("... failed with "connection refused" ...") is an error signature too.
  for (const m of prose.matchAll(/["“]([^"”\n]{8,200})["”]/g)) consider(m[1]!);
  return [...out].slice(0, 50);
}

const EXTRA_MODES: Array<[string, RegExp]> = [
  ['disk', /disk (full|space|pressure)|no space left|inode|volume (full|filled)|ENOSPC/i],
  ['dns', /\bdns\b|nxdomain|servfail|resolver|name resolution|could not resolve|no such host/i],
  ['certificate', /certificate|x509|\bcert\b|ssl_?expir|tls handshake/i],
  ['cache', /\bcache\b|cache (stampede|miss|eviction)|thundering herd|redis|memcache/i],
  ['queue', /queue (backlog|depth|lag)|consumer lag|backlog|kafka lag|dead.?letter/i],
  ['replication', /replica(tion)? lag|replication|failover|split.?brain/i],
  ['lock', /deadlock|lock wait|lock timeout|table lock|advisory lock/i],
];

/** Failure modes a text describes: the engine's vocabulary plus a few that only post-mortems name. */
export function failureModesOf(text: string): string[] {
  const modes = new Set<string>(modesOfSymptom(text));
  // "feature" alone is too common in prose to mean a flag
  if (modes.has('feature_flag') && !/feature.?flag|\bflag\b|toggle|kill.?switch/i.test(text)) modes.delete('feature_flag');
  for (const [mode, re] of EXTRA_MODES) if (re.test(text)) modes.add(mode);
  return [...modes].sort();
}

const TRIGGER_RULES: Array<[TriggerKind, RegExp]> = [
  ['feature_flag', /feature.?flag|\bflag (flip|change|enabled|turned)|toggle|kill.?switch|launchdarkly|rollout percent/i],
  ['expiry', /\bexpir(ed|y|ation)\b|certificate (had )?lapsed|not renewed|renewal/i],
  ['config_change', /config(uration)? (change|push|update|rollout)|changed (the )?(setting|config|value|limit|parameter)|setting (was )?(changed|lowered|raised)|(lowered|raised|reduced|increased) (the )?[\w.`-]+ (limit|setting|value)|parameter change/i],
  ['infrastructure', /terraform|infrastructure change|node pool|instance type|network change|kubernetes upgrade|cluster upgrade|os patch|load balancer change|maintenance/i],
  ['deployment', /\bdeploy(ed|ment|ing)?\b|\brelease[ds]?\b|\brolled out\b|\brollout\b|new version|\bmerged?\b|\bcommit\b|pull request/i],
  ['dependency', /upstream (provider|dependency|outage)|third.?party|vendor outage|provider outage|cloud provider|external (api|dependency)/i],
  ['capacity', /traffic (surge|spike)|load spike|organic (growth|traffic)|peak traffic|flash sale|marketing (campaign|email)|unexpected load/i],
  ['manual', /\bmanual(ly)?\b|operator (ran|error|command)|ran (a|the) (command|script)|runbook step|by hand/i],
];

/** The kind of change that triggered the incident, from the trigger or root-cause text. */
export function triggerKindOf(text: string): TriggerKind | null {
  if (/no (change|deploy\w*) (triggered|caused)|not triggered by a change|latent (bug|defect)/i.test(text) && !/\bdeploy(ed|ment)\b/i.test(text)) return 'none';
  for (const [kind, re] of TRIGGER_RULES) if (re.test(text)) return kind;
  return null;
}

const TRIGGER_ALIASES: Record<string, TriggerKind> = {
  deploy: 'deployment', deployment: 'deployment', release: 'deployment', code_change: 'deployment', code: 'deployment',
  config: 'config_change', config_change: 'config_change', configuration: 'config_change', change_event: 'config_change',
  flag: 'feature_flag', feature_flag: 'feature_flag', infra: 'infrastructure', infrastructure: 'infrastructure',
  dependency: 'dependency', upstream: 'dependency', third_party: 'dependency', capacity: 'capacity', load: 'capacity', traffic: 'capacity',
  expiry: 'expiry', expiration: 'expiry', certificate: 'expiry', manual: 'manual', human: 'manual', none: 'none', unknown: 'none',
};

export function normalizeTriggerKind(value: string | null | undefined): TriggerKind | null {
  if (!value || !value.trim()) return null;
  const key = value.trim().toLowerCase().replace(/[\s-]+/g, '_');
  const firstWord = /^[a-z]+/.exec(value.trim().toLowerCase())?.[0] ?? '';
  return TRIGGER_ALIASES[key] ?? triggerKindOf(value) ?? TRIGGER_ALIASES[firstWord] ?? null;
}

/** "SEV-2", "Sev 2", "S2", "P2", "major" -> "sev2"; null when it cannot tell. */
export function normalizeSeverity(value: string | null | undefined): string | null {
  if (!value) return null;
  const v = value.trim().toLowerCase();
  const n = /^(?:sev(?:erity)?|s|p|priority|level)?[\s_-]*([0-5])\b/.exec(v);
  if (n) return `sev${Math.max(1, Number(n[1]))}`;
  if (/critical|blocker|emergency/.test(v)) return 'sev1';
  if (/major|high/.test(v)) return 'sev2';
  if (/minor|medium|moderate/.test(v)) return 'sev3';
  if (/\blow\b|trivial|cosmetic/.test(v)) return 'sev4';
  return null;
}

export function normalizeService(value: string): string {
  return value.trim().toLowerCase().replace(/[`*_]+/g, '').replace(/\s+/g, '-');
}

/** A list of services as written ("checkout, payments-api and ledger"). */
export function splitServices(value: string): string[] {
  return uniq(
    value
      .split(/,|;|\band\b|\/|\|/)
      .map((s) => normalizeService(s.replace(/\(.*?\)/g, '')))
      .filter((s) => s.length > 1 && s.length <= 60 && !/^(none|n\/a|unknown|-)$/.test(s)),
  );
}

/** A date as written -> ISO (date-only stays a date); null when it is not a date. */
export function normalizeDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const v = value.trim();
  const iso = /(\d{4}-\d\d-\d\d)(?:[ T](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(Z|UTC|[+-]\d\d:?\d\d)?)?/.exec(v);
  if (iso) {
    if (!iso[2]) return iso[1]!;
    const zone = !iso[3] || iso[3] === 'UTC' ? 'Z' : iso[3];
    const ms = Date.parse(`${iso[1]}T${iso[2]}${zone}`);
    return Number.isNaN(ms) ? iso[1]! : new Date(ms).toISOString();
  }
  const ms = Date.parse(v.replace(/\b(UTC|GMT)\b/, 'Z'));
  if (!Number.isNaN(ms) && /\d{4}/.test(v)) return new Date(ms).toISOString().slice(0, /\d\d:\d\d/.test(v) ? 24 : 10);
  return null;
}

/** "done", "Closed", "in progress", "[x]" -> open/done; null when it does not say. */
export function normalizeStatus(value: string | null | undefined): 'open' | 'done' | null {
  if (!value) return null;
  const v = value.toLowerCase();
  if (/\b(done|closed|resolved|complete[d]?|fixed|shipped|merged|finished)\b|✅|☑/.test(v)) return 'done';
  if (/\b(open|todo|to do|in progress|in-progress|pending|not started|backlog|planned|blocked|new|wip)\b|☐/.test(v)) return 'open';
  return null;
}
