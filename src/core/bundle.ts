// Context bundle v1: the one input of every analysis (docs/context-bundle.md).
// Vendor field names and time formats are kept as the vendors return them; only the fields the
// analysis relies on are declared, everything else passes through untouched.
import { z } from 'zod';
import { parseAnyTimeMs, parseIsoMs, parseSlackTsMs } from './time.js';

const isoTime = z.string().refine((s) => parseIsoMs(s) !== null, { message: 'not an ISO-8601 time' });
const optionalIsoTime = isoTime.nullish();
const anyTime = z.union([z.string(), z.number()]).refine((v) => parseAnyTimeMs(v) !== null, {
  message: 'not a time',
});
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
        // Points are validated while they are read (see points in analysis): a per-point schema
        // would cost more than the rest of the analysis on large bundles.
        pointlist: z.array(z.array(z.union([z.number(), z.null()]))),
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

const logLineSchema = loose({
  timestamp: anyTime,
  message: z.string(),
  service: z.string().nullish(),
  status: z.string().nullish(),
  host: z.string().nullish(),
});

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
    logs: z.array(logLineSchema).nullish(),
  }).nullish(),
});

export type Bundle = z.infer<typeof bundleSchema>;
export type Incident = Bundle['incident'];
export type GithubRepo = z.infer<typeof githubRepoSchema>;
export type Deployment = NonNullable<GithubRepo['deployments']>[number];
export type Commit = NonNullable<GithubRepo['commits']>[number];
export type CommitFile = z.infer<typeof githubFileSchema>;
export type LogLine = z.infer<typeof logLineSchema>;

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
  // The schema only checks and passes unknown fields through, so the input is the result; keeping
  // it (rather than zod's copy) halves peak memory on large bundles.
  return value as Bundle;
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
