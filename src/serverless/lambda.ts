// AWS Lambda handler for PagerDuty v3 webhooks behind API Gateway (HTTP API, payload format 2.0)
// or a Lambda function URL (the same event shape). Handler: dist/serverless/lambda.handler.
// Settings from the function's environment: HINDSIGHT_DATABASE_URL, PAGERDUTY_WEBHOOK_SECRET and
// optionally HINDSIGHT_CONFIG (watch.services narrows which services are enqueued).
import { createWebhookEntry, type WebhookEntry } from './entry.js';

/** The fields of an API Gateway v2 / function URL event this handler reads. */
export interface HttpEventV2 {
  rawPath?: string;
  headers?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string } };
}

export interface HttpResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const text = (statusCode: number, body: string): HttpResultV2 => ({ statusCode, headers: { 'content-type': 'text/plain' }, body });

function header(headers: HttpEventV2['headers'], name: string): string | undefined {
  // API Gateway v2 lower-cases header names; a hand-made test event may not
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}

export function createLambdaHandler(entry: WebhookEntry): (event: HttpEventV2) => Promise<HttpResultV2> {
  return async (event) => {
    const method = event.requestContext?.http?.method ?? 'POST';
    if (method === 'GET' && event.rawPath === '/healthz') return text(200, 'ok');
    if (method !== 'POST') return text(405, 'POST only');
    const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    const outcome = await entry.deliver(raw, header(event.headers, 'x-pagerduty-signature'));
    return text(outcome.status, outcome.body);
  };
}

let shared: ReturnType<typeof createLambdaHandler> | null = null;

/** The function's handler: one entry (and connection) per execution environment. */
export const handler = (event: HttpEventV2): Promise<HttpResultV2> => {
  shared ??= createLambdaHandler(createWebhookEntry(process.env));
  return shared(event);
};
