// PagerDuty source (REST API v2): the incident record, its log entries and its alerts, kept with
// PagerDuty's own field names and time formats (docs/context-bundle.md, sources.pagerduty).
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
import { classifyStatus, defaultClassify, parseRetryAfter, VendorError, withRetries } from '../retry.js';
import type { HarvestContext, HarvestedIncident, HarvestErrorEntry, HttpPolicy, SourceOutcome } from '../types.js';
import { emptyOutcome } from '../types.js';

export type PagerDutyCredentials = NonNullable<VendorCredentials['pagerduty']>;

export interface PagerDutyData {
  log_entries: unknown[];
  alerts: unknown[];
}

const SOURCE = 'pagerduty';
const ACCEPT = 'application/vnd.pagerduty+json;version=2';
/** PagerDuty's largest page for classic pagination. */
const MAX_PAGE = 100;
/** Alerts have no configured cap; this only bounds a runaway incident (classic pagination stops near 10 000). */
const MAX_ALERTS = 10_000;

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
    throw new VendorError(SOURCE, scrub(`GET ${path}: network error: ${(err as Error).message}`, creds), null, true);
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
  return withRetries((signal) => getOnce<T>(creds, path, query, signal), { source: SOURCE, policy, classify: defaultClassify, onRetry });
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

/**
 * Log entries (capped by caps.pagerdutyLogEntries) and alerts of ctx.incident. Never throws:
 * without log entries there is no PagerDuty section (data null); if only the alerts fail, the
 * section has the log entries, an empty alert list and an error saying so.
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

  let alerts: unknown[] = [];
  try {
    const r = await listAll(creds, `${base}/alerts`, 'alerts', [], MAX_ALERTS, ctx.http, onRetry);
    alerts = r.items;
    if (r.truncated) out.truncated.push({ source: SOURCE, what: 'alerts', kept: r.items.length, total: r.total });
  } catch (err) {
    out.errors.push(errorEntry('alerts', err, creds));
  }

  out.data = { log_entries: logEntries, alerts };
  say(`pagerduty: ${logEntries.length} log entries, ${alerts.length} alerts`);
  return out;
}

/**
 * Doctor: GET /abilities (works for account and user API tokens and OAuth tokens; /users/me
 * refuses account-level tokens), then GET /incidents?limit=1 for read access to incidents.
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
  return check({ reachable: true, authorized: true, missing: [], detail: `${host}: token accepted, incidents readable` });
}
