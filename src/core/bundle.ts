// Context bundle v1: the one input of every analysis (docs/context-bundle.md).
// Vendor field names and time formats are kept as the vendors return them; only the fields the
// analysis relies on are declared, everything else passes through untouched.
import { z } from 'zod';
import { epochSecondsToMs, parseAnyTimeMs, parseIsoMs, parseSlackTsMs } from './time.js';

// Date's own range: a time beyond it cannot even be printed.
const MAX_TIME_MS = 8.64e15;
const inTimeRange = (ms: number | null): ms is number => ms !== null && Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS;

const isoTime = z.string().refine((s) => parseIsoMs(s) !== null, { message: 'not an ISO-8601 time' });
const optionalIsoTime = isoTime.nullish();
const id = z.union([z.string(), z.number()]);
const epochSeconds = z.number().refine((n) => inTimeRange(epochSecondsToMs(n)), { message: 'not a time' });
const loose = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);
const reference = loose({ type: z.string().nullish(), summary: z.string().nullish() }).nullish();

const incidentSchema = loose({
  id: z.string().min(1, 'must not be empty'),
  source: z.string().nullish(),
  title: z.string().nullish(),
  service: z.string().nullish(),
  severity: z.string().nullish(),
  status: z.string().nullish(),
  created_at: isoTime,
  acknowledged_at: optionalIsoTime,
  resolved_at: optionalIsoTime,
  url: z.string().nullish(),
});

const pagerdutySchema = loose({
  log_entries: z
    .array(
      loose({
        id: id.nullish(),
        type: z.string(),
        created_at: isoTime,
        summary: z.string().nullish(),
        agent: reference,
        user: reference,
        channel: loose({ type: z.string().nullish(), summary: z.string().nullish() }).nullish(),
      }),
    )
    .nullish(),
  alerts: z
    .array(
      loose({
        id: id.nullish(),
        created_at: isoTime,
        summary: z.string().nullish(),
        severity: z.string().nullish(),
      }),
    )
    .nullish(),
  // GET /change_events or /incidents/{id}/related_change_events: rollouts recorded outside git
  // deployments (config, flags, data, infra), kept in PagerDuty's own shape.
  change_events: z
    .array(
      loose({
        id: id.nullish(),
        timestamp: isoTime,
        summary: z.string().nullish(),
        type: z.string().nullish(),
        source: z.string().nullish(),
        services: z.array(loose({ id: z.string().nullish(), summary: z.string().nullish() })).nullish(),
        integration: loose({ id: z.string().nullish(), summary: z.string().nullish() }).nullish(),
        links: z.array(loose({ href: z.string().nullish(), text: z.string().nullish() })).nullish(),
        custom_details: z.record(z.string(), z.unknown()).nullish(),
      }),
    )
    .nullish(),
});

const opsgenieSchema = loose({
  logs: z
    .array(
      loose({ log: z.string(), type: z.string().nullish(), owner: z.string().nullish(), createdAt: isoTime }),
    )
    .nullish(),
});

