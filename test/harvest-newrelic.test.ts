// The New Relic source (NerdGraph over fetch) against a loopback fake (test/fakes/newrelicFake.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { validateBundle } from '../src/core/bundle.js';
import { checkNewRelic, harvestNewRelic, withTimeRange, type NewRelicCredentials } from '../src/harvest/sources/newrelic.js';
import type { HarvestContext, HttpPolicy } from '../src/harvest/types.js';
import { createNewRelicFake, type NewRelicFake, type NewRelicFakeOptions } from './fakes/newrelicFake.js';

const API_KEY = 'NRAK-TESTKEY0123456789ABCDEFGHIJ';
const ACCOUNT = 3141592;
const POLICY: HttpPolicy = { timeoutMs: 2000, retries: 2, baseDelayMs: 20, maxDelayMs: 100 };
const FROM_MS = Date.parse('2024-11-14T17:00:00.000Z');
const TO_MS = Date.parse('2024-11-14T20:00:00.000Z');

const ERRORS_Q = "SELECT count(*) FROM TransactionError WHERE appName = '{service}' FACET appName TIMESERIES 5 minutes";
const ERRORS_NRQL = "SELECT count(*) FROM TransactionError WHERE appName = 'inventory-api' FACET appName TIMESERIES 5 minutes";
const LATENCY_NRQL = "SELECT percentile(duration, 99) FROM Transaction WHERE appName = 'inventory-api' TIMESERIES 5 minutes";

function rows(valueKey: string, values: number[]): Array<Record<string, unknown>> {
  return values.map((v, i) => ({
    beginTimeSeconds: FROM_MS / 1000 + i * 300,
    endTimeSeconds: FROM_MS / 1000 + (i + 1) * 300,
    facet: 'inventory-api',
    [valueKey]: v,
  }));
}
const ERROR_ROWS = rows('count', [0, 1, 0, 2, 41, 97, 88, 3, 0]);
const LATENCY_ROWS = rows('percentile.duration', [0.031, 0.033, 0.032, 0.9, 1.4]);

function context(http: Partial<HttpPolicy> = {}): HarvestContext & { messages: string[] } {
  const messages: string[] = [];
  return {
    incident: {
      id: 'QV709RBZINVXI4',
      source: 'pagerduty',
      number: 5127,
      title: 'inventory-api: 5xx ratio over 3%',
      service: 'inventory-api',
      severity: 'SEV2',
      urgency: 'high',
      status: 'resolved',
      createdAt: '2024-11-14T18:26:14Z',
      acknowledgedAt: null,
      resolvedAt: '2024-11-14T19:05:42Z',
      url: null,
      raw: {},
    },
    window: { fromMs: FROM_MS, toMs: TO_MS },
    deployWindow: { fromMs: FROM_MS - 72 * 3600_000, toMs: TO_MS },
    caps: { pagerdutyLogEntries: 1000, slackMessages: 5000, slackChannelsScanned: 2000, deploymentsPerRepo: 100, commitsPerDeployment: 50, patchChars: 20_000, logLines: 10_000, metricSeries: 30, events: 1000 },
    http: { ...POLICY, ...http },
    service: null,
    log: (m) => messages.push(m),
    messages,
  };
}

const fakes: NewRelicFake[] = [];
async function fake(over: Partial<NewRelicFakeOptions> = {}): Promise<NewRelicFake> {
  const f = await createNewRelicFake({ apiKey: API_KEY, accountId: ACCOUNT, queries: { [ERRORS_NRQL]: ERROR_ROWS, [LATENCY_NRQL]: LATENCY_ROWS }, ...over });
  fakes.push(f);
  return f;
}
const creds = (f: { url: string }, over: Partial<NewRelicCredentials> = {}): NewRelicCredentials => ({ apiKey: API_KEY, apiUrl: f.url, accountId: ACCOUNT, ...over });

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

