// Facts: the bundle read once into normalised, typed records (epoch ms, parsed diffs, clustered
// logs, metric series) that every later step shares. Pure: no I/O.
import { logSourceOf, type Bundle, type Deployment, type LogSource } from './bundle.js';
import { analyzeCommit, type ChangeAnalysis } from './changes.js';
import { LogClusterer, levelOf, type LogSignature } from './logSignatures.js';
import { PeopleDirectory } from './people.js';
import { Redactor } from './redact.js';
import type { MetricSeries } from './spikes.js';
import { epochMsToMs, epochSecondsToMs, parseIsoMs } from './time.js';

export interface DeploymentFact {
  repo: string;
  id: number | string;
  sha: string;
  ref: string | null;
  environment: string | null;
  description: string;
  createdMs: number;
  /** when the rollout finished successfully; null if it never did */
  finishedMs: number | null;
  /** final state: success, failure, error, inactive, in_progress, pending… */
  state: string;
  stateMs: number;
  byAutomation: boolean;
  commits: ChangeAnalysis[];
  /** order within its repository, oldest first */
  index: number;
}

export interface IncidentFacts {
  id: string;
  title: string;
  service: string | null;
  severity: string | null;
  url: string | null;
  createdMs: number;
  acknowledgedMs: number | null;
  resolvedMs: number | null;
  series: MetricSeries[];
  /** `${metric}|${scope}` -> the vendor the series came from */
  seriesSource: Map<string, 'datadog' | 'newrelic'>;
  deployments: DeploymentFact[];
  repos: string[];
  /** repo full name -> services its deploy events are tagged with */
  repoServices: Map<string, Set<string>>;
  logSignatures: LogSignature[];
  logLineCount: number;
  /** redactions made in log lines before they were clustered, by kind */
  logRedactions: Record<string, number>;
  people: PeopleDirectory;
  alertTexts: string[];
  /** earliest alert time (PagerDuty alert or error monitor event), if any */
  alertMs: number | null;
  dataGaps: string[];
}

const FINAL_STATES = new Set(['success', 'failure', 'error', 'inactive']);

function deploymentFacts(bundle: Bundle): DeploymentFact[] {
  const out: DeploymentFact[] = [];
  for (const repo of bundle.sources?.github?.repos ?? []) {
    const commitsBySha = new Map<string, ChangeAnalysis>();
    for (const c of repo.commits ?? []) commitsBySha.set(c.sha, analyzeCommit(c));
    const findCommit = (sha: string) => {
      const exact = commitsBySha.get(sha);
      if (exact) return exact;
      for (const [full, a] of commitsBySha) if (full.startsWith(sha) || sha.startsWith(full)) return a;
      return undefined;
    };
    const deps = (repo.deployments ?? []).slice().sort((a, b) => (parseIsoMs(a.created_at) ?? 0) - (parseIsoMs(b.created_at) ?? 0));
    deps.forEach((d: Deployment, index) => {
      const statuses = (d.statuses ?? [])
        .map((s) => ({ state: s.state.toLowerCase(), ms: parseIsoMs(s.created_at) ?? 0 }))
        .sort((a, b) => a.ms - b.ms);
      const success = statuses.find((s) => s.state === 'success');
      const final = statuses.filter((s) => FINAL_STATES.has(s.state)).pop() ?? statuses[statuses.length - 1];
      const shipped = repo.deployment_commits?.[String(d.id)];
      const shas = shipped ?? [d.sha];
      const commits = shas.map(findCommit).filter((c): c is ChangeAnalysis => c !== undefined);
      const creator = d.creator;
      out.push({
        repo: repo.full_name,
        id: d.id,
        sha: d.sha,
        ref: d.ref ?? null,
        environment: d.environment ?? null,
        description: d.description ?? '',
        createdMs: parseIsoMs(d.created_at) ?? 0,
        finishedMs: success ? success.ms : null,
        state: final?.state ?? 'created',
        stateMs: final?.ms ?? parseIsoMs(d.created_at) ?? 0,
        byAutomation: creator?.type === 'Bot' || /bot|automation|deploy/i.test(creator?.login ?? ''),
        commits,
        index,
      });
    });
  }
  return out;
}

function metricSeries(bundle: Bundle): MetricSeries[] {
  const out: MetricSeries[] = [];
  for (const m of bundle.sources?.datadog?.metrics ?? []) {
    const raw = m.pointlist as Array<[number, number | null]>;
    // Validated points already have this shape; copy only when a time has a fraction to cut.
    const clean = raw.every((p) => Number.isInteger(p[0]) && (p[1] === null || Number.isFinite(p[1])));
    const points = clean ? raw : raw.map((p): [number, number | null] => [epochMsToMs(p[0]), p[1] !== null && Number.isFinite(p[1]) ? p[1] : null]);
    out.push({ metric: m.metric, scope: m.scope ?? '', points });
  }
  for (const q of bundle.sources?.newrelic?.nrql ?? []) {
    const byFacet = new Map<string, Array<[number, number | null]>>();
    let valueKey: string | undefined;
    for (const r of q.results) {
      if (!valueKey) {
        valueKey = Object.keys(r).find((k) => !/TimeSeconds$|^facet$/.test(k) && typeof (r as Record<string, unknown>)[k] === 'number');
      }
      const raw = valueKey ? (r as Record<string, unknown>)[valueKey] : null;
      const facet = (r as Record<string, unknown>).facet;
      const key = Array.isArray(facet) ? facet.join(',') : typeof facet === 'string' ? facet : '';
      const list = byFacet.get(key) ?? [];
      list.push([epochSecondsToMs(r.beginTimeSeconds), typeof raw === 'number' ? raw : null]);
      byFacet.set(key, list);
    }
    const metric = /SELECT\s+(.+?)\s+FROM\s+(\w+)/i.exec(q.query);
    const name = metric ? `${metric[2]}.${metric[1]!.replace(/\s+/g, '')}` : q.query.slice(0, 60);
    for (const [facet, points] of byFacet) out.push({ metric: name, scope: facet ? `facet:${facet}` : '', points });
  }
  return out;
}