const slackSchema = loose({
  channel: loose({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
  messages: z
    .array(
      loose({
        ts: z.string().refine((s) => inTimeRange(parseSlackTsMs(s)), { message: 'not a Slack ts' }),
        user: z.string().nullish(),
        text: z.string().nullish(),
        thread_ts: z.string().nullish(),
        subtype: z.string().nullish(),
        bot_id: z.string().nullish(),
      }),
    )
    .nullish(),
  users: z
    .record(
      z.string(),
      loose({ name: z.string().nullish(), real_name: z.string().nullish(), is_bot: z.boolean().nullish() }),
    )
    .nullish(),
});

const githubFileSchema = loose({
  filename: z.string(),
  status: z.string().nullish(),
  additions: z.number().nullish(),
  deletions: z.number().nullish(),
  patch: z.string().nullish(),
});

const githubRepoSchema = loose({
  full_name: z.string().min(1),
  deployments: z
    .array(
      loose({
        id: id,
        sha: z.string(),
        ref: z.string().nullish(),
        environment: z.string().nullish(),
        created_at: isoTime,
        description: z.string().nullish(),
        creator: loose({ login: z.string().nullish(), type: z.string().nullish() }).nullish(),
        statuses: z
          .array(loose({ state: z.string(), created_at: isoTime, description: z.string().nullish() }))
          .nullish(),
      }),
    )
    .nullish(),
  commits: z
    .array(
      loose({
        sha: z.string(),
        commit: loose({
          message: z.string().nullish(),
          author: loose({ name: z.string().nullish(), email: z.string().nullish(), date: optionalIsoTime }).nullish(),
          committer: loose({ name: z.string().nullish(), email: z.string().nullish(), date: optionalIsoTime }).nullish(),
        }).nullish(),
        author: loose({ login: z.string().nullish(), type: z.string().nullish() }).nullish(),
        files: z.array(githubFileSchema).nullish(),
      }),
    )
    .nullish(),
  deployment_commits: z.record(z.string(), z.array(z.string())).nullish(),
});

const datadogSchema = loose({
  metrics: z
    .array(
      loose({
        metric: z.string(),
        expression: z.string().nullish(),
        scope: z.string().nullish(),
        interval: z.number().nullish(),
        // Points and log lines are checked by plain loops below (checkPointlist, checkLogLine):
        // a per-item schema would cost more than the whole analysis on large bundles.
        pointlist: z.array(z.unknown()),
      }),
    )
    .nullish(),
  events: z
    .array(
      loose({
        id: id.nullish(),
        date_happened: epochSeconds,
        title: z.string().nullish(),
        text: z.string().nullish(),
        alert_type: z.string().nullish(),
        source_type_name: z.string().nullish(),
        tags: z.array(z.string()).nullish(),
      }),
    )
    .nullish(),
  snapshots: z
    .array(loose({ name: z.string().nullish(), snapshot_url: z.string().nullish() }))
    .nullish(),
});

const newrelicSchema = loose({
  nrql: z
    .array(
      loose({
        query: z.string(),
        results: z.array(loose({ beginTimeSeconds: epochSeconds, endTimeSeconds: z.number().nullish() })),
      }),
    )
    .nullish(),
});

export interface LogLine {
  timestamp: string | number;
  message: string;
  service?: string | null;
  status?: string | null;
  level?: string | null;
  host?: string | null;
  [extra: string]: unknown;
}

/** A log line reduced to what the analysis reads, its time already parsed. */
export interface LogRecord {
  ms: number;
  message: string;
  service: string | undefined;
  status: string | undefined;
  host: string | undefined;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Where the log lines come from: the bundle in memory, or a file read piece by piece. */
export interface LogSource {
  count: number;
  /** Visits the good lines; malformed ones are recorded in `skipped` (or throw, when strict). */
  forEach(visit: (record: LogRecord, index: number) => void): void;
  /** what the last forEach left out; absent when strict */
  skipped?: SkipLog;
}

export function logSourceOf(bundle: Bundle, options: ReadOptions = {}): LogSource {
  const logs = bundle.sources?.logs ?? [];
  const skipped = options.strict ? undefined : new SkipLog();
  return {
    count: logs.length,
    skipped,
    forEach(visit) {
      skipped?.clear();
      for (let i = 0; i < logs.length; i++) {
        const record = toLogRecord(logs[i], i, skipped ?? null);
        if (record) visit(record, i);
      }
    },
  };
}

/** Checks one log line (bundle order `index`) and returns what the analysis needs. Throws BundleError. */
export function checkLogLine(value: unknown, index: number): LogRecord {
  return toLogRecord(value, index, null)!;
}

/**
 * One log line as the analysis reads it. With `skipped`, a malformed line is recorded there and
 * null returned, and a wrong-typed optional field is recorded and ignored; without, the first
 * problem throws. A plain function, no schema: it runs a million times on large bundles.
 */
export function toLogRecord(value: unknown, index: number, skipped: SkipLog | null): LogRecord | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return badLine(skipped, `sources.logs[${index}]`, `expected object, got ${typeName(value)}`);
  const line = value as Record<string, unknown>;
  const ts = line.timestamp;
  if (ts === undefined) return badLine(skipped, `sources.logs[${index}].timestamp`, 'required');
  if (typeof ts !== 'string' && typeof ts !== 'number') return badLine(skipped, `sources.logs[${index}].timestamp`, `expected string, got ${typeName(ts)}`);
  const ms = parseAnyTimeMs(ts);
  if (!inTimeRange(ms)) return badLine(skipped, `sources.logs[${index}].timestamp`, 'not a time');
  const message = line.message;
  if (message === undefined) return badLine(skipped, `sources.logs[${index}].message`, 'required');
  if (typeof message !== 'string') return badLine(skipped, `sources.logs[${index}].message`, `expected string, got ${typeName(message)}`);
  return {
    ms,
    message,
    service: optionalString(line, 'service', index, skipped),
    status: optionalString(line, 'status', index, skipped) ?? optionalString(line, 'level', index, skipped),
    host: optionalString(line, 'host', index, skipped),
  };
}

// Plain functions rather than closures: toLogRecord runs once per log line.
function badLine(skipped: SkipLog | null, path: string, problem: string): null {
  if (!skipped) throw new BundleError(path, problem);
  skipped.add(LOG_LINES, path, problem);
  return null;
}

function optionalString(line: Record<string, unknown>, key: string, index: number, skipped: SkipLog | null): string | undefined {
  const v = line[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  const path = `sources.logs[${index}].${key}`;
  const problem = `expected string, got ${typeName(v)}`;
  if (!skipped) throw new BundleError(path, problem);
  skipped.add(FIELDS, path, problem);
  return undefined;
}

/** Bad point indices of one series (`metricIndex`); throws the first problem when `skipped` is null. */
function checkPointlist(points: unknown[], metricIndex: number, skipped: SkipLog | null): number[] {
  const bad: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    let path = `sources.datadog.metrics[${metricIndex}].pointlist[${i}]`;
    let problem: string;
    if (!Array.isArray(p) || p.length < 2) problem = `expected [epoch_ms, value], got ${typeName(p)}`;
    else if (typeof p[0] !== 'number' || !Number.isFinite(p[0])) [path, problem] = [`${path}[0]`, `expected number, got ${typeName(p[0])}`];
    else if (!inTimeRange(p[0])) [path, problem] = [`${path}[0]`, 'not a time'];
    else if (p[1] !== null && typeof p[1] !== 'number') [path, problem] = [`${path}[1]`, `expected number or null, got ${typeName(p[1])}`];
    else continue;
    if (!skipped) throw new BundleError(path, problem);
    skipped.add(POINTS, path, problem);
    bad.push(i);
  }
  return bad;
}

const harvestSchema = loose({
  harvested_at: z.string().nullish(),
  errors: z
    .array(loose({ source: z.string(), message: z.string(), retryable: z.boolean().nullish() }))
    .nullish(),
  truncated: z
    .array(loose({ source: z.string(), what: z.string().nullish(), kept: z.number().nullish(), total: z.number().nullish() }))
    .nullish(),
  // Written when a bundle is read: the malformed elements left out, by kind (see SkipLog).
  skipped: z.array(loose({ what: z.string(), count: z.number(), examples: z.array(z.string()).nullish() })).nullish(),
});

export const bundleSchema = loose({
  bundle_version: z.literal(1, { message: 'must be 1' }),
  incident: incidentSchema,
  harvest: harvestSchema.nullish(),
  sources: loose({
    pagerduty: pagerdutySchema.nullish(),
    opsgenie: opsgenieSchema.nullish(),
    slack: slackSchema.nullish(),
    github: loose({ repos: z.array(githubRepoSchema).nullish() }).nullish(),
    datadog: datadogSchema.nullish(),
    newrelic: newrelicSchema.nullish(),
    logs: z.array(z.unknown()).nullish(),
  }).nullish(),
});

export type Bundle = z.infer<typeof bundleSchema>;
export type Incident = Bundle['incident'];
export type GithubRepo = z.infer<typeof githubRepoSchema>;
export type Deployment = NonNullable<GithubRepo['deployments']>[number];
export type Commit = NonNullable<GithubRepo['commits']>[number];
export type CommitFile = z.infer<typeof githubFileSchema>;
export type PagerDutyChangeEvent = NonNullable<NonNullable<z.infer<typeof pagerdutySchema>>['change_events']>[number];
export type DatadogEvent = NonNullable<NonNullable<z.infer<typeof datadogSchema>>['events']>[number];

/** A bundle problem a user can fix: `path` is the JSON path, `message` what is wrong there. */
export class BundleError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path ? `${path}: ${problem}` : problem);
    this.name = 'BundleError';
  }
}