describe('harvestNewRelic against the fake', () => {
  it('harvests NRQL TIMESERIES results over the incident window', async () => {
    const f = await fake();
    const ctx = context();
    const out = await harvestNewRelic(creds(f), ctx, { queries: [ERRORS_Q, LATENCY_NRQL] });
    expect(out.errors).toEqual([]);
    expect(out.data).toEqual({
      nrql: [
        { query: `${ERRORS_NRQL} SINCE ${FROM_MS} UNTIL ${TO_MS}`, results: ERROR_ROWS },
        { query: `${LATENCY_NRQL} SINCE ${FROM_MS} UNTIL ${TO_MS}`, results: LATENCY_ROWS },
      ],
    });
    expect(f.requests).toHaveLength(2);
    expect(f.requests.every((r) => r.keyOk)).toBe(true);
    expect(f.requests[0]!.variables).toMatchObject({ accountId: ACCOUNT, nrql: `${ERRORS_NRQL} SINCE ${FROM_MS} UNTIL ${TO_MS}` });
    expect(f.requests[0]!.query).toMatch(/account\(id: \$accountId\) \{ nrql\(query: \$nrql/);
    expect(() =>
      validateBundle({ bundle_version: 1, incident: { id: 'X', created_at: '2024-11-14T18:26:14Z' }, sources: { newrelic: out.data } }),
    ).not.toThrow();
    expect(JSON.stringify(out) + ctx.messages.join('\n')).not.toContain(API_KEY);
  });

  it('leaves a query that already has SINCE alone', () => {
    const w = { fromMs: FROM_MS, toMs: TO_MS };
    expect(withTimeRange('SELECT count(*) FROM Transaction SINCE 1 day ago TIMESERIES', w)).toBe('SELECT count(*) FROM Transaction SINCE 1 day ago TIMESERIES');
    expect(withTimeRange('SELECT count(*) FROM Transaction TIMESERIES;', w)).toBe(`SELECT count(*) FROM Transaction TIMESERIES SINCE ${FROM_MS} UNTIL ${TO_MS}`);
  });

  it('reports a GraphQL error and keeps the other queries', async () => {
    const f = await fake();
    const out = await harvestNewRelic(creds(f), context(), { queries: ['SELECT nonsense FROM Nowhere TIMESERIES', LATENCY_NRQL] });
    expect(out.data!.nrql.map((q) => q.results)).toEqual([LATENCY_ROWS]);
    expect(out.errors).toEqual([{ source: 'newrelic', message: expect.stringMatching(/^NRQL "SELECT nonsense.*": NerdGraph: NRQL Syntax Error/), retryable: false }]);
    // a GraphQL error in a 200 answer is not retried
    expect(f.requests).toHaveLength(2);
  });

  it('retries a GraphQL query timeout and reports it as retryable when it persists', async () => {
    const f = await fake({ faults: { queryTimeout: { times: 1 } } });
    const ok = await harvestNewRelic(creds(f), context(), { queries: [LATENCY_NRQL] });
    expect(ok.errors).toEqual([]);
    expect(ok.data!.nrql[0]!.results).toEqual(LATENCY_ROWS);
    expect(f.requests).toHaveLength(2);

    f.faults.queryTimeout = { times: 10 };
    const failed = await harvestNewRelic(creds(f), context(), { queries: [LATENCY_NRQL] });
    expect(failed.data).toBeNull();
    expect(failed.errors).toEqual([{ source: 'newrelic', message: expect.stringContaining('timeout'), retryable: true }]);
  });

  it('reports a missing account id once, without calling NerdGraph', async () => {
    const f = await fake();
    const out = await harvestNewRelic(creds(f, { accountId: null }), context(), { queries: [ERRORS_Q, LATENCY_NRQL] });
    expect(out).toEqual({ data: null, errors: [{ source: 'newrelic', message: 'NEW_RELIC_ACCOUNT_ID is not set', retryable: false }], truncated: [] });
    expect(f.requests).toHaveLength(0);
  });

  it('reports a rejected key as a non-retryable 401', async () => {
    const f = await fake();
    const out = await harvestNewRelic(creds(f, { apiKey: 'NRAK-WRONGKEY000000000000000000' }), context(), { queries: [LATENCY_NRQL] });
    expect(out.data).toBeNull();
    expect(out.errors).toEqual([{ source: 'newrelic', message: expect.stringContaining('401'), retryable: false }]);
    expect(f.requests).toHaveLength(1);
    expect(JSON.stringify(out)).not.toContain('WRONGKEY');
  });

  it('drops non-TIMESERIES answers with an error', async () => {
    const f = await fake({ queries: { 'SELECT count(*) FROM Transaction': [{ count: 12 }] } });
    const out = await harvestNewRelic(creds(f), context(), { queries: ['SELECT count(*) FROM Transaction'] });
    expect(out.data).toBeNull();
    expect(out.errors[0]!.message).toMatch(/TIMESERIES/);
  });

  it('honours Retry-After on 429', async () => {
    const f = await fake({ faults: { rateLimit: { times: 1, retryAfterSec: 1 } } });
    const out = await harvestNewRelic(creds(f), context(), { queries: [LATENCY_NRQL] });
    expect(out.errors).toEqual([]);
    expect(f.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(f.requests[1]!.at - f.requests[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('reports a down API as retryable, without throwing', async () => {
    const f = await fake({ faults: { down: true } });
    const out = await harvestNewRelic(creds(f), context(), { queries: [ERRORS_Q] });
    expect(out.data).toBeNull();
    expect(out.errors).toEqual([{ source: 'newrelic', message: expect.stringContaining('network error'), retryable: true }]);
    expect(f.requests).toHaveLength(POLICY.retries + 1);
  });
});

describe('checkNewRelic', () => {
  it('accepts a good key and never shows the user name', async () => {
    const f = await fake({ userName: 'Rosalind Example-Person' });
    const check = await checkNewRelic(creds(f), POLICY);
    expect(check).toMatchObject({ source: 'newrelic', configured: true, reachable: true, authorized: true, missing: [] });
    expect(JSON.stringify(check)).not.toMatch(/Rosalind|NRAK-TESTKEY/);
  });

  it('reports a bad key as not authorized', async () => {
    const f = await fake();
    const check = await checkNewRelic(creds(f, { apiKey: 'NRAK-BADKEY0000000000000000000' }), POLICY);
    expect(check).toMatchObject({ reachable: true, authorized: false });
    expect(JSON.stringify(check)).not.toContain('BADKEY');
  });

  it('mentions a missing account id and an unreachable API', async () => {
    const f = await fake();
    expect((await checkNewRelic(creds(f, { accountId: null }), POLICY)).detail).toMatch(/NEW_RELIC_ACCOUNT_ID is not set/);
    f.faults.down = true;
    expect(await checkNewRelic(creds(f), { ...POLICY, retries: 0 })).toMatchObject({ reachable: false, authorized: null });
  });
});