function repoServiceTags(bundle: Bundle): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const e of bundle.sources?.datadog?.events ?? []) {
    const tags = e.tags ?? [];
    const repos = tags.filter((t) => t.startsWith('repo:')).map((t) => t.slice(5));
    const services = tags.filter((t) => t.startsWith('service:')).map((t) => t.slice(8));
    for (const r of repos) {
      const set = map.get(r) ?? new Set<string>();
      for (const s of services) set.add(s);
      map.set(r, set);
    }
  }
  return map;
}

export function collectFacts(bundle: Bundle, logs: LogSource = logSourceOf(bundle)): IncidentFacts {
  const inc = bundle.incident;
  const people = PeopleDirectory.fromBundle(bundle);
  // Redact before clustering: masking variable parts first would break a secret into pieces
  // that no longer look like a secret (e.g. "xoxb-<*>-<*>-tail").
  const logRedactor = new Redactor(people.aliases());
  // One clusterer per (service, problem-or-not): a 503 error line and a 200 info line of the same
  // shape must never merge into one signature.
  const clusterers = new Map<string, LogClusterer>();
  // Lines arrive by the million: look the clusterer up by (service, status) without building keys.
  const byServiceStatus = new Map<string | undefined, Map<string | undefined, LogClusterer>>();
  const clustererFor = (service: string | undefined, status: string | undefined) => {
    let byStatus = byServiceStatus.get(service);
    if (!byStatus) {
      byStatus = new Map();
      byServiceStatus.set(service, byStatus);
    }
    let c = byStatus.get(status);
    if (c) return c;
    const level = levelOf(status);
    const key = `${level === 'error' || level === 'warn' ? 'problem' : 'normal'}|${clusterers.size < 64 ? service ?? '' : '*'}`;
    c = clusterers.get(key);
    if (!c) {
      c = new LogClusterer();
      clusterers.set(key, c);
    }
    byStatus.set(status, c);
    return c;
  };
  let logLineCount = 0;
  logs.forEach((line) => {
    logLineCount++;
    clustererFor(line.service, line.status).add(logRedactor.redact(line.message), line.ms, { service: line.service, status: line.status, host: line.host });
  });
  const logSignatures = [...clusterers.values()]
    .flatMap((c) => c.signatures())
    .sort((a, b) => a.firstMs - b.firstMs || b.count - a.count);
  const alertTexts: string[] = [];
  let alertMs: number | null = null;
  const noteAlert = (ms: number | null) => {
    if (ms !== null && (alertMs === null || ms < alertMs)) alertMs = ms;
  };
  if (inc.title) alertTexts.push(inc.title);
  for (const a of bundle.sources?.pagerduty?.alerts ?? []) {
    noteAlert(parseIsoMs(a.created_at));
    if (a.summary) alertTexts.push(a.summary);
    const details = (a as Record<string, unknown>).body as { details?: unknown } | undefined;
    if (details?.details && typeof details.details === 'object') alertTexts.push(JSON.stringify(details.details));
  }
  for (const e of bundle.sources?.datadog?.events ?? []) {
    if (/monitor|alert/i.test(e.source_type_name ?? '') && e.alert_type === 'error') {
      alertTexts.push(`${e.title ?? ''} ${e.text ?? ''}`);
      noteAlert(epochSecondsToMs(e.date_happened));
    }
  }

  const dataGaps: string[] = [];
  for (const err of bundle.harvest?.errors ?? []) {
    dataGaps.push(`${err.source} could not be harvested: ${err.message}`);
  }
  for (const t of bundle.harvest?.truncated ?? []) {
    dataGaps.push(`${t.source} ${t.what ?? 'items'} truncated: kept ${t.kept ?? '?'} of ${t.total ?? '?'}`);
  }
  const src = bundle.sources ?? {};
  if (!src.github?.repos?.length) dataGaps.push('no GitHub deployments in the bundle: changes could not be assessed');
  if (!src.datadog?.metrics?.length && !src.newrelic?.nrql?.length) dataGaps.push('no metric series in the bundle: onset taken from alerts and logs');
  if (logs.count === 0) dataGaps.push('no application logs in the bundle');

  const deployments = deploymentFacts(bundle);
  const series = metricSeries(bundle);
  const seriesSource = new Map<string, 'datadog' | 'newrelic'>();
  for (const m of bundle.sources?.datadog?.metrics ?? []) seriesSource.set(`${m.metric}|${m.scope ?? ''}`, 'datadog');
  for (const s of series) if (!seriesSource.has(`${s.metric}|${s.scope}`)) seriesSource.set(`${s.metric}|${s.scope}`, 'newrelic');
  return {
    id: inc.id,
    title: inc.title ?? inc.id,
    service: inc.service ?? null,
    severity: inc.severity ?? null,
    url: inc.url ?? null,
    createdMs: parseIsoMs(inc.created_at)!,
    acknowledgedMs: inc.acknowledged_at ? parseIsoMs(inc.acknowledged_at) : null,
    resolvedMs: inc.resolved_at ? parseIsoMs(inc.resolved_at) : null,
    series,
    seriesSource,
    deployments,
    repos: (src.github?.repos ?? []).map((r) => r.full_name),
    repoServices: repoServiceTags(bundle),
    logSignatures,
    logLineCount,
    logRedactions: { ...logRedactor.counts() } as Record<string, number>,
    people,
    alertTexts,
    alertMs,
    dataGaps,
  };
}

