// The Datadog source through the real @datadog/datadog-api-client against a loopback fake
// (test/fakes/datadogFake.ts) fed from the reference bundle.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { validateBundle } from '../src/core/bundle.js';
import { checkDatadog, datadogOperationUrl, datadogSite, harvestDatadog, type DatadogCredentials } from '../src/harvest/sources/datadog.js';
import type { HarvestCaps, HarvestContext, HttpPolicy } from '../src/harvest/types.js';
import { DEFAULT_CAPS } from '../src/harvest/config.js';
import { createDatadogFake, type DatadogFake, type DatadogFakeOptions, type FakeLogLine } from './fakes/datadogFake.js';

interface ReferenceBundle {
  incident: { id: string; service: string; created_at: string; resolved_at: string };
  harvest: { window: { from: string; to: string } };
  sources: { datadog: { metrics: Array<{ expression: string }>; events: unknown[] }; logs: FakeLogLine[] };
}

const reference = JSON.parse(readFileSync(new URL('../examples/sample-incident/bundle.json', import.meta.url), 'utf8')) as ReferenceBundle;
const refMetrics = reference.sources.datadog.metrics;
const refEvents = reference.sources.datadog.events;
const refLogs = reference.sources.logs;
const QUERIES = refMetrics.map((m) => m.expression);
const FIVE = (l: FakeLogLine) => ({ timestamp: l.timestamp, service: l.service, status: l.status, host: l.host, message: l.message });

const API_KEY = 'dd-api-key-0123456789abcdef0123456789ab';
const APP_KEY = 'dd-app-key-fedcba9876543210fedcba9876543210fedcba98';
const POLICY: HttpPolicy = { timeoutMs: 2000, retries: 2, baseDelayMs: 20, maxDelayMs: 100 };
const CAPS: HarvestCaps = { ...DEFAULT_CAPS };

function context(over: { caps?: Partial<HarvestCaps>; http?: Partial<HttpPolicy> } = {}): HarvestContext & { messages: string[] } {
  const messages: string[] = [];
  const fromMs = Date.parse(reference.harvest.window.from);
  const toMs = Date.parse(reference.harvest.window.to);
  return {
    incident: {
      id: reference.incident.id,
      source: 'pagerduty',
      number: 5127,
      title: 'inventory-api: 5xx ratio over 3%',
      service: reference.incident.service,
      severity: 'SEV2',
      urgency: 'high',
      status: 'resolved',
      createdAt: reference.incident.created_at,
      acknowledgedAt: null,
      resolvedAt: reference.incident.resolved_at,
      url: null,
      raw: {},
    },
    window: { fromMs, toMs },
    deployWindow: { fromMs: fromMs - 72 * 3600_000, toMs },
    caps: { ...CAPS, ...over.caps },
    http: { ...POLICY, ...over.http },
    service: null,
    log: (m) => messages.push(m),
    messages,
  };
}

const fakes: DatadogFake[] = [];
async function fake(over: Partial<DatadogFakeOptions> = {}): Promise<DatadogFake> {
  const f = await createDatadogFake({ apiKey: API_KEY, appKey: APP_KEY, metrics: refMetrics, events: refEvents, logs: refLogs, ...over });
  fakes.push(f);
  return f;
}
const creds = (f: { url: string } | null, over: Partial<DatadogCredentials> = {}): DatadogCredentials => ({
  apiKey: API_KEY,
  appKey: APP_KEY,
  site: 'datadoghq.com',
  apiUrl: f ? f.url : null,
  ...over,
});
const ALL_LOGS = '*';

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

