// Push: PagerDuty v3 webhooks (incident.resolved). Deliveries must carry a valid
// X-PagerDuty-Signature (HMAC-SHA256 of the raw body with the shared secret), be recent, and not
// have been seen before; anything else is refused. The poller remains the safety net.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { WatchStore } from './watchStore.js';

export const MAX_BODY_BYTES = 1 << 20;
export const MAX_EVENT_AGE_MS = 10 * 60_000;

/** `v1=<hex>[,v1=<hex>…]` (several signatures while a secret is being rotated). */
export function verifySignature(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .some((s) => {
      const given = Buffer.from(s.slice(3), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

export function signBody(secret: string, rawBody: string | Buffer): string {
  return `v1=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

interface WebhookEvent {
  event?: {
    id?: string;
    event_type?: string;
    occurred_at?: string;
    data?: { id?: string; type?: string; title?: string; status?: string; service?: { summary?: string; id?: string }; resolved_at?: string };
  };
}

export interface WebhookOutcome {
  status: number;
  body: string;
  queued?: string;
}

/** Decides what to do with one delivery; pure apart from the store (also the serverless entries' core). */
export async function handleDelivery(secret: string, store: Pick<WatchStore, 'acceptDelivery' | 'enqueue'>, rawBody: Buffer, signature: string | undefined, services: string[], now = Date.now()): Promise<WebhookOutcome> {
  if (!verifySignature(secret, rawBody, signature)) return { status: 401, body: 'invalid or missing X-PagerDuty-Signature' };
  let payload: WebhookEvent;
  try {
    payload = JSON.parse(rawBody.toString('utf8')) as WebhookEvent;
  } catch {
    return { status: 400, body: 'body is not JSON' };
  }
  const event = payload.event;
  if (!event?.id || !event.event_type) return { status: 400, body: 'not a PagerDuty v3 event' };
  const occurred = event.occurred_at ? Date.parse(event.occurred_at) : Number.NaN;
  if (!Number.isFinite(occurred) || Math.abs(now - occurred) > MAX_EVENT_AGE_MS) return { status: 400, body: 'event too old or without occurred_at (possible replay)' };
  if (!(await store.acceptDelivery(event.id, now))) return { status: 409, body: 'delivery already received (replay)' };
  if (event.event_type !== 'incident.resolved' || !event.data?.id) return { status: 202, body: 'ignored event type' };
  const service = event.data.service;
  if (services.length && !(services.includes(service?.summary ?? '') || services.includes(service?.id ?? ''))) return { status: 202, body: 'service not watched' };
  await store.enqueue({ id: event.data.id, source: 'pagerduty', service: service?.summary ?? null, title: event.data.title ?? event.data.id, resolvedAt: event.data.resolved_at ?? event.occurred_at ?? null }, now);
  return { status: 202, body: 'queued', queued: event.data.id };
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function startWebhookServer(opts: { port: number; host?: string; secret: string; store: WatchStore; services: string[]; onQueued: (id: string) => void; log: (msg: string, extra?: object) => void }): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(req.url === '/healthz' ? 200 : 405).end(req.url === '/healthz' ? 'ok' : 'POST only');
      return;
    }
    const body = await readBody(req).catch(() => null);
    if (!body) {
      res.writeHead(413).end('body too large');
      return;
    }
    let outcome: WebhookOutcome;
    try {
      outcome = await handleDelivery(opts.secret, opts.store, body, req.headers['x-pagerduty-signature'] as string | undefined, opts.services);
    } catch (err) {
      // the state store is unreachable: PagerDuty retries a 5xx delivery
      opts.log('webhook delivery not recorded', { status: 503, error: (err as Error).message });
      res.writeHead(503, { 'content-type': 'text/plain' }).end('state store unavailable, retry later');
      return;
    }
    opts.log('webhook delivery', { status: outcome.status, result: outcome.body, incident: outcome.queued });
    if (outcome.queued) opts.onQueued(outcome.queued);
    res.writeHead(outcome.status, { 'content-type': 'text/plain' }).end(outcome.body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve(server));
  });
}
