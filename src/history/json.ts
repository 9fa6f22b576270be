// JSON post-mortems: a Hindsight report (report v1) or the generic shape in docs/history.md (one
// object, an array, or { "incidents": [...] }). Errors name the JSON path of the problem.
import type { Report } from '../core/report.js';
import { ticketOf } from './document.js';
import {
  entitiesOf,
  errorSignaturesOf,
  failureModesOf,
  normalizeDate,
  normalizeService,
  normalizeSeverity,
  normalizeStatus,
  normalizeTriggerKind,
  signatureTemplate,
  splitServices,
  triggerKindOf,
} from './features.js';
import type { PastActionItem, PastIncident, TriggerKind } from './types.js';

export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
}

function uniq(values: string[]): string[] {
  return [...new Set(values)].sort();
}

const REPORT_TRIGGER: Record<string, TriggerKind> = { deployment: 'deployment', config_change: 'config_change', change_event: 'config_change' };

/** A Hindsight report as a past incident (imported reports and the ones this tool stored). */
export function pastFromReport(report: Report): PastIncident {
  const signatures = report.log_signatures.filter((s) => s.level === 'error' || s.level === 'warn' || s.level === 'fatal').map((s) => s.template);
  const evidence = [
    ...(report.trigger?.evidence ?? []),
    ...report.five_whys.flatMap((w) => [w.why, w.because, ...w.evidence]),
    ...report.candidates.filter((c) => c.role !== 'ruled_out').flatMap((c) => c.reasons),
  ].join('\n');
  const entities = entitiesOf(`${report.root_cause}\n${evidence}`, signatures);
  const trigger: TriggerKind = report.trigger ? REPORT_TRIGGER[report.trigger.kind] ?? 'deployment' : 'none';
  const actionItems: PastActionItem[] = report.action_items.map((a) => ({ title: a.title, status: 'open', ticket: null }));
  return {
    id: report.incident.id,
    title: report.incident.title,
    date: report.incident.started_at,
    services: report.incident.service ? [normalizeService(report.incident.service)] : [],
    severity: normalizeSeverity(report.incident.severity),
    summary: report.summary,
    root_cause: report.root_cause,
    trigger_kind: trigger,
    failure_modes: failureModesOf([report.incident.title, report.summary, report.root_cause, ...signatures].join('\n')),
    action_items: actionItems,
    error_signatures: uniq(signatures.map(signatureTemplate)).slice(0, 50),
    files: entities.files,
    config_keys: entities.config_keys,
    hosts: entities.hosts,
    body: [report.summary, report.impact, evidence, ...report.action_items.map((a) => `${a.title} ${a.rationale}`), ...signatures].join('\n').slice(0, 50_000),
    origin: 'report',
    url: report.incident.url ?? null,
  };
}

function str(value: unknown, path: string, required = false): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) throw new HistoryFormatError(`${path}: required`);
    return null;
  }
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw new HistoryFormatError(`${path}: expected a string`);
  return value;
}

function strings(value: unknown, path: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) throw new HistoryFormatError(`${path}: expected an array of strings`);
  return value.map((v, i) => str(v, `${path}[${i}]`, true)!);
}

function actionItemsOf(value: unknown, path: string): PastActionItem[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new HistoryFormatError(`${path}: expected an array`);
  return value.map((raw, i) => {
    const at = `${path}[${i}]`;
    if (typeof raw === 'string') return { title: raw, status: null, ticket: ticketOf([], raw) };
    if (typeof raw !== 'object' || raw === null) throw new HistoryFormatError(`${at}: expected an object or a string`);
    const o = raw as Record<string, unknown>;
    const title = str(o.title ?? o.summary ?? o.description, `${at}.title`, true)!;
    const ticketRaw = o.ticket ?? o.issue ?? o.url ?? o.link;
    let ticket = null;
    if (typeof ticketRaw === 'string') ticket = ticketOf(/^https?:/.test(ticketRaw) ? [ticketRaw] : [], ticketRaw);
    else if (ticketRaw && typeof ticketRaw === 'object') {
      const t = ticketRaw as Record<string, unknown>;
      const url = str(t.url, `${at}.ticket.url`);
      const key = str(t.key ?? t.id, `${at}.ticket.key`);
      ticket = ticketOf(url ? [url] : [], key ?? '') ?? (key ? { system: 'other' as const, key, url } : null);
    }
    const status = str(o.status ?? o.state, `${at}.status`);
    return { title, status: normalizeStatus(status) ?? (o.done === true ? 'done' : o.done === false ? 'open' : null), ticket };
  });
}

