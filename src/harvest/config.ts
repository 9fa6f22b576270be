// Harvest configuration: secrets only from the environment; per-service mappings, windows and
// caps from hindsight.config.json (working directory), --config FILE or HINDSIGHT_CONFIG.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { HarvestCaps, HttpPolicy, ServiceMapping } from './types.js';

const serviceSchema = z.strictObject({
  repos: z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/name')).default([]),
  slack_channel: z.string().min(1).optional(),
  datadog: z
    .strictObject({
      queries: z.array(z.string().min(1)).optional(),
      logs_query: z.string().min(1).optional(),
    })
    .optional(),
  newrelic: z.strictObject({ queries: z.array(z.string().min(1)).default([]) }).optional(),
});

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  services: z.record(z.string(), serviceSchema).default({}),
  github: z
    .strictObject({
      repos: z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/name')).default([]),
      environment: z.string().min(1).optional(),
      deploy_workflow: z.string().min(1).optional(),
    })
    .optional(),
  datadog: z.strictObject({ site: z.string().min(1).optional(), snapshots: z.number().int().min(0).max(10).optional() }).optional(),
  newrelic: z.strictObject({ account_id: z.number().int().positive() }).optional(),
  windows: z
    .strictObject({
      lookback_hours: z.number().positive().max(24 * 14).optional(),
      deploy_lookback_hours: z.number().positive().max(24 * 60).optional(),
      after_resolve_minutes: z.number().min(0).max(24 * 60).optional(),
    })
    .optional(),
  caps: z
    .strictObject({
      pagerduty_log_entries: z.number().int().positive().optional(),
      slack_messages: z.number().int().positive().optional(),
      slack_channels_scanned: z.number().int().positive().optional(),
      deployments_per_repo: z.number().int().positive().optional(),
      commits_per_deployment: z.number().int().positive().optional(),
      patch_chars: z.number().int().positive().optional(),
      log_lines: z.number().int().positive().optional(),
      metric_series: z.number().int().positive().optional(),
      events: z.number().int().positive().optional(),
    })
    .optional(),
  http: z
    .strictObject({
      timeout_ms: z.number().int().positive().max(300_000).optional(),
      retries: z.number().int().min(0).max(10).optional(),
    })
    .optional(),
});

export type ConfigFile = z.infer<typeof fileSchema>;

export interface VendorCredentials {
  pagerduty: { token: string; apiUrl: string } | null;
  opsgenie: { apiKey: string; apiUrl: string } | null;
  slack: { token: string; apiUrl: string } | null;
  github: { token: string; apiUrl: string } | null;
  datadog: { apiKey: string; appKey: string; site: string; apiUrl: string | null } | null;
  newrelic: { apiKey: string; apiUrl: string; accountId: number | null } | null;
}

export interface HarvestConfig {
  credentials: VendorCredentials;
  services: Record<string, ServiceMapping>;
  githubRepos: string[];
  githubEnvironment: string | null;
  githubDeployWorkflow: string | null;
  datadogSnapshots: number;
  lookbackMs: number;
  deployLookbackMs: number;
  afterResolveMs: number;
  caps: HarvestCaps;
  http: HttpPolicy;
  /** where the file came from, for doctor */
  file: string | null;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const DEFAULT_QUERIES = [
  'sum:trace.http.request.errors{service:{service}}.as_count()',
  'sum:trace.http.request.hits{service:{service}}.as_count()',
  'avg:trace.http.request.duration.by.service.99p{service:{service}}',
];

function url(name: string, value: string | undefined, fallback: string): string {
  const v = value && value.trim() !== '' ? value.trim() : fallback;
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new ConfigError(`${name}: not an http(s) URL: "${v}"`);
  }
  return v.replace(/\/+$/, '');
}

const present = (v: string | undefined): v is string => typeof v === 'string' && v.trim() !== '';