/** One problem found in a bundle, by JSON path. */
export interface BundleProblem {
  path: string;
  problem: string;
}

/** What reading left out, one entry per kind of element; stored in `harvest.skipped`. */
export interface SkippedKind {
  what: string;
  count: number;
  /** the first few, as "path: problem" */
  examples: string[];
}

const LOG_LINES = 'log lines';
const POINTS = 'Datadog metric points';
const FIELDS = 'optional fields';
/** Element kinds by path pattern (`[]` an array element, `{}` a record entry). */
const KINDS: Record<string, string> = {
  'sources.logs[]': LOG_LINES,
  'sources.datadog.metrics[].pointlist[]': POINTS,
  'sources.datadog.metrics[]': 'Datadog metric series',
  'sources.datadog.events[]': 'Datadog events',
  'sources.datadog.snapshots[]': 'Datadog snapshots',
  'sources.slack.messages[]': 'Slack messages',
  'sources.slack.users{}': 'Slack users',
  'sources.pagerduty.log_entries[]': 'PagerDuty log entries',
  'sources.pagerduty.alerts[]': 'PagerDuty alerts',
  'sources.pagerduty.change_events[]': 'PagerDuty change events',
  'sources.opsgenie.logs[]': 'Opsgenie log entries',
  'sources.github.repos[]': 'GitHub repositories',
  'sources.github.repos[].deployments[]': 'GitHub deployments',
  'sources.github.repos[].deployments[].statuses[]': 'deployment statuses',
  'sources.github.repos[].commits[]': 'commits',
  'sources.github.repos[].commits[].files[]': 'commit files',
  'sources.github.repos[].deployment_commits{}': 'deployment commit lists',
  'sources.newrelic.nrql[]': 'New Relic queries',
  'sources.newrelic.nrql[].results[]': 'New Relic results',
};
const EXAMPLES_PER_KIND = 5;
const LISTED_PROBLEMS = 1000;

