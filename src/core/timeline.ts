// Timeline: every source merged into typed events. Order: by time; equal times keep source order
// (incident, PagerDuty, Opsgenie, Slack, GitHub, Datadog, New Relic, logs, then detected spikes),
// and within a source the bundle's own order.
import type { Bundle } from './bundle.js';
import { describeConfigChange } from './changes.js';
import { changeKey, describeChange, type DeploymentFact, type IncidentFacts } from './facts.js';
import type { Relevance, TimelineEntry, TimelineKind, TimelineSource } from './report.js';
import type { IncidentSignals } from './signals.js';
import { epochSecondsToMs, formatMs, parseIsoMs, parseSlackTsMs } from './time.js';
import { isNonProduction, type TriggerAssessment } from './trigger.js';
import { nameTokens } from './signals.js';
import { clipWhole } from './redact.js';

export interface TimelineEvent {
  ms: number;
  source: TimelineSource;
  kind: TimelineKind;
  summary: string;
  relevance: Relevance;
  ref?: string;
  count?: number;
}

export interface TimelineFilter {
  minRelevance?: Relevance;
  from?: number;
  to?: number;
  sources?: TimelineSource[];
  kinds?: TimelineKind[];
  limit?: number;
}

const RELEVANCE_RANK: Record<Relevance, number> = { low: 0, medium: 1, high: 2 };

// Chat that carries a decision or a finding.
const DECISION = /\b(roll(ing|ed)? ?back|revert(ing|ed)?|mitigat\w*|hotfix|fail(ing|ed)? ?over|shift(ing)? traffic|disabl\w+|feature flag|scal(e|ed|ing) (up|out)|bump(ed)? (the )?limit|restart(ed|ing)?|resolv(ed|ing)|root cause|caused by|the cause|that matches|found it|culprit|confirm(s|ed)?|this is upstream|is upstream|fix(ed)? forward|status page|errors (gone|dropping)|recovered)\b/i;

function chatRelevance(text: string): Relevance {
  if (DECISION.test(text)) return 'high';
  if (/\b(deploy(ed)?|shipped|changed|v\d+\.\d+|error|5\d\d|timeout|oom|pool|memory|latency|upstream)\b/i.test(text)) return 'medium';
  return 'low';
}

function oneLine(text: string, max = 240): string {
  return clipWhole(text, max);
}

function deploymentSummary(d: DeploymentFact): string {
  if (d.origin !== 'github') {
    const what = describeChange(d);
    return `${what.charAt(0).toUpperCase()}${what.slice(1)}${d.environment ? ` to ${d.environment}` : ''}: ${oneLine(d.description, 140)}`;
  }
  const what = `Deployment ${d.id} of ${d.repo}${d.ref ? ` ${d.ref}` : ''} (${(d.sha ?? '').slice(0, 7)})`;
  const to = d.environment ? ` to ${d.environment}` : '';
  if (d.finishedMs !== null) return `${what}${to} succeeded${d.description ? `: ${oneLine(d.description, 100)}` : ''}`;
  return `${what}${to} ${d.state === 'failure' || d.state === 'error' ? 'failed' : `is ${d.state}`}${d.description ? `: ${oneLine(d.description, 100)}` : ''}`;
}

