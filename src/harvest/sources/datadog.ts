// Datadog: metric series (v1 query), events (v1), log lines (v2 search) and graph snapshots,
// through the official @datadog/datadog-api-client.
//
// Transport: the SDK is given its own HttpLibrary (DatadogHttp below) built on Node's fetch, so
//   - the SDK never retries (enableRetry: false, and the SDK's retry lives in the library we
//     replace); every call goes through our withRetries instead;
//   - each attempt gets a fresh Configuration whose httpConfig.signal is withRetries' per-attempt
//     AbortSignal, so a timed-out attempt is really cancelled;
//   - non-2xx answers become VendorErrors with the response headers still at hand, so a 429's
//     Retry-After (or Datadog's X-RateLimit-Reset, seconds until the window resets) is honoured.
//     The SDK's own ApiException carries only `.code` and `.body`.
// Server: `baseServer` (takes precedence over serverIndex and the per-operation servers, for
// every v1 and v2 operation alike) when DATADOG_API_URL is set; otherwise the site variable.
// Responses are turned back into Datadog's wire JSON (snake_case) with the SDK's ObjectSerializer,
// so the bundle keeps the vendor's own shapes.
// The SDK is large (seconds to load): it is imported on first use, not when this module loads.
import type { client, v2 } from '@datadog/datadog-api-client';
import { templated, type VendorCredentials } from '../config.js';
import type { DoctorCheck } from '../doctorTypes.js';
import { classifyStatus, networkErrorMessage, parseRetryAfter, VendorError, withRetries, type Classified } from '../retry.js';
import type { HarvestContext, HarvestErrorEntry, HttpPolicy, SourceOutcome, TruncationEntry } from '../types.js';

export type DatadogCredentials = NonNullable<VendorCredentials['datadog']>;

export interface DatadogData {
  datadog: { metrics: unknown[]; events: unknown[]; snapshots: unknown[] };
  logs: unknown[];
}

export interface DatadogLogLine {
  timestamp: string;
  service: string | null;
  status: string | null;
  host: string | null;
  message: string;
}

type Sdk = typeof import('@datadog/datadog-api-client');
let sdkPromise: Promise<Sdk> | null = null;
const loadSdk = (): Promise<Sdk> => (sdkPromise ??= import('@datadog/datadog-api-client'));

const SOURCE = 'datadog';
/** Datadog's v1 events endpoint answers at most this many events per page. */
const EVENTS_PAGE = 1000;
/** Datadog's v2 log search answers at most this many lines per page. */
const LOGS_PAGE = 1000;
/**
 * Event sources that record a change going live: deploy tools, configuration management and
 * infrastructure code, feature flags. CI builds and orchestrator chatter (pod restarts) are left
 * out: they are not changes and would crowd real ones out of the cap.
 */
export const CHANGE_EVENT_SOURCES = [
  'deploy',
  'capistrano',
  'fabric',
  'spinnaker',
  'argocd',
  'octopus_deploy',
  'harness',
  'chef',
  'puppet',
  'ansible',
  'saltstack',
  'terraform',
  'pulumi',
  'launchdarkly',
  'split',
  'configcat',
  'flagsmith',
  'optimizely',
  'statsig',
  'unleash',
];

/** "datadoghq.eu", "app.datadoghq.eu", "https://api.datadoghq.eu/" -> "datadoghq.eu". */
export function datadogSite(site: string): string {
  const s = site
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/.*$/, '')
    .replace(/^(app|api)\./i, '')
    .toLowerCase();
  return s || 'datadoghq.com';
}

function describeNetworkError(err: unknown): string {
  return networkErrorMessage(err);
}

function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(body.errors) && body.errors.length) {
      return body.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ').slice(0, 200);
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200).replace(/\s+/g, ' ').trim();
}

/** The SDK's transport, replaced: Node's fetch, the attempt's AbortSignal, headers kept on errors. */
class DatadogHttp implements client.HttpLibrary {
  enableRetry = false;

  constructor(private readonly sdk: Sdk) {}

