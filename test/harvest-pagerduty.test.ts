// PagerDuty source against a loopback PagerDuty (test/fakes/pagerdutyFake.ts) serving the
// reference bundle examples/sample-incident/bundle.json.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPagerDuty, fetchPagerDutyIncident, harvestPagerDuty, type PagerDutyCredentials } from '../src/harvest/sources/pagerduty.js';
import { VendorError } from '../src/harvest/retry.js';
import type { HarvestCaps, HarvestContext, HarvestedIncident, HttpPolicy } from '../src/harvest/types.js';
import { DEFAULT_CAPS } from '../src/harvest/config.js';
import { validateBundle } from '../src/core/bundle.js';
import { createPagerDutyFake, pagerdutyIncidentFromBundle, type PagerDutyFake, type PagerDutyFakeOptions } from './fakes/pagerdutyFake.js';

interface ReferenceBundle {
  incident: Record<string, unknown> & { id: string };
  sources: { pagerduty: { log_entries: Array<Record<string, unknown>>; alerts: Array<Record<string, unknown>> } };
}

const ref = JSON.parse(readFileSync(new URL('../examples/sample-incident/bundle.json', import.meta.url), 'utf8')) as ReferenceBundle;
const LOG_ENTRIES = ref.sources.pagerduty.log_entries;
const ALERTS = ref.sources.pagerduty.alerts;
const INCIDENT_ID = ref.incident.id;

const TOKEN = 'y_NbAkKc66ryYTWUXYEu'; // made up, PagerDuty-shaped
const POLICY: HttpPolicy = { retries: 2, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 2000 };
const CAPS: HarvestCaps = { ...DEFAULT_CAPS };

const fakes: PagerDutyFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(overrides: Partial<PagerDutyFakeOptions> = {}): Promise<PagerDutyFake> {
  const f = await createPagerDutyFake({
    token: TOKEN,
    incident: pagerdutyIncidentFromBundle(ref),
    logEntries: LOG_ENTRIES,
    alerts: ALERTS,
    pageSize: 2,
    ...overrides,
  });
  fakes.push(f);
  return f;
}

const creds = (f: { url: string }, token = TOKEN): PagerDutyCredentials => ({ token, apiUrl: f.url });

function incident(): HarvestedIncident {
  return {
    id: INCIDENT_ID,
    source: 'pagerduty',
    number: 5127,
    title: String(ref.incident.title),
    service: 'inventory-api',
    severity: 'SEV2',
    urgency: 'high',
    status: 'resolved',
    createdAt: String(ref.incident.created_at),
    acknowledgedAt: null,
    resolvedAt: null,
    url: null,
    raw: {},
  };
}

function ctx(overrides: { caps?: Partial<HarvestCaps>; http?: HttpPolicy } = {}): HarvestContext & { messages: string[] } {
  const messages: string[] = [];
  const created = Date.parse(String(ref.incident.created_at));
  return {
    incident: incident(),
    window: { fromMs: created - 3600_000, toMs: created + 3 * 3600_000 },
    deployWindow: { fromMs: created - 72 * 3600_000, toMs: created + 3 * 3600_000 },
    caps: { ...CAPS, ...overrides.caps },
    http: overrides.http ?? POLICY,
    service: null,
    log: (m) => messages.push(m),
    messages,
  };
}

const LOG_PATH = `/incidents/${INCIDENT_ID}/log_entries`;
const ALERTS_PATH = `/incidents/${INCIDENT_ID}/alerts`;