describe('harvestDatadog against the fake', () => {
  it('harvests the reference metrics, events and logs exactly', async () => {
    const f = await fake();
    const ctx = context();
    const out = await harvestDatadog(creds(f), ctx, { queries: QUERIES, logQuery: ALL_LOGS, snapshots: 1 });

    expect(out.errors).toEqual([]);
    expect(out.truncated).toEqual([]);
    expect(out.data).not.toBeNull();
    const data = out.data!;
    expect(data.datadog.metrics).toEqual(refMetrics);
    expect(data.datadog.events).toEqual(refEvents);
    expect(data.logs).toEqual(refLogs.map(FIVE));
    expect(data.datadog.snapshots).toHaveLength(1);
    expect(data.datadog.snapshots[0]).toMatchObject({ name: 'trace.http.request.errors', snapshot_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/snapshot\//) });

    // what was asked: seconds for v1, ISO for v2, the service's events plus every deploy
    const query = f.requests.find((r) => r.path === '/api/v1/query')!;
    expect(query.query).toMatchObject({ from: String(ctx.window.fromMs / 1000), to: String(ctx.window.toMs / 1000), query: QUERIES[0] });
    const eventCalls = f.requests.filter((r) => r.path === '/api/v1/events').map((r) => r.query);
    expect(eventCalls).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tags: 'service:inventory-api', unaggregated: 'true' }),
        expect.objectContaining({ sources: expect.stringMatching(/^deploy,/), unaggregated: 'true' }),
      ]),
    );
    const logCall = f.requests.find((r) => r.path === '/api/v2/logs/events/search')!;
    expect(logCall.body).toMatchObject({ filter: { query: '*', from: reference.harvest.window.from, to: reference.harvest.window.to }, sort: 'timestamp' });
    expect(f.requests.every((r) => r.apiKeyOk && r.appKeyOk)).toBe(true);

    // the result is a valid bundle section
    expect(() =>
      validateBundle({ bundle_version: 1, incident: { id: 'X', created_at: reference.incident.created_at }, sources: { datadog: data.datadog, logs: data.logs } }),
    ).not.toThrow();
    // no key text anywhere
    const all = JSON.stringify(out) + ctx.messages.join('\n');
    expect(all).not.toContain(API_KEY);
    expect(all).not.toContain(APP_KEY);
  });

  it('uses the default error/warn log query and templates {service}', async () => {
    const f = await fake();
    await harvestDatadog(creds(f), context(), { queries: ['avg:trace.http.request.duration.by.service.99p{service:{service},env:production}'], logQuery: null, snapshots: 0 });
    const q = f.requests.find((r) => r.path === '/api/v1/query')!;
    expect(q.query.query).toBe(QUERIES[1]);
    const logCall = f.requests.find((r) => r.path === '/api/v2/logs/events/search')!;
    expect((logCall.body as { filter: { query: string } }).filter.query).toBe('service:inventory-api status:(error OR warn)');
    expect(f.requests.some((r) => r.path === '/api/v1/graph/snapshot')).toBe(false);
  });

  it('follows log cursors across several pages', async () => {
    const f = await fake({ pageSize: 50 });
    const out = await harvestDatadog(creds(f), context(), { queries: [], logQuery: ALL_LOGS, snapshots: 0 });
    expect(out.errors).toEqual([]);
    expect(out.data!.logs).toEqual(refLogs.map(FIVE));
    const pages = f.requests.filter((r) => r.path === '/api/v2/logs/events/search');
    expect(pages).toHaveLength(Math.ceil(refLogs.length / 50));
    expect((pages[0]!.body as { page: { cursor?: string } }).page.cursor).toBeUndefined();
    expect(pages.slice(1).every((p) => typeof (p.body as { page: { cursor?: string } }).page.cursor === 'string')).toBe(true);
  });

  it('caps log lines and records the truncation', async () => {
    const f = await fake({ pageSize: 40 });
    const out = await harvestDatadog(creds(f), context({ caps: { logLines: 100 } }), { queries: [], logQuery: ALL_LOGS, snapshots: 0 });
    expect(out.data!.logs).toEqual(refLogs.slice(0, 100).map(FIVE));
    expect(out.truncated).toEqual([{ source: 'datadog', what: 'log lines', kept: 100, total: null }]);
    const limits = f.requests.filter((r) => r.path === '/api/v2/logs/events/search').map((r) => (r.body as { page: { limit: number } }).page.limit);
    expect(limits).toEqual([100, 60, 20]);
  });

  it('caps metric series and events', async () => {
    const f = await fake();
    const out = await harvestDatadog(creds(f), context({ caps: { metricSeries: 2, events: 3 } }), { queries: QUERIES, logQuery: ALL_LOGS, snapshots: 0 });
    expect(out.data!.datadog.metrics).toEqual(refMetrics.slice(0, 2));
    expect(out.data!.datadog.events).toEqual(refEvents.slice(0, 3));
    expect(out.truncated).toEqual(
      expect.arrayContaining([
        { source: 'datadog', what: 'metric series', kept: 2, total: 4 },
        { source: 'datadog', what: 'events', kept: 3, total: 8 },
      ]),
    );
  });

  it('honours Retry-After on 429 and then succeeds', async () => {
    const f = await fake({ faults: { rateLimit: { times: 1, path: '/api/v1/query', retryAfterSec: 1 } } });
    const ctx = context();
    const out = await harvestDatadog(creds(f), ctx, { queries: [QUERIES[0]!], logQuery: ALL_LOGS, snapshots: 0 });
    expect(out.errors).toEqual([]);
    expect(out.data!.datadog.metrics).toEqual([refMetrics[0]]);
    const calls = f.requests.filter((r) => r.path === '/api/v1/query');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(900);
    expect(ctx.messages.some((m) => /retry 1 in 1000 ms/.test(m))).toBe(true);
  });

  it('falls back to X-RateLimit-Reset when there is no Retry-After', async () => {
    const f = await fake({ faults: { rateLimit: { times: 1, path: '/api/v2/logs', retryAfterSec: null, resetSec: 1 } } });
    const out = await harvestDatadog(creds(f), context(), { queries: [], logQuery: ALL_LOGS, snapshots: 0 });
    expect(out.errors).toEqual([]);
    const calls = f.requests.filter((r) => r.path === '/api/v2/logs/events/search');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('retries a 5xx and keeps going when one query fails for good', async () => {
    const f = await fake({ faults: { serverError: { times: 1, path: '/api/v1/events', status: 502 } } });
    const out = await harvestDatadog(creds(f), context(), { queries: [QUERIES[0]!, 'sum:no.such.metric{*}', QUERIES[1]!], logQuery: ALL_LOGS, snapshots: 0 });
    expect(out.errors).toEqual([]);
    expect(out.data!.datadog.events).toEqual(refEvents);
    // an unknown query is simply empty; the two known ones come back in order
    expect(out.data!.datadog.metrics).toEqual([refMetrics[0], refMetrics[1]]);

    f.faults.serverError = { times: 10, path: '/api/v1/query', status: 500 };
    const again = await harvestDatadog(creds(f), context(), { queries: [QUERIES[0]!], logQuery: ALL_LOGS, snapshots: 0 });
    expect(again.data!.datadog.metrics).toEqual([]);
    expect(again.data!.logs).toHaveLength(refLogs.length);
    expect(again.errors).toEqual([{ source: 'datadog', message: expect.stringContaining('500'), retryable: true }]);
  });

  it('reports a down API as retryable errors without throwing', async () => {
    const f = await fake({ faults: { down: true } });
    const out = await harvestDatadog(creds(f), context(), { queries: QUERIES.slice(0, 2), logQuery: ALL_LOGS, snapshots: 2 });
    expect(out.data).toBeNull();
    expect(out.errors.length).toBeGreaterThanOrEqual(4); // 2 queries, 2 event calls, logs
    expect(out.errors.every((e) => e.source === 'datadog' && e.retryable)).toBe(true);
    expect(out.errors[0]!.message).toMatch(/network error/);
    // each call was tried 1 + retries times
    expect(f.requests.filter((r) => r.path === '/api/v1/query')).toHaveLength(2 * (POLICY.retries + 1));

    // nothing listening at all
    const closed = await fake();
    const url = closed.url;
    await closed.close();
    fakes.splice(fakes.indexOf(closed), 1);
    const none = await harvestDatadog(creds({ url }), context({ http: { retries: 0 } }), { queries: [QUERIES[0]!], logQuery: null, snapshots: 0 });
    expect(none.data).toBeNull();
    expect(none.errors.every((e) => e.retryable)).toBe(true);
  });

  it('abandons a hanging request after the timeout', async () => {
    const f = await fake({ faults: { hang: { path: '/api/v1/query' } } });
    const out = await harvestDatadog(creds(f), context({ http: { timeoutMs: 300, retries: 1 } }), { queries: [QUERIES[0]!], logQuery: ALL_LOGS, snapshots: 0 });
    expect(out.errors).toEqual([{ source: 'datadog', message: expect.stringMatching(/timed out|aborted/), retryable: true }]);
    expect(out.data!.logs).toHaveLength(refLogs.length);
  });

  it('reports rejected keys as non-retryable 403s', async () => {
    const f = await fake();
    const out = await harvestDatadog(creds(f, { appKey: 'wrong-application-key-000000000000' }), context(), { queries: [QUERIES[0]!], logQuery: ALL_LOGS, snapshots: 0 });
    expect(out.data).toBeNull();
    expect(out.errors.length).toBeGreaterThan(0);
    expect(out.errors.every((e) => !e.retryable && /403/.test(e.message))).toBe(true);
    expect(f.requests.filter((r) => r.path === '/api/v1/query')).toHaveLength(1);
  });
});