  async send(request: client.RequestContext): Promise<client.ResponseContext> {
    const signal = request.getHttpConfig().signal as AbortSignal | undefined;
    const body = request.getBody();
    let res: Response;
    let text: string;
    try {
      res = await fetch(request.getUrl(), {
        method: request.getHttpMethod(),
        headers: request.getHeaders(),
        body: typeof body === 'string' ? body : Buffer.isBuffer(body) ? new Uint8Array(body) : undefined,
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw new VendorError(SOURCE, 'request aborted (timeout)', null, true);
      throw new VendorError(SOURCE, `network error: ${describeNetworkError(err)}`, null, true);
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (res.status >= 400) {
      const retryAfter = parseRetryAfter(headers['retry-after'] ?? headers['x-ratelimit-reset']);
      const detail = errorDetail(text);
      throw new VendorError(SOURCE, `${res.status}${res.statusText ? ` ${res.statusText}` : ''}${detail ? `: ${detail}` : ''}`, res.status, classifyStatus(res.status), retryAfter);
    }
    return new this.sdk.client.ResponseContext(res.status, headers, {
      text: async () => text,
      binary: async () => Buffer.from(text),
    });
  }
}

/**
 * The SDK configuration for these credentials: keys, server (custom base URL or site), our
 * transport, no SDK retry, and the attempt's AbortSignal.
 */
function configure(sdk: Sdk, creds: DatadogCredentials, signal?: AbortSignal): client.Configuration {
  const { client } = sdk;
  const baseServer = creds.apiUrl ? new client.BaseServerConfiguration(creds.apiUrl.replace(/\/+$/, ''), {}) : undefined;
  const configuration = client.createConfiguration({
    authMethods: { apiKeyAuth: creds.apiKey, appKeyAuth: creds.appKey },
    ...(baseServer ? { baseServer } : {}),
    httpApi: new DatadogHttp(sdk),
    httpConfig: signal ? { signal: signal as unknown as client.AbortSignal } : {},
    enableRetry: false,
  });
  if (!baseServer) configuration.setServerVariables({ site: datadogSite(creds.site) });
  return configuration;
}

export async function datadogConfiguration(creds: DatadogCredentials, signal?: AbortSignal): Promise<client.Configuration> {
  return configure(await loadSdk(), creds, signal);
}

/** Where a given SDK operation (e.g. "v1.MetricsApi.queryMetrics") would be sent; no request is made. */
export async function datadogOperationUrl(creds: DatadogCredentials, operation: string, path: string): Promise<string> {
  const sdk = await loadSdk();
  return configure(sdk, creds).getServer(operation).makeRequestContext(path, sdk.client.HttpMethod.GET).getUrl();
}

/** Errors that did not come from our transport: the SDK's ApiException, or a response it could not read. */
export function classifyDatadog(err: unknown): Classified {
  const api = err as { code?: unknown; body?: unknown };
  if (err instanceof Error && typeof api.code === 'number' && 'body' in err) {
    // the SDK's ApiException: HTTP status and body, no headers
    const code = api.code;
    const body = typeof api.body === 'string' ? api.body : JSON.stringify(api.body ?? '');
    return { status: code, retryable: classifyStatus(code), retryAfterMs: null, message: `${code ?? 'error'}: ${String(body).slice(0, 200)}` };
  }
  // Deserialisation failures and the like: retrying gives the same answer.
  return { status: null, retryable: false, retryAfterMs: null, message: (err as Error)?.message ?? String(err) };
}

function scrubber(creds: DatadogCredentials): (s: string) => string {
  const secrets = [creds.apiKey, creds.appKey].filter((k) => k.length >= 4);
  return (s) => secrets.reduce((acc, k) => acc.split(k).join('[REDACTED]'), s);
}

type Caller = <T>(what: string, op: (configuration: client.Configuration) => Promise<T>) => Promise<T>;

function caller(sdk: Sdk, creds: DatadogCredentials, policy: HttpPolicy, log: (m: string) => void): Caller {
  const scrub = scrubber(creds);
  return (what, op) =>
    withRetries((signal) => op(configure(sdk, creds, signal)), {
      source: SOURCE,
      policy,
      classify: classifyDatadog,
      onRetry: (attempt, delayMs, why) => log(`datadog: ${what}: retry ${attempt} in ${delayMs} ms (${scrub(why)})`),
    });
}

function errorEntry(what: string, err: unknown, scrub: (s: string) => string): HarvestErrorEntry {
  const c = err instanceof VendorError ? { message: err.message, retryable: err.retryable } : classifyDatadog(err);
  return { source: SOURCE, message: scrub(`${what}: ${c.message}`), retryable: c.retryable };
}

/** SDK model objects -> Datadog's wire JSON (what the REST API returned). */
function toWire(serializer: { serialize(data: unknown, type: string, format: string): unknown }, items: unknown[], type: string): Array<Record<string, unknown>> {
  return items.map((item) => serializer.serialize(item, type, '') as Record<string, unknown>);
}

const isoMs = (ms: number) => new Date(ms).toISOString();

function logLine(log: v2.Log): DatadogLogLine | null {
  const a = log.attributes;
  if (!a) return null;
  const ts = a.timestamp as unknown;
  let timestamp: string | null = null;
  if (ts instanceof Date && !Number.isNaN(ts.getTime())) timestamp = ts.toISOString();
  else if (typeof ts === 'string' && !Number.isNaN(Date.parse(ts))) timestamp = new Date(ts).toISOString();
  if (!timestamp) return null;
  return {
    timestamp,
    service: a.service ?? null,
    status: a.status ?? null,
    host: a.host ?? null,
    message: a.message ?? '',
  };
}

interface Part<T> {
  items: T;
  /** at least one call answered */
  ok: boolean;
  errors: HarvestErrorEntry[];
  truncated: TruncationEntry[];
}

export async function harvestDatadog(
  creds: DatadogCredentials,
  ctx: HarvestContext,
  opts: { queries: string[]; logQuery: string | null; snapshots: number },
): Promise<SourceOutcome<DatadogData>> {
  const scrub = scrubber(creds);
  const sdk = await loadSdk();
  const { v1, v2 } = sdk;
  const call = caller(sdk, creds, ctx.http, ctx.log);
  const service = ctx.incident.service;
  const fromSec = Math.floor(ctx.window.fromMs / 1000);
  const toSec = Math.ceil(ctx.window.toMs / 1000);

  // ---- metrics: one v1 query per configured expression; one failing query does not stop the rest
  const withData: Array<{ query: string; name: string }> = [];
  const metricsPart = async (): Promise<Part<unknown[]>> => {
    const errors: HarvestErrorEntry[] = [];
    const truncated: TruncationEntry[] = [];
    const kept: unknown[] = [];
    let total = 0;
    let ok = false;
    const queries = [...new Set(opts.queries.map((q) => templated(q, service)))];
    for (const query of queries) {
      try {
        const res = await call(`metrics query "${query}"`, (cfg) => new v1.MetricsApi(cfg).queryMetrics({ from: fromSec, to: toSec, query }));
        if (res.status === 'error' || res.error) {
          errors.push({ source: SOURCE, message: scrub(`metrics query "${query}": ${res.error ?? 'query failed'}`), retryable: false });
          continue;
        }
        ok = true;
        const series = toWire(v1.ObjectSerializer, res.series ?? [], 'MetricsQueryMetadata').filter(
          (s) => typeof s.metric === 'string' && Array.isArray(s.pointlist),
        );
        total += series.length;
        for (const s of series) if (kept.length < ctx.caps.metricSeries) kept.push(s);
        const first = series[0];
        if (first) withData.push({ query, name: String(first.display_name ?? first.metric) });
      } catch (err) {
        errors.push(errorEntry(`metrics query "${query}"`, err, scrub));
      }
    }
    if (total > kept.length) truncated.push({ source: SOURCE, what: 'metric series', kept: kept.length, total });
    return { items: kept, ok, errors, truncated };
  };

  // ---- events: the service's events (or every event without a service) in the window, plus
  // every change event (deploys, config, flags, infra, of any service: changes elsewhere are
  // candidate triggers too) over the longer deployment window; newest first, as Datadog lists them
  const eventsPart = async (): Promise<Part<unknown[]>> => {
    const errors: HarvestErrorEntry[] = [];
    const truncated: TruncationEntry[] = [];
    const changes = { label: 'change events', sources: CHANGE_EVENT_SOURCES.join(','), from: ctx.deployWindow.fromMs, to: ctx.deployWindow.toMs };
    const filters: Array<{ label: string; tags?: string; sources?: string; from: number; to: number }> = [
      service ? { label: `events tagged service:${service}`, tags: `service:${service}`, from: ctx.window.fromMs, to: ctx.window.toMs } : { label: 'events', from: ctx.window.fromMs, to: ctx.window.toMs },
      changes,
    ];
    const cap = ctx.caps.events;
    let ok = false;
    let complete = true;
    const seen = new Set<string>();
    const all: Array<Record<string, unknown>> = [];
    for (const f of filters) {
      const mine: Array<Record<string, unknown>> = [];
      try {
        for (let page = 0; ; page++) {
          const res = await call(f.label, (cfg) =>
            new v1.EventsApi(cfg).listEvents({
              start: Math.floor(f.from / 1000),
              end: Math.ceil(f.to / 1000),
              unaggregated: true,
              page,
              ...(f.tags ? { tags: f.tags } : {}),
              ...(f.sources ? { sources: f.sources } : {}),
            }),
          );
          ok = true;
          const batch = res.events ?? [];
          mine.push(...toWire(v1.ObjectSerializer, batch, 'Event').filter((e) => typeof e.date_happened === 'number'));
          if (batch.length < EVENTS_PAGE) break;
          if (mine.length >= cap) {
            complete = false;
            break;
          }
        }
      } catch (err) {
        errors.push(errorEntry(f.label, err, scrub));
      }
      for (const e of mine) {
        const key = e.id !== undefined && e.id !== null ? `id:${String(e.id)}` : e.id_str ? `id:${String(e.id_str)}` : `json:${JSON.stringify(e)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        all.push(e);
      }
    }
    // stable: equal times keep the order Datadog gave
    const sorted = all.map((e, i) => ({ e, i })).sort((a, b) => (b.e.date_happened as number) - (a.e.date_happened as number) || a.i - b.i).map((x) => x.e);
    if (sorted.length > cap || !complete) {
      truncated.push({ source: SOURCE, what: 'events', kept: Math.min(cap, sorted.length), total: complete ? sorted.length : null });
    }
    return { items: sorted.slice(0, cap), ok, errors, truncated };
  };

  // ---- logs: v2 search, oldest first, following the cursor up to the cap
  const logsPart = async (): Promise<Part<DatadogLogLine[]>> => {
    const errors: HarvestErrorEntry[] = [];
    const truncated: TruncationEntry[] = [];
    const query = opts.logQuery ? templated(opts.logQuery, service) : service ? `service:${service} status:(error OR warn)` : 'status:(error OR warn)';
    const cap = ctx.caps.logLines;
    const lines: DatadogLogLine[] = [];
    let cursor: string | undefined;
    let ok = false;
    let pages = 0;
    try {
      while (lines.length < cap) {
        const limit = Math.min(LOGS_PAGE, cap - lines.length);
        const page: v2.LogsListRequestPage = cursor ? { limit, cursor } : { limit };
        const res = await call(`logs page ${pages + 1}`, (cfg) =>
          new v2.LogsApi(cfg).listLogs({
            body: { filter: { query, from: isoMs(ctx.window.fromMs), to: isoMs(ctx.window.toMs) }, sort: 'timestamp', page },
          }),
        );
        ok = true;
        pages++;
        const data = res.data ?? [];
        for (const log of data) {
          const line = logLine(log);
          if (line && lines.length < cap) lines.push(line);
        }
        cursor = res.meta?.page?.after || undefined;
        if (!cursor || data.length === 0) {
          cursor = undefined;
          break;
        }
      }
    } catch (err) {
      errors.push(errorEntry(`logs${pages ? ` (after ${pages} page${pages > 1 ? 's' : ''}, ${lines.length} lines kept)` : ''}`, err, scrub));
    }
    if (cursor && lines.length >= cap) truncated.push({ source: SOURCE, what: 'log lines', kept: lines.length, total: null });
    return { items: lines, ok, errors, truncated };
  };

  const [metrics, events, logs] = await Promise.all([metricsPart(), eventsPart(), logsPart()]);

  const errors = [...metrics.errors, ...events.errors, ...logs.errors];
  const truncated = [...metrics.truncated, ...events.truncated, ...logs.truncated];

  // ---- snapshots of the first graphs that had data; failures here cost only the picture
  const snapshots: unknown[] = [];
  const names = new Set<string>();
  for (const { query, name } of withData.slice(0, Math.max(0, opts.snapshots))) {
    const title = names.has(name) ? query : name;
    names.add(title);
    try {
      const snap = await call(`snapshot "${title}"`, (cfg) => new v1.SnapshotsApi(cfg).getGraphSnapshot({ metricQuery: query, start: fromSec, end: toSec, title }));
      if (snap.snapshotUrl) snapshots.push({ name: title, snapshot_url: snap.snapshotUrl, graph_def: snap.graphDef ?? null });
    } catch (err) {
      errors.push(errorEntry(`snapshot "${title}"`, err, scrub));
    }
  }

  ctx.log(`datadog: ${metrics.items.length} metric series, ${events.items.length} events, ${logs.items.length} log lines, ${snapshots.length} snapshots`);
  if (!metrics.ok && !events.ok && !logs.ok) return { data: null, errors, truncated };
  return {
    data: { datadog: { metrics: metrics.items, events: events.items, snapshots }, logs: logs.items },
    errors,
    truncated,
  };
}

/** doctor: API key (validate), application key and its read permissions; never any key text. */
export async function checkDatadog(creds: DatadogCredentials, policy: HttpPolicy): Promise<DoctorCheck> {
  const scrub = scrubber(creds);
  const sdk = await loadSdk();
  const { v1, v2 } = sdk;
  const call = caller(sdk, creds, policy, () => {});
  const where = creds.apiUrl ? new URL(creds.apiUrl).host : `api.${datadogSite(creds.site)}`;
  const check: DoctorCheck = { source: 'datadog', configured: true, reachable: null, authorized: null, missing: [], detail: '' };
  const status = (err: unknown) => (err instanceof VendorError ? err.status : classifyDatadog(err).status);
  const message = (err: unknown) => scrub(err instanceof VendorError ? err.message : classifyDatadog(err).message);

  try {
    const res = await call('validate', (cfg) => new v1.AuthenticationApi(cfg).validate());
    check.reachable = true;
    if (res.valid === false) {
      check.authorized = false;
      check.detail = `${where}: API key not valid`;
      return check;
    }
  } catch (err) {
    const s = status(err);
    check.reachable = s !== null;
    if (s === 401 || s === 403) {
      check.authorized = false;
      check.detail = `${where}: API key rejected (${s}); check DD_API_KEY and DD_SITE`;
    } else {
      check.detail = `${where}: ${s === null ? 'unreachable' : 'validate failed'}: ${message(err)}`;
    }
    return check;
  }

  const nowMs = Date.now();
  const probes: Array<{ scope: string; run: () => Promise<unknown> }> = [
    { scope: 'metrics_read', run: () => call('active metrics', (cfg) => new v1.MetricsApi(cfg).listActiveMetrics({ from: Math.floor(nowMs / 1000) - 60 })) },
    {
      scope: 'events_read',
      run: () => call('events', (cfg) => new v1.EventsApi(cfg).listEvents({ start: Math.floor(nowMs / 1000) - 60, end: Math.floor(nowMs / 1000) })),
    },
    {
      scope: 'logs_read_data',
      run: () =>
        call('logs', (cfg) =>
          new v2.LogsApi(cfg).listLogs({ body: { filter: { query: '*', from: isoMs(nowMs - 15 * 60_000), to: isoMs(nowMs) }, page: { limit: 1 } } }),
        ),
    },
  ];
  const failures: string[] = [];
  let rejected = 0;
  for (const p of probes) {
    try {
      await p.run();
    } catch (err) {
      const s = status(err);
      if (s === 401 || s === 403) {
        rejected++;
        check.missing.push(p.scope);
      } else {
        failures.push(`${p.scope}: ${message(err)}`);
      }
    }
  }
  check.authorized = rejected < probes.length;
  if (rejected === probes.length) {
    check.detail = `${where}: API key valid; application key rejected (403 on metrics, events and logs); check DD_APP_KEY`;
  } else if (rejected) {
    check.detail = `${where}: API key valid; application key lacks ${check.missing.join(', ')}`;
  } else {
    check.detail = `${where}: API key valid; application key can read metrics, events and logs`;
  }
  if (failures.length) check.detail += `; could not check ${failures.join('; ')}`;
  return check;
}