describe('PagerDuty incident record', () => {
  it('maps GET /incidents/{id} onto HarvestedIncident, with PagerDuty auth headers', async () => {
    const f = await fake();
    const got = await fetchPagerDutyIncident(creds(f), INCIDENT_ID, POLICY);
    expect(got).toMatchObject({
      id: INCIDENT_ID,
      source: 'pagerduty',
      number: 5127,
      title: 'inventory-api: 5xx ratio over 3%',
      service: 'inventory-api',
      severity: 'SEV2',
      urgency: 'high',
      status: 'resolved',
      createdAt: '2024-11-14T18:26:14Z',
      acknowledgedAt: '2024-11-14T18:27:58Z',
      resolvedAt: '2024-11-14T19:05:42Z',
      url: 'https://fernhill.pagerduty.com/incidents/QV709RBZINVXI4',
    });
    expect(got.raw).toEqual(pagerdutyIncidentFromBundle(ref));
    const [req] = f.requestsTo(`/incidents/${INCIDENT_ID}`);
    expect(req?.headers.authorization).toBe(`Token token=${TOKEN}`);
    expect(req?.headers.accept).toBe('application/vnd.pagerduty+json;version=2');
  });

  it('falls back to urgency without a priority, and to last_status_change_at without resolved_at', async () => {
    const raw = { ...pagerdutyIncidentFromBundle(ref), priority: null, resolved_at: undefined, acknowledgements: [] };
    const f = await fake({ incident: raw });
    const got = await fetchPagerDutyIncident(creds(f), INCIDENT_ID, POLICY);
    expect(got.severity).toBe('high');
    expect(got.resolvedAt).toBe('2024-11-14T19:05:42Z');
    expect(got.acknowledgedAt).toBeNull();
  });

  it('rejects with a non-retryable VendorError for an unknown incident', async () => {
    const f = await fake();
    const err = await fetchPagerDutyIncident(creds(f), 'PNOSUCH', POLICY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as VendorError).status).toBe(404);
    expect((err as VendorError).retryable).toBe(false);
    expect(f.requestsTo('/incidents/PNOSUCH')).toHaveLength(1);
  });
});

describe('PagerDuty harvesting', () => {
  it('(a, b) harvests the reference log entries and alerts, across several pages', async () => {
    const f = await fake({ pageSize: 2 });
    const c = ctx();
    const out = await harvestPagerDuty(creds(f), c);
    expect(out.errors).toEqual([]);
    expect(out.truncated).toEqual([]);
    expect(out.data?.log_entries).toEqual(LOG_ENTRIES);
    expect(out.data?.alerts).toEqual(ALERTS);

    const pages = f.requestsTo(LOG_PATH);
    expect(pages.length).toBe(3);
    expect(pages.map((r) => r.query.offset)).toEqual(['0', '2', '4']);
    for (const r of pages) {
      expect(r.query['include[]']).toEqual(['channels']);
      expect(r.query.is_overview).toBe('false');
      expect(r.query.time_zone).toBe('UTC');
      expect(r.headers.authorization).toBe(`Token token=${TOKEN}`);
    }
    expect(f.requestsTo(ALERTS_PATH).length).toBeGreaterThanOrEqual(1);
    expect(c.messages.join('\n')).not.toContain(TOKEN);
  });

  it('paginates alerts too', async () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ ...ALERTS[0], id: `A${i}` }));
    const f = await fake({ alerts: many, pageSize: 2 });
    const out = await harvestPagerDuty(creds(f), ctx());
    expect(out.data?.alerts).toEqual(many);
    expect(f.requestsTo(ALERTS_PATH).length).toBe(3);
  });

  it('(c) 429 then success: waits for Retry-After before asking again', async () => {
    const f = await fake({ faults: { rateLimitOnce: true } });
    const c = ctx();
    const out = await harvestPagerDuty(creds(f), c);
    expect(out.errors).toEqual([]);
    expect(out.data?.log_entries).toEqual(LOG_ENTRIES);
    const [first, second] = f.requestsTo(LOG_PATH);
    expect(first?.status).toBe(429);
    expect(second?.status).toBe(200);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(c.messages.some((m) => /retry 1 in 1000 ms/.test(m))).toBe(true);
  });

  it('(d) 5xx then success', async () => {
    const f = await fake({ faults: { failWith5xx: 2 } });
    const out = await harvestPagerDuty(creds(f), ctx());
    expect(out.errors).toEqual([]);
    expect(out.data?.log_entries).toEqual(LOG_ENTRIES);
    expect(out.data?.alerts).toEqual(ALERTS);
    expect(f.requests.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('(e) a source that is down gives data null and one retryable error, without throwing', async () => {
    const f = await fake({ faults: { down: true } });
    const out = await harvestPagerDuty(creds(f), ctx());
    expect(out.data).toBeNull();
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ source: 'pagerduty', retryable: true });
    expect(out.errors[0]!.message).toMatch(/500/);
    expect(f.requests).toHaveLength(POLICY.retries + 1);
  });

  it('keeps the log entries when only the alerts fail', async () => {
    const f = await fake({ faults: { downPaths: [ALERTS_PATH] } });
    const out = await harvestPagerDuty(creds(f), ctx());
    expect(out.data).toEqual({ log_entries: LOG_ENTRIES, alerts: [], change_events: [] });
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ source: 'pagerduty', retryable: true, message: expect.stringMatching(/^alerts: .*500/) });
  });

  it('(f) a bad token: 401 is not retried and never echoed', async () => {
    const f = await fake();
    const bad = 'u+BadToken-ZZZZ9999';
    const check = await checkPagerDuty(creds(f, bad), POLICY);
    expect(check).toMatchObject({ source: 'pagerduty', configured: true, reachable: true, authorized: false });
    expect(check.detail).not.toContain(bad);
    expect(check.detail).not.toContain(TOKEN);
    expect(JSON.stringify(check)).not.toContain(bad);
    expect(f.requestsTo('/abilities')).toHaveLength(1);

    const out = await harvestPagerDuty(creds(f, bad), ctx());
    expect(out.data).toBeNull();
    expect(out.errors).toEqual([{ source: 'pagerduty', message: expect.stringContaining('401'), retryable: false }]);
    expect(JSON.stringify(out)).not.toContain(bad);
  });

  it('doctor: a good token is authorized; a token without incident access misses it; a dead host is unreachable', async () => {
    const f = await fake();
    expect(await checkPagerDuty(creds(f), POLICY)).toMatchObject({ reachable: true, authorized: true, missing: [] });
    expect(f.requestsTo('/incidents')[0]?.query.limit).toBe('1');

    const g = await fake({ forbidIncidents: true });
    expect(await checkPagerDuty(creds(g), POLICY)).toMatchObject({ reachable: true, authorized: true, missing: ['read access to incidents'] });

    const h = await fake();
    const deadUrl = h.url;
    await h.close();
    fakes.splice(fakes.indexOf(h), 1);
    const dead = await checkPagerDuty({ token: TOKEN, apiUrl: deadUrl }, { ...POLICY, retries: 0 });
    expect(dead).toMatchObject({ reachable: false, authorized: null });
    expect(dead.detail).not.toContain(TOKEN);
  });

  it('(g) a cap below the number of log entries keeps `cap` entries and records the truncation', async () => {
    const f = await fake({ pageSize: 3 });
    const out = await harvestPagerDuty(creds(f), ctx({ caps: { pagerdutyLogEntries: 4 } }));
    expect(out.data?.log_entries).toEqual(LOG_ENTRIES.slice(0, 4));
    expect(out.truncated).toEqual([{ source: 'pagerduty', what: 'log_entries', kept: 4, total: LOG_ENTRIES.length }]);
    expect(f.requestsTo(LOG_PATH).map((r) => [r.query.offset, r.query.limit])).toEqual([
      ['0', '4'],
      ['3', '1'],
    ]);
  });

  it('(h) a hanging API times out into a retryable error', async () => {
    const f = await fake({ faults: { hangMs: 1500 } });
    const out = await harvestPagerDuty(creds(f), ctx({ http: { ...POLICY, retries: 1, timeoutMs: 100 } }));
    expect(out.data).toBeNull();
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ source: 'pagerduty', retryable: true });
    expect(out.errors[0]!.message).toMatch(/timed out|aborted/);
    expect(f.requestsTo(LOG_PATH)).toHaveLength(2);
  });
});