describe('Datadog change events', () => {
  const created = Date.parse(reference.incident.created_at);
  const at = (minutesBefore: number) => Math.floor((created - minutesBefore * 60_000) / 1000);
  // made up: changes to other services from deploy, config management and feature flag tools, some
  // of them older than the metrics window but inside the deployment window, and noise that is not a change
  const others = [
    { id: 9101, id_str: '9101', date_happened: at(12), title: 'Chef run applied role[edge-proxy] on 14 nodes', text: 'haproxy.cfg: maxconn 2000 -> 200', alert_type: 'info', priority: 'normal', source_type_name: 'Chef', tags: ['service:edge-proxy', 'env:prod-eu', 'role:edge-proxy'], host: 'chef-server-1', url: '/event/event?id=9101' },
    { id: 9102, id_str: '9102', date_happened: at(30 * 60), title: 'Flag checkout_v2_pricing turned on for 100% of users', text: 'Changed by rollout schedule', alert_type: 'info', priority: 'normal', source_type_name: 'LaunchDarkly', tags: ['feature_flag:checkout_v2_pricing', 'env:live'], url: '/event/event?id=9102' },
    { id: 9103, id_str: '9103', date_happened: at(45), title: 'rules-repo 3f9e2a1 deployed to global', text: '', alert_type: 'success', priority: 'low', source_type_name: 'deploy', tags: ['service:shared-rules', 'env:global', 'deployment:3f9e2a1'], url: '/event/event?id=9103' },
    { id: 9104, id_str: '9104', date_happened: at(20), title: '[P1] Triggered: edge-proxy 5xx', text: '', alert_type: 'error', priority: 'normal', source_type_name: 'Monitor Alert', tags: ['service:edge-proxy'], url: '/event/event?id=9104' },
    { id: 9105, id_str: '9105', date_happened: at(90 * 60), title: 'Chef run applied role[db] long ago', text: '', alert_type: 'info', priority: 'normal', source_type_name: 'Chef', tags: ['service:db'], url: '/event/event?id=9105' },
  ];

  it('keeps deployment, config and flag events of any service in the deployment window, in the vendor shape', async () => {
    const f = await fake({ events: [...refEvents, ...others] });
    const ctx = context();
    const out = await harvestDatadog(creds(f), ctx, { queries: [], logQuery: ALL_LOGS, snapshots: 0 });
    expect(out.errors).toEqual([]);
    const events = out.data!.datadog.events as Array<{ id: number }>;
    const byId = new Map(events.map((e) => [e.id, e]));
    // tags, source_type_name and every other field exactly as Datadog returned them
    for (const id of [9101, 9102, 9103]) expect(byId.get(id)).toEqual(others.find((e) => e.id === id));
    // a monitor alert of another service is not a change; a change older than the deployment window is out
    expect(byId.has(9104)).toBe(false);
    expect(byId.has(9105)).toBe(false);
    // the incident's own events are all still there, once each
    for (const e of refEvents as Array<{ id: number }>) expect(byId.get(e.id)).toEqual(e);
    expect(events).toHaveLength(refEvents.length + 3);

    const changeCall = f.requests.find((r) => r.path === '/api/v1/events' && r.query.sources)!;
    expect(changeCall.query.sources!.split(',')).toEqual(expect.arrayContaining(['deploy', 'chef', 'puppet', 'ansible', 'terraform', 'launchdarkly']));
    expect(Number(changeCall.query.start)).toBe(Math.floor(ctx.deployWindow.fromMs / 1000));
  });

  it('without a service, keeps every event of the window and the older changes', async () => {
    const f = await fake({ events: [...refEvents, ...others] });
    const ctx = context();
    const out = await harvestDatadog(creds(f), { ...ctx, incident: { ...ctx.incident, service: null } }, { queries: [], logQuery: ALL_LOGS, snapshots: 0 });
    const ids = (out.data!.datadog.events as Array<{ id: number }>).map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining([9101, 9102, 9103, 9104]));
    expect(ids).not.toContain(9105);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('checkDatadog', () => {
  it('accepts good keys', async () => {
    const f = await fake();
    const check = await checkDatadog(creds(f), POLICY);
    expect(check).toMatchObject({ source: 'datadog', configured: true, reachable: true, authorized: true, missing: [] });
  });

  it('reports a bad API key as not authorized, without key text', async () => {
    const f = await fake();
    const check = await checkDatadog(creds(f, { apiKey: 'bad-api-key-11112222333344445555' }), POLICY);
    expect(check).toMatchObject({ reachable: true, authorized: false, missing: [] });
    expect(check.detail).toMatch(/API key rejected/);
    expect(JSON.stringify(check)).not.toContain('bad-api-key');
    expect(f.requests.map((r) => r.path)).toEqual(['/api/v1/validate']);
  });

  it('reports a bad application key as not authorized', async () => {
    const f = await fake();
    const check = await checkDatadog(creds(f, { appKey: 'bad-app-key-99998888777766665555' }), POLICY);
    expect(check).toMatchObject({ reachable: true, authorized: false, missing: ['metrics_read', 'events_read', 'logs_read_data'] });
    expect(JSON.stringify(check)).not.toMatch(/bad-app-key|dd-api-key/);
  });

  it('names a missing permission', async () => {
    const f = await fake({ scopes: ['metrics_read', 'events_read'] });
    const check = await checkDatadog(creds(f), POLICY);
    expect(check).toMatchObject({ reachable: true, authorized: true, missing: ['logs_read_data'] });
  });

  it('reports an unreachable API', async () => {
    const f = await fake({ faults: { down: true } });
    const check = await checkDatadog(creds(f), { ...POLICY, retries: 0 });
    expect(check).toMatchObject({ reachable: false, authorized: null });
  });
});

describe('Datadog site selection', () => {
  it('targets the configured site for v1 and v2 without a base URL', async () => {
    const eu = creds(null, { site: 'datadoghq.eu' });
    expect(await datadogOperationUrl(eu, 'v1.MetricsApi.queryMetrics', '/api/v1/query')).toBe('https://api.datadoghq.eu/api/v1/query');
    expect(await datadogOperationUrl(eu, 'v1.EventsApi.listEvents', '/api/v1/events')).toBe('https://api.datadoghq.eu/api/v1/events');
    expect(await datadogOperationUrl(eu, 'v2.LogsApi.listLogs', '/api/v2/logs/events/search')).toBe('https://api.datadoghq.eu/api/v2/logs/events/search');
    expect(await datadogOperationUrl(creds(null, { site: 'us5.datadoghq.com' }), 'v1.AuthenticationApi.validate', '/api/v1/validate')).toBe(
      'https://api.us5.datadoghq.com/api/v1/validate',
    );
    expect(await datadogOperationUrl(creds(null), 'v1.MetricsApi.queryMetrics', '/api/v1/query')).toBe('https://api.datadoghq.com/api/v1/query');
  });

  it('normalises site spellings', () => {
    expect(datadogSite('app.datadoghq.eu')).toBe('datadoghq.eu');
    expect(datadogSite('https://api.us3.datadoghq.com/')).toBe('us3.datadoghq.com');
    expect(datadogSite('ddog-gov.com')).toBe('ddog-gov.com');
  });

  it('sends every v1 and v2 operation to the base URL override', async () => {
    const c = creds({ url: 'http://127.0.0.1:9' }, { site: 'datadoghq.eu' });
    expect(await datadogOperationUrl(c, 'v1.MetricsApi.queryMetrics', '/api/v1/query')).toBe('http://127.0.0.1:9/api/v1/query');
    expect(await datadogOperationUrl(c, 'v2.LogsApi.listLogs', '/api/v2/logs/events/search')).toBe('http://127.0.0.1:9/api/v2/logs/events/search');
    // an operation with its own server list (log intake) is overridden too
    expect(await datadogOperationUrl(c, 'v2.LogsApi.submitLog', '/api/v2/logs')).toBe('http://127.0.0.1:9/api/v2/logs');
  });
});
