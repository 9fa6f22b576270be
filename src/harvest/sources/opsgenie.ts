// Opsgenie source (REST API v2, Alert API): the alert as the incident record, and its activity log
// with the alert's notes folded in, kept with Opsgenie's own field names (docs/context-bundle.md,
// sources.opsgenie.logs). There is no maintained Opsgenie SDK for Node; this is a small client over
// fetch (fetchJson), with every call going through withRetries.
//
// Response shapes (docs.opsgenie.com, Alert API and Pagination):
//   GET /v2/alerts/{identifier}?identifierType=id|tiny|alias  → { data: Alert, took, requestId }
//   GET /v2/alerts/{identifier}/logs?order=asc&limit=…        → { data: [{ offset, log, type, owner, createdAt }], paging: { next?, first?, last? }, took, requestId }
//   GET /v2/alerts/{identifier}/notes?order=asc&limit=…       → { data: [{ offset, note, owner, createdAt }], paging: { … }, took, requestId }
// Pages are cursor-like: `offset` is the opaque `offset` of an item, `direction=next` goes past it;
// `paging.next` is the ready-made URL of the next page, followed here.
import type { VendorCredentials } from '../config.js';
import type { DoctorCheck } from '../doctorTypes.js';
import { defaultClassify, fetchJson, VendorError, withRetries } from '../retry.js';
import type { HarvestContext, HarvestedIncident, HarvestErrorEntry, HttpPolicy, SourceOutcome } from '../types.js';
import { emptyOutcome } from '../types.js';

export type OpsgenieCredentials = NonNullable<VendorCredentials['opsgenie']>;

export interface OpsgenieData {
  logs: unknown[];
}

/** A log entry made from an alert note, in the shape of an alert log entry. */
export interface OpsgenieNoteLog {
  log: string;
  type: 'note';
  owner: string | null;
  createdAt: string;
}

interface Envelope<T> {
  data?: T;
  paging?: { next?: string; first?: string; last?: string; prev?: string };
  took?: number;
  requestId?: string;
}

interface OpsgenieAlert {
  id?: string;
  tinyId?: string;
  alias?: string;
  message?: string;
  status?: string;
  acknowledged?: boolean;
  tags?: unknown;
  createdAt?: string;
  updatedAt?: string;
  priority?: string;
  responders?: unknown;
  details?: Record<string, unknown>;
  report?: { ackTime?: number; closeTime?: number; acknowledgedBy?: string; closedBy?: string };
  [key: string]: unknown;
}

const SOURCE = 'opsgenie';
/** Opsgenie's largest page. */
const PAGE = 100;
/** There is no configured cap for Opsgenie; this bounds logs and notes of a runaway alert. */
const MAX_ITEMS = 10_000;

type OnRetry = (attempt: number, delayMs: number, why: string) => void;

function scrub(text: string, creds: OpsgenieCredentials): string {
  return creds.apiKey ? text.split(creds.apiKey).join('[REDACTED]') : text;
}

const baseUrl = (creds: OpsgenieCredentials) => creds.apiUrl.replace(/\/+$/, '');

/**
 * A `paging.next` link, made safe to follow: on the configured host it is used as is; on another
 * host (e.g. api.opsgenie.com links behind a proxy), its path and query are re-based onto the
 * configured URL, so the key never goes anywhere else.
 */
function followable(creds: OpsgenieCredentials, link: string | undefined): string | null {
  if (!link) return null;
  let next: URL;
  let base: URL;
  try {
    base = new URL(baseUrl(creds));
    next = new URL(link, base);
  } catch {
    return null;
  }
  if (next.origin === base.origin) return next.toString();
  return `${baseUrl(creds)}${next.pathname}${next.search}`;
}

async function get<T>(creds: OpsgenieCredentials, url: string, policy: HttpPolicy, onRetry?: OnRetry): Promise<Envelope<T>> {
  const { body } = await withRetries(
    (signal) => fetchJson<Envelope<T>>(SOURCE, url, { method: 'GET', headers: { Authorization: `GenieKey ${creds.apiKey}`, Accept: 'application/json' }, signal }),
    { source: SOURCE, policy, classify: defaultClassify, onRetry, host: new URL(url).host },
  );
  return body;
}