export function buildTimelineEvents(
  bundle: Bundle,
  facts: IncidentFacts,
  signals: IncidentSignals,
  trigger: TriggerAssessment,
): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  // The incident record itself belongs to the paging system that opened it.
  const incidentSource: TimelineSource = bundle.incident.source === 'opsgenie' ? 'opsgenie' : 'pagerduty';
  const push = (e: TimelineEvent) => {
    if (Number.isFinite(e.ms)) events.push(e);
  };
  const src = bundle.sources ?? {};
  const service = facts.service;

  // Incident record: fills in what the paging system's log does not show.
  const pdEntries = src.pagerduty?.log_entries ?? [];
  const ogLogs = src.opsgenie?.logs ?? [];
  // The incident record's own times are kept unless the paging log shows the same moment: when the
  // two disagree (a re-triggered incident, a clock in another source), both are facts.
  const loggedAt = (prefix: string, og: RegExp) => {
    const times = new Set<number>();
    for (const e of pdEntries) if (e.type.startsWith(prefix)) times.add(parseIsoMs(e.created_at)!);
    for (const l of ogLogs) if (og.test(l.log)) times.add(parseIsoMs(l.createdAt)!);
    return times;
  };
  if (!loggedAt('trigger', /created|triggered/i).has(facts.createdMs)) {
    push({ ms: facts.createdMs, source: incidentSource, kind: 'page', summary: `Incident ${facts.id} opened: ${oneLine(facts.title)}`, relevance: 'high', ref: facts.id });
  }
  if (facts.acknowledgedMs !== null && !loggedAt('acknowledge', /acknowledged/i).has(facts.acknowledgedMs)) {
    push({ ms: facts.acknowledgedMs, source: incidentSource, kind: 'ack', summary: 'Incident acknowledged by the on-call responder', relevance: 'high', ref: facts.id });
  }
  if (facts.resolvedMs !== null && !loggedAt('resolve', /closed|resolved/i).has(facts.resolvedMs)) {
    push({ ms: facts.resolvedMs, source: incidentSource, kind: 'resolve', summary: 'Incident resolved', relevance: 'high', ref: facts.id });
  }

  for (const e of pdEntries) {
    const ms = parseIsoMs(e.created_at)!;
    const type = e.type.replace(/_log_entry$/, '');
    const note = e.channel?.summary && type === 'annotate' ? `: ${oneLine(e.channel.summary)}` : '';
    let kind: TimelineKind = 'event';
    let relevance: Relevance = 'medium';
    let summary = oneLine(e.summary ?? type);
    if (type === 'trigger') {
      kind = 'page';
      relevance = 'high';
      summary = `Incident triggered${e.channel?.summary ? `: ${oneLine(e.channel.summary)}` : ''}`;
    } else if (type === 'notify' || type === 'escalate' || type === 'assign') {
      kind = 'page';
      relevance = type === 'escalate' ? 'high' : 'medium';
    } else if (type === 'acknowledge') {
      kind = 'ack';
      relevance = 'high';
    } else if (type === 'resolve') {
      kind = 'resolve';
      relevance = 'high';
    } else if (type === 'annotate') {
      kind = 'chat';
      summary = `Note from a responder${note}`;
      relevance = chatRelevance(e.channel?.summary ?? '') === 'low' ? 'medium' : 'high';
    }
    push({ ms, source: 'pagerduty', kind, summary, relevance, ref: e.id != null ? `pagerduty:${e.id}` : undefined });
  }
  for (const a of src.pagerduty?.alerts ?? []) {
    push({ ms: parseIsoMs(a.created_at)!, source: 'pagerduty', kind: 'alert', summary: `Alert: ${oneLine(a.summary ?? '')}${a.severity ? ` (${a.severity})` : ''}`, relevance: 'high', ref: a.id != null ? `pagerduty-alert:${a.id}` : undefined });
  }

  for (const l of ogLogs) {
    const ms = parseIsoMs(l.createdAt)!;
    const text = l.log;
    let kind: TimelineKind = 'event';
    let relevance: Relevance = 'medium';
    if (/alert created|triggered|created/i.test(text)) { kind = 'page'; relevance = 'high'; }
    else if (/acknowledged/i.test(text)) { kind = 'ack'; relevance = 'high'; }
    else if (/closed|resolved/i.test(text)) { kind = 'resolve'; relevance = 'high'; }
    else if (/note/i.test(l.type ?? '')) { kind = 'chat'; relevance = chatRelevance(text); }
    else if (/notif|escalat|assign/i.test(text)) { kind = 'page'; }
    push({ ms, source: 'opsgenie', kind, summary: oneLine(text), relevance });
  }

  for (const m of src.slack?.messages ?? []) {
    const ms = parseSlackTsMs(m.ts)!;
    const text = m.text ?? '';
    const bot = m.subtype === 'bot_message' || Boolean(m.bot_id) || !m.user;
    const who = bot ? 'automation' : facts.people.slackRole(m.user);
    let relevance = chatRelevance(text);
    if (bot && relevance === 'high' && !/revert|rollback|roll back|recovered|resolved/i.test(text)) relevance = 'medium';
    push({ ms, source: 'slack', kind: 'chat', summary: `${who}: ${oneLine(text)}`, relevance, ref: `slack:${m.ts}` });
  }

  const candidateIds = new Set(trigger.candidates.filter((c) => c.score >= 0.3).map((c) => changeKey(c.deployment)));
  const keyRoles = new Set([trigger.trigger, trigger.latent].filter((c) => c !== null).map((c) => changeKey(c!.deployment)));
  const serviceTokens = nameTokens(service);
  for (const d of facts.deployments) {
    const key = changeKey(d);
    const repoName = d.repo?.split('/').pop()?.toLowerCase() ?? '';
    const touchesService =
      serviceTokens.some((t) => repoName.includes(t)) ||
      (service !== null && d.repo !== null && facts.repoServices.get(d.repo)?.has(service)) ||
      (service !== null && d.services.includes(service)) ||
      /config|infra|platform|terraform|k8s|helm|deploy|flags/.test(repoName);
    const prod = !isNonProduction(d.environment);
    const relevance: Relevance = keyRoles.has(key) || ((touchesService || candidateIds.has(key)) && prod) ? 'high' : prod ? 'medium' : 'low';
    const ms = d.finishedMs ?? d.stateMs;
    if (d.origin !== 'github') {
      push({ ms, source: d.origin, kind: 'config_change', summary: deploymentSummary(d), relevance, ref: `${d.origin}-change-event:${d.id}` });
      continue;
    }
    push({ ms, source: 'github', kind: 'deploy', summary: deploymentSummary(d), relevance, ref: `${d.repo}@${(d.sha ?? '').slice(0, 7)}#${d.id}` });
    const configChanges = d.commits.flatMap((c) => c.configChanges);
    if (configChanges.length && d.finishedMs !== null) {
      push({
        ms,
        source: 'github',
        kind: 'config_change',
        summary: `Configuration change live with deployment ${d.id}: ${configChanges.slice(0, 3).map(describeConfigChange).join('; ')}`,
        relevance,
        ref: `${d.repo}@${(d.sha ?? '').slice(0, 7)}#${d.id}`,
      });
    }
  }
  for (const repo of src.github?.repos ?? []) {
    for (const c of repo.commits ?? []) {
      const ms = parseIsoMs(c.commit?.author?.date ?? c.commit?.committer?.date ?? '') ?? null;
      if (ms === null) continue;
      const culprit = trigger.trigger?.culprit?.change.sha === c.sha;
      push({ ms, source: 'github', kind: 'commit', summary: `Commit ${c.sha.slice(0, 7)} in ${repo.full_name}: ${oneLine(c.commit?.message?.split('\n')[0] ?? '', 140)}`, relevance: culprit ? 'high' : 'low', ref: `${repo.full_name}@${c.sha.slice(0, 7)}` });
    }
  }

  const datadogChanges = new Set(facts.deployments.filter((d) => d.origin === 'datadog').map((d) => String(d.id)));
  for (const [index, e] of (src.datadog?.events ?? []).entries()) {
    if (datadogChanges.has(String(e.id ?? `event-${index}`))) continue;
    const ms = epochSecondsToMs(e.date_happened);
    const type = (e.source_type_name ?? '').toLowerCase();
    const title = oneLine(e.title ?? '');
    let kind: TimelineKind = 'event';
    let relevance: Relevance = 'medium';
    if (/monitor|alert/.test(type)) {
      kind = e.alert_type === 'success' ? 'metric_recovery' : 'alert';
      relevance = 'high';
    } else if (/deploy/.test(type)) {
      relevance = 'low'; // the GitHub deployment is the record of truth; this is its echo
    } else if (/flag|feature|config|launchdarkly|split|configcat/.test(type)) {
      kind = 'config_change';
      relevance = 'high';
    }
    push({ ms, source: 'datadog', kind, summary: title, relevance, ref: e.id != null ? `datadog-event:${e.id}` : undefined });
  }

  for (const s of facts.logSignatures) {
    if (s.level !== 'error' && s.level !== 'warn') continue;
    const isIncident = signals.incidentSignatures.includes(s);
    const relevance: Relevance = isIncident && s.level === 'error' ? 'high' : isIncident ? 'medium' : 'low';
    push({
      ms: s.firstMs,
      source: 'logs',
      kind: 'log',
      summary: `First ${s.level} of signature "${oneLine(s.template, 160)}" (${s.count}× until ${formatMs(s.lastMs)}${s.services.length ? `, ${s.services.join(', ')}` : ''})`,
      relevance,
      ref: `log-signature:${s.id}`,
      count: s.count,
    });
  }

  const spikes = signals.spikes.slice().sort((a, b) => Number(b.errorLike) - Number(a.errorLike));
  for (const s of spikes) {
    const name = `${s.metric}${s.scope ? ` {${s.scope}}` : ''}`;
    const relevance: Relevance =
      s.errorLike && (s.coversDetection || (s.relatedToService && s.onsetMs <= facts.createdMs)) ? 'high' : s.errorLike || s.coversDetection ? 'medium' : 'low';
    const dir = s.direction === 'up' ? 'rises' : 'drops';
    const source = facts.seriesSource.get(`${s.metric}|${s.scope}`) ?? 'datadog';
    push({ ms: s.onsetMs, source, kind: 'metric_spike', summary: `${name} ${dir} from a baseline of ${round(s.baseline)} (peak ${round(s.peak)} at ${formatMs(s.peakMs)})`, relevance, ref: `metric:${s.metric}` });
    if (s.recoveredAtMs !== null) {
      push({ ms: s.recoveredAtMs, source, kind: 'metric_recovery', summary: `${name} back to its baseline of ${round(s.baseline)}`, relevance, ref: `metric:${s.metric}` });
    }
  }

  // Stable: Array.prototype.sort is stable, so equal times keep insertion (source) order.
  return events.sort((a, b) => a.ms - b.ms);
}

