// The serverless webhook entry: the AWS Lambda handler fed API Gateway (HTTP API, payload 2.0) and
// function URL events, and the Web-standard Request -> Response handler (Vercel), each with a
// PagerDuty v3 incident.resolved delivery in the vendors' documented shapes
// (test/fixtures/serverless/). Deliveries are verified, recorded replay-proof and enqueued in a
// real PostgreSQL; a `watch` replica on the same database then posts exactly one review.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookEntry, type WebhookEntry } from '../src/serverless/entry.js';
import { createLambdaHandler, type HttpEventV2 } from '../src/serverless/lambda.js';
import { createWebHandler } from '../src/serverless/web.js';
import { PostgresWatchStore } from '../src/watch/postgresWatchStore.js';
import { signBody } from '../src/watch/webhook.js';
import { postgresAvailability, startPostgres, type PostgresServer } from './helpers/postgres.js';
import { createReplicaWorld, type ReplicaWorld } from './helpers/replicaWorld.js';
import { startWatch, until } from './helpers/watchProcess.js';

const pg = postgresAvailability();
const FIXTURES = join(__dirname, 'fixtures', 'serverless');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const SECRET = 'whsec-serverless-test';

/** PagerDuty's incident.resolved payload for `incidentId`, delivered now under `deliveryId`. */
function delivery(deliveryId: string, incidentId: string, occurredAt = new Date()): string {
  const payload = fixture('pagerduty-v3-incident-resolved.json');
  payload.event.id = deliveryId;
  payload.event.occurred_at = occurredAt.toISOString();
  payload.event.data.id = incidentId;
  payload.event.data.self = `https://api.pagerduty.com/incidents/${incidentId}`;
  return JSON.stringify(payload);
}

/** The gateway's event around a delivery, signed with `secret` (the function URL base64-encodes the body). */
function gatewayEvent(name: 'apigateway-http-v2.json' | 'lambda-function-url.json', body: string, secret = SECRET): HttpEventV2 {
  const event = fixture(name);
  event.body = event.isBase64Encoded ? Buffer.from(body).toString('base64') : body;
  event.headers['content-length'] = String(Buffer.byteLength(body));
  event.headers['x-pagerduty-signature'] = signBody(secret, body);
  return event;
}