export function loadConfig(env: NodeJS.ProcessEnv = process.env, explicitPath?: string, cwd = process.cwd()): HarvestConfig {
  const path = explicitPath ?? (present(env.HINDSIGHT_CONFIG) ? env.HINDSIGHT_CONFIG : existsSync(resolve(cwd, 'hindsight.config.json')) ? 'hindsight.config.json' : null);
  let file: ConfigFile = fileSchema.parse({});
  if (path) {
    const full = resolve(cwd, path);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(full, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`${path}: ${code === 'ENOENT' ? 'no such file' : `not valid JSON (${(err as Error).message})`}`);
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
      const message = issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
      throw new ConfigError(`${path}: ${where || '(root)'}: ${message}`);
    }
    file = parsed.data;
  }

  const ddSite = present(env.DD_SITE) ? env.DD_SITE.trim() : file.datadog?.site ?? 'datadoghq.com';
  const credentials: VendorCredentials = {
    pagerduty: present(env.PAGERDUTY_TOKEN) ? { token: env.PAGERDUTY_TOKEN.trim(), apiUrl: url('PAGERDUTY_API_URL', env.PAGERDUTY_API_URL, 'https://api.pagerduty.com') } : null,
    opsgenie: present(env.OPSGENIE_API_KEY) ? { apiKey: env.OPSGENIE_API_KEY.trim(), apiUrl: url('OPSGENIE_API_URL', env.OPSGENIE_API_URL, 'https://api.opsgenie.com') } : null,
    slack: present(env.SLACK_BOT_TOKEN) ? { token: env.SLACK_BOT_TOKEN.trim(), apiUrl: url('SLACK_API_URL', env.SLACK_API_URL, 'https://slack.com/api') } : null,
    github: present(env.GITHUB_TOKEN) ? { token: env.GITHUB_TOKEN.trim(), apiUrl: url('GITHUB_API_URL', env.GITHUB_API_URL, 'https://api.github.com') } : null,
    datadog:
      present(env.DD_API_KEY) && present(env.DD_APP_KEY)
        ? { apiKey: env.DD_API_KEY.trim(), appKey: env.DD_APP_KEY.trim(), site: ddSite, apiUrl: present(env.DATADOG_API_URL) ? url('DATADOG_API_URL', env.DATADOG_API_URL, '') : null }
        : null,
    newrelic: present(env.NEW_RELIC_API_KEY)
      ? {
          apiKey: env.NEW_RELIC_API_KEY.trim(),
          apiUrl: url('NEW_RELIC_API_URL', env.NEW_RELIC_API_URL, 'https://api.newrelic.com/graphql'),
          accountId: present(env.NEW_RELIC_ACCOUNT_ID) ? Number(env.NEW_RELIC_ACCOUNT_ID) : file.newrelic?.account_id ?? null,
        }
      : null,
  };
  if (credentials.newrelic?.accountId !== null && credentials.newrelic && !Number.isInteger(credentials.newrelic.accountId)) {
    throw new ConfigError(`NEW_RELIC_ACCOUNT_ID: not an integer: "${env.NEW_RELIC_ACCOUNT_ID}"`);
  }

  const envRepos = present(env.HINDSIGHT_GITHUB_REPOS) ? env.HINDSIGHT_GITHUB_REPOS.split(',').map((r) => r.trim()).filter(Boolean) : [];
  for (const r of envRepos) if (!/^[^/\s]+\/[^/\s]+$/.test(r)) throw new ConfigError(`HINDSIGHT_GITHUB_REPOS: "${r}" is not owner/name`);

  const services: Record<string, ServiceMapping> = {};
  for (const [name, s] of Object.entries(file.services)) {
    services[name] = {
      name,
      repos: s.repos,
      slackChannel: s.slack_channel ?? null,
      datadogQueries: s.datadog?.queries ?? DEFAULT_QUERIES,
      datadogLogQuery: s.datadog?.logs_query ?? null,
      newrelicQueries: s.newrelic?.queries ?? [],
    };
  }

  const caps = file.caps ?? {};
  return {
    credentials,
    services,
    githubRepos: [...new Set([...envRepos, ...(file.github?.repos ?? [])])],
    githubEnvironment: file.github?.environment ?? null,
    githubDeployWorkflow: file.github?.deploy_workflow ?? null,
    datadogSnapshots: file.datadog?.snapshots ?? 3,
    lookbackMs: (file.windows?.lookback_hours ?? 6) * 3600_000,
    deployLookbackMs: (file.windows?.deploy_lookback_hours ?? 72) * 3600_000,
    afterResolveMs: (file.windows?.after_resolve_minutes ?? 30) * 60_000,
    caps: {
      pagerdutyLogEntries: caps.pagerduty_log_entries ?? 1000,
      slackMessages: caps.slack_messages ?? 5000,
      slackChannelsScanned: caps.slack_channels_scanned ?? 2000,
      deploymentsPerRepo: caps.deployments_per_repo ?? 100,
      commitsPerDeployment: caps.commits_per_deployment ?? 50,
      patchChars: caps.patch_chars ?? 20_000,
      logLines: caps.log_lines ?? 10_000,
      metricSeries: caps.metric_series ?? 30,
      events: caps.events ?? 1000,
    },
    http: { timeoutMs: file.http?.timeout_ms ?? 15_000, retries: file.http?.retries ?? 4, baseDelayMs: 500, maxDelayMs: 20_000 },
    file: path ?? null,
  };
}

/** The mapping for a service: configured, or the defaults (env repos, default Datadog queries). */
export function serviceMapping(config: HarvestConfig, service: string | null): ServiceMapping {
  const configured = service ? config.services[service] : undefined;
  return {
    name: service ?? '',
    repos: [...new Set([...(configured?.repos ?? []), ...config.githubRepos])],
    slackChannel: configured?.slackChannel ?? null,
    datadogQueries: configured?.datadogQueries ?? DEFAULT_QUERIES,
    datadogLogQuery: configured?.datadogLogQuery ?? null,
    newrelicQueries: configured?.newrelicQueries ?? [],
  };
}

/** `{service}` placeholders filled in (Datadog queries, log queries). */
export function templated(query: string, service: string | null): string {
  return query.replace(/\{service\}/g, service ?? '*');
}
