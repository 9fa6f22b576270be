// Opsgenie source against a loopback Opsgenie (test/fakes/opsgenieFake.ts). The data is the
// reference incident (examples/sample-incident/bundle.json) as it would have looked had it been
// paged through Opsgenie: same incident record, Opsgenie alert logs and notes.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { checkOpsgenie, fetchOpsgenieIncident, harvestOpsgenie, type OpsgenieCredentials } from '../src/harvest/sources/opsgenie.js';
import { VendorError } from '../src/harvest/retry.js';
import type { HarvestCaps, HarvestContext, HarvestedIncident, HttpPolicy } from '../src/harvest/types.js';
import { DEFAULT_CAPS } from '../src/harvest/config.js';
import { createOpsgenieFake, opsgenieAlertFromBundle, type OpsgenieFake, type OpsgenieFakeOptions, type OpsgenieLog, type OpsgenieNote } from './fakes/opsgenieFake.js';

const ref = JSON.parse(readFileSync(new URL('../examples/sample-incident/bundle.json', import.meta.url), 'utf8')) as { incident: Record<string, unknown> };

const ALERT_ID = '6b1e0f4c-2d7a-4f0e-9a55-3c1d8e7b2a90-1731608774512';
/** the reference incident, paged through Opsgenie (ids and times in Opsgenie's formats) */
const OG_BUNDLE = {
  bundle_version: 1,
  incident: {
    ...ref.incident,
    id: ALERT_ID,
    source: 'opsgenie',
    severity: 'P2',
    status: 'closed',
    created_at: '2024-11-14T18:26:14.512Z',
    acknowledged_at: '2024-11-14T18:27:58.512Z',
    resolved_at: '2024-11-14T19:05:42.311Z',
  },
};

const LOGS: OpsgenieLog[] = [
  { offset: '1731608774512_1731608774512000', log: 'Alert created via Datadog', type: 'system', owner: 'System', createdAt: '2024-11-14T18:26:14.512Z' },
  { offset: '1731608775020_1731608775020113', log: 'Notified oncall-inventory via push notification', type: 'system', owner: 'System', createdAt: '2024-11-14T18:26:15.020Z' },
  { offset: '1731608878512_1731608878512402', log: 'Alert acknowledged via mobile', type: 'alertAction', owner: 'oncall-inventory', createdAt: '2024-11-14T18:27:58.512Z' },
  { offset: '1731609380000_1731609380000077', log: 'Escalated to next order of inventory_escalation', type: 'system', owner: 'System', createdAt: '2024-11-14T18:36:20.000Z' },
  { offset: '1731609785000_1731609785000311', log: 'Executed custom action revert-config', type: 'alertAction', owner: 'oncall-inventory', createdAt: '2024-11-14T18:43:05.000Z' },
  { offset: '1731611142311_1731611142311540', log: 'Alert closed via web', type: 'alertAction', owner: 'oncall-inventory', createdAt: '2024-11-14T19:05:42.311Z' },
];
const NOTES: OpsgenieNote[] = [
  {
    offset: '1731609380000_1731609380000500',
    note: '503s are RedisTimeoutError after 25ms on stock reads. inventory-cache itself is healthy.',
    owner: 'oncall-inventory',
    createdAt: '2024-11-14T18:36:20.000Z',
  },
  { offset: '1731609785000_1731609785000999', note: 'Reverting the Redis command timeout change that shipped in v7.4.1.', owner: 'inventory-lead', createdAt: '2024-11-14T18:43:05.000Z' },
];
/** logs and notes by time, a log before a note at the same instant (written out, not computed) */
const EXPECTED_LOGS = [
  LOGS[0],
  LOGS[1],
  LOGS[2],
  LOGS[3],
  { log: NOTES[0]!.note, type: 'note', owner: 'oncall-inventory', createdAt: '2024-11-14T18:36:20.000Z' },
  LOGS[4],
  { log: NOTES[1]!.note, type: 'note', owner: 'inventory-lead', createdAt: '2024-11-14T18:43:05.000Z' },
  LOGS[5],
];

const KEY = '4c8e2f1a-7b3d-4e6f-9a0b-1c2d3e4f5a6b'; // made up, GenieKey-shaped
const POLICY: HttpPolicy = { retries: 2, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 2000 };
const CAPS: HarvestCaps = { ...DEFAULT_CAPS };

const fakes: OpsgenieFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(overrides: Partial<OpsgenieFakeOptions> = {}): Promise<OpsgenieFake> {
  const f = await createOpsgenieFake({ apiKey: KEY, alert: opsgenieAlertFromBundle(OG_BUNDLE), logs: LOGS, notes: NOTES, pageSize: 2, ...overrides });
  fakes.push(f);
  return f;
}

