// Triggering change: rank every change that went live before the first anomaly (GitHub
// deployments in any repository, and change events recorded outside git) by the chain of evidence
// that links its content to the failure, name the culprit commit, tell a trigger from the latent
// defect it exposed, or abstain.
// Blaming an innocent change is the worst mistake this tool can make, so timing alone never
// convicts, and neither does where a change lives: a trigger needs its content to meet the failure
// (names the errors also name, the failure mode, new values) or to be undone just before recovery.
import { describeConfigChange, type ChangeAnalysis, type ChangeName } from './changes.js';
import { changeKey, describeChange, type DeploymentFact, type IncidentFacts } from './facts.js';
import { modeChangeNoun, modeLabel, modesOfChange, type FailureMode } from './failureModes.js';
import type { IncidentSignals } from './signals.js';
import { identifiersOf, nameTokens, STOPWORDS, subwords } from './signals.js';
import { formatDuration, formatMs } from './time.js';

const FLAG_VALUE = /^(true|false|on|off|yes|no|enabled?|disabled?)$/i;
const isFlagValue = (v: string | null) => v !== null && FLAG_VALUE.test(v);

export const TRIGGER_THRESHOLD = 0.55;
const DEPENDENCY_MODES = new Set<FailureMode>(['upstream', 'network', 'timeout', 'rate_limit', 'tls', 'auth']);
const TIME_SCALE_MS = 30 * 60_000;
const MAX_TRIGGER_AGE_MS = 7 * 24 * 3600_000;
const CLIENT_BEHAVIOUR_MODES = new Set<FailureMode>(['timeout', 'network', 'connection_pool', 'rate_limit', 'memory']);
/** a leak, a cache filling or a scheduled job can take hours to show */
const DELAYED_TIME_SCALE_MS = 4 * 3600_000;

export type CandidateRole = 'trigger' | 'latent_defect' | 'ruled_out';

export interface CommitAssessment {
  change: ChangeAnalysis;
  match: number;
  /** independent, specific pieces of evidence (names, values, growth pattern, flag flip) */
  specific: number;
  /** of those, names the errors share with the change's content (keys, hosts, tables, packages, identifiers) */
  nameLinks: number;
  modeMatched: boolean;
  /** the commit switches a boolean setting (a feature flag) */
  flagFlip: boolean;
  evidence: string[];
  reverted: boolean;
  /** the change's mechanism shows itself only after a while (unbounded growth, scheduled work) */
  delayed: boolean;
}

export interface CandidateAssessment {
  deployment: DeploymentFact;
  score: number;
  ruledIn: boolean;
  role: CandidateRole;
  reasons: string[];
  evidence: string[];
  culprit: CommitAssessment | null;
  kind: 'deployment' | 'config_change' | 'change_event';
  /** a later change undid this one and the impact ended after it */
  undoneBy: DeploymentFact | null;
  corroborated: boolean;
  /** config, flag, data, policy or rules rollout that can expose code shipped earlier */
  exposer: boolean;
  /** its content meets the failure, but it went live too long before the onset to have started it */
  stale?: boolean;
}

export interface TriggerAssessment {
  candidates: CandidateAssessment[];
  trigger: CandidateAssessment | null;
  reason: string;
  /** an earlier change whose code the trigger exposed (a root cause, not the trigger) */
  latent: CandidateAssessment | null;
}

const SHARED_REPO = /config|infra|platform|terraform|k8s|kube|helm|deploy|flags?|settings|ops|gitops|manifests|charts|rules|polic|dns|zones?|network|data|content|catalog|routing|edge|cdn|schema|migrations?|grants/i;

/** Environments that clearly do not serve production traffic; anything else (global, edge, live, a region…) may. */
const NON_PRODUCTION = new Set(['staging', 'stage', 'stg', 'dev', 'develop', 'development', 'test', 'testing', 'qa', 'uat', 'preview', 'review', 'sandbox', 'demo', 'ci', 'canary', 'preprod', 'nonprod', 'perf', 'loadtest', 'local', 'pr', 'ephemeral', 'integration']);

export function isNonProduction(environment: string | null): boolean {
  if (!environment) return false;
  const env = environment.toLowerCase();
  if (/pre-?prod|non-?prod/.test(env)) return true;
  const parts = env.split(/[^a-z0-9]+/).filter(Boolean);
  if (parts.some((p) => /^(prod|production|live|main|primary|default|global|all)$/.test(p))) return false;
  return parts.some((p) => NON_PRODUCTION.has(p) || /^pr\d+$/.test(p));
}

export function repoAffinity(facts: IncidentFacts, d: DeploymentFact, mentionsService: boolean): { value: number; reason: string } {
  const service = facts.service?.toLowerCase() ?? '';
  const label = d.repo ?? describeChange(d);
  if (service && d.services.some((s) => s.toLowerCase() === service)) return { value: 1, reason: `the change record names ${facts.service} among its services` };
  const tagged = d.repo ? facts.repoServices.get(d.repo) : undefined;
  if (service && tagged?.has(facts.service!)) return { value: 1, reason: `${label} deploys ${facts.service} (deploy events are tagged with the service)` };
  const repoName = d.repo?.split('/').pop()?.toLowerCase() ?? '';
  const serviceTokens = nameTokens(service);
  const repoTokens = nameTokens(repoName);
  if (service && repoName && (repoName === service || serviceTokens.some((t) => repoTokens.includes(t)))) {
    return { value: 1, reason: `${label} is the repository of ${facts.service}` };
  }
  if (mentionsService) return { value: 0.9, reason: `${label} is not ${facts.service}'s own repository, but the change names ${facts.service}` };
  if (d.origin !== 'github') return { value: 0.7, reason: `${label} was recorded outside the deploy pipeline${d.services.length ? ` for ${d.services.slice(0, 3).join(', ')}` : ''}` };
  if (SHARED_REPO.test(repoName)) return { value: 0.7, reason: `${label} holds shared configuration or infrastructure that can affect every service` };
  if (tagged && tagged.size) return { value: 0.5, reason: `${label} deploys ${[...tagged].join(', ')}; a change there can still reach ${facts.service ?? 'the impacted service'}` };
  return { value: 0.5, reason: `${label} is not the impacted service's repository; only its content can link it to the failure` };
}

/** Raising a pool, concurrency, queue or memory limit gives more room: it cannot explain running out of it. */
function raisesHeadroom(c: { key: string; from: string | null; to: string | null }, mode: FailureMode): boolean {
  if (c.from === null || c.to === null) return false;
  if (mode === 'timeout') {
    // a longer timeout gives calls more time: it does not make them time out
    const a = durationMs(c.from);
    const b = durationMs(c.to);
    return a !== null && b !== null && b > a && /timeout|deadline/i.test(c.key);
  }
  if (!['connection_pool', 'capacity', 'memory', 'rate_limit'].includes(mode)) return false;
  const a = Number(c.from);
  const b = Number(c.to);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return b > a && !/min_?idle|timeout|ttl|interval|delay|backoff/i.test(c.key);
}

function durationMs(value: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(value.trim());
  if (!m) return null;
  const unit = (m[2] ?? 'ms').toLowerCase();
  return Number(m[1]) * (unit === 'h' ? 3600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1);
}

function cronField(field: string, value: number): boolean {
  return field.split(',').some((part) => {
    const [range, stepText] = part.split('/');
    const step = stepText ? Number(stepText) : 1;
    if (range === '*') return value % step === 0;
    const [lo, hi] = range!.split('-').map(Number);
    if (!Number.isFinite(lo)) return false;
    const top = hi ?? (stepText ? 59 : lo!);
    return value >= lo! && value <= top && (value - lo!) % step === 0;
  });
}