/** Collects what tolerant reading skipped: counts by kind, the first problems in full. */
export class SkipLog {
  /** every problem up to LISTED_PROBLEMS, in bundle order */
  readonly problems: BundleProblem[] = [];
  /** problems found, listed or not */
  total = 0;
  private readonly kinds = new Map<string, SkippedKind>();

  /** `sameElement`: another problem of an element already counted */
  add(what: string, path: string, problem: string, sameElement = false): void {
    this.total++;
    if (this.problems.length < LISTED_PROBLEMS) this.problems.push({ path, problem });
    let kind = this.kinds.get(what);
    if (!kind) {
      kind = { what, count: 0, examples: [] };
      this.kinds.set(what, kind);
    }
    if (!sameElement) kind.count++;
    if (kind.examples.length < EXAMPLES_PER_KIND) kind.examples.push(`${path}: ${problem}`);
  }

  clear(): void {
    this.problems.length = 0;
    this.total = 0;
    this.kinds.clear();
  }

  summary(): SkippedKind[] {
    return [...this.kinds.values()].map((k) => ({ ...k, examples: [...k.examples] }));
  }
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === 'invalid_type') {
    if (value === undefined) return 'required';
    return `expected ${issue.expected}, got ${typeName(value)}`;
  }
  return issue.message;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part as string];
  }
  return cur;
}

interface SkipTarget {
  /** path of the element to leave out, or of the optional field to ignore */
  at: PropertyKey[];
  what: string;
}

/**
 * What to leave out for a problem at `path`: the innermost optional field or array/record element
 * that contains it. Null when the path only crosses required fields (incident.id, bundle_version):
 * without those there is no analysis.
 */
