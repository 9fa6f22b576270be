// Builds context bundles for tests from a compact description: a service, an error onset,
// deployments with their diffs, and the matching logs and metrics. Times are minutes relative to
// a fixed base, so tests read as a story.
import type { Bundle } from '../../src/core/bundle.js';

export const BASE_MS = Date.parse('2025-03-04T10:00:00.000Z');
export const at = (minutes: number) => new Date(BASE_MS + minutes * 60_000).toISOString();

export interface CommitSpec {
  sha: string;
  message: string;
  files: Array<{ filename: string; patch: string; status?: string }>;
  author?: { login: string; name: string; email: string };
}

export interface DeploySpec {
  repo: string;
  id: number;
  /** minutes relative to base when the rollout finished */
  finishedAt: number;
  state?: 'success' | 'failure';
  environment?: string;
  commits: CommitSpec[];
  description?: string;
  creator?: { login: string; type: 'User' | 'Bot' };
}

export interface IncidentSpec {
  service: string;
  /** minutes: start of the error regime, or null for no metric spike */
  errorOnset: number | null;
  /** minutes: end of the error regime */
  errorEnd?: number;
  pageAt: number;
  resolveAt: number;
  errorLog?: string;
  deployments: DeploySpec[];
  chat?: Array<{ at: number; user: string; text: string }>;
  /** more metric series: value as a function of minutes relative to base */
  extraSeries?: Array<{ metric: string; scope: string; value: (minutes: number) => number }>;
  users?: Record<string, { name: string; real_name: string }>;
}

/** A stable fake commit SHA: FNV-1a over the whole seed, one 8-hex block per round. */
export function sha(seed: string): string {
  let out = '';
  for (let block = 0; out.length < 40; block++) {
    let h = (0x811c9dc5 ^ block) >>> 0;
    for (let i = 0; i < seed.length; i++) {
      h ^= seed.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, 40);
}

export function buildIncident(spec: IncidentSpec): Bundle {
  const repos = new Map<string, { full_name: string; deployments: unknown[]; commits: unknown[]; deployment_commits: Record<string, string[]> }>();
  for (const d of spec.deployments) {
    const repo = repos.get(d.repo) ?? { full_name: d.repo, deployments: [], commits: [], deployment_commits: {} };
    repos.set(d.repo, repo);
    const head = d.commits[d.commits.length - 1]?.sha ?? sha(`${d.repo}${d.id}`);
    const finished = at(d.finishedAt);
    repo.deployments.push({
      id: d.id,
      sha: head,
      ref: `v${d.id}`,
      environment: d.environment ?? 'production',
      created_at: at(d.finishedAt - 2),
      description: d.description ?? `Deploy ${d.id}`,
      creator: d.creator ?? { login: 'deploy-bot', type: 'Bot' },
      statuses: [
        { state: d.state ?? 'success', created_at: finished },
        { state: 'in_progress', created_at: at(d.finishedAt - 1.5) },
        { state: 'queued', created_at: at(d.finishedAt - 2) },
      ],
    });
    repo.deployment_commits[String(d.id)] = d.commits.map((c) => c.sha);
    for (const c of d.commits) {
      const author = c.author ?? { login: 'dev-one', name: 'Dev One', email: 'dev.one@example.test' };
      repo.commits.push({
        sha: c.sha,
        commit: { message: c.message, author: { name: author.name, email: author.email, date: at(d.finishedAt - 30) } },
        author: { login: author.login, type: 'User' },
        files: c.files.map((f) => ({ filename: f.filename, status: f.status ?? 'modified', additions: 1, deletions: 1, patch: f.patch })),
      });
    }
  }

  const points: Array<[number, number | null]> = [];
  for (let t = -120; t <= 120; t += 1 / 6) {
    const inRegime = spec.errorOnset !== null && t >= spec.errorOnset && t < (spec.errorEnd ?? spec.resolveAt);
    const i = Math.round(t * 6);
    points.push([BASE_MS + Math.round(t * 60_000), inRegime ? 40 + (i % 7) : i % 3 === 0 ? 1 : 0]);
  }
  const logs: Array<Record<string, string>> = [];
  for (let t = -60; t <= 60; t += 0.5) {
    logs.push({ timestamp: at(t), service: spec.service, status: 'info', host: 'pod-a', message: `GET /v1/items 200 in ${10 + ((t * 2) % 9)}ms` });
    const inRegime = spec.errorOnset !== null && t >= spec.errorOnset && t < (spec.errorEnd ?? spec.resolveAt);
    if (inRegime && spec.errorLog) logs.push({ timestamp: at(t + 0.1), service: spec.service, status: 'error', host: 'pod-a', message: spec.errorLog.replace('{n}', String(Math.round(t * 10) % 50)) });
  }

  return {
    bundle_version: 1,
    incident: {
      id: 'INC-TEST',
      source: 'pagerduty',
      title: `${spec.service}: error rate above threshold`,
      service: spec.service,
      severity: 'SEV2',
      status: 'resolved',
      created_at: at(spec.pageAt),
      acknowledged_at: at(spec.pageAt + 2),
      resolved_at: at(spec.resolveAt),
    },
    sources: {
      pagerduty: {
        log_entries: [
          { id: 'L1', type: 'trigger_log_entry', created_at: at(spec.pageAt), summary: 'Triggered through the API.' },
          { id: 'L2', type: 'acknowledge_log_entry', created_at: at(spec.pageAt + 2), summary: 'Acknowledged by Oona Responder.', agent: { type: 'user_reference', summary: 'Oona Responder' } },
          { id: 'L3', type: 'resolve_log_entry', created_at: at(spec.resolveAt), summary: 'Resolved by Oona Responder.', agent: { type: 'user_reference', summary: 'Oona Responder' } },
        ],
      },
      slack: {
        channel: { id: 'C1', name: 'inc-test' },
        messages: (spec.chat ?? []).map((m) => ({ ts: ((BASE_MS + m.at * 60_000) / 1000).toFixed(6), user: m.user, text: m.text })),
        users: spec.users ?? {},
      },
      github: { repos: [...repos.values()] },
      datadog: {
        metrics: [
          { metric: 'trace.http.request.errors', scope: `service:${spec.service}`, interval: 10, pointlist: points },
          ...(spec.extraSeries ?? []).map((x) => ({ metric: x.metric, scope: x.scope, interval: 10, pointlist: points.map(([t]) => [t, x.value((t - BASE_MS) / 60_000)]) })),
        ],
        events: [],
      },
      logs,
    },
  } as unknown as Bundle;
}

export const TIMEOUT_PATCH = '@@ -1,4 +1,4 @@\n upstream:\n-  request_timeout_ms: 2000\n+  request_timeout_ms: 20\n   retries: 2';
export const DOCS_PATCH = '@@ -1,2 +1,3 @@\n # Runbook\n+Call the owning team.\n';
