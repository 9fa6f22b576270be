// Facts: the bundle read once into normalised, typed records (epoch ms, parsed diffs, clustered
// logs, metric series) that every later step shares. Pure: no I/O.
import { logSourceOf, skippedGaps, type Bundle, type Deployment, type LogSource } from './bundle.js';
import { analyzeChangeRecord, analyzeCommit, type ChangeAnalysis } from './changes.js';
import { LogClusterer, levelOf, type LogSignature } from './logSignatures.js';
import { PeopleDirectory } from './people.js';
import { Redactor } from './redact.js';
import type { MetricSeries } from './spikes.js';
import { epochMsToMs, epochSecondsToMs, parseIsoMs, parseSlackTsMs } from './time.js';

export type ChangeOrigin = 'github' | 'pagerduty' | 'datadog';

/**
 * A change that went live: a GitHub deployment, or a change recorded outside git deployments (a
 * PagerDuty change event, a Datadog deployment/config event) that rolled out config, flags, data
 * or code. Every one of them is a trigger candidate.
 */
export interface DeploymentFact {
  origin: ChangeOrigin;
  /** null for a change event that names no repository */
  repo: string | null;
  id: number | string;
  /** null for a change event that names no commit */
  sha: string | null;
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
  /** order within its repository (or its recording tool), oldest first */
  index: number;
  /** services the change record itself names (PagerDuty services, Datadog service tags) */
  services: string[];
  /** the tool that recorded a change event (LaunchDarkly, Terraform Cloud…), null for deployments */
  tool: string | null;
  /** other records of the same rollout (a change event echoing this deployment) */
  echoes: string[];
}

/** "deployment 1001 of acme/api v2 (9f2c1e0)" or "change event 01AB (LaunchDarkly)". */
export function describeChange(d: DeploymentFact): string {
  if (d.origin === 'github') return `deployment ${d.id} of ${d.repo}${d.ref ? ` ${d.ref}` : ''} (${(d.sha ?? '').slice(0, 7)})`;
  const vendor = d.origin === 'pagerduty' ? 'PagerDuty change event' : 'Datadog change event';
  const where = d.repo ? ` of ${d.repo}${d.sha ? ` (${d.sha.slice(0, 7)})` : ''}` : '';
  return `${vendor} ${d.id}${d.tool ? ` (${d.tool})` : ''}${where}`;
}

/** Short stable key for a change across the analysis. */
export function changeKey(d: DeploymentFact): string {
  return `${d.origin}:${d.repo ?? ''}#${d.id}`;
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
  /** what responders wrote (chat, incident notes), oldest first; bots excluded */
  chat: Array<{ ms: number; text: string }>;
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
        origin: 'github',
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
        services: [],
        tool: null,
        echoes: [],
      });
    });
  }
  return out;
}

const GITHUB_COMMIT_URL = /github\.com\/([\w.-]+\/[\w.-]+?)\/(?:commit|commits|pull\/\d+\/commits)\/([0-9a-f]{7,40})\b/i;
const CHANGE_SOURCE = /deploy|config|flag|feature|change|launchdarkly|split|configcat|unleash|flagsmith|statsig|optimizely|terraform|pulumi|argo|spinnaker|helm|kubernetes|octopus|harness|rollout|release|migrat|dns|cdn|policy|rules?\b/i;

function textOf(value: unknown, depth = 0): string {
  if (value === null || value === undefined || depth > 4) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => textOf(v, depth + 1)).join('\n');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .slice(0, 50)
      .map(([k, v]) => (typeof v === 'object' && v !== null ? `${k}:\n${textOf(v, depth + 1)}` : `${k}: ${textOf(v, depth + 1)}`))
      .join('\n');
  }
  return '';
}

/**
 * Change events that record the same rollout as a GitHub deployment (they name its commit, or its
 * repository and version within minutes of it) are echoes of it, not separate changes.
 */