function skipTargetOf(path: ReadonlyArray<PropertyKey>): SkipTarget | null {
  let schema = bundleSchema as z.ZodType;
  let pattern = '';
  let best: SkipTarget | null = null;
  for (let i = 0; i < path.length; i++) {
    let def = schema._zod.def as { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; element?: z.ZodType; valueType?: z.ZodType };
    while ((def.type === 'optional' || def.type === 'nullable') && def.innerType) def = def.innerType._zod.def as typeof def;
    const key = path[i]!;
    if (def.type === 'object' && def.shape && typeof key === 'string' && def.shape[key]) {
      pattern += pattern ? `.${key}` : key;
      schema = def.shape[key]!;
      if (schema._zod.optin === 'optional') best = { at: path.slice(0, i + 1), what: FIELDS };
    } else if (def.type === 'array' && def.element) {
      pattern += '[]';
      schema = def.element;
      best = { at: path.slice(0, i + 1), what: KINDS[pattern] ?? `elements of ${pattern}` };
    } else if (def.type === 'record' && def.valueType) {
      pattern += '{}';
      schema = def.valueType;
      best = { at: path.slice(0, i + 1), what: KINDS[pattern] ?? `entries of ${pattern}` };
    } else break;
  }
  return best;
}

interface Cut {
  drop: boolean;
  inner: Map<PropertyKey, Cut>;
}

/** A copy of `value` without the cut elements and fields; the input is never changed. */
function withCuts(value: unknown, cut: Cut): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const c = cut.inner.get(i);
      if (!c) out.push(value[i]);
      else if (!c.drop) out.push(withCuts(value[i], c));
    }
    return out;
  }
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, c] of cut.inner) {
    if (c.drop) delete out[key as string];
    else out[key as string] = withCuts(out[key as string], c);
  }
  return out;
}

/** False when `at` (or an element or field containing it) was already cut. */
function addCut(root: Cut, at: ReadonlyArray<PropertyKey>): boolean {
  let node = root;
  for (const key of at) {
    if (node.drop) return false;
    let next = node.inner.get(key);
    if (!next) {
      next = { drop: false, inner: new Map() };
      node.inner.set(key, next);
    }
    node = next;
  }
  if (node.drop) return false;
  node.drop = true;
  node.inner.clear();
  return true;
}

function isCut(root: Cut, at: ReadonlyArray<PropertyKey>): boolean {
  let node: Cut | undefined = root;
  for (const key of at) {
    if (node.drop) return true;
    node = node.inner.get(key);
    if (!node) return false;
  }
  return node.drop;
}

export interface ReadOptions {
  /** all-or-nothing: the first problem throws, as `validateBundle` does */
  strict?: boolean;
}

export interface ReadBundle {
  /** the bundle without its malformed elements (the input itself when nothing was wrong) */
  bundle: Bundle;
  /** what was left out (log lines of a piecewise-read file are reported by its LogSource) */
  skipped: SkipLog;
}

/**
 * Reads an already-parsed value as a context bundle v1. Only what no analysis can do without
 * throws a BundleError: a non-object, a missing or invalid `incident.id`/`incident.created_at`,
 * an unsupported `bundle_version`. Any other malformed element (a point, a log line, a message, a
 * deployment…) is left out of the returned copy, or a wrong-typed optional field ignored, and
 * counted by kind in `skipped` and in the copy's `harvest.skipped`. With `strict`, the first
 * problem of any kind throws.
 */
