// Many incidents for several `watch` replicas, on the loopback vendor fakes of test/fakes/: the
// sample incident copied under N ids. PagerDuty is a small router in front of the PagerDuty fake:
// it lists the N incidents (classic pagination, statuses[] filter, as the fake does) and answers
// GET /incidents/{id} for each; everything else (log entries, alerts, change events) is passed to
// the fake, which serves the sample incident's data. Slack, GitHub and Datadog are the fakes
// themselves. Used by test/replicas.test.ts and scripts/bench-replicas.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateBundle } from '../../src/core/bundle.js';
import { createDatadogFake, type DatadogFake } from '../fakes/datadogFake.js';
import { createGithubFake, type GithubFake } from '../fakes/githubFake.js';
import { createPagerDutyFake, pagerdutyIncidentFromBundle, type PagerDutyFake } from '../fakes/pagerdutyFake.js';
import { ALL_REVIEW_SCOPES, createSlackFake, type SlackFake } from '../fakes/slackFake.js';
import { vendorEnv } from './vendorEnv.js';
// type only: watchProcess.ts imports vitest, and the bench script runs outside it
import type { PostedMessage } from './watchProcess.js';

const ROOT = join(__dirname, '..', '..');
export const reference = validateBundle(JSON.parse(readFileSync(join(ROOT, 'examples/sample-incident/bundle.json'), 'utf8')));
const src = reference.sources!;
const clone = <T>(v: T): T => structuredClone(v);
export const TOKENS = { pd: 'pd-replica-token', slack: 'xoxb-replica-token', gh: 'ghp_replicaTokenForLoopbackFake000000000', ddApi: 'dd-api-r', ddApp: 'dd-app-r' };
export const APPROVER = 'U0APPROVER1';
export const REVIEW = { id: 'C0REVIEWS01', name: 'incident-reports' };
export const TICKET_REPO = src.github!.repos![0]!.full_name;