function pastFromGeneric(raw: unknown, path: string, fallbackId: string): PastIncident {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HistoryFormatError(`${path || '(root)'}: expected an object`);
  const o = raw as Record<string, unknown>;
  const p = (k: string) => (path ? `${path}.${k}` : k);
  const title = str(o.title ?? o.name, p('title'), true)!;
  const summary = str(o.summary ?? o.description, p('summary')) ?? '';
  const rootCause = str(o.root_cause ?? o.rootCause ?? o.cause, p('root_cause')) ?? '';
  const servicesRaw = o.services ?? o.service;
  const services = uniq((typeof servicesRaw === 'string' ? splitServices(servicesRaw) : strings(servicesRaw, p('services')).map(normalizeService)).filter(Boolean));
  const rawSignatures = strings(o.error_signatures ?? o.errors, p('error_signatures'));
  const body = [summary, rootCause, str(o.impact, p('impact')) ?? '', str(o.body ?? o.text, p('body')) ?? ''].join('\n');
  const entities = entitiesOf(body, rawSignatures);
  const signatures = uniq([...rawSignatures.map(signatureTemplate), ...errorSignaturesOf([], body)]);
  const dateRaw = str(o.date ?? o.started_at ?? o.startedAt ?? o.created_at, p('date'));
  const date = normalizeDate(dateRaw);
  if (dateRaw && !date) throw new HistoryFormatError(`${p('date')}: not a date ("${dateRaw.slice(0, 40)}")`);
  const trigger = str(o.trigger ?? o.trigger_kind, p('trigger'));
  return {
    id: str(o.id, p('id')) ?? fallbackId,
    title,
    date,
    services,
    severity: normalizeSeverity(str(o.severity, p('severity'))),
    summary,
    root_cause: rootCause,
    trigger_kind: normalizeTriggerKind(trigger) ?? triggerKindOf(`${rootCause}\n${summary}`),
    failure_modes: failureModesOf([title, summary, rootCause, ...rawSignatures].join('\n')),
    action_items: actionItemsOf(o.action_items ?? o.actionItems ?? o.follow_ups, p('action_items')),
    error_signatures: signatures.slice(0, 50),
    files: uniq([...entities.files, ...strings(o.files, p('files')).map((f) => f.toLowerCase())]),
    config_keys: uniq([...entities.config_keys, ...strings(o.config_keys, p('config_keys')).map((k) => k.toLowerCase())]),
    hosts: uniq([...entities.hosts, ...strings(o.hosts, p('hosts')).map((h) => h.toLowerCase())]),
    body: body.slice(0, 50_000),
    origin: 'generic-json',
    url: str(o.url, p('url')),
  };
}

/** Every incident a JSON document holds; `fallbackId(i)` names those without an id. */
export function parseJsonIncidents(text: string, fallbackId: (index: number, item: unknown) => string): PastIncident[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new HistoryFormatError(`not valid JSON (${(err as Error).message})`);
  }
  if (data && typeof data === 'object' && !Array.isArray(data) && (data as { report_version?: unknown }).report_version === 1) {
    const r = data as Report;
    if (!r.incident || typeof r.incident.id !== 'string') throw new HistoryFormatError('incident.id: required');
    if (typeof r.root_cause !== 'string') throw new HistoryFormatError('root_cause: required');
    for (const k of ['five_whys', 'action_items', 'log_signatures', 'candidates'] as const) if (!Array.isArray(r[k])) throw new HistoryFormatError(`${k}: expected an array`);
    return [pastFromReport(r)];
  }
  const list = Array.isArray(data) ? data : (data as { incidents?: unknown })?.incidents;
  if (Array.isArray(list)) return list.map((item, i) => pastFromGeneric(item, `${Array.isArray(data) ? '' : 'incidents'}[${i}]`, fallbackId(i, item)));
  return [pastFromGeneric(data, '', fallbackId(0, data))];
}