function echoedDeployment(text: string, atMs: number, linked: { repo: string; sha: string } | null, deployments: DeploymentFact[]): DeploymentFact | null {
  const lower = text.toLowerCase();
  for (const d of deployments) {
    if (!d.sha) continue;
    const shas = [d.sha, ...d.commits.map((c) => c.sha)].filter((x) => x.length >= 7);
    if (linked && d.repo?.toLowerCase() === linked.repo.toLowerCase() && shas.some((x) => x.startsWith(linked.sha) || linked.sha.startsWith(x))) return d;
    if (shas.some((x) => lower.includes(x.slice(0, 7).toLowerCase()))) return d;
    const near = Math.abs(atMs - (d.finishedMs ?? d.createdMs)) <= 15 * 60_000 || (atMs >= d.createdMs - 60_000 && atMs <= (d.finishedMs ?? d.stateMs) + 60_000);
    if (!near) continue;
    // A deploy, release or push recorded within 90 s of a rollout finishing, naming what the rollout
    // changed (a file, a zone, a key), is that rollout.
    if (
      d.finishedMs !== null &&
      Math.abs(atMs - d.finishedMs) <= 90_000 &&
      /\b(deploy\w*|releas\w*|publish\w*|push\w*|roll(ed)?[ -]?out)\b/i.test(lower) &&
      changedNames(d).some((n) => lower.includes(n))
    ) {
      return d;
    }
    const repoName = (d.repo ?? '').split('/').pop()?.toLowerCase() ?? '';
    const ref = (d.ref ?? '').toLowerCase();
    const namesRepo = repoName.length >= 3 && new RegExp(`(^|[^a-z0-9-])${repoName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z0-9-]|$)`).test(lower);
    const namesRef = ref.length >= 3 && !/^(main|master|head|trunk|develop)$/.test(ref) && lower.includes(ref);
    if (namesRepo && (namesRef || /deploy/.test(lower))) return d;
  }
  return null;
}

const GENERIC_PATH_PARTS = /^(src|lib|app|apps|config|configs|conf|settings|main|index|default|defaults|common|shared|base|values|production|prod|staging|services?|deploy|k8s|charts?|docs?|test|tests)$/;

/** What a deployment's commits changed, by name: file stems and directories, config keys. */
function changedNames(d: DeploymentFact): string[] {
  const org = (d.repo ?? '').split('/')[0]?.toLowerCase() ?? '';
  const out = new Set<string>();
  for (const c of d.commits) {
    for (const f of c.files) {
      if (['docs', 'test', 'ci', 'style', 'i18n'].includes(f.cls)) continue;
      for (const seg of f.filename.toLowerCase().split('/')) {
        const stem = seg.replace(/\.(ya?ml|json|toml|tf|hcl|zone|conf|ini|sql|ts|js|go|py|rb|java)$/, '');
        if (stem.length >= 5 && !GENERIC_PATH_PARTS.test(stem) && stem !== org) out.add(stem);
      }
    }
    for (const k of c.configChanges) {
      const last = (k.key.split('.').pop() ?? '').toLowerCase();
      if (last.length >= 6) out.add(last);
    }
  }
  return [...out];
}

function changeEventFacts(bundle: Bundle, deployments: DeploymentFact[]): DeploymentFact[] {
  const out: DeploymentFact[] = [];
  const seen = new Set<string>();
  const pdEvents = bundle.sources?.pagerduty?.change_events ?? [];
  pdEvents.forEach((e, index) => {
    const ms = parseIsoMs(e.timestamp);
    if (ms === null) return;
    const id = String(e.id ?? `change-${index}`);
    if (seen.has(`pd:${id}`)) return;
    seen.add(`pd:${id}`);
    const links = (e.links ?? []).map((l) => `${l.text ?? ''} ${l.href ?? ''}`).join('\n');
    const details = textOf(e.custom_details);
    const summary = e.summary ?? '';
    const text = [summary, details, links].filter(Boolean).join('\n');
    const m = GITHUB_COMMIT_URL.exec(links) ?? GITHUB_COMMIT_URL.exec(details);
    const linked = m ? { repo: m[1]!, sha: m[2]!.toLowerCase() } : null;
    const echo = echoedDeployment(text, ms, linked, deployments);
    if (echo) {
      echo.echoes.push(`PagerDuty change event ${id}`);
      return;
    }
    const services = (e.services ?? []).map((s) => s.summary ?? '').filter(Boolean);
    const tool = e.integration?.summary ?? e.source ?? null;
    out.push(changeRecordFact('pagerduty', id, ms, summary, e.custom_details, text, linked, services, tool, out.length));
  });
  for (const [index, e] of (bundle.sources?.datadog?.events ?? []).entries()) {
    const type = `${e.source_type_name ?? ''}`;
    const tags = e.tags ?? [];
    if (/monitor|alert/i.test(type) || e.alert_type === 'error' || e.alert_type === 'warning') continue;
    const title = e.title ?? '';
    const isChange = CHANGE_SOURCE.test(type) || tags.some((t) => /^(deployment|change|config|feature_flag|flag)[:_]/i.test(t)) || /\b(deploy(ed|ment)?|rolled out|rollout|released|enabled|disabled|toggled|migrat\w*|config(uration)? (change|push|update))\b/i.test(title);
    if (!isChange) continue;
    const ms = epochSecondsToMs(e.date_happened);
    const id = String(e.id ?? `event-${index}`);
    if (seen.has(`dd:${id}`)) continue;
    seen.add(`dd:${id}`);
    const text = [title, e.text ?? '', tags.join(' ')].filter(Boolean).join('\n');
    const m = GITHUB_COMMIT_URL.exec(text);
    const linked = m ? { repo: m[1]!, sha: m[2]!.toLowerCase() } : null;
    const echo = echoedDeployment(text, ms, linked, deployments);
    if (echo) {
      echo.echoes.push(`Datadog event ${id}`);
      continue;
    }
    const services = tags.filter((t) => t.startsWith('service:')).map((t) => t.slice(8));
    const env = tags.find((t) => t.startsWith('env:'))?.slice(4) ?? null;
    const fact = changeRecordFact('datadog', id, ms, title, null, text, linked, services, type || null, out.length);
    fact.environment = env;
    out.push(fact);
  }
  return out;
}