/** Follows paging.next until the list ends or `max` items are in hand. */
export async function listAll<T>(creds: OpsgenieCredentials, firstUrl: string, max: number, policy: HttpPolicy, onRetry?: OnRetry): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  const seen = new Set<string>();
  let url: string | null = firstUrl;
  while (url && !seen.has(url)) {
    seen.add(url);
    const page: Envelope<T[]> = await get<T[]>(creds, url, policy, onRetry);
    if (!Array.isArray(page.data)) throw new VendorError(SOURCE, `${new URL(url).pathname}: response has no data list`, null, false);
    items.push(...page.data);
    const next = page.data.length > 0 ? followable(creds, page.paging?.next) : null;
    if (items.length >= max) return { items: items.slice(0, max), truncated: items.length > max || next !== null };
    url = next;
  }
  return { items, truncated: false };
}

/** `tiny:1791`, `alias:checkout-5xx`, `id:…`; a bare all-digit value is a tiny id, anything else an id. */
function identifierOf(input: string): { identifier: string; type: 'id' | 'tiny' | 'alias' } {
  const m = /^(id|tiny|alias):(.+)$/.exec(input);
  if (m) return { identifier: m[2]!, type: m[1] as 'id' | 'tiny' | 'alias' };
  return { identifier: input, type: /^\d+$/.test(input) ? 'tiny' : 'id' };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

function plusMs(iso: string, ms: unknown): string | null {
  const start = Date.parse(iso);
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || !Number.isFinite(start)) return null;
  return new Date(start + ms).toISOString();
}

function serviceOf(alert: OpsgenieAlert): string | null {
  if (Array.isArray(alert.tags)) {
    for (const t of alert.tags) {
      const m = typeof t === 'string' ? /^service:(.+)$/i.exec(t.trim()) : null;
      if (m && m[1]!.trim()) return m[1]!.trim();
    }
  }
  const fromDetails = str(alert.details?.service);
  if (fromDetails) return fromDetails.trim();
  if (Array.isArray(alert.responders)) {
    for (const r of alert.responders) {
      if (r && typeof r === 'object' && (r as { type?: unknown }).type === 'team') {
        const team = r as { name?: unknown; id?: unknown };
        return str(team.name) ?? str(team.id);
      }
    }
  }
  return null;
}

/**
 * GET /v2/alerts/{id} → the alert as the incident record. `id` is an alert id, or `tiny:N` /
 * `alias:X` (a bare number is taken as a tiny id). Throws VendorError.
 *
 * Times: Opsgenie's `report.ackTime` / `report.closeTime` are milliseconds after `createdAt`;
 * acknowledgedAt is createdAt + ackTime (null when unknown, the logs say when), resolvedAt is
 * createdAt + closeTime, else `updatedAt`, for closed alerts only.
 */
export async function fetchOpsgenieIncident(creds: OpsgenieCredentials, id: string, policy: HttpPolicy): Promise<HarvestedIncident> {
  const { identifier, type } = identifierOf(id.trim());
  const url = `${baseUrl(creds)}/v2/alerts/${encodeURIComponent(identifier)}?identifierType=${type}`;
  const body = await get<OpsgenieAlert>(creds, url, policy);
  const alert = body.data;
  if (!alert || typeof alert !== 'object' || !str(alert.id) || !str(alert.createdAt)) {
    throw new VendorError(SOURCE, `GET /v2/alerts/${identifier}: response has no alert with id and createdAt`, null, false);
  }
  const createdAt = alert.createdAt as string;
  const status = str(alert.status) ?? 'unknown';
  const tiny = str(alert.tinyId);
  return {
    id: alert.id as string,
    source: 'opsgenie',
    number: tiny && /^\d+$/.test(tiny) ? Number(tiny) : null,
    title: str(alert.message) ?? '',
    service: serviceOf(alert),
    severity: str(alert.priority),
    urgency: null,
    status,
    createdAt,
    acknowledgedAt: alert.acknowledged === true ? plusMs(createdAt, alert.report?.ackTime) : null,
    resolvedAt: status === 'closed' ? plusMs(createdAt, alert.report?.closeTime) ?? str(alert.updatedAt) : null,
    url: null,
    raw: alert,
  };
}

function errorEntry(what: string, err: unknown, creds: OpsgenieCredentials): HarvestErrorEntry {
  if (err instanceof VendorError) return { source: SOURCE, message: scrub(`${what}: ${err.message}`, creds), retryable: err.retryable };
  const c = defaultClassify(err);
  return { source: SOURCE, message: scrub(`${what}: ${c.message}`, creds), retryable: c.retryable };
}

const timeKey = (entry: unknown): number => {
  const t = entry && typeof entry === 'object' ? Date.parse(String((entry as { createdAt?: unknown }).createdAt)) : NaN;
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
};

