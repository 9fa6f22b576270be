// `hindsight watch`: the unattended loop. Polls (and optionally listens for webhooks), then works
// through due incidents one stage at a time. SIGTERM/SIGINT let the current stage finish, then
// exit 0; a stage killed midway is simply redone on restart (every stage is idempotent). With
// PostgreSQL several replicas run this same loop: each stage is claimed with a lease that is
// renewed while the stage runs; a replica that dies loses it and another one redoes the stage.
import type { Server } from 'node:http';
import type { HarvestConfig } from '../harvest/config.js';
import { hostname } from 'node:os';
import { IncidentStore } from '../store/incidentStore.js';
import type { Logger } from './logger.js';
import { step } from './pipeline.js';
import { pollOpsgenie, pollPagerDuty } from './poller.js';
import { startWebhookServer } from './webhook.js';
import { makePause, type PausePoint } from './testHooks.js';
import { openWatchStore } from './openStore.js';
import { describeDatabaseUrl } from './postgresWatchStore.js';
import type { Claim, WatchStore } from './watchStore.js';
import { redactSecrets } from '../core/redact.js';

export interface WatchOptions {
  home: string;
  config: HarvestConfig;
  log: Logger;
  writesEnabled: boolean;
  listenPort?: number;
  listenHost?: string;
  /** run one poll and work until nothing is due, then return (cron-style) */
  once?: boolean;
  retryFailed?: boolean;
  /** postgres://… : shared state for several replicas; null: SQLite in `home` */
  databaseUrl?: string | null;
  /** how long a claimed stage is held without renewal (default 60 s; renewed every third of it) */
  leaseMs?: number;
  /** test-only pause points (see testHooks.ts) */
  testPause?: { points: PausePoint[]; dir: string } | null;
}

const sleep = (ms: number, signal: { stopping: boolean }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    const tick = setInterval(() => {
      if (signal.stopping) {
        clearTimeout(t);
        clearInterval(tick);
        resolve();
      }
    }, 100);
    setTimeout(() => clearInterval(tick), ms + 10);
  });

export async function watch(opts: WatchOptions): Promise<void> {
  const { config, log } = opts;
  const store = await openWatchStore({ home: opts.home, databaseUrl: opts.databaseUrl ?? null });
  const owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const leaseMs = opts.leaseMs ?? 60_000;
  const incidents = IncidentStore.open(opts.home);
  const state = { stopping: false };
  const stop = (signal: string) => {
    if (!state.stopping) log.info({ signal }, 'stopping after the current stage');
    state.stopping = true;
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (opts.retryFailed) log.info({ count: await store.retryFailed() }, 'failed incidents queued again');

  let server: Server | null = null;
  if (opts.listenPort !== undefined) {
    if (!config.autonomous.webhookSecret) throw new Error('--listen needs PAGERDUTY_WEBHOOK_SECRET to verify deliveries');
    server = await startWebhookServer({
      port: opts.listenPort,
      host: opts.listenHost,
      secret: config.autonomous.webhookSecret,
      store,
      services: config.autonomous.watch.services,
      onQueued: (id) => log.info({ incident: id, stage: 'seen' }, 'queued from webhook'),
      log: (msg, extra) => log.info(extra ?? {}, msg),
    });
    const address = server.address();
    log.info({ port: typeof address === 'object' && address ? address.port : opts.listenPort }, 'listening for PagerDuty webhooks');
  }
  log.info({ store: opts.databaseUrl ? describeDatabaseUrl(opts.databaseUrl) : 'sqlite', replica: owner, interval_ms: config.autonomous.watch.intervalMs, writes: opts.writesEnabled, llm: Boolean(config.autonomous.llm.apiKey), review_channel: config.autonomous.review.channel }, 'watching');

  const pause = makePause(opts.testPause ?? null, () => state.stopping);
  const deps = { config, store, incidents, log, writesEnabled: opts.writesEnabled, pause };
  let nextPoll = 0;
  try {
    while (!state.stopping) {
      const polling = Date.now() >= nextPoll;
      if (polling) {
        for (const [name, poll] of [['pagerduty', pollPagerDuty], ['opsgenie', pollOpsgenie]] as const) {
          try {
            // replicas take turns: the vendor sees one poll per interval, however many there are
            if (!(await store.claimPoll(name, config.autonomous.watch.intervalMs * 0.8))) continue;
            const queued = await poll(config, store);
            if (queued) log.info({ source: name, queued }, 'resolved incidents queued');
          } catch (err) {
            log.warn({ source: name }, `poll failed: ${redactSecrets((err as Error).message)}`);
          }
        }
        const jitter = 0.8 + Math.random() * 0.4;
        nextPoll = Date.now() + config.autonomous.watch.intervalMs * jitter;
      }
      // one stage per due incident per cycle, as many as this replica can claim
      const handled: string[] = [];
      try {
        while (!state.stopping) {
          const claim = await store.claim(owner, { leaseMs, exclude: handled });
          if (!claim) break;
          handled.push(claim.incident.id);
          await withRenewal(store, claim, leaseMs, log, () => step(deps, claim));
          const after = await store.get(claim.incident.id);
          if (after && after.stage !== claim.incident.stage) await pause('stage', { incident: claim.incident.id, stage: after.stage });
        }
        await store.recordCycle(polling);
        if (opts.once && (await store.due()).length === 0) break;
      } catch (err) {
        if (store.backend !== 'postgres') throw err;
        // the database restarting or failing over: wait and go on; held leases expire meanwhile
        log.warn({ store: 'postgres' }, `state store unavailable: ${redactSecrets((err as Error).message)}`);
        await sleep(Math.min(5000, config.autonomous.watch.intervalMs * 2), state);
        continue;
      }
      if (handled.length === 0) await sleep(Math.min(1000, config.autonomous.watch.intervalMs), state);
    }
  } finally {
    server?.close();
    await store.close();
    incidents.close();
    log.info('stopped');
  }
}

/** Keeps the lease on a claimed stage while it runs (a third of the lease between renewals). */
async function withRenewal(store: WatchStore, claim: Claim, leaseMs: number, log: Logger, run: () => Promise<void>): Promise<void> {
  if (store.backend !== 'postgres') return run();
  const at = { incident: claim.incident.id, stage: claim.incident.stage };
  const timer = setInterval(() => {
    store.renew(claim, leaseMs).then(
      (held) => {
        if (!held) log.warn(at, 'lease lost to another replica; this run\'s outcome will not be recorded');
      },
      (err: Error) => log.warn(at, `lease renewal failed: ${redactSecrets(err.message)}`),
    );
  }, Math.max(100, Math.floor(leaseMs / 3)));
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
}