export interface ReplicaWorld {
  ids: string[];
  ticketRepo: string;
  slack: SlackFake;
  gh: GithubFake;
  pd: PagerDutyFake;
  dd: DatadogFake;
  /** a new HINDSIGHT_HOME (each replica has its own: nothing is shared through the file system) */
  home(): string;
  /** the environment of one replica: vendor fakes, config, the shared database */
  env(home: string, databaseUrl: string, extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** marks incidents resolved now (the PagerDuty list shows them from then on) */
  resolve(ids: string[], at?: number): void;
  resolvedAt(id: string): number | null;
  /** review posts (top-level, with Hindsight's metadata) by incident id */
  postsByIncident(): Map<string, PostedMessage[]>;
  /** ✅ by the approver on every posted draft not approved yet; returns how many */
  approvePosted(): number;
  /** issues Hindsight filed (they carry a `hindsight:<incident>:<hash>` marker) */
  filed(): Array<Record<string, any>>;
  close(): Promise<void>;
}

export async function createReplicaWorld(opts: { count: number; intervalSeconds?: number; idPrefix?: string }): Promise<ReplicaWorld> {
  const ids = Array.from({ length: opts.count }, (_, i) => `${opts.idPrefix ?? 'PRPL'}${String(i + 1).padStart(4, '0')}`);
  const base = pagerdutyIncidentFromBundle(reference as never);
  const incidents = new Map(
    ids.map((id, i) => [id, { ...clone(base), id, incident_number: 1000 + i, title: `${String(base.title)} (${id})`, status: 'acknowledged', resolved_at: null as string | null }]),
  );
  const pd = await createPagerDutyFake({ token: TOKENS.pd, incident: { ...clone(base), status: 'resolved' }, logEntries: clone(src.pagerduty!.log_entries!), alerts: clone(src.pagerduty!.alerts ?? []) });
  const slack = await createSlackFake({
    token: TOKENS.slack,
    channel: clone(src.slack!.channel) as never,
    messages: clone(src.slack!.messages) as never,
    users: clone(src.slack!.users) as never,
    extraChannels: [REVIEW as never],
    scopes: ALL_REVIEW_SCOPES,
  });
  const gh = await createGithubFake({ token: TOKENS.gh, repos: clone(src.github!.repos!) });
  const dd = await createDatadogFake({ apiKey: TOKENS.ddApi, appKey: TOKENS.ddApp, metrics: clone(src.datadog!.metrics!), events: clone(src.datadog!.events ?? []), logs: clone(src.logs) as never });

  const router: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://router.invalid');
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Token token=${TOKENS.pd}`) return json(401, { error: { message: 'Unauthorized', code: 2006 } });
    if (url.pathname === '/incidents') {
      const statuses = url.searchParams.getAll('statuses[]');
      const list = [...incidents.values()]
        .filter((i) => statuses.length === 0 || statuses.includes(i.status))
        .sort((a, b) => String(b.resolved_at ?? '').localeCompare(String(a.resolved_at ?? '')));
      const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 25));
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const slice = list.slice(offset, offset + limit);
      return json(200, { incidents: slice, limit, offset, more: offset + slice.length < list.length, total: null });
    }
    const m = /^\/incidents\/([^/]+)(\/.*)?$/.exec(url.pathname);
    let path = url.pathname;
    if (m) {
      const incident = incidents.get(decodeURIComponent(m[1]!));
      if (!incident) return json(404, { error: { message: 'Not Found', code: 2100 } });
      if (!m[2]) return json(200, { incident });
      path = `/incidents/${encodeURIComponent(String(base.id))}${m[2]}`;
    }
    fetch(`${pd.url}${path}${url.search}`, { headers: { authorization: req.headers.authorization ?? '' } })
      .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()))
      .catch(() => json(502, { error: { message: 'router: fake unreachable' } }));
  });
  await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', () => resolve()));
  const pdUrl = `http://127.0.0.1:${(router.address() as AddressInfo).port}`;

  const configDir = mkdtempSync(join(tmpdir(), 'hs-replicas-'));
  const configPath = join(configDir, 'hindsight.config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      services: { [reference.incident.service!]: { slack_channel: src.slack!.channel!.id, datadog: { queries: src.datadog!.metrics!.map((m) => m.expression), logs_query: '*' } } },
      datadog: { snapshots: 0 },
      windows: { after_resolve_minutes: 60, lookback_hours: 6 },
      watch: { interval_seconds: opts.intervalSeconds ?? 0.5, max_attempts: 50 },
      review: { channel: `#${REVIEW.name}`, approvers: [APPROVER] },
      tickets: { system: 'github', github_repo: TICKET_REPO },
      http: { timeout_ms: 5000, retries: 1 },
    }),
  );
  const approved = new Set<string>();
  const homes: string[] = [configDir];
  const postsByIncident = () => {
    const out = new Map<string, PostedMessage[]>();
    const top = (slack.messagesIn(REVIEW.id) as PostedMessage[]).filter((m) => (!m.thread_ts || m.thread_ts === m.ts) && m.metadata?.event_type === 'hindsight_postmortem');
    for (const post of top) {
      const id = String(post.metadata?.event_payload?.incident_id);
      out.set(id, [...(out.get(id) ?? []), post]);
    }
    return out;
  };

  return {
    ids,
    ticketRepo: TICKET_REPO,
    slack,
    gh,
    pd,
    dd,
    home: () => {
      const home = mkdtempSync(join(tmpdir(), 'hs-replica-home-'));
      homes.push(home);
      return home;
    },
    env: (home, databaseUrl, extra = {}) => ({
      ...vendorEnv({ home, config: configPath, fakes: { pd: { url: pdUrl }, slack, gh, dd }, tokens: TOKENS, repos: src.github!.repos!.map((r) => r.full_name) }),
      HINDSIGHT_DATABASE_URL: databaseUrl,
      ...extra,
    }),
    resolve(list, at = Date.now()) {
      for (const id of list) {
        const inc = incidents.get(id)!;
        inc.status = 'resolved';
        inc.resolved_at = new Date(at).toISOString();
        (inc as Record<string, unknown>).last_status_change_at = inc.resolved_at;
      }
    },
    resolvedAt: (id) => {
      const at = incidents.get(id)?.resolved_at;
      return at ? Date.parse(at) : null;
    },
    postsByIncident,
    approvePosted() {
      let n = 0;
      for (const [id, posts] of postsByIncident()) {
        if (approved.has(id)) continue;
        approved.add(id);
        slack.addReaction(REVIEW.id, String(posts[0]!.ts), 'white_check_mark', APPROVER);
        n++;
      }
      return n;
    },
    filed: () => gh.issues(TICKET_REPO).filter((i) => /hindsight:[^ >]+/.test(String(i.body ?? ''))),
    async close() {
      await new Promise<void>((resolve) => {
        router.close(() => resolve());
        router.closeAllConnections();
      });
      await Promise.all([pd.close(), slack.close(), gh.close(), dd.close()]);
      for (const dir of homes) rmSync(dir, { recursive: true, force: true });
    },
  };
}
