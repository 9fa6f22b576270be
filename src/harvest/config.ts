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
  watch: z
    .strictObject({
      interval_seconds: z.number().positive().max(86_400).optional(),
      overlap_minutes: z.number().min(0).max(24 * 60).optional(),
      services: z.array(z.string().min(1)).optional(),
      teams: z.array(z.string().min(1)).optional(),
      max_attempts: z.number().int().positive().max(100).optional(),
    })
    .optional(),
  review: z
    .strictObject({
      channel: z.string().min(1).optional(),
      approvers: z.array(z.string().regex(/^[UW][A-Z0-9]+$/, 'must be a Slack user id (U…)')).optional(),
      approver_groups: z.array(z.string().regex(/^S[A-Z0-9]+$/, 'must be a Slack user group id (S…)')).optional(),
    })
    .optional(),
  tickets: z
    .strictObject({
      system: z.enum(['github', 'jira']).optional(),
      github_repo: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/name').optional(),
      jira_project: z.string().min(1).optional(),
      jira_issue_type: z.string().min(1).optional(),
      jira_priorities: z.strictObject({ P0: z.string().optional(), P1: z.string().optional(), P2: z.string().optional(), P3: z.string().optional() }).optional(),
      labels: z.array(z.string().min(1)).optional(),
      per_service: z
        .record(z.string(), z.strictObject({ github_repo: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/name').optional(), jira_project: z.string().min(1).optional() }))
        .optional(),
    })
    .optional(),
  llm: z
    .strictObject({
      model: z.string().min(1).optional(),
      max_steps: z.number().int().min(1).max(50).optional(),
      max_tokens: z.number().int().min(256).max(64_000).optional(),
      tool_output_chars: z.number().int().min(500).max(200_000).optional(),
    })
    .optional(),
});

export type ConfigFile = z.infer<typeof fileSchema>;

export interface AutonomousConfig {
  watch: { intervalMs: number; overlapMs: number; services: string[]; teams: string[]; maxAttempts: number };
  review: { channel: string; approvers: string[]; approverGroups: string[] };
  tickets: {
    system: 'github' | 'jira';
    githubRepo: string | null;
    jiraProject: string | null;
    jiraIssueType: string;
    jiraPriorities: Record<'P0' | 'P1' | 'P2' | 'P3', string>;
    labels: string[];
    perService: Record<string, { githubRepo: string | null; jiraProject: string | null }>;
  };
  llm: { apiKey: string | null; baseUrl: string | null; model: string; maxSteps: number; maxTokens: number; toolOutputChars: number };
  jira: { host: string; email: string; apiToken: string } | null;
  webhookSecret: string | null;
  /** writes (Slack posts, tickets) happen only when true: --apply or HINDSIGHT_WRITE=1 */
  writesEnabled: boolean;
}

export const DEFAULT_MODEL = 'claude-sonnet-4-5';

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
  autonomous: AutonomousConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_CAPS: HarvestCaps = {
  pagerdutyLogEntries: 1000,
  slackMessages: 5000,
  slackChannelsScanned: 2000,
  deploymentsPerRepo: 100,
  commitsPerDeployment: 50,
  patchChars: 20_000,
  logLines: 10_000,
  metricSeries: 30,
  events: 1000,
};

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
  const approversEnv = present(env.HINDSIGHT_APPROVERS) ? env.HINDSIGHT_APPROVERS.split(',').map((a) => a.trim()).filter(Boolean) : [];
  const autonomous: AutonomousConfig = {
    watch: {
      intervalMs: (file.watch?.interval_seconds ?? 60) * 1000,
      overlapMs: (file.watch?.overlap_minutes ?? 10) * 60_000,
      services: file.watch?.services ?? [],
      teams: file.watch?.teams ?? [],
      maxAttempts: file.watch?.max_attempts ?? 8,
    },
    review: {
      channel: present(env.HINDSIGHT_REVIEW_CHANNEL) ? env.HINDSIGHT_REVIEW_CHANNEL.trim() : file.review?.channel ?? '#incident-reports',
      approvers: [...new Set([...approversEnv.filter((a) => a.startsWith('U') || a.startsWith('W')), ...(file.review?.approvers ?? [])])],
      approverGroups: [...new Set([...approversEnv.filter((a) => a.startsWith('S')), ...(file.review?.approver_groups ?? [])])],
    },
    tickets: {
      system: file.tickets?.system ?? (present(env.JIRA_HOST) && !file.tickets?.github_repo ? 'jira' : 'github'),
      githubRepo: file.tickets?.github_repo ?? null,
      jiraProject: file.tickets?.jira_project ?? null,
      jiraIssueType: file.tickets?.jira_issue_type ?? 'Task',
      jiraPriorities: {
        P0: file.tickets?.jira_priorities?.P0 ?? 'Highest',
        P1: file.tickets?.jira_priorities?.P1 ?? 'High',
        P2: file.tickets?.jira_priorities?.P2 ?? 'Medium',
        P3: file.tickets?.jira_priorities?.P3 ?? 'Low',
      },
      labels: file.tickets?.labels ?? ['postmortem'],
      perService: Object.fromEntries(
        Object.entries(file.tickets?.per_service ?? {}).map(([k, v]) => [k, { githubRepo: v.github_repo ?? null, jiraProject: v.jira_project ?? null }]),
      ),
    },
    llm: {
      apiKey: present(env.ANTHROPIC_API_KEY) ? env.ANTHROPIC_API_KEY.trim() : null,
      baseUrl: present(env.ANTHROPIC_BASE_URL) ? url('ANTHROPIC_BASE_URL', env.ANTHROPIC_BASE_URL, '') : null,
      model: present(env.HINDSIGHT_MODEL) ? env.HINDSIGHT_MODEL.trim() : file.llm?.model ?? DEFAULT_MODEL,
      maxSteps: file.llm?.max_steps ?? 8,
      maxTokens: file.llm?.max_tokens ?? 4096,
      toolOutputChars: file.llm?.tool_output_chars ?? 12_000,
    },
    jira:
      present(env.JIRA_HOST) && present(env.JIRA_EMAIL) && present(env.JIRA_API_TOKEN)
        ? { host: url('JIRA_HOST', env.JIRA_HOST, ''), email: env.JIRA_EMAIL.trim(), apiToken: env.JIRA_API_TOKEN.trim() }
        : null,
    webhookSecret: present(env.PAGERDUTY_WEBHOOK_SECRET) ? env.PAGERDUTY_WEBHOOK_SECRET.trim() : null,
    writesEnabled: env.HINDSIGHT_WRITE === '1',
  };
  return {
    autonomous,
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
      pagerdutyLogEntries: caps.pagerduty_log_entries ?? DEFAULT_CAPS.pagerdutyLogEntries,
      slackMessages: caps.slack_messages ?? DEFAULT_CAPS.slackMessages,
      slackChannelsScanned: caps.slack_channels_scanned ?? DEFAULT_CAPS.slackChannelsScanned,
      deploymentsPerRepo: caps.deployments_per_repo ?? DEFAULT_CAPS.deploymentsPerRepo,
      commitsPerDeployment: caps.commits_per_deployment ?? DEFAULT_CAPS.commitsPerDeployment,
      patchChars: caps.patch_chars ?? DEFAULT_CAPS.patchChars,
      logLines: caps.log_lines ?? DEFAULT_CAPS.logLines,
      metricSeries: caps.metric_series ?? DEFAULT_CAPS.metricSeries,
      events: caps.events ?? DEFAULT_CAPS.events,
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