function changeRecordFact(
  origin: ChangeOrigin,
  id: string,
  ms: number,
  summary: string,
  details: unknown,
  text: string,
  linked: { repo: string; sha: string } | null,
  services: string[],
  tool: string | null,
  index: number,
): DeploymentFact {
  const env = details && typeof details === 'object' ? (details as Record<string, unknown>).environment : undefined;
  return {
    origin,
    repo: linked?.repo ?? null,
    id,
    sha: linked?.sha ?? null,
    ref: null,
    environment: typeof env === 'string' ? env : null,
    description: summary,
    createdMs: ms,
    finishedMs: ms,
    state: 'success',
    stateMs: ms,
    byAutomation: true,
    commits: [analyzeChangeRecord(linked?.sha ?? null, summary, details, text, `change event ${id}`)],
    index,
    services,
    tool,
    echoes: [],
  };
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
  // Machines and services a log line may name as its user (`user=featuregen`): not people.
  const notPeople = new Set<string>(inc?.service ? [inc.service.toLowerCase()] : []);
  for (const repo of bundle.sources?.github?.repos ?? []) for (const part of (repo.full_name ?? '').toLowerCase().split('/')) if (part) notPeople.add(part);
  // every service that writes logs, known before the first line names one as its user
  for (const raw of (bundle.sources?.logs ?? []) as unknown[]) {
    const service = raw && typeof raw === 'object' ? (raw as { service?: unknown }).service : undefined;
    if (typeof service === 'string') notPeople.add(service.toLowerCase());
  }
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
    if (line.service) notPeople.add(line.service.toLowerCase());
    clustererFor(line.service, line.status).add(logRedactor.redact(people.rolesInFields(line.message, notPeople)), line.ms, { service: line.service, status: line.status, host: line.host });
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

  const chat: Array<{ ms: number; text: string }> = [];
  for (const m of bundle.sources?.slack?.messages ?? []) {
    if (m.subtype === 'bot_message' || m.bot_id || !m.user || !m.text) continue;
    const ms = parseSlackTsMs(m.ts);
    if (ms !== null) chat.push({ ms, text: m.text });
  }
  for (const e of bundle.sources?.pagerduty?.log_entries ?? []) {
    const note = e.channel?.summary;
    const ms = parseIsoMs(e.created_at);
    if (/annotate/i.test(e.type) && note && ms !== null) chat.push({ ms, text: note });
  }
  for (const l of bundle.sources?.opsgenie?.logs ?? []) {
    const ms = parseIsoMs(l.createdAt);
    if (/note/i.test(l.type ?? '') && ms !== null) chat.push({ ms, text: l.log });
  }
  chat.sort((a, b) => a.ms - b.ms);

  const dataGaps: string[] = [];
  for (const err of bundle.harvest?.errors ?? []) {
    dataGaps.push(`${err.source} could not be harvested: ${err.message}`);
  }
  for (const t of bundle.harvest?.truncated ?? []) {
    dataGaps.push(`${t.source} ${t.what ?? 'items'} truncated: kept ${t.kept ?? '?'} of ${t.total ?? '?'}`);
  }
  const src = bundle.sources ?? {};
  if (!src.github?.repos?.length && !src.pagerduty?.change_events?.length) dataGaps.push('no GitHub deployments in the bundle: changes could not be assessed');
  if (!src.datadog?.metrics?.length && !src.newrelic?.nrql?.length) dataGaps.push('no metric series in the bundle: onset taken from alerts and logs');
  if (logs.count === 0) dataGaps.push('no application logs in the bundle');
  dataGaps.push(...skippedGaps(bundle, logs));

  const gitDeployments = deploymentFacts(bundle);
  const deployments = [...gitDeployments, ...changeEventFacts(bundle, gitDeployments)];
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
    chat,
    dataGaps,
  };
}

