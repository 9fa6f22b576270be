// Context bundle v1: the one input of every analysis (docs/context-bundle.md).
// Vendor field names and time formats are kept as the vendors return them; only the fields the
// analysis relies on are declared, everything else passes through untouched.
import { z } from 'zod';
import { parseAnyTimeMs, parseIsoMs, parseSlackTsMs } from './time.js';

const isoTime = z.string().refine((s) => parseIsoMs(s) !== null, { message: 'not an ISO-8601 time' });
const optionalIsoTime = isoTime.nullish();
const id = z.union([z.string(), z.number()]);
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
        ts: z.string().refine((s) => parseSlackTsMs(s) !== null, { message: 'not a Slack ts' }),
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
        date_happened: z.number(),
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
        results: z.array(loose({ beginTimeSeconds: z.number(), endTimeSeconds: z.number().nullish() })),
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

const optionalString = (line: Record<string, unknown>, key: string, index: number): string | undefined => {
  const v = line[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new BundleError(`sources.logs[${index}].${key}`, `expected string, got ${typeName(v)}`);
  return v;
};

/** Where the log lines come from: the bundle in memory, or a file read piece by piece. */
export interface LogSource {
  count: number;
  forEach(visit: (record: LogRecord, index: number) => void): void;
}

export function logSourceOf(bundle: Bundle): LogSource {
  const logs = bundle.sources?.logs ?? [];
  return { count: logs.length, forEach: (visit) => logs.forEach((line, i) => visit(checkLogLine(line, i), i)) };
}

/** Checks one log line (bundle order `index`) and returns what the analysis needs. */
export function checkLogLine(value: unknown, index: number): LogRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BundleError(`sources.logs[${index}]`, `expected object, got ${typeName(value)}`);
  }
  const line = value as Record<string, unknown>;
  const ts = line.timestamp;
  if (ts === undefined) throw new BundleError(`sources.logs[${index}].timestamp`, 'required');
  if (typeof ts !== 'string' && typeof ts !== 'number') throw new BundleError(`sources.logs[${index}].timestamp`, `expected string, got ${typeName(ts)}`);
  const ms = parseAnyTimeMs(ts);
  if (ms === null) throw new BundleError(`sources.logs[${index}].timestamp`, 'not a time');
  const message = line.message;
  if (message === undefined) throw new BundleError(`sources.logs[${index}].message`, 'required');
  if (typeof message !== 'string') throw new BundleError(`sources.logs[${index}].message`, `expected string, got ${typeName(message)}`);
  return {
    ms,
    message,
    service: optionalString(line, 'service', index),
    status: optionalString(line, 'status', index) ?? optionalString(line, 'level', index),
    host: optionalString(line, 'host', index),
  };
}

function checkPointlist(points: unknown[], metricIndex: number): void {
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const path = `sources.datadog.metrics[${metricIndex}].pointlist[${i}]`;
    if (!Array.isArray(p) || p.length < 2) throw new BundleError(path, `expected [epoch_ms, value], got ${typeName(p)}`);
    if (typeof p[0] !== 'number' || !Number.isFinite(p[0])) throw new BundleError(`${path}[0]`, `expected number, got ${typeName(p[0])}`);
    if (p[1] !== null && typeof p[1] !== 'number') throw new BundleError(`${path}[1]`, `expected number or null, got ${typeName(p[1])}`);
  }
}

const harvestSchema = loose({
  harvested_at: z.string().nullish(),
  errors: z
    .array(loose({ source: z.string(), message: z.string(), retryable: z.boolean().nullish() }))
    .nullish(),
  truncated: z
    .array(loose({ source: z.string(), what: z.string().nullish(), kept: z.number().nullish(), total: z.number().nullish() }))
    .nullish(),
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
    const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    return `expected ${issue.expected}, got ${got}`;
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

/** Validates an already-parsed value as a context bundle v1. Throws BundleError. */
export function validateBundle(value: unknown): Bundle {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BundleError('', 'the bundle must be a JSON object');
  }
  const result = bundleSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new BundleError(formatPath(issue.path), describeIssue(issue, valueAt(value, issue.path)));
  }
  const bundle = value as Bundle;
  (bundle.sources?.datadog?.metrics ?? []).forEach((m, i) => checkPointlist(m.pointlist, i));
  const logs = bundle.sources?.logs ?? [];
  for (let i = 0; i < logs.length; i++) checkLogLine(logs[i], i);
  // The schema only checks and passes unknown fields through, so the input is the result; keeping
  // it (rather than zod's copy) halves peak memory on large bundles.
  return bundle;
}

/** Parses and validates bundle text (the content of a bundle file). Throws BundleError. */
export function parseBundleText(text: string): Bundle {
  if (text.trim() === '') throw new BundleError('', 'the bundle is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BundleError('', `not valid JSON (${(err as Error).message})`);
  }
  return validateBundle(value);
}
