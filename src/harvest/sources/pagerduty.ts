// PagerDuty source (REST API v2): the incident record, its log entries, its alerts and the change
// events around it, kept with PagerDuty's own field names and time formats (docs/context-bundle.md,
// sources.pagerduty).
//
// Transport: Node's fetch, not @pagerduty/pdjs. pdjs 2.2.4 was tried first and cannot meet the
// retry policy that every vendor call here must follow (src/harvest/retry.ts):
//  - it absorbs 429s itself. `fetch_retry` in build/src/common.js retries a 429 up to 3 times
//    after a fixed `retryTimeout` (default 20 s). It never reads Retry-After, and the 429 response
//    (with its headers) is not handed to the caller until the 4th 429. So withRetries could not
//    honour Retry-After / ratelimit-reset. No option turns this retry loop off;
//  - its `server` option always builds `https://${server}/…` (build/src/api.js), so it cannot
//    target a plain-http base URL. Its `url` option (a full URL) does work, e.g. against a local
//    fake, so the base URL was not the problem;
//  - it resolves, instead of rejecting, on 4xx/5xx. `all()` and `resource` find the resource name
//    with /.+.com\/(\w+)/, which breaks on non-.com hosts. Each request also starts a no-op 30 s
//    `requestTimer` unless requestTimeout is 0.
// The requests are those pdjs would send: same headers (Authorization: Token token=…, Accept:
// application/vnd.pagerduty+json;version=2) and same query encoding (repeated `include[]`).
// Pagination is done here with classic offset/limit/more/total.
import type { VendorCredentials } from '../config.js';
import type { DoctorCheck } from '../doctorTypes.js';
import { classifyStatus, defaultClassify, networkErrorMessage, parseRetryAfter, VendorError, withRetries } from '../retry.js';
import type { HarvestContext, HarvestedIncident, HarvestErrorEntry, HttpPolicy, SourceOutcome, TruncationEntry } from '../types.js';
import { emptyOutcome } from '../types.js';

export type PagerDutyCredentials = NonNullable<VendorCredentials['pagerduty']>;

export interface PagerDutyData {
  log_entries: unknown[];
  alerts: unknown[];
  /** absent when neither change event call answered */
  change_events?: unknown[];
}

const SOURCE = 'pagerduty';
const ACCEPT = 'application/vnd.pagerduty+json;version=2';
/** PagerDuty's largest page for classic pagination. */
const MAX_PAGE = 100;
/** Alerts have no configured cap; this only bounds a runaway incident (classic pagination stops near 10 000). */
const MAX_ALERTS = 10_000;
/** Classic pagination refuses offsets past 10 000: the most change events one window scan can read. */
const MAX_CHANGE_EVENT_SCAN = 10_000;
/** How far supporting services are followed from the incident's service, and how many are looked up. */
const DEPENDENCY_DEPTH = 3;
const MAX_DEPENDENCY_LOOKUPS = 20;

export type Query = ReadonlyArray<readonly [string, string]>;
type OnRetry = (attempt: number, delayMs: number, why: string) => void;

/** Never let the credential reach a message, whatever a server or a library put there. */
function scrub(text: string, creds: PagerDutyCredentials): string {
  return creds.token ? text.split(creds.token).join('[REDACTED]') : text;
}

function endpoint(creds: PagerDutyCredentials, path: string, query: Query): string {
  const url = new URL(creds.apiUrl.replace(/\/+$/, '') + path);
  for (const [k, v] of query) url.searchParams.append(k, v);
  return url.toString();
}

/** `{"error":{"message":"…","code":2006,"errors":[…]}}` → ` (Unauthorized, code 2006: …)` */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown; code?: unknown; errors?: unknown } };
    const e = body?.error;
    if (e && typeof e === 'object') {
      const parts = [typeof e.message === 'string' ? e.message : null, typeof e.code === 'number' ? `code ${e.code}` : null].filter(Boolean).join(', ');
      const more = Array.isArray(e.errors) ? e.errors.filter((x): x is string => typeof x === 'string').join('; ') : '';
      const all = [parts, more].filter(Boolean).join(': ');
      return all ? ` (${all.slice(0, 200)})` : '';
    }
  } catch {
    /* not JSON */
  }
  const flat = text.slice(0, 200).replace(/\s+/g, ' ').trim();
  return flat ? ` (${flat})` : '';
}