/**
 * The alert's logs (oldest first) with its notes folded in as `{ log, type: 'note', owner,
 * createdAt }`, merged by time (a log entry stays before a note at the same instant). Never
 * throws: without logs there is no Opsgenie section (data null); if only the notes fail, the logs
 * are kept and an error says so.
 */
export async function harvestOpsgenie(creds: OpsgenieCredentials, ctx: HarvestContext): Promise<SourceOutcome<OpsgenieData>> {
  const out = emptyOutcome<OpsgenieData>();
  const say = (m: string) => {
    try {
      ctx.log(scrub(m, creds));
    } catch {
      /* progress output must not break harvesting */
    }
  };
  const onRetry: OnRetry = (attempt, delayMs, why) => say(`opsgenie: retry ${attempt} in ${delayMs} ms (${why})`);
  const alertUrl = `${baseUrl(creds)}/v2/alerts/${encodeURIComponent(ctx.incident.id)}`;
  const listQuery = `identifierType=id&order=asc&direction=next&limit=${PAGE}`;

  let logs: unknown[];
  try {
    const r = await listAll<unknown>(creds, `${alertUrl}/logs?${listQuery}`, MAX_ITEMS, ctx.http, onRetry);
    logs = r.items;
    if (r.truncated) out.truncated.push({ source: SOURCE, what: 'logs', kept: r.items.length, total: null });
  } catch (err) {
    out.errors.push(errorEntry('alert logs', err, creds));
    return out;
  }

  let notes: OpsgenieNoteLog[] = [];
  try {
    const r = await listAll<{ note?: unknown; owner?: unknown; createdAt?: unknown }>(creds, `${alertUrl}/notes?${listQuery}`, MAX_ITEMS, ctx.http, onRetry);
    notes = r.items
      .filter((n) => n && typeof n === 'object' && typeof n.createdAt === 'string')
      .map((n) => ({ log: typeof n.note === 'string' ? n.note : '', type: 'note' as const, owner: str(n.owner), createdAt: n.createdAt as string }));
    if (r.truncated) out.truncated.push({ source: SOURCE, what: 'notes', kept: r.items.length, total: null });
  } catch (err) {
    out.errors.push(errorEntry('alert notes', err, creds));
  }

  // Array.prototype.sort is stable: logs keep their order, and come before notes at equal times.
  const merged = [...logs, ...notes].map((entry, i) => ({ entry, i, t: timeKey(entry) }));
  merged.sort((a, b) => (a.t === b.t ? a.i - b.i : a.t < b.t ? -1 : 1));
  out.data = { logs: merged.map((m) => m.entry) };
  say(`opsgenie: ${logs.length} log entries, ${notes.length} notes`);
  return out;
}

/**
 * Doctor: GET /v2/alerts?limit=1, the kind of read harvesting does. (GET /v2/account would refuse
 * team-integration keys and keys restricted from configuration, which can still read alerts.)
 */
export async function checkOpsgenie(creds: OpsgenieCredentials, policy: HttpPolicy): Promise<DoctorCheck> {
  let host = creds.apiUrl;
  try {
    host = new URL(creds.apiUrl).host;
  } catch {
    /* keep as given */
  }
  const check = (c: Omit<DoctorCheck, 'source' | 'configured'>): DoctorCheck => ({ source: 'opsgenie', configured: true, ...c, detail: scrub(c.detail, creds) });
  try {
    await get<unknown[]>(creds, `${baseUrl(creds)}/v2/alerts?limit=1`, policy);
  } catch (err) {
    const e = err instanceof VendorError ? err : (() => {
      const c = defaultClassify(err);
      return new VendorError(SOURCE, c.message, c.status, c.retryable);
    })();
    // 401 "Could not authenticate"; a malformed key gets 422 "Key format is not valid".
    if (e.status === 401 || (e.status === 422 && /key/i.test(e.message))) {
      return check({ reachable: true, authorized: false, missing: [], detail: `${host} rejected the API key (${e.status} on GET /v2/alerts)` });
    }
    if (e.status === 403) {
      return check({ reachable: true, authorized: true, missing: ['Read access (API key needs the Read right)'], detail: `API key accepted, but GET /v2/alerts answered 403` });
    }
    if (e.status === null) return check({ reachable: false, authorized: null, missing: [], detail: `could not reach ${host}: ${e.message}` });
    return check({ reachable: true, authorized: null, missing: [], detail: `GET /v2/alerts: ${e.message}` });
  }
  return check({ reachable: true, authorized: true, missing: [], detail: `${host}: API key accepted, alerts readable` });
}