const creds = (f: { url: string }, apiKey = KEY): OpsgenieCredentials => ({ apiKey, apiUrl: f.url });

function ctx(http: HttpPolicy = POLICY): HarvestContext & { messages: string[] } {
  const messages: string[] = [];
  const created = Date.parse(OG_BUNDLE.incident.created_at);
  const incident: HarvestedIncident = {
    id: ALERT_ID,
    source: 'opsgenie',
    number: 5127,
    title: String(ref.incident.title),
    service: 'inventory-api',
    severity: 'P2',
    urgency: null,
    status: 'closed',
    createdAt: OG_BUNDLE.incident.created_at,
    acknowledgedAt: null,
    resolvedAt: null,
    url: null,
    raw: {},
  };
  return {
    incident,
    window: { fromMs: created - 3600_000, toMs: created + 3 * 3600_000 },
    deployWindow: { fromMs: created - 72 * 3600_000, toMs: created + 3 * 3600_000 },
    caps: CAPS,
    http,
    service: null,
    log: (m) => messages.push(m),
    messages,
  };
}

const LOGS_PATH = `/v2/alerts/${ALERT_ID}/logs`;
const NOTES_PATH = `/v2/alerts/${ALERT_ID}/notes`;

describe('Opsgenie incident record', () => {
  it('maps GET /v2/alerts/{id} onto HarvestedIncident, with the GenieKey header', async () => {
    const f = await fake();
    const got = await fetchOpsgenieIncident(creds(f), ALERT_ID, POLICY);
    expect(got).toEqual({
      id: ALERT_ID,
      source: 'opsgenie',
      number: 5127,
      title: 'inventory-api: 5xx ratio over 3%',
      service: 'inventory-api',
      severity: 'P2',
      urgency: null,
      status: 'closed',
      createdAt: '2024-11-14T18:26:14.512Z',
      acknowledgedAt: '2024-11-14T18:27:58.512Z',
      resolvedAt: '2024-11-14T19:05:42.311Z',
      url: null,
      raw: opsgenieAlertFromBundle(OG_BUNDLE),
    });
    const [req] = f.requestsTo(`/v2/alerts/${ALERT_ID}`);
    expect(req?.query.identifierType).toBe('id');
    expect(req?.headers.authorization).toBe(`GenieKey ${KEY}`);
  });

  it('accepts a tiny id or an alias, and finds the service in details or the responder team', async () => {
    const alert = { ...opsgenieAlertFromBundle(OG_BUNDLE), tags: ['env:production'], details: {}, responders: [{ type: 'user', id: 'u1' }, { type: 'team', id: 't1', name: 'inventory' }], status: 'open', acknowledged: false, report: {} };
    const f = await fake({ alert });
    const byTiny = await fetchOpsgenieIncident(creds(f), '5127', POLICY);
    expect(f.requestsTo('/v2/alerts/5127')[0]?.query.identifierType).toBe('tiny');
    expect(byTiny).toMatchObject({ id: ALERT_ID, service: 'inventory', status: 'open', acknowledgedAt: null, resolvedAt: null });
    const byAlias = await fetchOpsgenieIncident(creds(f), `alias:${ALERT_ID}-alias`, POLICY);
    expect(byAlias.id).toBe(ALERT_ID);

    const g = await fake({ alert: { ...alert, details: { service: 'inventory-api' } } });
    expect((await fetchOpsgenieIncident(creds(g), ALERT_ID, POLICY)).service).toBe('inventory-api');
  });

  it('closed without report.closeTime: resolvedAt is updatedAt', async () => {
    const f = await fake({ alert: { ...opsgenieAlertFromBundle(OG_BUNDLE), report: {} } });
    const got = await fetchOpsgenieIncident(creds(f), ALERT_ID, POLICY);
    expect(got.resolvedAt).toBe('2024-11-14T19:05:42.311Z');
    expect(got.acknowledgedAt).toBeNull();
  });

  it('rejects with a non-retryable VendorError for an unknown alert', async () => {
    const f = await fake();
    const err = await fetchOpsgenieIncident(creds(f), 'no-such-alert', POLICY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as VendorError).status).toBe(404);
    expect((err as VendorError).retryable).toBe(false);
  });
});