function round(v: number): string {
  if (Math.abs(v) >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return String(Number(v.toFixed(3)));
}

export function filterTimeline(events: TimelineEvent[], filter: TimelineFilter = {}): TimelineEvent[] {
  const min = RELEVANCE_RANK[filter.minRelevance ?? 'low'];
  const out: TimelineEvent[] = [];
  for (const e of events) {
    if (RELEVANCE_RANK[e.relevance] < min) continue;
    if (filter.from !== undefined && e.ms < filter.from) continue;
    if (filter.to !== undefined && e.ms > filter.to) continue;
    if (filter.sources && !filter.sources.includes(e.source)) continue;
    if (filter.kinds && !filter.kinds.includes(e.kind)) continue;
    out.push(e);
    if (filter.limit !== undefined && out.length >= filter.limit) break;
  }
  return out;
}

export function toEntries(events: TimelineEvent[]): TimelineEntry[] {
  return events.map((e) => {
    const entry: TimelineEntry = { at: formatMs(e.ms), source: e.source, kind: e.kind, summary: e.summary, relevance: e.relevance };
    if (e.ref !== undefined) entry.ref = e.ref;
    if (e.count !== undefined) entry.count = e.count;
    return entry;
  });
}

export function timelineMarkdown(entries: TimelineEntry[]): string {
  const rows = entries.map((e) => `| ${e.at} | ${e.source} | ${e.kind} | ${e.relevance} | ${escapeCell(e.summary)} |`);
  return ['| Time (UTC) | Source | Kind | Relevance | What happened |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

export function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