export function readBundle(value: unknown, options: ReadOptions = {}): ReadBundle {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BundleError('', 'the bundle must be a JSON object');
  }
  const skipped = new SkipLog();
  const cuts: Cut = { drop: false, inner: new Map() };
  const result = bundleSchema.safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const problem = describeIssue(issue, valueAt(value, issue.path));
      const target = options.strict ? null : skipTargetOf(issue.path);
      if (!target) throw new BundleError(formatPath(issue.path), problem);
      skipped.add(target.what, formatPath(issue.path), problem, !addCut(cuts, target.at));
    }
  }
  const checkOnly = options.strict ? null : skipped;
  const sources = (value as { sources?: unknown }).sources as Record<string, unknown> | undefined;
  const metrics = (sources?.datadog as { metrics?: unknown } | undefined)?.metrics;
  if (Array.isArray(metrics)) {
    for (let i = 0; i < metrics.length; i++) {
      const points = (metrics[i] as { pointlist?: unknown } | null)?.pointlist;
      if (!Array.isArray(points) || isCut(cuts, ['sources', 'datadog', 'metrics', i])) continue;
      for (const p of checkPointlist(points, i, checkOnly)) addCut(cuts, ['sources', 'datadog', 'metrics', i, 'pointlist', p]);
    }
  }
  const logs = sources?.logs;
  if (Array.isArray(logs) && !isCut(cuts, ['sources', 'logs'])) {
    for (let i = 0; i < logs.length; i++) {
      const before = skipped.total;
      const record = toLogRecord(logs[i], i, checkOnly);
      if (record === null) addCut(cuts, ['sources', 'logs', i]);
      else if (skipped.total !== before) for (const key of badLogFields(logs[i] as Record<string, unknown>)) addCut(cuts, ['sources', 'logs', i, key]);
    }
  }
  if (skipped.total === 0) {
    // The schema only checks and passes unknown fields through, so the input is the result;
    // keeping it (rather than zod's copy) halves peak memory on large bundles.
    return { bundle: value as Bundle, skipped };
  }
  const bundle = withCuts(value, cuts) as Bundle;
  const kinds = mergeSkipped(bundle.harvest?.skipped, skipped.summary());
  bundle.harvest = { ...(bundle.harvest ?? {}), skipped: kinds as NonNullable<NonNullable<Bundle['harvest']>['skipped']> };
  return { bundle, skipped };
}

function badLogFields(line: Record<string, unknown>): string[] {
  return ['service', 'status', 'level', 'host'].filter((k) => line[k] !== undefined && line[k] !== null && typeof line[k] !== 'string');
}

function mergeSkipped(earlier: ReadonlyArray<{ what: string; count: number; examples?: string[] | null }> | null | undefined, now: SkippedKind[]): SkippedKind[] {
  const byWhat = new Map<string, SkippedKind>();
  for (const k of [...(earlier ?? []), ...now]) {
    const seen = byWhat.get(k.what);
    if (!seen) byWhat.set(k.what, { what: k.what, count: k.count, examples: [...(k.examples ?? [])].slice(0, EXAMPLES_PER_KIND) });
    else {
      seen.count += k.count;
      seen.examples = [...seen.examples, ...(k.examples ?? [])].slice(0, EXAMPLES_PER_KIND);
    }
  }
  return [...byWhat.values()];
}

/** Validates an already-parsed value as a context bundle v1, all or nothing. Throws BundleError. */
export function validateBundle(value: unknown): Bundle {
  return readBundle(value, { strict: true }).bundle;
}

/**
 * Parses and reads bundle text (the content of a bundle file): tolerant unless `strict`, see
 * readBundle. Throws BundleError.
 */
export function parseBundleText(text: string, options: ReadOptions = {}): Bundle {
  if (text.trim() === '') throw new BundleError('', 'the bundle is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BundleError('', `not valid JSON (${(err as Error).message})`);
  }
  return readBundle(value, options).bundle;
}

/** Everything skipped while reading `bundle` and its log lines, by kind. */
export function skippedOf(bundle: Bundle, logs?: LogSource): SkippedKind[] {
  return mergeSkipped(bundle.harvest?.skipped, logs?.skipped?.summary() ?? []);
}

/** The data gaps of what reading skipped: one line per kind, its count and first paths. */
export function skippedGaps(bundle: Bundle, logs?: LogSource): string[] {
  return skippedOf(bundle, logs).map((k) => {
    const shown = (k.examples ?? []).slice(0, 3);
    const more = k.count > shown.length ? '; …' : '';
    return `${k.what} ${k.what === FIELDS ? 'ignored' : 'left out'} as malformed: ${k.count} (${shown.join('; ')}${more})`;
  });
}
