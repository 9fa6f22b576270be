// The serverless webhook entry's core, shared by the AWS Lambda and the Web-standard handlers: a
// PagerDuty v3 delivery is verified (signature, age), recorded once (replay-proof) and its
// resolved incident enqueued in PostgreSQL, where `hindsight watch` replicas (or a scheduled
// `hindsight watch --once`) do the work. Nothing slow happens here: two or three statements on a
// connection kept across warm invocations, so the answer comes well within PagerDuty's timeout.
import { loadConfig } from '../harvest/config.js';
import { redactSecrets } from '../core/redact.js';
import { PostgresWatchStore } from '../watch/postgresWatchStore.js';
import { databaseUrlFrom } from '../watch/openStore.js';
import { handleDelivery, MAX_BODY_BYTES, type WebhookOutcome } from '../watch/webhook.js';

export interface WebhookEntry {
  /** One delivery: the raw body exactly as received, and the X-PagerDuty-Signature header. */
  deliver(rawBody: Buffer, signature: string | undefined): Promise<WebhookOutcome>;
  close(): Promise<void>;
}

interface Settings {
  databaseUrl: string;
  secret: string;
  services: string[];
}

function settingsFrom(env: NodeJS.ProcessEnv): Settings {
  const databaseUrl = databaseUrlFrom(undefined, env);
  if (!databaseUrl) throw new Error('HINDSIGHT_DATABASE_URL is not set: the serverless entry enqueues incidents in PostgreSQL');
  const config = loadConfig(env);
  if (!config.autonomous.webhookSecret) throw new Error('PAGERDUTY_WEBHOOK_SECRET is not set: deliveries cannot be verified');
  return { databaseUrl, secret: config.autonomous.webhookSecret, services: config.autonomous.watch.services };
}

/** Reads its settings and connects on the first delivery, then keeps both for warm invocations. */
export function createWebhookEntry(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = (l) => console.error(l)): WebhookEntry {
  let ready: Promise<{ settings: Settings; store: PostgresWatchStore }> | null = null;
  const connect = () => {
    ready ??= (async () => {
      const settings = settingsFrom(env);
      return { settings, store: await PostgresWatchStore.open(settings.databaseUrl, { max: 1 }) };
    })();
    // a failed start is not cached: the next delivery tries again
    ready.catch(() => (ready = null));
    return ready;
  };
  return {
    async deliver(rawBody, signature) {
      if (rawBody.length > MAX_BODY_BYTES) return { status: 413, body: 'body too large' };
      try {
        const { settings, store } = await connect();
        const outcome = await handleDelivery(settings.secret, store, rawBody, signature, settings.services);
        log(JSON.stringify({ msg: 'webhook delivery', status: outcome.status, result: outcome.body, incident: outcome.queued }));
        return outcome;
      } catch (err) {
        // PagerDuty retries a 5xx delivery; the message names what is missing, never a secret
        log(JSON.stringify({ msg: 'webhook delivery not recorded', error: redactSecrets((err as Error).message) }));
        return { status: 503, body: 'not recorded, retry later' };
      }
    },
    async close() {
      const current = ready;
      ready = null;
      if (current) await (await current.catch(() => null))?.store.close();
    },
  };
}