describe.skipIf(!pg.available)('serverless webhook entry', () => {
  let server: PostgresServer;
  let databases = 0;
  const closers: Array<() => Promise<unknown>> = [];
  const children: ChildProcess[] = [];
  let world: ReplicaWorld | null = null;

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const close of closers.splice(0)) await close();
    await world?.close();
    world = null;
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function setup() {
    const url = await server.createDatabase(`serverless_${++databases}`);
    const lines: string[] = [];
    const entry = createWebhookEntry({ HINDSIGHT_DATABASE_URL: url, PAGERDUTY_WEBHOOK_SECRET: SECRET, HINDSIGHT_CONFIG: '' }, (l) => lines.push(l));
    const store = await PostgresWatchStore.open(url, { max: 1 });
    closers.push(() => entry.close(), () => store.close());
    return { url, entry, store, lines };
  }

  it('Lambda behind API Gateway: queues a signed incident.resolved once, refuses a replay, a bad signature and other methods', async () => {
    const { entry, store } = await setup();
    const handler = createLambdaHandler(entry);
    const body = delivery('01DELIVERYA', 'PSRV001');
    expect(await handler(gatewayEvent('apigateway-http-v2.json', body))).toMatchObject({ statusCode: 202, body: 'queued' });
    expect(await store.get('PSRV001')).toMatchObject({ stage: 'seen', source: 'pagerduty', title: 'A little bump in the road', service: 'API Service' });
    expect((await handler(gatewayEvent('apigateway-http-v2.json', body))).statusCode).toBe(409);
    expect((await handler(gatewayEvent('apigateway-http-v2.json', delivery('01DELIVERYB', 'PSRV002'), 'another-secret'))).statusCode).toBe(401);
    const get = gatewayEvent('apigateway-http-v2.json', '');
    get.requestContext!.http!.method = 'GET';
    expect((await handler(get)).statusCode).toBe(405);
    const stale = delivery('01DELIVERYC', 'PSRV003', new Date(Date.now() - 3600_000));
    expect((await handler(gatewayEvent('apigateway-http-v2.json', stale))).statusCode).toBe(400);
    expect((await store.list()).map((r) => r.id)).toEqual(['PSRV001']);
  });

  it('Lambda function URL: reads the base64-encoded body', async () => {
    const { entry, store } = await setup();
    const handler = createLambdaHandler(entry);
    const event = gatewayEvent('lambda-function-url.json', delivery('01DELIVERYD', 'PSRV004'));
    expect(event.isBase64Encoded).toBe(true);
    expect(await handler(event)).toMatchObject({ statusCode: 202, body: 'queued' });
    expect((await store.get('PSRV004'))?.stage).toBe('seen');
  });

  it('Web handler (Vercel): Request in, Response out, with the same checks', async () => {
    const { entry, store } = await setup();
    const handle = createWebHandler(entry);
    const body = delivery('01DELIVERYE', 'PSRV005');
    const post = (sig?: string) =>
      handle(new Request('https://hindsight-hooks.vercel.app/api/pagerduty', { method: 'POST', body, headers: { 'content-type': 'application/json', ...(sig ? { 'x-pagerduty-signature': sig } : {}) } }));
    expect((await post()).status).toBe(401);
    const ok = await post(signBody(SECRET, body));
    expect(ok.status).toBe(202);
    expect(await ok.text()).toBe('queued');
    expect((await post(signBody(SECRET, body))).status).toBe(409);
    expect((await handle(new Request('https://hindsight-hooks.vercel.app/api/pagerduty'))).status).toBe(405);
    expect((await store.list()).map((r) => r.id)).toEqual(['PSRV005']);
  });

  it('answers 503 (PagerDuty retries) when it cannot record the delivery, and says why in one line without secrets', async () => {
    const lines: string[] = [];
    const unconfigured = createWebhookEntry({ PAGERDUTY_WEBHOOK_SECRET: SECRET, HINDSIGHT_CONFIG: '' }, (l) => lines.push(l));
    const body = delivery('01DELIVERYF', 'PSRV006');
    expect((await createLambdaHandler(unconfigured)(gatewayEvent('apigateway-http-v2.json', body))).statusCode).toBe(503);
    expect(lines.at(-1)).toMatch(/HINDSIGHT_DATABASE_URL is not set/);
    // a server that is not there: refused, not recorded, retried later by PagerDuty
    const down = createWebhookEntry({ HINDSIGHT_DATABASE_URL: 'postgres://hindsight:s3cr3t-pw@127.0.0.1:1/none', PAGERDUTY_WEBHOOK_SECRET: SECRET, HINDSIGHT_CONFIG: '' }, (l) => lines.push(l));
    closers.push(() => down.close(), () => unconfigured.close());
    expect((await createLambdaHandler(down)(gatewayEvent('apigateway-http-v2.json', body))).statusCode).toBe(503);
    expect(lines.join('\n')).not.toContain('s3cr3t-pw');
    expect(lines.join('\n')).not.toContain(SECRET);
    for (const line of lines) expect(line.split('\n')).toHaveLength(1);
  });

  it('a webhook delivered to the serverless handler results in exactly one review post', { timeout: 120_000 }, async () => {
    const { url, entry, store } = await setup();
    world = await createReplicaWorld({ count: 1, idPrefix: 'PHOOK' });
    const w = world;
    const [id] = w.ids as [string];
    // not resolved in PagerDuty's list: only the webhook can bring it in
    const lambda = createLambdaHandler(entry);
    expect((await lambda(gatewayEvent('apigateway-http-v2.json', delivery('01HOOK1', id)))).statusCode).toBe(202);
    // PagerDuty's retry of the same event, and the same incident through the Vercel entry too
    expect((await lambda(gatewayEvent('apigateway-http-v2.json', delivery('01HOOK1', id)))).statusCode).toBe(409);
    const again = delivery('01HOOK2', id);
    const web = createWebHandler(entry);
    expect((await web(new Request('https://x.vercel.app/api/pagerduty', { method: 'POST', body: again, headers: { 'x-pagerduty-signature': signBody(SECRET, again) } }))).status).toBe(202);

    const replica = startWatch(children, w.env(w.home(), url));
    await until('the draft to be posted', async () => (await store.get(id))?.stage === 'posted', 60_000);
    w.approvePosted();
    await until('tickets', async () => (await store.get(id))?.stage === 'ticketed', 60_000);
    replica.child.kill('SIGTERM');
    expect(await replica.exited).toBe(0);
    expect(w.postsByIncident().get(id)).toHaveLength(1);
    expect([...w.postsByIncident().keys()]).toEqual([id]);
    expect(replica.logs()).not.toMatch(/"source":"pagerduty","queued"/); // not the poller's doing
  });
});
