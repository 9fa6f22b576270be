// Web-standard handler (Request -> Response) for PagerDuty v3 webhooks: Vercel Functions (Node.js
// runtime: `export { POST } from 'hindsight/dist/serverless/web.js'` in api/pagerduty.ts) and
// any runtime with the Fetch API types. Settings from the environment, as for the Lambda handler.
import { createWebhookEntry, type WebhookEntry } from './entry.js';

export function createWebHandler(entry: WebhookEntry): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method === 'GET' && new URL(request.url).pathname.endsWith('/healthz')) return new Response('ok');
    if (request.method !== 'POST') return new Response('POST only', { status: 405, headers: { allow: 'POST' } });
    const raw = Buffer.from(await request.arrayBuffer());
    const outcome = await entry.deliver(raw, request.headers.get('x-pagerduty-signature') ?? undefined);
    return new Response(outcome.body, { status: outcome.status, headers: { 'content-type': 'text/plain' } });
  };
}

let shared: ReturnType<typeof createWebHandler> | null = null;

/** Vercel's named method export; one entry (and connection) per instance. */
export const POST = (request: Request): Promise<Response> => {
  shared ??= createWebHandler(createWebhookEntry(process.env));
  return shared(request);
};