/** One attempt: GET, status check, JSON. Throws VendorError with retryability and the server's wait. */
async function getOnce<T>(creds: PagerDutyCredentials, path: string, query: Query, signal: AbortSignal): Promise<T> {
  const url = endpoint(creds, path, query);
  let res: Response;
  try {
    res = await fetch(url, { method: 'GET', headers: { Authorization: `Token token=${creds.token}`, Accept: ACCEPT }, signal });
  } catch (err) {
    if (signal.aborted) throw new VendorError(SOURCE, `GET ${path}: request aborted (timeout)`, null, true);
    throw new VendorError(SOURCE, scrub(`GET ${path}: network error: ${networkErrorMessage(err, url)}`, creds), null, true);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new VendorError(SOURCE, scrub(`GET ${path}: response cut off: ${(err as Error).message}`, creds), null, true);
  }
  if (!res.ok) {
    // PagerDuty documents `ratelimit-reset` (seconds to wait) on 429s; honour Retry-After first if sent.
    const wait = parseRetryAfter(res.headers.get('retry-after')) ?? (res.status === 429 ? parseRetryAfter(res.headers.get('ratelimit-reset')) : null);
    const message = scrub(`GET ${path}: ${res.status} ${res.statusText || 'error'}${errorDetail(text)}`, creds);
    throw new VendorError(SOURCE, message, res.status, classifyStatus(res.status), wait);
  }
  try {
    return (text ? JSON.parse(text) : {}) as T;
  } catch {
    throw new VendorError(SOURCE, `GET ${path}: invalid JSON from ${new URL(url).host}`, res.status, false);
  }
}

export function get<T>(creds: PagerDutyCredentials, path: string, query: Query, policy: HttpPolicy, onRetry?: OnRetry): Promise<T> {
  return withRetries((signal) => getOnce<T>(creds, path, query, signal), { source: SOURCE, policy, classify: defaultClassify, onRetry, host: new URL(creds.apiUrl).host });
}

interface ClassicPage {
  limit?: number;
  offset?: number;
  more?: boolean;
  total?: number | null;
  [key: string]: unknown;
}