describe('PagerDuty change events', () => {
  const RAW = pagerdutyIncidentFromBundle(ref);
  const SERVICE = RAW.service as { id: string; summary: string };
  const CREATED = Date.parse(String(ref.incident.created_at));
  // made-up services around the incident's: two it depends on (one through the other), one that
  // depends on it, one unrelated
  const DB = 'PDEPDB1';
  const NET = 'PDEPNET';
  const CONSUMER = 'PCONSMR';
  const UNRELATED = 'PUNREL1';
  const DEPENDENCIES = [
    { supporting: DB, dependent: SERVICE.id },
    { supporting: NET, dependent: DB },
    { supporting: SERVICE.id, dependent: CONSUMER },
  ];
  const ROUTING_KEY = 'R0f1c2e3d4c5b6a79880a1b2c3d4e5f6';

  const change = (id: string, minutesBefore: number, services: string[], extra: Record<string, unknown> = {}) => ({
    id,
    timestamp: new Date(CREATED - minutesBefore * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    summary: `change ${id}`,
    type: 'change_event',
    source: 'rollout-tool',
    services: services.map((s) => ({ id: s, type: 'service_reference' })),
    integration: { id: 'PINTGR1', type: 'inbound_integration_reference' },
    links: [{ href: `https://rollouts.example.test/${id}`, text: 'View rollout' }],
    custom_details: { flag: `flag_${id.toLowerCase()}`, state: 'on' },
    routing_key: ROUTING_KEY,
    ...extra,
  });
  const withoutKey = (e: Record<string, unknown>) => {
    const { routing_key: _k, ...rest } = e;
    return rest;
  };
  const ids = (list: unknown[] | undefined) => (list ?? []).map((e) => (e as { id: string }).id);

  function changeCtx(overrides: { caps?: Partial<HarvestCaps>; http?: HttpPolicy } = {}) {
    const c = ctx(overrides);
    return { ...c, incident: { ...c.incident, raw: RAW } };
  }

  it('scans the deployment window page by page, keeping changes to the service and what it depends on', async () => {
    const events = [
      change('CE1', 5, [SERVICE.id]),
      change('CE2', 30, [DB]),
      change('CE3', 90, [NET]),
      change('CE4', 10, [CONSUMER]),
      change('CE5', 15, [UNRELATED]),
      change('CE6', 45, []),
      change('CE7', 120, [UNRELATED, DB]),
      change('CE8', 80 * 60, [SERVICE.id]), // before the deployment window
    ];
    const f = await fake({ changeEvents: events, dependencies: DEPENDENCIES, pageSize: 2 });
    const c = changeCtx();
    const out = await harvestPagerDuty(creds(f), c);
    expect(out.errors).toEqual([]);
    expect(out.truncated).toEqual([]);
    const got = out.data?.change_events as Array<Record<string, unknown>>;
    expect(ids(got).sort()).toEqual(['CE1', 'CE2', 'CE3', 'CE6', 'CE7']);
    // vendor fields kept, PagerDuty's order (newest first), the routing key never
    expect(got[0]).toEqual({ ...withoutKey(change('CE1', 5, [SERVICE.id])), services: [{ id: SERVICE.id, type: 'service_reference', summary: SERVICE.summary }] });
    expect(ids(got)).toEqual(['CE1', 'CE2', 'CE6', 'CE3', 'CE7']);
    expect(JSON.stringify(out)).not.toContain(ROUTING_KEY);
    expect(got.find((e) => e.id === 'CE2')?.services).toEqual([{ id: DB, type: 'service_reference' }]);

    const pages = f.requestsTo('/change_events');
    expect(pages.map((r) => r.query.offset)).toEqual(['0', '2', '4', '6']);
    const since = new Date(c.deployWindow.fromMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const until = new Date(c.deployWindow.toMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const r of pages) expect(r.query).toMatchObject({ since, until });
    expect(f.requestsTo(`/service_dependencies/technical_services/${SERVICE.id}`)).toHaveLength(1);
    expect(f.requestsTo(`/service_dependencies/technical_services/${DB}`)).toHaveLength(1);

    // what harvesting stores is a valid bundle section
    expect(() => validateBundle({ bundle_version: 1, incident: { id: INCIDENT_ID, created_at: ref.incident.created_at }, sources: { pagerduty: out.data } })).not.toThrow();
  });

  it('keeps PagerDuty\'s related change events first and each change once', async () => {
    const related = [change('CE1', 5, [SERVICE.id], { correlation_reason: { reason: 'most_recent' } }), change('CE9', 20, [UNRELATED], { correlation_reason: { reason: 'intelligent' } })];
    const f = await fake({ relatedChangeEvents: related, changeEvents: [change('CE1', 5, [SERVICE.id]), change('CE2', 30, [DB])], dependencies: DEPENDENCIES });
    const out = await harvestPagerDuty(creds(f), changeCtx());
    expect(out.errors).toEqual([]);
    const got = out.data?.change_events as Array<Record<string, unknown>>;
    expect(ids(got)).toEqual(['CE1', 'CE9', 'CE2']);
    expect(got[0]?.correlation_reason).toEqual({ reason: 'most_recent' });
    // related changes are kept whichever service they concern: PagerDuty correlated them
    expect(got[1]?.correlation_reason).toEqual({ reason: 'intelligent' });
    const [req] = f.requestsTo(`/incidents/${INCIDENT_ID}/related_change_events`);
    expect(req?.query).toEqual({ limit: '100' });
  });

  it('keeps every change in the window when the incident\'s service is not known', async () => {
    const f = await fake({ changeEvents: [change('CE1', 5, [SERVICE.id]), change('CE5', 15, [UNRELATED])], dependencies: DEPENDENCIES });
    const out = await harvestPagerDuty(creds(f), ctx());
    expect(ids(out.data?.change_events).sort()).toEqual(['CE1', 'CE5']);
    expect(f.requests.some((r) => r.path.startsWith('/service_dependencies/'))).toBe(false);
  });

  it('keeps every change in the window when the dependencies cannot be read', async () => {
    const f = await fake({
      changeEvents: [change('CE1', 5, [SERVICE.id]), change('CE5', 15, [UNRELATED])],
      dependencies: DEPENDENCIES,
      faults: { downPaths: [`/service_dependencies/technical_services/${SERVICE.id}`] },
    });
    const c = changeCtx();
    const out = await harvestPagerDuty(creds(f), c);
    expect(out.errors).toEqual([]);
    expect(ids(out.data?.change_events).sort()).toEqual(['CE1', 'CE5']);
    expect(c.messages.some((m) => /service dependencies unknown/.test(m))).toBe(true);
  });

  it('waits for Retry-After on a 429 from /change_events, then harvests', async () => {
    const f = await fake({ changeEvents: [change('CE1', 5, [SERVICE.id]), change('CE2', 30, [DB])], dependencies: DEPENDENCIES, faults: { rateLimitOnce: true } });
    const c = changeCtx();
    const out = await harvestPagerDuty(creds(f), c);
    expect(out.errors).toEqual([]);
    expect(ids(out.data?.change_events)).toEqual(['CE1', 'CE2']);
    const [first, second] = f.requestsTo('/change_events');
    expect([first?.status, second?.status]).toEqual([429, 200]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });

  it('caps change events at caps.events: related first, then the ones nearest the incident, and records the truncation', async () => {
    const related = [change('CER', 200, [SERVICE.id], { correlation_reason: { reason: 'related_service' } })];
    const windowed = [change('CE1', 300, [SERVICE.id]), change('CE2', 2, [DB]), change('CE3', 60, [SERVICE.id]), change('CE4', -5, [SERVICE.id]), change('CE5', 600, [NET])];
    const f = await fake({ relatedChangeEvents: related, changeEvents: windowed, dependencies: DEPENDENCIES, pageSize: 2 });
    const out = await harvestPagerDuty(creds(f), changeCtx({ caps: { events: 3 } }));
    expect(ids(out.data?.change_events)).toEqual(['CER', 'CE4', 'CE2']);
    expect(out.truncated).toEqual([{ source: 'pagerduty', what: 'change_events', kept: 3, total: 6 }]);
  });

  it('a token without change_events.read keeps the incident and says what it could not see', async () => {
    const related = [change('CE1', 5, [SERVICE.id], { correlation_reason: { reason: 'most_recent' } })];
    const f = await fake({ relatedChangeEvents: related, changeEvents: [change('CE2', 30, [DB])], dependencies: DEPENDENCIES, forbidChangeEvents: true });
    const out = await harvestPagerDuty(creds(f), changeCtx());
    expect(out.data?.log_entries).toEqual(LOG_ENTRIES);
    expect(ids(out.data?.change_events)).toEqual(['CE1']);
    expect(out.errors).toEqual([{ source: 'pagerduty', message: expect.stringMatching(/^change events: .*403/), retryable: false }]);
    expect(f.requestsTo('/change_events')).toHaveLength(1);
  });

  it('without any change event call answering, the section has no change_events and two errors', async () => {
    const f = await fake({ faults: { downPaths: ['/change_events', `/incidents/${INCIDENT_ID}/related_change_events`] } });
    const out = await harvestPagerDuty(creds(f), changeCtx());
    expect(out.data?.log_entries).toEqual(LOG_ENTRIES);
    expect(out.data && 'change_events' in out.data).toBe(false);
    expect(out.errors.map((e) => e.message.split(':')[0]).sort()).toEqual(['change events', 'related change events']);
    expect(out.errors.every((e) => e.retryable)).toBe(true);
  });

  it('doctor names change_events.read when the token cannot list change events', async () => {
    const f = await fake({ forbidChangeEvents: true });
    expect(await checkPagerDuty(creds(f), POLICY)).toMatchObject({ reachable: true, authorized: true, missing: ['change_events.read'] });
    const g = await fake();
    expect(await checkPagerDuty(creds(g), POLICY)).toMatchObject({ reachable: true, authorized: true, missing: [] });
    expect(g.requestsTo('/change_events')[0]?.query.limit).toBe('1');
  });
});