/** The cron expression on an added line that fires within a minute of `ms` (UTC), if any. */
function cronFiringAt(added: string, ms: number): string | null {
  for (const m of added.matchAll(/["']?((?:[\d*,/-]+\s+){4}[\d*,/-]+)["']?/g)) {
    const expr = m[1]!.trim();
    const [min, hour, dom, month, dow] = expr.split(/\s+/);
    if (!min || !hour || !dom || !month || !dow || expr.replace(/[\s*]/g, '') === '') continue;
    for (const delta of [0, -60_000, 60_000]) {
      const t = new Date(ms + delta);
      if (cronField(min, t.getUTCMinutes()) && cronField(hour, t.getUTCHours()) && cronField(dom, t.getUTCDate()) && cronField(month, t.getUTCMonth() + 1) && cronField(dow, t.getUTCDay())) {
        // every-minute style schedules match any moment: they say nothing about this one
        if (/^\*(\/1)?$/.test(min) && /^\*/.test(hour)) return null;
        return expr;
      }
    }
  }
  return null;
}

function timeWeight(deltaMs: number, scale: number): number {
  return 1 / (1 + deltaMs / scale);
}

const STRONG_TOKEN = /[A-Z].*[a-z].*[A-Z]|_|[a-z][A-Z]/;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `text` names `name` as a whole word, path segment or host (not inside a longer word). */
const NAME_RE_CACHE = new Map<string, RegExp>();

export function namesIn(text: string, name: string, lowerCaseText = false): boolean {
  if (!name || text.length < name.length) return false;
  // cheap reject before the boundary-aware regex (`lowerCaseText`: the caller already lowered it)
  if (!(lowerCaseText ? text : text.toLowerCase()).includes(name.toLowerCase())) return false;
  let re = NAME_RE_CACHE.get(name);
  if (!re) {
    re = new RegExp(`(^|[^A-Za-z0-9_-])${escapeRe(name)}($|[^A-Za-z0-9_-]|-(?=\\d))`, 'i');
    if (NAME_RE_CACHE.size > 5000) NAME_RE_CACHE.clear();
    NAME_RE_CACHE.set(name, re);
  }
  return re.test(text);
}

/** How a package's name shows in stack traces: `quarry-fetch` is `quarry_fetch/` in Python, `github.com/lib/pq` is `pq.`. */
function packageVariants(name: string): string[] {
  const out = new Set([name, name.replace(/-/g, '_'), name.replace(/_/g, '-'), name.replace(/[-_.]/g, '')]);
  const last = name.split('/').pop() ?? name;
  if (last !== name && last.length >= 3 && !/^v\d+$/.test(last)) out.add(last);
  return [...out].filter((v) => v.length >= 3);
}

/** A stack frame inside an installed library: `node_modules/colors/lib/…`, `site-packages/yaml/…`, `pkg/mod/github.com/lib/pq@v1.2/…`. */
function libraryFrame(variant: string): RegExp {
  return new RegExp(`(?:node_modules|site-packages|dist-packages|vendor|gems|pkg/mod)/(?:[^/\\s()]+/)*?${escapeRe(variant)}(?:/|@|-\\d)`, 'i');
}

const NAME_KIND_WORDS: Record<ChangeName['kind'], string> = {
  host: 'host',
  table: 'table',
  package: 'library',
  name: '',
  key: 'setting',
};

/**
 * A settings change scoped to another service (its file or key path names that service and not the
 * impacted one) says nothing about the impacted service through its failure mode or values; only
 * names the errors share can still link it.
 */
function scopedElsewhere(change: ChangeAnalysis, serviceNames: string[], otherServices: string[], errorText: string, sharedRepo: boolean): boolean {
  if (!change.configChanges.length || change.files.some((f) => f.cls === 'source' || f.cls === 'frontend')) return false;
  return change.configChanges.every((c) => {
    const where = `${c.file}/${c.key}`.toLowerCase();
    if (serviceNames.some((n) => n.length >= 3 && namesIn(where, n))) return false;
    let other = otherServices.find((o) => namesIn(where, o));
    // In a repository shared by many services, a per-service file or section (`services/media-ui.yaml`,
    // `media-ui: {…}`) names whom the setting is for.
    if (!other && sharedRepo) {
      const stem = (c.file.split('/').pop() ?? '').replace(/\.[^.]+$/, '').toLowerCase();
      const top = c.key.split('.')[0]!.toLowerCase();
      other = [stem, top].find((x) => /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(x) && !GENERIC_SCOPES.test(x));
    }
    return other !== undefined && !namesIn(errorText, other);
  });
}

const GENERIC_SCOPES = /^(default|defaults|global|common|shared|base|all|prod|production|settings|config|limits|values|feature-flags|flags)(-|$)/;

function assessCommit(change: ChangeAnalysis, signals: IncidentSignals, serviceNames: string[], otherServices: string[] = [], sharedRepo = false): CommitAssessment {
  const weights: number[] = [];
  const evidence: string[] = [];
  let specific = 0;
  let nameLinks = 0;
  /** evidence from code (identifiers, stack frames) as opposed to settings and values */
  let codeSpecific = 0;
  const elsewhere = scopedElsewhere(change, serviceNames, otherServices, signals.errorText, sharedRepo);
  const record = change.record;
  // "flag" in an error says little about which flag: flags link by name or by flipping, not by mode.
  const shared: FailureMode[] = elsewhere
    ? []
    : change.modes.filter((m) => {
        if (!signals.modes.includes(m) || m === 'crash' || m === 'feature_flag') return false;
        // a change that only gives more room (more instances, a bigger pool) cannot explain running out
        const carriers = change.configChanges.filter((c) => modesOfChange(c.key).includes(m));
        const code = change.files.some((f) => f.cls === 'source' || f.cls === 'frontend');
        return code || carriers.length === 0 || !carriers.every((c) => raisesHeadroom(c, m));
      });
  for (const mode of shared.slice(0, 2)) {
    weights.push(0.3);
    evidence.push(`the change touches ${modeChangeNoun(mode)} and the incident shows ${modeLabel(mode)}`);
  }
  let delayed = false;
  if (change.unboundedGrowth && signals.modes.includes('memory')) {
    specific++;
    delayed = true;
    weights.push(0.45);
    evidence.push(`${change.files.find((f) => f.cls === 'source' || f.cls === 'config')?.filename ?? 'the change'} adds an in-memory structure that only grows (no size bound or eviction in the diff) and the incident shows memory exhaustion`);
  }
  if (/\b(cron|schedule[d]?|every \d+ ?(min|h)|interval|ttl|expir)/i.test(change.addedText)) delayed = true;
  // A job the change schedules that fires at the minute the incident began.
  const firing = cronFiringAt(change.addedText, signals.anomalyOnsetMs);
  if (firing) {
    specific += 2;
    delayed = true;
    weights.push(0.5);
    evidence.push(`it schedules a job (\`${firing}\`) that fires at ${formatMs(Math.floor(signals.anomalyOnsetMs / 60_000) * 60_000).slice(11, 16)} UTC, when the failure began`);
  }

  const matched: string[] = [];
  for (const id of change.identifiers) {
    const lower = id.toLowerCase();
    if (lower.length < 4 || !signals.tokens.has(lower) || signals.benignTokens.has(lower)) continue;
    if (matched.some((m) => m.toLowerCase() === lower)) continue;
    matched.push(id);
  }
  // Tables, hosts, packages and settings the change names are specific whatever their spelling.
  const structural = new Set(change.names.filter((n) => n.kind !== 'name').map((n) => n.name.toLowerCase()));
  // Plain dictionary-shaped words ("Certificate", "notifications") are weak however long; names
  // with digits, separators or inner capitals, and the change's tables, hosts and keys, are strong.
  const strong = matched.filter((t) => STRONG_TOKEN.test(t) || (t.length >= 9 && !/^[A-Z]?[a-z]+$/.test(t)) || structural.has(t.toLowerCase()));
  const weak = matched.filter((t) => !strong.includes(t));
  for (const _ of strong.slice(0, 3)) weights.push(0.3);
  for (const _ of weak.slice(0, 2)) weights.push(0.1);
  const codeFiles = change.files.some((f) => f.cls === 'source' || f.cls === 'frontend');
  if (codeFiles) codeSpecific += Math.min(strong.length, 3);
  else {
    specific += Math.min(strong.length, 2);
    nameLinks += Math.min(strong.length, 2);
    // A rule, key or entry the push brings in (only on added lines) that the errors then quote.
    const removed = change.removedText.toLowerCase();
    const added = change.addedText.toLowerCase();
    if (strong.some((t) => /[\d_]|[a-z][A-Z]/.test(t) && t.length >= 8 && added.includes(t.toLowerCase()) && !removed.includes(t.toLowerCase()))) {
      specific++;
      weights.push(0.25);
    }
  }
  if (matched.length) evidence.push(`error logs and alerts name ${matched.slice(0, 4).map((t) => `\`${t}\``).join(', ')}, which the change ${codeFiles ? 'changes' : 'sets'}`);

  // Names the change gives to hosts, tables, libraries, rules or settings, also named by the errors.
  const already = new Set(matched.map((m) => m.toLowerCase()));
  const linkedNames: ChangeName[] = [];
  for (const n of change.names) {
    const lower = n.name.toLowerCase();
    if (already.has(lower) || serviceNames.some((s) => s === lower) || STOPWORDS.has(lower)) continue;
    if ((n.kind === 'name' || n.kind === 'key') && (signals.benignTokens.has(lower) || lower.length < 6)) continue;
    // an organisation's own domain (`acme.com`) is in every host name: it links nothing
    if (n.kind === 'host' && /^[a-z0-9-]+\.[a-z]{2,}$/i.test(n.name) && signals.benignTokens.has(n.name.split('.')[0]!.toLowerCase())) continue;
    if (n.kind === 'package' && lower.length < 3) continue;
    const variants = n.kind === 'package' ? packageVariants(n.name) : [n.name];
    // a bare record label (`queue`) is named by the errors as a host under some zone (`queue.acme.co`)
    const asHostLabel = n.kind === 'host' && !n.name.includes('.') && new RegExp(`(^|[^\\w.-])${escapeRe(n.name)}\\.[a-z0-9-]+\\.[a-z]`, 'i').test(signals.errorText);
    if (!asHostLabel && !variants.some((v) => namesIn(signals.errorText, v))) continue;
    linkedNames.push(n);
    already.add(lower);
    if (linkedNames.length >= 3) break;
  }
  // A library whose defaults govern how calls time out, retry, pool or hold connections fails in
  // exactly those ways; a dependency merely answering with errors is not the library's doing.
  let libraryMode = false;
  for (const n of linkedNames) {
    const distinctive = /[\d_.:-]|[a-z][A-Z]/.test(n.name) && n.name.length >= 8;
    weights.push((n.introduced || n.kind === 'key') && distinctive ? 0.45 : n.kind === 'name' || n.kind === 'key' ? 0.3 : 0.35);
    if (n.kind === 'package' && !libraryMode && signals.modes.some((m) => CLIENT_BEHAVIOUR_MODES.has(m))) {
      libraryMode = true;
      weights.push(0.3);
    }
    if (n.kind === 'package') {
      const p = change.packages.find((x) => x.name === n.name);
      evidence.push(`it moves ${n.name}${p?.from && p.to ? ` from ${p.from} to ${p.to}` : p?.to ? ` to ${p.to}` : ''}, and the errors' stack traces run through ${n.name}`);
    } else {
      evidence.push(`the change ${n.introduced ? 'brings in' : 'names'} ${NAME_KIND_WORDS[n.kind] ? `the ${NAME_KIND_WORDS[n.kind]} ` : ''}\`${n.name}\`, which the errors also name`);
    }
  }
  // A distinctive name the change brings in (a new rule, flag, host or table) that the errors then
  // quote is as direct as a stack frame in a changed file: it counts twice.
  // So is a distinctive setting or flag whose value the change moved, quoted by the errors.
  const introduced = linkedNames.filter((n) => (n.introduced || n.kind === 'key') && n.kind !== 'package' && /[\d_.:-]|[a-z][A-Z]/.test(n.name) && n.name.length >= 8);
  specific += linkedNames.length + Math.min(introduced.length, 1);
  nameLinks += linkedNames.length;

  // Runs of a long snake_case name: `idx_line_items_default_mode` and errors about `line_items`.
  if (!linkedNames.length) {
    for (const n of change.names) {
      if (n.kind === 'package' || !n.name.includes('_')) continue;
      const parts = n.name.toLowerCase().split('_').filter(Boolean);
      if (parts.length < 3) continue;
      let run: string | null = null;
      for (let len = parts.length - 1; len >= 2 && !run; len--) {
        for (let i = 0; i + len <= parts.length && !run; i++) {
          const piece = parts.slice(i, i + len).join('_');
          if (piece.length >= 8 && !signals.benignTokens.has(piece) && !serviceNames.includes(piece) && namesIn(signals.errorText, piece)) run = piece;
        }
      }
      if (!run) continue;
      specific++;
      nameLinks++;
      weights.push(0.3);
      evidence.push(`the change's \`${n.name}\` and the errors both name \`${run}\``);
      break;
    }
  }
  // Partial matches: `new_tax_engine` in a diff and `TaxEngineError` in the errors name one thing.
  const exact = new Set(matched.map((m) => m.toLowerCase()));
  const partial: string[] = [];
  for (const id of [...change.identifiers, ...change.names.filter((n) => n.kind === 'name' || n.kind === 'key').map((n) => n.name)]) {
    if (exact.has(id.toLowerCase()) || already.has(id.toLowerCase()) || partial.length >= 2) continue;
    const words = subwords(id).filter((w) => !signals.benignTokens.has(w));
    if (words.length < 2) continue;
    const hit = signals.compounds.find((c) => c.raw.toLowerCase() !== id.toLowerCase() && words.filter((w) => c.words.includes(w)).length >= 2);
    if (hit) {
      partial.push(id);
      weights.push(0.25);
      if (codeFiles) codeSpecific++;
      else {
        specific++;
        nameLinks++;
      }
      evidence.push(`the change's \`${id}\` and the errors' \`${hit.raw}\` name the same component (${words.filter((w) => hit.words.includes(w)).join(', ')})`);
    }
  }
  // A stack trace or error that points at a file this commit changed.
  const pointedAt = change.files.find((f) => {
    if (['docs', 'test', 'ci', 'i18n', 'style'].includes(f.cls)) return false;
    const path = f.filename.replace(/^\.?\//, '');
    const withoutRoot = path.replace(/^(src|lib|app|pkg|internal|cmd)\//, '');
    // JVM and .NET frames name only the file: `(SessionStore.java:118)`
    const base = path.split('/').pop() ?? path;
    const frame = base.length >= 10 && /[A-Z_]/.test(base) && new RegExp(`(^|[^\\w.])${escapeRe(base)}:\\d+`).test(signals.errorText);
    if (signals.errorText.includes(path) || (withoutRoot.includes('/') && signals.errorText.includes(withoutRoot)) || frame) return true;
    // frames relative to another root (`rulesets/evaluate.lua:270` for lua/rulesets/evaluate.lua), with a line number
    const parts = path.split('/');
    for (let i = 1; i <= parts.length - 2; i++) {
      const tail = parts.slice(i).join('/');
      if (base.length >= 5 && new RegExp(`(^|[^\\w./-])${escapeRe(tail)}:\\d+`).test(signals.errorText)) return true;
    }
    return false;
  });
  if (pointedAt) {
    // A stack frame in a file the commit changed is as direct as evidence gets: it counts twice.
    if (pointedAt.cls === 'source' || pointedAt.cls === 'frontend') codeSpecific += 2;
    else {
      specific += 2;
      nameLinks++;
    }
    weights.push(0.35);
    evidence.push(`the errors point at ${pointedAt.filename}, which this change modifies`);
  }
  // A firewall or security rule removed for the port that connections now fail on (`:5432`).
  if (change.files.some((f) => f.cls === 'infra' || f.cls === 'config')) {
    const added = change.addedText;
    const port = [...change.removedText.matchAll(/\b(?:from_port|to_port|port|ports?|dport)\b\s*[=:]\s*\[?\s*(\d{2,5})\b/gi)]
      .map((m) => m[1]!)
      // (web ports are in every URL the errors quote)
      .find((p) => p !== '80' && p !== '443' && !new RegExp(`\\b${p}\\b`).test(added) && new RegExp(`[\\w\\]]:${p}\\b`).test(signals.errorText));
    if (port) {
      // the same port on both sides and nothing else opening it: as direct as a frame in a changed file
      specific += 2;
      nameLinks++;
      weights.push(0.45);
      evidence.push(`it removes a rule for port ${port}, and the errors fail connecting to port ${port}`);
    }
  }
  // A library the change moves to another version, inside which the incident's stack traces end
  // (the innermost frame: where the error was raised or the thread is stuck), is what failed. When
  // only a dependency is failing, its client library ends every trace: then only the failure
  // mode of the library's defaults links it (above).
  const dependencyFailing = signals.modes.length > 0 && signals.modes.every((m) => DEPENDENCY_MODES.has(m));
  const movedLibrary = dependencyFailing
    ? undefined
    : change.packages.find((p) => p.to !== null && p.from !== p.to && packageVariants(p.name).some((v) => signals.innermostFrames.some((f) => libraryFrame(v).test(f))));
  if (movedLibrary) {
    specific += 2;
    nameLinks++;
    weights.push(0.45);
    evidence.push(`the errors' stack traces end inside ${movedLibrary.name}, which it moves${movedLibrary.from ? ` from ${movedLibrary.from}` : ''} to ${movedLibrary.to}`);
  }
  // A regular expression with nested unbounded quantifiers (`.*(?:.*=.*)`) backtracks without
  // limit on some inputs: with CPU saturation or a regex engine in the errors, that is the link.
  const catastrophic = /\.[*+][^\n]{0,40}\.[*+][^\n]{0,40}\.[*+]|\((?:[^()]|\\\()*[*+]\)[*+]/.exec(change.addedText);
  if (catastrophic && (signals.modes.includes('capacity') || /\bre\.match|regex|regexp|pcre|backtrack|matcher/i.test(signals.errorText))) {
    specific += 2;
    weights.push(0.45);
    evidence.push(`it adds a regular expression with nested unbounded quantifiers (\`${catastrophic[0].slice(0, 40)}\`), which can backtrack without limit, and the incident shows ${signals.modes.includes('capacity') ? 'CPU saturation' : 'the regex engine in the errors'}`);
  }
  const flips = change.configChanges.filter((c) => isFlagValue(c.from) && isFlagValue(c.to));
  if (flips.length) {
    specific++;
    weights.push(0.15);
    evidence.push(`it flips ${flips.map((c) => `${c.key.split('.').pop()} (${c.from} → ${c.to})`).slice(0, 2).join(', ')}, switching code paths at rollout time`);
  }
  let valueShown = false;
  for (const c of elsewhere ? [] : change.configChanges) {
    if (c.to === null || !/^\d+(\.\d+)?$/.test(c.to) || c.to.length < 2) continue;
    const valueRe = new RegExp(`(^|[^\\d.])${c.to.replace('.', '\\.')}(?![\\d.])`);
    const sig = signals.incidentSignatures.find((s) => s.level === 'error' && valueRe.test(s.sample));
    if (sig) {
      specific++;
      valueShown = true;
      weights.push(0.35);
      evidence.push(`${describeConfigChange(c)}; errors show the new limit: "${sig.sample.slice(0, 120)}"`);
      break;
    }
  }
  // A changed setting that governs the failing mechanism (a pool size for pool exhaustion, a
  // timeout for timeouts, replicas for capacity) is specific evidence, unless the errors quote a
  // different limit than the one it now has (then it governs some other call).
  if (!valueShown) {
    const errorText = signals.incidentSignatures.filter((s) => s.level === 'error').slice(0, 8).map((s) => s.sample).join('\n');
    const quoted: Partial<Record<FailureMode, string[]>> = {
      timeout: [...errorText.matchAll(/(?:timed out|timeout|deadline)\D{0,20}?(\d+(?:\.\d+)?)\s?(?:ms|s)\b/gi)].map((m) => m[1]!),
      connection_pool: [...errorText.matchAll(/\(\s*\d+\s*\/\s*(\d+)\s*\)|pool\D{0,12}\d+\s*\/\s*(\d+)/gi)].map((m) => (m[1] ?? m[2])!),
    };
    for (const mode of shared) {
      // (a change event's descriptive fields, `host: …` with nothing before, are not settings that moved)
      const governing = change.configChanges.find((c) => c.to !== null && (!record || c.from !== null) && modesOfChange(c.key).includes(mode) && !raisesHeadroom(c, mode));
      if (!governing) continue;
      const limits = quoted[mode] ?? [];
      if (limits.length && !limits.includes(governing.to!)) continue;
      specific++;
      weights.push(0.2);
      evidence.push(`${describeConfigChange(governing)}: the setting governs ${modeLabel(mode).replace(/^a /, '')}, the failure the incident shows`);
      break;
    }
  }
  for (const c of change.configChanges.slice(0, 3)) {
    if (record && (c.from === null || c.to === null)) continue;
    if (!evidence.some((e) => e.startsWith(describeConfigChange(c)))) evidence.push(describeConfigChange(c));
  }
  // A change that only gives a resource more room (more instances, a bigger pool) cannot explain
  // that resource running out, whatever names it shares with the errors.
  const shortfall = signals.modes.filter((m) => ['connection_pool', 'capacity', 'memory', 'rate_limit', 'timeout'].includes(m));
  const sized = change.configChanges.filter(
    (c) => c.from !== null && c.to !== null && durationMs(c.from) !== null && durationMs(c.to) !== null && shortfall.some((m) => modesOfChange(c.key).includes(m)),
  );
  if (!codeFiles && shortfall.length && sized.length && sized.every((c) => shortfall.some((m) => raisesHeadroom(c, m)))) {
    specific = 0;
    nameLinks = 0;
    codeSpecific = 0;
    weights.length = 0;
    evidence.push(`it only gives more room (${sized.slice(0, 2).map((c) => `${c.key.split('.').pop()} ${c.from} → ${c.to}`).join(', ')}), which cannot explain running out of it`);
  }
  const match = 1 - weights.reduce((p, w) => p * (1 - w), 1);
  // When only a dependency is failing (upstream errors, timeouts, TLS, auth, rate limits, network)
  // and nothing in our own process is (memory, pools, rejected data…), the client code that talks
  // to it shows up in every error and every nearby change: code evidence then counts once at most,
  // and touching "upstream" code is never corroboration on its own.
  const dependencyOnly = signals.modes.length > 0 && signals.modes.every((m) => DEPENDENCY_MODES.has(m));
  specific += dependencyOnly ? Math.min(codeSpecific, 1) : codeSpecific;
  nameLinks += dependencyOnly ? Math.min(codeSpecific, 1) : codeSpecific;
  return {
    change,
    match,
    evidence,
    reverted: false,
    specific,
    nameLinks,
    modeMatched: shared.some((m) => m !== 'upstream') || libraryMode,
    flagFlip: flips.length > 0,
    delayed,
  };
}

const UNDO_WORDS = /\b(roll(ed|ing)?[ -]?back|revert(ed|ing)?|disabl(e|ed|ing)|turn(ed)? off|switch(ed)? off|kill(ed)? (the )?(switch|flag)|undo(ne)?|backed out|restor(e|ed|ing))\b/i;

/** What a responder says once an undo has happened ("rolled back", "revert is out"). */
const UNDO_DONE = /\b(rolled back|reverted|disabled|turned (it )?off|switched (it )?off|backed out|killed the (flag|switch)|(rollback|revert) (is |was )?(done|complete|completed|finished|out|deployed|merged|live))\b/i;
/** …unless it is a question, an offer, a plan or a refusal ("I can roll back", "nobody roll back X"). */
const NOT_DONE = /\?|\b(no|not|nobody|never|don'?t|didn'?t|won'?t|shouldn'?t|can|could|should|shall|will|would|let'?s|going to|about to|if|unless|unrelated|instead)\b/i;

interface Undo {
  by: DeploymentFact | null;
  how: string;
  atMs: number;
  revertedShas: Set<string>;
}

/**
 * The impact ended (or fell by more than half) within half an hour of `atMs`: the primary series
 * recovered then, or its level after is at most half way between its level before and baseline.
 */
function recoveredAfter(atMs: number, signals: IncidentSignals, facts?: IncidentFacts): boolean {
  const recovered = signals.recoveredMs;
  const spike = signals.primarySpike;
  const series = facts && spike ? facts.series.find((x) => x.metric === spike.metric && x.scope === spike.scope) : undefined;
  const window = (from: number, to: number) =>
    (series?.points ?? []).filter((p) => p[0] >= from && p[0] <= to && p[1] !== null).map((p) => p[1] as number).sort((a, b) => a - b);
  const median = (xs: number[]) => (xs.length ? xs[Math.floor(xs.length / 2)]! : null);
  const excessOf = (v: number) => (spike!.direction === 'up' ? v - spike!.baseline : spike!.baseline - v);
  // An undo after which the impact grew (a rollback that spread the failure) did not end it, even
  // if something else ended it soon after.
  const justBefore = median(window(atMs - 10 * 60_000, atMs));
  const justAfter = median(window(atMs + 60_000, atMs + 10 * 60_000));
  if (spike && justBefore !== null && justAfter !== null && excessOf(justBefore) > 0 && excessOf(justAfter) > 1.5 * excessOf(justBefore)) return false;
  if (recovered === null || (recovered >= atMs - 2 * 60_000 && recovered <= atMs + 30 * 60_000)) return true;
  if (!spike || !series || recovered < atMs) return false;
  const before = median(window(atMs - 15 * 60_000, atMs));
  const after = median(window(atMs + 2 * 60_000, atMs + 30 * 60_000));
  if (before === null || after === null) return false;
  return excessOf(before) > 0 && excessOf(after) <= excessOf(before) / 2;
}

const HANDLES = new WeakMap<DeploymentFact, string[]>();
const UNDO_TEXT = new WeakMap<DeploymentFact, string>();

/** What a later change says of itself, lower-case: where it names what it switches off. */
function undoTextOf(later: DeploymentFact): string {
  let text = UNDO_TEXT.get(later);
  if (text === undefined) {
    text = `${later.description}\n${later.commits.map((c) => `${c.subject}\n${c.configChanges.map((k) => `${k.key}: ${k.to}`).join('\n')}`).join('\n')}`.toLowerCase();
    UNDO_TEXT.set(later, text);
  }
  return text;
}

/** Distinct handles a responder or a later change may use for this change. */
function handlesOf(d: DeploymentFact): string[] {
  const cached = HANDLES.get(d);
  if (cached) return cached;
  const out = new Set<string>();
  if (d.sha && d.sha.length >= 7) out.add(d.sha.slice(0, 7).toLowerCase());
  for (const c of d.commits) if (c.sha.length >= 7) out.add(c.sha.slice(0, 7).toLowerCase());
  if (d.ref && d.ref.length >= 4 && !/^(main|master|head|trunk|develop|production|prod)$/i.test(d.ref)) out.add(d.ref.toLowerCase());
  if (String(d.id).length >= 4) out.add(String(d.id).toLowerCase());
  for (const c of d.commits) {
    for (const k of c.configChanges) {
      const last = k.key.split('.').pop() ?? k.key;
      if (last.length >= 8 && /[_.-]/.test(last)) out.add(last.toLowerCase());
    }
    for (const n of c.names) if (n.introduced && n.kind === 'name' && n.name.length >= 8) out.add(n.name.toLowerCase());
    // the ticket a change was made under (`NET-20931`) is how a later rollback names it
    for (const m of `${c.message}\n${c.addedText}`.matchAll(/\b[A-Z][A-Z0-9]{1,9}-\d{3,}\b/g)) out.add(m[0].toLowerCase());
  }
  for (const m of d.description.matchAll(/\b[A-Z][A-Z0-9]{1,9}-\d{3,}\b/g)) out.add(m[0].toLowerCase());
  const handles = [...out];
  HANDLES.set(d, handles);
  return handles;
}

function undoingChange(d: DeploymentFact, facts: IncidentFacts, signals: IncidentSignals): Undo | null {
  const all = facts.deployments;
  if (d.origin === 'github') {
    const sameRepo = all.filter((x) => x.origin === 'github' && x.repo === d.repo && x.environment === d.environment);
    const predecessor = sameRepo.filter((x) => x.index < d.index && x.finishedMs !== null).pop();
    const shas = new Set(d.commits.map((c) => c.sha));
    for (const later of sameRepo) {
      if (later.index <= d.index || later.finishedMs === null || later.finishedMs < signals.anomalyOnsetMs) continue;
      const revertedShas = new Set<string>();
      for (const c of later.commits) {
        if (!c.revertsSha) continue;
        for (const sha of shas) if (sha.startsWith(c.revertsSha) || c.revertsSha.startsWith(sha)) revertedShas.add(sha);
      }
      const latestBefore = sameRepo.filter((x) => x.index < later.index && x.finishedMs !== null).pop();
      // "Rollback to the previous release" with nothing more specific in it undoes the latest deployment.
      const targeted = later.commits.some((c) => c.revertsSha || c.packages.length || c.configChanges.length);
      const laterText = `${later.description}\n${later.commits.map((c) => c.subject).join('\n')}`.toLowerCase();
      // "Rollback of release-7" names what it undoes; a bare "rollback" undoes the latest deployment.
      const handlesWithRef = (x: DeploymentFact) => [...handlesOf(x), ...(x.ref && x.ref !== later.ref ? [x.ref.toLowerCase()] : [])];
      const named = sameRepo.filter((x) => x.index < later.index && x.finishedMs !== null && handlesWithRef(x).some((h) => h !== (later.sha ?? '').slice(0, 7).toLowerCase() && namesIn(laterText, h)));
      // "Rollback to v411" (or redeploying v411's commit) names where it returns to: what it undoes
      // is the latest deployment after that one.
      const destination =
        sameRepo.filter((x) => x.index < later.index && x.sha !== null && x.sha === later.sha).pop() ??
        named.find((x) => handlesWithRef(x).some((h) => new RegExp(`\\b(to|onto)\\s+${escapeRe(h)}\\b`).test(laterText)));
      const afterDestination = destination ? sameRepo.filter((x) => x.index > destination.index && x.index < later.index && x.finishedMs !== null).pop() : undefined;
      const target = destination ? afterDestination : named.length ? named[named.length - 1] : latestBefore;
      const saysRollback = target === d && !targeted && UNDO_WORDS.test(laterText);
      const rollback = (predecessor !== undefined && predecessor.sha !== null && later.sha === predecessor.sha) || (destination !== undefined && target === d) || saysRollback;
      if (!revertedShas.size && !rollback) continue;
      if (!recoveredAfter(later.finishedMs, signals, facts)) continue;
      const how = revertedShas.size
        ? `reverts ${[...revertedShas].map((s) => s.slice(0, 7)).join(', ')}`
        : predecessor?.sha && later.sha === predecessor.sha
          ? `rolls back to ${later.sha.slice(0, 7)}`
          : 'rolls it back';
      return { by: later, how, atMs: later.finishedMs, revertedShas };
    }
  }
  // A later change that sets a changed key back, or a change event that disables what it named.
  const keys = d.commits.flatMap((c) => c.configChanges).filter((c) => c.to !== null);
  for (const later of all) {
    if (later === d || later.finishedMs === null || later.finishedMs < signals.anomalyOnsetMs) continue;
    if (d.finishedMs !== null && later.finishedMs <= d.finishedMs) continue;
    const restored = later.commits.flatMap((c) => c.configChanges).find((c) => keys.some((k) => k.key.split('.').pop() === c.key.split('.').pop() && c.to === k.from && c.from === k.to));
    if (restored && recoveredAfter(later.finishedMs, signals, facts)) {
      const shas = new Set(d.commits.filter((c) => c.configChanges.some((k) => k.key.split('.').pop() === restored.key.split('.').pop())).map((c) => c.sha));
      const how = restored.to === null ? `removes ${restored.key.split('.').pop()} again` : `sets ${restored.key.split('.').pop()} back to ${restored.to}`;
      return { by: later, how, atMs: later.finishedMs, revertedShas: shas };
    }
    // (a pin through `overrides` or `resolutions` names only the version it goes back to)
    const pinned = later.commits.flatMap((c) => c.packages).find((p) => d.commits.some((c) => c.packages.some((q) => q.name === p.name && q.from !== null && q.from === p.to && (q.to === p.from || p.from === null))));
    if (pinned && recoveredAfter(later.finishedMs, signals, facts)) {
      const shas = new Set(d.commits.filter((c) => c.packages.some((q) => q.name === pinned.name)).map((c) => c.sha));
      return { by: later, how: `moves ${pinned.name} back to ${pinned.to}`, atMs: later.finishedMs, revertedShas: shas };
    }
  }
  // A later change that disables or rolls back what this one named (a flag turned off, a rule removed).
  const handles = handlesOf(d);
  for (const later of all) {
    if (later === d || later.finishedMs === null || later.finishedMs < signals.anomalyOnsetMs) continue;
    if (d.finishedMs !== null && later.finishedMs <= d.finishedMs) continue;
    const text = undoTextOf(later);
    const handle = handles.find((h) => namesIn(text, h, true));
    if (!handle) continue;
    const switchedOff = UNDO_WORDS.test(text) || later.commits.some((c) => c.configChanges.some((k) => namesIn(k.key.toLowerCase(), handle) && /^(false|off|no|disabled?|0%?)$/i.test(k.to ?? '')));
    if (switchedOff && recoveredAfter(later.finishedMs, signals, facts)) {
      return { by: later, how: `switches ${handle} off`, atMs: later.finishedMs, revertedShas: new Set() };
    }
  }
  // Responders saying they rolled this change back (by SHA, version, id or the setting it changed).
  if (handles.length) {
    for (const m of facts.chat) {
      if (m.ms < signals.anomalyOnsetMs || !UNDO_DONE.test(m.text) || NOT_DONE.test(m.text)) continue;
      const lower = m.text.toLowerCase();
      const handle = handles.find((h) => namesIn(lower, h));
      if (!handle || !recoveredAfter(m.ms, signals, facts)) continue;
      return { by: null, how: `a responder reported undoing it (naming ${handle}) at ${formatMs(m.ms)}`, atMs: m.ms, revertedShas: new Set() };
    }
  }
  return null;
}

const DESTRUCTIVE = /\b(prun(?:e|ed|es|ing)|delet(?:e|ed|es|ing)|deschedul\w*|drain(?:ed|ing|s)?|evict\w*|withdr[ae]w\w*|remov(?:e|ed|es|ing)|purg(?:e|ed|es|ing)|drop(?:ped|ping|s)?|truncat\w*|wip(?:e|ed|es|ing)|destroy\w*|decommission\w*|shut(?:ting)? down|kill(?:ed|ing|s)?)\b/i;

/** What names one rollout in a tool's log lines: its release ref, commit SHAs and ticket ids. */
function identityHandles(d: DeploymentFact): string[] {
  const out = new Set<string>();
  if (d.ref && d.ref.length >= 4 && /\d/.test(d.ref) && !/^(main|master|head|trunk|develop|production|prod)$/i.test(d.ref)) out.add(d.ref);
  for (const x of [d.sha, ...d.commits.map((c) => c.sha)]) if (x && x.length >= 7) out.add(x.slice(0, 7));
  for (const text of [d.description, ...d.commits.map((c) => c.message)]) for (const m of text.matchAll(/\b[A-Z][A-Z0-9]{1,9}-\d{3,}\b/g)) out.add(m[0]);
  return [...out];
}

/** Values a change adds (`regions/services`, `priority=infra`, `use4-b`): tokens with a digit or a separator. */
function addedValues(added: string): string[] {
  const out = new Set<string>();
  for (const raw of added.split(/[\s"'`,;()[\]{}]+/)) {
    const t = raw.replace(/^[#:+-]+|[:.]+$/g, '');
    if (t.length >= 6 && t.length <= 80 && /[a-z]/i.test(t) && /[\d/=._-]/.test(t) && !/^https?:/i.test(t)) out.add(t);
  }
  return [...out];
}

interface RolloutActions {
  handle: string;
  verb: string;
  sample: string;
  firstMs: number;
  /** a value the change adds, quoted by those logs, and the commit that adds it */
  quoted: { sha: string; value: string } | null;
  /** a component those logs act on whose name the errors also carry */
  reaches: string | null;
}

/**
 * Log lines that name this rollout (by release, SHA or ticket), seen only from its start, that show
 * it removing or stopping things by the time the failure began. They link it only when they also
 * quote a value it adds or act on a component the errors name: a tool logging its routine steps
 * links nothing.
 */
function rolloutActions(d: DeploymentFact, facts: IncidentFacts, signals: IncidentSignals, ownNames: string[]): RolloutActions | null {
  const handles = identityHandles(d);
  if (!handles.length) return null;
  const start = d.createdMs - 60_000;
  let handle = '';
  const named = facts.logSignatures.filter((sig) => {
    const h = handles.find((x) => namesIn(sig.sample, x));
    if (h && !handle) handle = h;
    return h !== undefined;
  });
  if (!named.length || named.some((sig) => sig.firstMs < start)) return null;
  const acts = named.filter((sig) => sig.firstMs <= signals.anomalyOnsetMs + 2 * 60_000 && DESTRUCTIVE.test(sig.sample));
  if (!acts.length) return null;
  const lowerHandles = handles.map((h) => h.toLowerCase());
  let quoted: RolloutActions['quoted'] = null;
  for (const c of d.commits) {
    const removed = c.removedText.toLowerCase();
    const value = addedValues(c.addedText).find((v) => !lowerHandles.includes(v.toLowerCase()) && !removed.includes(v.toLowerCase()) && acts.some((sig) => namesIn(sig.sample, v)));
    if (value) {
      quoted = { sha: c.sha, value };
      break;
    }
  }
  // components acted on (`netctl-sdn.17`) and failing (`netctl-bgp-speaker.26`) share a name no log had before the rollout
  const seenBefore = new Set(facts.logSignatures.filter((sig) => sig.firstMs < start).flatMap((sig) => identifiersOf(sig.template)));
  const compoundParts = (text: string) => new Set([...text.matchAll(/\b[a-z][a-z0-9]*(?:[-.][a-z0-9]+)+\b/gi)].flatMap((m) => identifiersOf(m[0].replace(/[-.]/g, ' '))));
  const failing = compoundParts(signals.errorText);
  let reaches: string | null = null;
  for (const sig of acts) {
    reaches = [...compoundParts(sig.sample)].find((t) => t.length >= 5 && failing.has(t) && !seenBefore.has(t) && !ownNames.includes(t) && !lowerHandles.some((h) => h.includes(t)) && !DESTRUCTIVE.test(t)) ?? null;
    if (reaches) break;
  }
  if (!quoted && !reaches) return null;
  const first = acts.reduce((a, b) => (b.firstMs < a.firstMs ? b : a));
  return { handle, verb: DESTRUCTIVE.exec(first.sample)![0], sample: first.sample, firstMs: first.firstMs, quoted, reaches };
}

const COMMON_NUMBERS = /^(100|200|201|202|204|301|302|304|400|401|403|404|405|408|409|410|422|429|500|501|502|503|504|1000|1024|2048|4096|8080|8443)$/;

/**
 * A log-writing component named in the change's added lines whose logs start after the change went
 * live (and before the onset) quoting a number (three digits or more, not a status code, port or
 * duration) that the error logs then quote and no log showed before the change.
 */
function relayedValue(d: DeploymentFact, facts: IncidentFacts, signals: IncidentSignals, ownNames: string[]): { component: string; value: string; sample: string; firstMs: number; sha: string } | null {
  if (d.origin !== 'github' || d.finishedMs === null) return null;
  const start = d.createdMs - 60_000;
  const errorSamples = signals.incidentSignatures.filter((sig) => sig.level === 'error').slice(0, 10).map((sig) => sig.detail);
  if (!errorSamples.length) return null;
  const numbers = (text: string) => [...text.matchAll(/(?<![\d.:\w-])(\d{3,6})(?![\d.]|\s?(?:ms|s|sec|seconds|m|min|h|%|x)\b)/g)].map((m) => m[1]!).filter((n) => !COMMON_NUMBERS.test(n) && !/^(19|20)\d\d$/.test(n));
  const quoted = new Set(errorSamples.flatMap(numbers));
  if (!quoted.size) return null;
  let before: string | null = null;
  const seenBefore = (n: string) => new RegExp(`(?<![\\d.])${n}(?![\\d.])`).test((before ??= facts.logSignatures.filter((sig) => sig.firstMs < start).map((sig) => sig.sample).join('\n')));
  const services = new Set(facts.logSignatures.flatMap((sig) => sig.services.map((x) => x.toLowerCase())));
  for (const c of d.commits) {
    const added = c.addedText.toLowerCase();
    for (const component of services) {
      if (component.length < 5 || ownNames.includes(component) || !namesIn(added, component, true)) continue;
      const sig = facts.logSignatures.find(
        (x) => x.services.some((y) => y.toLowerCase() === component) && x.level !== 'error' && x.firstMs >= start && x.firstMs <= signals.anomalyOnsetMs + 2 * 60_000 && numbers(x.sample).some((n) => quoted.has(n) && !seenBefore(n)),
      );
      if (!sig) continue;
      const value = numbers(sig.sample).find((n) => quoted.has(n))!;
      return { component, value, sample: sig.sample, firstMs: sig.firstMs, sha: c.sha };
    }
  }
  return null;
}

function candidateKind(d: DeploymentFact): CandidateAssessment['kind'] {
  if (d.origin !== 'github') return 'change_event';
  const configOnly =
    d.commits.length > 0 &&
    d.commits.every((c) => c.files.every((f) => ['config', 'infra', 'docs', 'test', 'ci', 'migration'].includes(f.cls)) && c.files.some((f) => f.cls === 'config' || f.cls === 'infra'));
  return configOnly || SHARED_REPO.test(d.repo?.split('/').pop() ?? '') && !d.commits.some((c) => c.files.some((f) => f.cls === 'source')) ? 'config_change' : 'deployment';
}

/** A rollout of config, flags, data, policy or rules: it changes behaviour of code already running. */
function isExposer(c: CandidateAssessment): boolean {
  if (c.kind === 'change_event' || c.kind === 'config_change') return true;
  if (c.culprit?.flagFlip) return true;
  return c.deployment.commits.length > 0 && c.deployment.commits.every((x) => x.files.every((f) => f.cls !== 'source' && f.cls !== 'frontend'));
}

/**
 * Whether an older code change handles what a rollout changed: a distinctive name both contain
 * (`node-role.kubernetes.io/master`), or a compound identifier whose parts the rollout names
 * (`StateRetain` and `key_state: retain`).
 */
function sharesSubject(code: DeploymentFact, rollout: DeploymentFact, services: string[], rolloutLogs = ''): boolean {
  const text = `${rollout.commits.map((c) => `${c.message}\n${c.addedText}\n${c.removedText}`).join('\n')}\n${rolloutLogs}`.toLowerCase();
  if (!text.trim()) return false;
  const words = new Set(text.split(/[^a-z0-9]+/).filter((w) => w.length >= 3));
  for (const c of code.commits) {
    for (const n of c.names) {
      if (n.kind === 'package' || n.name.length < 10 || !/[./:]/.test(n.name)) continue;
      if (services.some((sv) => n.name.toLowerCase().includes(sv))) continue;
      if (text.includes(n.name.toLowerCase())) return true;
    }
    for (const id of c.identifiers) {
      if (!/[a-z][A-Z]/.test(id)) continue;
      const parts = subwords(id);
      if (parts.length >= 2 && parts.every((p) => words.has(p))) return true;
    }
  }
  return false;
}

/** Shipped code (not only settings or data): what an exposing rollout can reveal as a latent defect. */
function shipsCode(c: CandidateAssessment): boolean {
  return c.deployment.origin === 'github' && c.deployment.commits.some((x) => x.files.some((f) => f.cls === 'source' || f.cls === 'frontend'));
}

export function assessTrigger(facts: IncidentFacts, signals: IncidentSignals): TriggerAssessment {
  const onset = signals.anomalyOnsetMs;
  const onsetWhat = signals.anomalySource === signals.impactSource ? `the onset (${signals.impactSource})` : `the first anomaly (${signals.anomalySource})`;
  const candidates: CandidateAssessment[] = [];
  const serviceName = facts.service?.toLowerCase() ?? null;
  const serviceNames = serviceName ? [serviceName, ...nameTokens(serviceName)] : [];
  const known = new Set<string>();
  for (const d of facts.deployments) {
    if (d.repo) known.add(d.repo.split('/').pop()!.toLowerCase());
    for (const sv of d.services) known.add(sv.toLowerCase());
  }
  for (const set of facts.repoServices.values()) for (const sv of set) known.add(sv.toLowerCase());
  for (const sig of facts.logSignatures) for (const sv of sig.services) known.add(sv.toLowerCase());
  const otherServices = [...known].filter((n) => n.length >= 4 && n !== serviceName && !serviceNames.includes(n) && !SHARED_REPO.test(n));
  const ruledOut = (d: DeploymentFact, reasons: string[]): CandidateAssessment => ({
    deployment: d, score: 0, ruledIn: false, role: 'ruled_out', reasons, evidence: [], culprit: null, kind: candidateKind(d), undoneBy: null, corroborated: false, exposer: false,
  });

  // One undo undoes one change: when a rollback could be credited to several, the change it names
  // (reverted commits, restored settings) keeps it; otherwise the latest change before it does.
  const undos = new Map<DeploymentFact, Undo>();
  for (const d of facts.deployments) {
    if (d.finishedMs === null || d.finishedMs > onset) continue;
    const u = undoingChange(d, facts, signals);
    if (u) undos.set(d, u);
  }
  const byUndo = new Map<string, DeploymentFact[]>();
  for (const [d, u] of undos) {
    const key = u.by ? changeKey(u.by) : u.how;
    byUndo.set(key, [...(byUndo.get(key) ?? []), d]);
  }
  for (const group of byUndo.values()) {
    if (group.length < 2) continue;
    const targeted = group.filter((d) => undos.get(d)!.revertedShas.size > 0);
    // Otherwise the change whose content best explains the failure, the latest on a tie.
    const fit = (d: DeploymentFact) => Math.max(0, ...d.commits.map((c) => assessCommit(c, signals, serviceNames, otherServices).match));
    const keep = targeted.length ? targeted : [group.reduce((a, b) => (fit(b) > fit(a) || (fit(b) === fit(a) && (b.finishedMs ?? 0) > (a.finishedMs ?? 0)) ? b : a))];
    for (const d of group) if (!keep.includes(d)) undos.delete(d);
  }

  for (const d of facts.deployments) {
    const reasons: string[] = [];
    const evidence: string[] = [];
    const finished = d.finishedMs;
    if (finished === null) {
      const never = d.state === 'failure' || d.state === 'error' ? `its rollout ended in ${d.state} at ${formatMs(d.stateMs)} and never served traffic` : `it has no successful status (last state: ${d.state})`;
      candidates.push(ruledOut(d, [`ruled out: ${never}`]));
      continue;
    }
    // A rolling deployment that was under way when the first anomaly appeared, and complete before
    // users were hit, was already changing the system: it stays a candidate.
    const rolling = finished > onset && d.origin === 'github' && d.createdMs <= onset && finished <= signals.impactOnsetMs;
    if (finished > onset && !rolling) {
      const after = formatDuration(finished - onset);
      const undo = d.commits.some((c) => c.revertsSha) || /rollback|roll back|revert|mitigat|hotfix|fix|disabl/i.test(d.description);
      reasons.push(`ruled out: went live at ${formatMs(finished)}, ${after} after ${onsetWhat}${undo ? '; it is a rollback or fix and belongs in the timeline' : ''}`);
      candidates.push(ruledOut(d, reasons));
      continue;
    }
    const delta = Math.max(0, onset - finished);
    reasons.push(
      rolling
        ? `was rolling out from ${formatMs(d.createdMs)} when ${onsetWhat} began, and completed at ${formatMs(finished)}, before the impact`
        : `went live at ${formatMs(finished)}, ${formatDuration(delta)} before ${onsetWhat}`,
    );

    const ownRepo = (() => {
      const repoName = d.repo?.split('/').pop()?.toLowerCase() ?? '';
      return repoName !== '' && (repoName === serviceName || nameTokens(repoName).some((t) => serviceNames.includes(t)) || (d.repo !== null && serviceName !== null && [...(facts.repoServices.get(d.repo) ?? [])].some((x) => x.toLowerCase() === serviceName)));
    })();
    const commits = d.commits.map((c) => assessCommit(c, signals, serviceNames, otherServices, !ownRepo));
    const mentionsService =
      serviceName !== null &&
      (d.services.some((s) => s.toLowerCase() === serviceName) ||
        d.commits.some((c) => c.addedText.toLowerCase().includes(serviceName) || c.files.some((f) => f.filename.toLowerCase().includes(serviceName))));
    let affinity = repoAffinity(facts, d, mentionsService);

    const undo = undos.get(d) ?? null;
    if (undo) {
      for (const ca of commits) if (undo.revertedShas.has(ca.change.sha)) ca.reverted = true;
    }

    // Culprit: the commit whose diff best explains the failure (reverted commits first), else the head.
    const ranked = commits
      .slice()
      .sort((a, b) => Number(b.reverted) - Number(a.reverted) || b.match - a.match || b.change.risk - a.change.risk);
    let culprit = ranked[0] ?? null;
    if (culprit && culprit.match === 0 && !culprit.reverted) {
      const maxRisk = Math.max(...commits.map((c) => c.change.risk));
      culprit = commits.find((c) => c.change.sha === d.sha && c.change.risk === maxRisk) ?? commits.find((c) => c.change.risk === maxRisk) ?? culprit;
    }
    // A flag switched on for this service minutes before our own code started failing is the
    // classic trigger of a latent defect, even when the errors do not name the flag.
    const ownFailure = !(signals.modes.length > 0 && signals.modes.every((m) => DEPENDENCY_MODES.has(m)));
    if (culprit?.flagFlip && delta <= 10 * 60_000 && affinity.value >= 0.9 && ownFailure) {
      culprit.specific++;
      culprit.match = 1 - (1 - culprit.match) * 0.7;
      culprit.evidence.push(`the flag switched ${formatDuration(delta)} before ${onsetWhat}, and the failure is in the service's own code`);
    }
    // Cascades: the errors name, as the failing dependency, the very service this change deploys.
    const deployed = [...new Set([d.repo?.split('/').pop() ?? '', ...d.services, ...(d.repo ? [...(facts.repoServices.get(d.repo) ?? [])] : [])])]
      .filter((n) => n.length >= 4 && n.toLowerCase() !== serviceName && !serviceNames.includes(n.toLowerCase()));
    const upstream = deployed.find((n) => namesIn(signals.errorText, n));
    if (culprit && upstream && culprit.change.risk >= 0.25 && !culprit.evidence.some((e) => /^the change (names|brings in)/.test(e) && e.includes(`\`${upstream}\``))) {
      culprit.specific++;
      culprit.nameLinks++;
      // a code change to the dependency that failed is the cascade's mechanism; a settings change
      // to it needs its own link to the failure
      if (d.commits.some((x) => x.files.some((f) => f.cls === 'source'))) culprit.modeMatched = true;
      // restarting the very component the errors name, at the moment they began
      else if (rolling) {
        culprit.specific++;
        culprit.evidence.push(`its rollout was restarting ${upstream} when the first anomaly began`);
      }
      culprit.match = 1 - (1 - culprit.match) * 0.55;
      culprit.evidence.push(`the errors name ${upstream}, the service this change deploys, as the dependency that failed`);
    }
    if (upstream && affinity.value < 0.9) affinity = { value: 0.9, reason: `${d.repo ?? describeChange(d)} deploys ${upstream}, which the errors name as the failing dependency` };
    reasons.push(affinity.reason);
    // The errors quote the release this change put live (`ruleset=managed/2019.07.02-3`), a version
    // no log showed before it.
    const earlyErrors = signals.incidentSignatures.filter((s) => s.firstMs <= signals.anomalyOnsetMs + 15 * 60_000).map((s) => s.detail).join('\n');
    // a change event's own revision ("lbconfig rev 88213 pushed") quoted as a revision by the errors
    const revision = /\b(?:rev(?:ision)?|version|build|serial)\s*[#:=]?\s*v?(\d[\w.-]{2,})/i.exec(d.description)?.[1] ?? null;
    const revisionQuoted =
      revision !== null && d.origin !== 'github' && new RegExp(`\\b(?:rev(?:ision)?|version|build|serial)\\s*[#:=]?\\s*v?${escapeRe(revision)}\\b`, 'i').test(earlyErrors);
    const release = revisionQuoted ? revision : d.ref && d.ref.length >= 5 && /\d/.test(d.ref) && /[.-]/.test(d.ref) ? d.ref : null;
    if (culprit && release && (revisionQuoted || namesIn(earlyErrors, release)) && !facts.logSignatures.some((s) => (s.level === 'info' || s.level === 'debug') && s.sample.includes(release) && s.firstMs < (d.finishedMs ?? 0))) {
      culprit.specific += 2;
      culprit.nameLinks++;
      culprit.match = 1 - (1 - culprit.match) * 0.55;
      culprit.evidence.push(`the errors name ${release}, the release this change put live`);
    }
    // The change's own tool logging what it does (naming its release or ticket) as the failure
    // begins: removing, pruning or descheduling the very things its new values select.
    const acts = rolloutActions(d, facts, signals, [...deployed, ...serviceNames]);
    if (acts) {
      const target = (acts.quoted && !culprit?.reverted ? commits.find((c) => c.change.sha === acts.quoted!.sha) : undefined) ?? culprit;
      if (target) {
        culprit = target;
        target.specific += acts.quoted && acts.reaches ? 3 : 2;
        target.nameLinks++;
        // removing the very component the errors miss, under the value the change sets, is the mechanism itself
        target.match = 1 - (1 - target.match) * (acts.quoted && acts.reaches ? 0.35 : 0.55);
        target.evidence.push(
          `from ${formatMs(acts.firstMs)} its own rollout logs (naming ${acts.handle}) show it ${acts.verb.toLowerCase()}${acts.quoted ? ` under the new \`${acts.quoted.value}\` it sets` : ''}${acts.reaches ? `, reaching \`${acts.reaches}\`, which the errors name` : ''}: "${acts.sample.slice(0, 140)}"`,
        );
      }
    }
    // A component the change names (a grantee, a job, a consumer) whose own logs, from the change
    // on, carry the very number the errors quote: the change reached the failure through it.
    const relay = relayedValue(d, facts, signals, [...deployed, ...serviceNames]);
    if (relay) {
      const target = (!culprit?.reverted ? commits.find((c) => c.change.sha === relay.sha) : undefined) ?? culprit;
      if (target) {
        culprit = target;
        target.specific += 2;
        target.nameLinks++;
        target.match = 1 - (1 - target.match) * 0.55;
        target.evidence.push(`it names ${relay.component}, whose logs from ${formatMs(relay.firstMs)} on carry ${relay.value}, the value the errors quote: "${relay.sample.slice(0, 140)}"`);
      }
    }
    const risk = d.commits.length ? Math.max(...d.commits.map((c) => c.risk)) : 0.3;
    const match = culprit?.match ?? 0;
    if (d.commits.length === 0) reasons.push('no commit details in the bundle for this deployment');
    else if (risk < 0.25) reasons.push(`its commits ${(culprit?.change.riskReason ?? 'touch nothing that runs').replace(/^touches /, 'touch ')}, which cannot change runtime behaviour`);
    else if (culprit && d.origin === 'github') reasons.push(`${culprit.change.sha.slice(0, 7)} ${culprit.change.riskReason}`);

    const t = timeWeight(delta, culprit?.delayed ? DELAYED_TIME_SCALE_MS : TIME_SCALE_MS);
    let score = 0.2 * t + 0.1 * affinity.value + 0.15 * risk + 0.55 * match;
    if (undo) score += 0.25;
    const nonProd = isNonProduction(d.environment);
    if (nonProd) {
      score *= 0.2;
      reasons.push(`environment "${d.environment}" does not serve production traffic`);
    }
    if (risk < 0.25) score = Math.min(score, 0.3);
    score = Math.max(0, Math.min(0.99, score));

    evidence.push(`${describeChange(d)} went live at ${formatMs(finished)}, ${formatDuration(delta)} before ${onsetWhat} at ${formatMs(onset)}`);
    if (culprit) {
      if (d.origin === 'github') evidence.push(`commit ${culprit.change.sha.slice(0, 12)} "${culprit.change.subject}" ${culprit.change.riskReason}`);
      else evidence.push(`the change event says "${culprit.change.subject.slice(0, 160)}"`);
      evidence.push(...culprit.evidence);
    }
    if (undo) {
      evidence.push(
        undo.by
          ? `${describeChange(undo.by)} ${undo.how}; it went live at ${formatMs(undo.atMs)} and the impact ended${signals.recoveredMs !== null ? ` at ${formatMs(signals.recoveredMs)}` : ' after it'}`
          : `${undo.how}, and the impact ended${signals.recoveredMs !== null ? ` at ${formatMs(signals.recoveredMs)}` : ' after it'}`,
      );
    }
    if (d.echoes.length) evidence.push(`also recorded as ${d.echoes.slice(0, 2).join(' and ')}`);
    const roomOnly = culprit?.evidence.find((e) => e.startsWith('it only gives more room'));
    if (roomOnly && !undo) reasons.push(roomOnly);
    else if (match === 0 && !undo) reasons.push('nothing in its content matches the error signatures, alerts or failure mode');
    else if (match > 0) reasons.push(...(culprit?.evidence.slice(0, 2) ?? []));
    if (undo) reasons.push(undo.by ? `undone by ${describeChange(undo.by)}, after which the impact ended` : `${undo.how}; the impact ended after it`);

    const c: CandidateAssessment = {
      deployment: d,
      score,
      ruledIn: false,
      role: 'ruled_out',
      reasons,
      evidence,
      culprit,
      kind: candidateKind(d),
      undoneBy: undo?.by ?? null,
      corroborated: false,
      exposer: false,
    };
    // Conviction needs an undo that ended the impact, or independent evidence in the content: two
    // specific links, or one specific link in the failure mode the incident shows.
    // A rollback deployment, a revert or a setting restored is evidence on its own; a responder's
    // word that they undid it corroborates only a change whose content already meets the failure.
    const undoCounts = undo !== null && (undo.by !== null || (culprit?.specific ?? 0) >= 1);
    c.corroborated = !nonProd && (undoCounts || (culprit !== null && (culprit.specific >= 2 || (culprit.specific >= 1 && culprit.modeMatched))));
    // A change live for more than a week did not start the incident when it did (unless undoing it
    // ended it): its code can only be a latent defect that something else exercised.
    if (c.corroborated && delta > MAX_TRIGGER_AGE_MS && !(undo && undo.by)) {
      c.corroborated = false;
      c.stale = true;
      reasons.push(`it had been live for ${formatDuration(delta)} without failing, too long to have started the incident when it did`);
    }
    c.exposer = isExposer(c);
    candidates.push(c);
  }

  candidates.sort((a, b) => b.score - a.score || (b.deployment.finishedMs ?? 0) - (a.deployment.finishedMs ?? 0));
  const convictable = candidates.filter((c) => c.score >= TRIGGER_THRESHOLD && c.corroborated);
  let trigger: CandidateAssessment | null = convictable[0] ?? null;
  let latent: CandidateAssessment | null = null;
  if (trigger && !trigger.exposer && !trigger.undoneBy) {
    // Trigger versus latent defect: when a config, flag, data or policy rollout that the errors
    // also name went live after the code it exercises, the rollout started the incident when it
    // did; the older code is the latent defect.
    const exposing = convictable
      .filter((c) => c.exposer && c !== trigger && (c.culprit?.nameLinks ?? 0) >= 1 && c.deployment.finishedMs! > trigger!.deployment.finishedMs!)
      .sort((a, b) => b.deployment.finishedMs! - a.deployment.finishedMs!)[0];
    if (exposing && !trigger.culprit?.delayed) {
      latent = trigger;
      trigger = exposing;
    }
  }
  let reason: string;
  const best = candidates[0];
  if (!best) {
    reason = 'No deployment or change event is recorded in the bundle, so no change can be named as the trigger.';
  } else if (trigger) {
    trigger.ruledIn = true;
    trigger.role = 'trigger';
    reason = `${describeChange(trigger.deployment)} has the strongest evidence of the changes that went live before the onset.`;
    if (!latent && trigger.exposer) {
      // what the rollout did, in the logs written while it went out
      const rolloutLogs = facts.logSignatures
        .filter((sig) => sig.firstMs >= trigger!.deployment.createdMs - 5 * 60_000 && sig.firstMs <= signals.anomalyOnsetMs + 5 * 60_000)
        .slice(0, 50)
        .map((sig) => sig.sample)
        .join('\n');
      const older = (c: CandidateAssessment) =>
        c !== trigger && c.culprit !== null && c.deployment.finishedMs !== null && c.deployment.finishedMs <= trigger!.deployment.finishedMs! && !isNonProduction(c.deployment.environment);
      // Code the errors point at, shipped before the exposing rollout…
      latent =
        candidates.find(
          (c) =>
            older(c) &&
            (shipsCode(c) || (c.culprit!.nameLinks >= 1 && c.reasons.some((r) => r.includes('but the change names')))) &&
            c.culprit!.specific >= 1 &&
            c.culprit!.match >= 0.25,
        ) ??
        // …or code that handles exactly what the rollout changed (the label, key or state it names).
        candidates.find(
          (c) => older(c) && c.deployment.origin === 'github' && c.deployment.commits.some((x) => x.risk >= 0.45) && sharesSubject(c.deployment, trigger!.deployment, otherServices.concat(serviceNames), rolloutLogs),
        ) ??
        null;
    }
    // A close second lowers confidence (the latent defect is not a rival: it is part of the story).
    const runnerUp = convictable.find((c) => c !== trigger && c !== latent);
    if (runnerUp && runnerUp.score > trigger.score - 0.1) {
      trigger.score = Math.max(0, trigger.score - 0.1);
      trigger.evidence.push(`${describeChange(runnerUp.deployment)} is a close second (score ${runnerUp.score.toFixed(2)})`);
    }
    trigger.reasons.unshift(`ruled in: score ${trigger.score.toFixed(2)}`);
    if (latent) {
      latent.role = 'latent_defect';
      latent.reasons.unshift(`latent defect: it shipped the code that ${describeChange(trigger.deployment)} exposed; part of the root cause, not the trigger`);
      reason += ` It exposed code shipped earlier by ${describeChange(latent.deployment)}.`;
    }
  } else {
    const before = candidates.filter((c) => c.deployment.finishedMs !== null && c.deployment.finishedMs <= onset);
    reason = before.length
      ? `No change explains the incident: ${before.length} change${before.length > 1 ? 's' : ''} went live before ${onsetWhat}, but none has content that matches the failure (${
          best.score >= TRIGGER_THRESHOLD ? `best score ${best.score.toFixed(2)}, with no corroborating evidence in its content` : `best score ${best.score.toFixed(2)} < ${TRIGGER_THRESHOLD}`
        }).`
      : `No change explains the incident: no change went live before ${onsetWhat}.`;
    // Old code whose content meets the failure, exercised by something no change records (user
    // content, traffic, data): the latent defect, not a trigger.
    latent = candidates.find((c) => c.stale && shipsCode(c)) ?? null;
    if (latent) {
      latent.role = 'latent_defect';
      latent.reasons.unshift('latent defect: its code meets the failure, but nothing recorded changed it before the onset; something else (traffic, data, content) exercised it');
      reason += ` The failing code was shipped long before by ${describeChange(latent.deployment)}: a latent defect.`;
    }
  }
  for (const c of candidates) {
    if (c === trigger || c === latent) continue;
    if (!c.reasons[0]?.startsWith('ruled out')) c.reasons.unshift(`ruled out: score ${c.score.toFixed(2)}${c.score >= TRIGGER_THRESHOLD ? ' without content that matches the failure' : ''}`);
  }
  // Best first, with the trigger and its latent defect on top.
  const rank = (c: CandidateAssessment) => (c === trigger ? 0 : c === latent ? 1 : 2);
  candidates.sort((a, b) => rank(a) - rank(b) || b.score - a.score || (b.deployment.finishedMs ?? 0) - (a.deployment.finishedMs ?? 0));
  return { candidates, trigger, reason, latent };
}