/** Classic pagination (offset/limit/more/total), stopping at `max` items. */
async function listAll(
  creds: PagerDutyCredentials,
  path: string,
  key: string,
  query: Query,
  max: number,
  policy: HttpPolicy,
  onRetry?: OnRetry,
): Promise<{ items: unknown[]; total: number | null; truncated: boolean }> {
  const items: unknown[] = [];
  let offset = 0;
  let total: number | null = null;
  for (;;) {
    const limit = Math.max(1, Math.min(MAX_PAGE, max - items.length));
    const page = await get<ClassicPage>(creds, path, [...query, ['limit', String(limit)], ['offset', String(offset)], ['total', 'true']], policy, onRetry);
    const batch = page[key];
    if (!Array.isArray(batch)) throw new VendorError(SOURCE, `GET ${path}: response has no "${key}" list`, null, false);
    if (typeof page.total === 'number') total = page.total;
    items.push(...batch);
    offset += batch.length;
    if (items.length >= max) {
      const more = page.more === true || items.length > max || (total !== null && total > max);
      return { items: items.slice(0, max), total, truncated: more };
    }
    if (page.more !== true || batch.length === 0) return { items, total, truncated: false };
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const summaryOf = (v: unknown): string | null => (v && typeof v === 'object' ? str((v as { summary?: unknown }).summary) : null);

function firstAcknowledgement(acks: unknown): string | null {
  if (!Array.isArray(acks)) return null;
  let best: { at: string; ms: number } | null = null;
  for (const a of acks) {
    const at = a && typeof a === 'object' ? str((a as { at?: unknown }).at) : null;
    if (!at) continue;
    const ms = Date.parse(at);
    if (best === null || (Number.isFinite(ms) && (!Number.isFinite(best.ms) || ms < best.ms))) best = { at, ms };
  }
  return best?.at ?? null;
}

/** GET /incidents/{id} → the incident as PagerDuty reports it. Throws VendorError. */
export async function fetchPagerDutyIncident(creds: PagerDutyCredentials, id: string, policy: HttpPolicy): Promise<HarvestedIncident> {
  const path = `/incidents/${encodeURIComponent(id)}`;
  const body = await get<{ incident?: Record<string, unknown> }>(creds, path, [], policy);
  const inc = body.incident;
  if (!inc || typeof inc !== 'object' || !str(inc.id) || !str(inc.created_at)) {
    throw new VendorError(SOURCE, `GET ${path}: response has no incident with id and created_at`, null, false);
  }
  const status = str(inc.status) ?? 'unknown';
  const urgency = str(inc.urgency);
  return {
    id: inc.id as string,
    source: 'pagerduty',
    number: typeof inc.incident_number === 'number' ? inc.incident_number : null,
    title: str(inc.title) ?? str(inc.summary) ?? '',
    service: summaryOf(inc.service),
    severity: summaryOf(inc.priority) ?? urgency,
    urgency,
    status,
    createdAt: inc.created_at as string,
    // Only present while acknowledged (PagerDuty clears it on resolve); the log entries carry the rest.
    acknowledgedAt: firstAcknowledgement(inc.acknowledgements),
    resolvedAt: str(inc.resolved_at) ?? (status === 'resolved' ? str(inc.last_status_change_at) : null),
    url: str(inc.html_url),
    raw: inc,
  };
}

function errorEntry(what: string, err: unknown, creds: PagerDutyCredentials): HarvestErrorEntry {
  if (err instanceof VendorError) return { source: SOURCE, message: scrub(`${what}: ${err.message}`, creds), retryable: err.retryable };
  const c = defaultClassify(err);
  return { source: SOURCE, message: scrub(`${what}: ${c.message}`, creds), retryable: c.retryable };
}

/** PagerDuty's `since`/`until` format: UTC, whole seconds ("YYYY-MM-DDThh:mm:ssZ"); anything else is a 400. */
const pdTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface ServiceRef {
  id?: unknown;
  summary?: unknown;
  [key: string]: unknown;
}

const servicesOf = (event: unknown): ServiceRef[] => {
  const list = event && typeof event === 'object' ? (event as { services?: unknown }).services : undefined;
  return Array.isArray(list) ? list.filter((s): s is ServiceRef => !!s && typeof s === 'object') : [];
};

/**
 * The services whose changes can break the incident's service: itself and the services it
 * depends on (supporting services, followed a few levels down). Null when the dependencies could
 * not be read, so the caller does not filter on a partial picture.
 */
async function serviceScope(creds: PagerDutyCredentials, serviceId: string, policy: HttpPolicy, onRetry: OnRetry, say: (m: string) => void): Promise<Set<string> | null> {
  const scope = new Set([serviceId]);
  let frontier = [serviceId];
  let lookups = 0;
  for (let depth = 0; depth < DEPENDENCY_DEPTH && frontier.length; depth++) {
    const next: string[] = [];
    for (const id of frontier) {
      if (lookups++ >= MAX_DEPENDENCY_LOOKUPS) return scope;
      const path = `/service_dependencies/technical_services/${encodeURIComponent(id)}`;
      let body: { relationships?: unknown };
      try {
        body = await get<{ relationships?: unknown }>(creds, path, [], policy, onRetry);
      } catch (err) {
        say(`pagerduty: service dependencies unknown (${err instanceof Error ? err.message : String(err)}); keeping change events of every service`);
        return null;
      }
      for (const rel of Array.isArray(body.relationships) ? body.relationships : []) {
        const r = rel as { supporting_service?: { id?: unknown }; dependent_service?: { id?: unknown } } | null;
        const supporting = str(r?.supporting_service?.id);
        if (str(r?.dependent_service?.id) === id && supporting && !scope.has(supporting)) {
          scope.add(supporting);
          next.push(supporting);
        }
      }
    }
    frontier = next;
  }
  return scope;
}

/** The event as PagerDuty gave it, minus its routing key (an integration credential), with known service names. */
function keptEvent(event: Record<string, unknown>, serviceNames: Map<string, string>): Record<string, unknown> {
  const { routing_key: _secret, ...rest } = event;
  const services = rest.services;
  if (!Array.isArray(services)) return rest;
  return {
    ...rest,
    // change event service references often come without `summary`; the incident's own reference names it
    services: services.map((s) => {
      if (!s || typeof s !== 'object') return s;
      const ref = s as ServiceRef;
      const name = typeof ref.id === 'string' ? serviceNames.get(ref.id) : undefined;
      return ref.summary === undefined && name ? { ...ref, summary: name } : ref;
    }),
  };
}

interface ChangeEventsOutcome {
  events: unknown[] | null;
  errors: HarvestErrorEntry[];
  truncated: TruncationEntry[];
}

/**
 * Change events (config, flags, data, infra: changes that are not git deployments):
 * GET /incidents/{id}/related_change_events (PagerDuty's own correlation, kept first) and
 * GET /change_events over the deployment window, kept when they concern the incident's service
 * or a service it depends on (all of them when that is unknown, and events naming no service).
 * Deduplicated by id, capped by caps.events keeping the related ones and then those nearest the
 * incident's creation, in PagerDuty's order.
 */
async function harvestChangeEvents(creds: PagerDutyCredentials, ctx: HarvestContext, onRetry: OnRetry, say: (m: string) => void): Promise<ChangeEventsOutcome> {
  const errors: HarvestErrorEntry[] = [];
  const truncated: TruncationEntry[] = [];
  const incidentService = ctx.incident.raw.service as ServiceRef | null | undefined;
  const serviceId = str(incidentService?.id);
  const serviceNames = new Map<string, string>();
  if (serviceId && str(incidentService?.summary)) serviceNames.set(serviceId, incidentService!.summary as string);

  const relatedCall = async (): Promise<unknown[] | null> => {
    const path = `/incidents/${encodeURIComponent(ctx.incident.id)}/related_change_events`;
    try {
      // documented with `limit` only (no offset): one page of PagerDuty's most relevant changes
      const body = await get<{ change_events?: unknown }>(creds, path, [['limit', String(MAX_PAGE)]], ctx.http, onRetry);
      if (!Array.isArray(body.change_events)) throw new VendorError(SOURCE, `GET ${path}: response has no "change_events" list`, null, false);
      return body.change_events;
    } catch (err) {
      // Change correlation is not on every plan; the window scan below still finds the changes.
      if (err instanceof VendorError && (err.status === 403 || err.status === 404)) {
        say(`pagerduty: related change events not available (${err.status})`);
        return [];
      }
      errors.push(errorEntry('related change events', err, creds));
      return null;
    }
  };

  const windowCall = async (): Promise<{ items: unknown[]; complete: boolean } | null> => {
    const scope = serviceId ? await serviceScope(creds, serviceId, ctx.http, onRetry, say) : null;
    try {
      const query: Query = [
        ['since', pdTime(ctx.deployWindow.fromMs)],
        ['until', pdTime(ctx.deployWindow.toMs)],
      ];
      const r = await listAll(creds, '/change_events', 'change_events', query, MAX_CHANGE_EVENT_SCAN, ctx.http, onRetry);
      const inScope = (e: unknown) => {
        if (!scope) return true;
        const ids = servicesOf(e).map((s) => str(s.id)).filter((id): id is string => id !== null);
        return ids.length === 0 || ids.some((id) => scope.has(id));
      };
      return { items: r.items.filter(inScope), complete: !r.truncated };
    } catch (err) {
      errors.push(errorEntry('change events', err, creds));
      return null;
    }
  };

  const [related, windowed] = await Promise.all([relatedCall(), windowCall()]);
  if (related === null && windowed === null) return { events: null, errors, truncated };

  const seen = new Set<string>();
  const merged: Array<{ event: Record<string, unknown>; related: boolean }> = [];
  const add = (list: unknown[], isRelated: boolean) => {
    for (const e of list) {
      if (!e || typeof e !== 'object') continue;
      const id = str((e as { id?: unknown }).id);
      const key = id ? `id:${id}` : `json:${JSON.stringify(e)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      merged.push({ event: e as Record<string, unknown>, related: isRelated });
    }
  };
  add(related ?? [], true);
  add(windowed?.items ?? [], false);

  const cap = Math.max(1, Math.floor(ctx.caps.events));
  let kept = merged;
  if (merged.length > cap) {
    const created = Date.parse(ctx.incident.createdAt);
    const distance = (e: Record<string, unknown>) => {
      const ms = typeof e.timestamp === 'string' ? Date.parse(e.timestamp) : NaN;
      return Number.isFinite(ms) ? Math.abs(ms - created) : Infinity;
    };
    const order = merged.map((m, i) => ({ m, i })).sort((a, b) => Number(b.m.related) - Number(a.m.related) || distance(a.m.event) - distance(b.m.event) || a.i - b.i);
    const chosen = new Set(order.slice(0, cap).map((x) => x.i));
    kept = merged.filter((_, i) => chosen.has(i));
  }
  const complete = windowed?.complete ?? true;
  if (kept.length < merged.length || !complete) {
    truncated.push({ source: SOURCE, what: 'change_events', kept: kept.length, total: complete ? merged.length : null });
  }
  return { events: kept.map((m) => keptEvent(m.event, serviceNames)), errors, truncated };
}

/**
 * Log entries (capped by caps.pagerdutyLogEntries), alerts and change events of ctx.incident.
 * Never throws: without log entries there is no PagerDuty section (data null); if only the alerts
 * or the change events fail, the section keeps the rest and an error says what is missing.
 */
export async function harvestPagerDuty(creds: PagerDutyCredentials, ctx: HarvestContext): Promise<SourceOutcome<PagerDutyData>> {
  const out = emptyOutcome<PagerDutyData>();
  const say = (m: string) => {
    try {
      ctx.log(scrub(m, creds));
    } catch {
      /* progress output must not break harvesting */
    }
  };
  const onRetry: OnRetry = (attempt, delayMs, why) => say(`pagerduty: retry ${attempt} in ${delayMs} ms (${why})`);
  const base = `/incidents/${encodeURIComponent(ctx.incident.id)}`;

  let logEntries: unknown[];
  try {
    const cap = Math.max(1, Math.floor(ctx.caps.pagerdutyLogEntries));
    const r = await listAll(creds, `${base}/log_entries`, 'log_entries', [['is_overview', 'false'], ['include[]', 'channels'], ['time_zone', 'UTC']], cap, ctx.http, onRetry);
    logEntries = r.items;
    if (r.truncated) out.truncated.push({ source: SOURCE, what: 'log_entries', kept: r.items.length, total: r.total });
  } catch (err) {
    out.errors.push(errorEntry('log entries', err, creds));
    return out;
  }

  const alertsCall = async (): Promise<unknown[]> => {
    try {
      const r = await listAll(creds, `${base}/alerts`, 'alerts', [], MAX_ALERTS, ctx.http, onRetry);
      if (r.truncated) out.truncated.push({ source: SOURCE, what: 'alerts', kept: r.items.length, total: r.total });
      return r.items;
    } catch (err) {
      out.errors.push(errorEntry('alerts', err, creds));
      return [];
    }
  };
  const [alerts, changes] = await Promise.all([alertsCall(), harvestChangeEvents(creds, ctx, onRetry, say)]);
  out.errors.push(...changes.errors);
  out.truncated.push(...changes.truncated);

  out.data = { log_entries: logEntries, alerts, ...(changes.events ? { change_events: changes.events } : {}) };
  say(`pagerduty: ${logEntries.length} log entries, ${alerts.length} alerts, ${changes.events ? changes.events.length : 'no'} change events`);
  return out;
}

/**
 * Doctor: GET /abilities (works for account and user API tokens and OAuth tokens; /users/me
 * refuses account-level tokens), then GET /incidents?limit=1 for read access to incidents and
 * GET /change_events?limit=1 for change events (a scoped OAuth token may lack change_events.read).
 */
export async function checkPagerDuty(creds: PagerDutyCredentials, policy: HttpPolicy): Promise<DoctorCheck> {
  const host = (() => {
    try {
      return new URL(creds.apiUrl).host;
    } catch {
      return creds.apiUrl;
    }
  })();
  const check = (c: Omit<DoctorCheck, 'source' | 'configured'>): DoctorCheck => ({ source: 'pagerduty', configured: true, ...c, detail: scrub(c.detail, creds) });
  const asVendor = (err: unknown) => {
    if (err instanceof VendorError) return err;
    const c = defaultClassify(err);
    return new VendorError(SOURCE, c.message, c.status, c.retryable);
  };

  try {
    await get<{ abilities?: unknown }>(creds, '/abilities', [], policy);
  } catch (err) {
    const e = asVendor(err);
    if (e.status === 401) return check({ reachable: true, authorized: false, missing: [], detail: `${host} rejected the API token (401 on GET /abilities)` });
    if (e.status === null) return check({ reachable: false, authorized: null, missing: [], detail: `could not reach ${host}: ${e.message}` });
    return check({ reachable: true, authorized: null, missing: [], detail: e.message });
  }
  try {
    await get<{ incidents?: unknown }>(creds, '/incidents', [['limit', '1']], policy);
  } catch (err) {
    const e = asVendor(err);
    if (e.status === 401) return check({ reachable: true, authorized: false, missing: [], detail: `${host} rejected the API token (401 on GET /incidents)` });
    if (e.status === 403) return check({ reachable: true, authorized: true, missing: ['read access to incidents'], detail: `token accepted, but GET /incidents answered 403` });
    return check({ reachable: e.status !== null, authorized: true, missing: [], detail: e.message });
  }
  try {
    await get<{ change_events?: unknown }>(creds, '/change_events', [['limit', '1']], policy);
  } catch (err) {
    const e = asVendor(err);
    if (e.status === 403) return check({ reachable: true, authorized: true, missing: ['change_events.read'], detail: `incidents readable, but GET /change_events answered 403: changes outside git are not harvested` });
    return check({ reachable: e.status !== null, authorized: true, missing: [], detail: `incidents readable; change events not checked: ${e.message}` });
  }
  return check({ reachable: true, authorized: true, missing: [], detail: `${host}: token accepted, incidents and change events readable` });
}