describe('Opsgenie harvesting', () => {
  it('(a, b) harvests logs with notes folded in, across several pages', async () => {
    const f = await fake({ pageSize: 2 });
    const c = ctx();
    const out = await harvestOpsgenie(creds(f), c);
    expect(out.errors).toEqual([]);
    expect(out.truncated).toEqual([]);
    expect(out.data?.logs).toEqual(EXPECTED_LOGS);

    const pages = f.requestsTo(LOGS_PATH);
    expect(pages.length).toBe(3);
    expect(pages[0]?.query).toMatchObject({ identifierType: 'id', order: 'asc', direction: 'next' });
    expect(pages[0]?.query.offset).toBeUndefined();
    expect(pages.slice(1).map((r) => r.query.offset)).toEqual([LOGS[1]!.offset, LOGS[3]!.offset]);
    for (const r of pages) expect(r.query.order).toBe('asc');
    expect(f.requestsTo(NOTES_PATH).length).toBe(1);
    expect(c.messages.join('\n')).not.toContain(KEY);
  });

  it('follows paging.next on another host by re-basing it onto the configured URL', async () => {
    const f = await fake({ pageSize: 2, linkBase: 'https://api.opsgenie.invalid' });
    const out = await harvestOpsgenie(creds(f), ctx());
    expect(out.errors).toEqual([]);
    expect(out.data?.logs).toEqual(EXPECTED_LOGS);
    expect(f.requestsTo(LOGS_PATH).length).toBe(3);
  });

  it('(c) 429 then success: waits for Retry-After before asking again', async () => {
    const f = await fake({ faults: { rateLimitOnce: true }, pageSize: 100 });
    const c = ctx();
    const out = await harvestOpsgenie(creds(f), c);
    expect(out.errors).toEqual([]);
    expect(out.data?.logs).toEqual(EXPECTED_LOGS);
    const [first, second] = f.requestsTo(LOGS_PATH);
    expect(first?.status).toBe(429);
    expect(second?.status).toBe(200);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });

  it('(d) 5xx then success', async () => {
    const f = await fake({ faults: { failWith5xx: 2 } });
    const out = await harvestOpsgenie(creds(f), ctx());
    expect(out.errors).toEqual([]);
    expect(out.data?.logs).toEqual(EXPECTED_LOGS);
    expect(f.requests.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('(e) a source that is down gives data null and one retryable error, without throwing', async () => {
    const f = await fake({ faults: { down: true } });
    const out = await harvestOpsgenie(creds(f), ctx());
    expect(out.data).toBeNull();
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ source: 'opsgenie', retryable: true });
    expect(out.errors[0]!.message).toMatch(/500/);
    expect(f.requests).toHaveLength(POLICY.retries + 1);
  });

  it('keeps the logs when only the notes fail', async () => {
    const f = await fake({ faults: { downPaths: [NOTES_PATH] } });
    const out = await harvestOpsgenie(creds(f), ctx());
    expect(out.data?.logs).toEqual(LOGS);
    expect(out.errors).toEqual([{ source: 'opsgenie', message: expect.stringMatching(/^alert notes: .*500/), retryable: true }]);
  });

  it('(f) a bad key: the doctor says unauthorized without showing the key; harvesting reports it, not retried', async () => {
    const f = await fake();
    const bad = '00000000-dead-beef-0000-000000000000';
    const check = await checkOpsgenie(creds(f, bad), POLICY);
    expect(check).toMatchObject({ source: 'opsgenie', configured: true, reachable: true, authorized: false });
    expect(JSON.stringify(check)).not.toContain(bad);
    expect(check.detail).not.toContain(KEY);
    expect(f.requestsTo('/v2/alerts')).toHaveLength(1);

    const out = await harvestOpsgenie(creds(f, bad), ctx());
    expect(out.data).toBeNull();
    expect(out.errors).toEqual([{ source: 'opsgenie', message: expect.stringContaining('401'), retryable: false }]);
    expect(JSON.stringify(out)).not.toContain(bad);
  });

  it('doctor: a good key is authorized; a key without the Read right misses it; a dead host is unreachable', async () => {
    const f = await fake();
    expect(await checkOpsgenie(creds(f), POLICY)).toMatchObject({ reachable: true, authorized: true, missing: [] });
    const g = await fake({ noReadRight: true });
    expect(await checkOpsgenie(creds(g), POLICY)).toMatchObject({ reachable: true, authorized: true, missing: ['Read access (API key needs the Read right)'] });

    const h = await fake();
    const deadUrl = h.url;
    await h.close();
    fakes.splice(fakes.indexOf(h), 1);
    const dead = await checkOpsgenie({ apiKey: KEY, apiUrl: deadUrl }, { ...POLICY, retries: 0 });
    expect(dead).toMatchObject({ reachable: false, authorized: null });
    expect(dead.detail).not.toContain(KEY);
  });

  it('(h) a hanging API times out into a retryable error', async () => {
    const f = await fake({ faults: { hangMs: 1500 } });
    const out = await harvestOpsgenie(creds(f), ctx({ ...POLICY, retries: 1, timeoutMs: 100 }));
    expect(out.data).toBeNull();
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ source: 'opsgenie', retryable: true });
    expect(out.errors[0]!.message).toMatch(/timed out|aborted/);
    expect(f.requestsTo(LOGS_PATH)).toHaveLength(2);
  });
});
