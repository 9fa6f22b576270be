// The bundle under construction: people, repositories and deployments, logs, chat, metrics and
// paging, plus the strings that must never leave the engine (people, secrets).
import type { Rng } from './prng.js';
import {
  CHAT_NOISE, COMPANIES, DOMAINS, FIRST_NAMES, FRAMEWORKS, LAST_NAMES, NONPROD_ENVS, PROD_ENVS, SERVICE_SUFFIXES, TLDS,
} from './vocab.js';

export type Lang = 'ts' | 'py' | 'go' | 'java';
export type LogFormat = 'plain' | 'json' | 'logfmt';

export interface Person {
  name: string;
  login: string;
  email: string;
  slackId: string;
}

export interface FileSpec {
  filename: string;
  patch: string;
  status?: string;
}

export interface CommitSpec {
  message: string;
  files: FileSpec[];
  author?: Person;
  /** authored by a bot (dependabot, renovate) */
  bot?: string;
}

export interface DeployOptions {
  env?: string;
  finishedMs: number;
  commits: CommitSpec[];
  state?: 'success' | 'failure';
  description?: string;
  ref?: string;
  payload?: Record<string, unknown>;
  /** also record a Datadog deploy event for it (default: random) */
  ddEvent?: boolean;
  /** service tag for the Datadog event */
  ddService?: string;
}

export interface DeployResult {
  repo: string;
  id: number;
  sha: string;
  shas: string[];
  finishedMs: number;
  env: string;
  ref: string;
}

interface RepoBuild {
  full_name: string;
  deployments: Array<Record<string, unknown>>;
  commits: Array<Record<string, unknown>>;
  deployment_commits: Record<string, string[]>;
}

export interface Series {
  metric: string;
  scope: string;
  interval: number;
  value: (ms: number) => number | null;
  from?: number;
  to?: number;
}

export const MIN = 60_000;
export const HOUR = 60 * MIN;

export const iso = (ms: number) => new Date(ms).toISOString();
/** GitHub-style time: whole seconds, Z */
export const isoSec = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
export const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

function isoWithOffset(ms: number, offsetMin: number): string {
  if (offsetMin === 0) return isoSec(ms);
  const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMin * MIN).toISOString().slice(0, 19);
  const sign = offsetMin >= 0 ? '+' : '-';
  const a = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

export class Scene {
  readonly org: string;
  readonly domain: string;
  readonly dom: (typeof DOMAINS)[number];
  readonly service: string;
  readonly serviceRepo: string;
  readonly lang: Lang;
  readonly prodEnv: string;
  readonly nonProdEnv: string;
  readonly logFormat: LogFormat;
  readonly hosts: string[];
  readonly interval: number;
  readonly errorMetric: { metric: string; scope: string };
  readonly hitsMetric: { metric: string; scope: string };
  readonly latencyMetric: { metric: string; scope: string };
  readonly paging: 'pagerduty' | 'opsgenie';
  readonly tzOffsetMin: number;

  /** onset of impact (errors start), aligned to the metric interval */
  t0: number;
  pageMs: number;
  ackMs: number;
  recoveryMs: number;
  resolveMs: number;
  windowStart: number;

  readonly responders: Person[] = [];
  readonly mustNotAppear = new Set<string>();
  readonly usedWords = new Set<string>();
  private readonly people: Person[] = [];
  private readonly repos = new Map<string, RepoBuild>();
  private readonly logs: Array<Record<string, unknown>> = [];
  private readonly messages: Array<Record<string, unknown>> = [];
  private readonly series: Series[] = [];
  private readonly ddEvents: Array<Record<string, unknown>> = [];
  private readonly changeEvents: Array<Record<string, unknown>> = [];
  private readonly botIds = new Map<string, string>();
  private nextDeployId: number;
  private errorLevel: number;
  /** error metric shape: fraction of the incident error level at ms (default: 1 in [t0, recovery)) */
  errorShape: ((ms: number) => number) | null = null;
  /** hits metric multiplier (traffic surges) */
  trafficShape: ((ms: number) => number) | null = null;
  /** skip the default per-service error series (families that build their own) */
  customErrorSeries = false;
  title: string;

  constructor(readonly rng: Rng) {
    this.org = rng.pick(COMPANIES);
    this.domain = `${this.org.replace(/-/g, '')}.${rng.pick(TLDS)}`;
    this.dom = rng.pick(DOMAINS);
    const stem = rng.pick(this.dom.stems);
    this.service = stem + rng.pick(SERVICE_SUFFIXES);
    this.serviceRepo = `${this.org}/${rng.chance(0.5) ? this.service : stem}`;
    this.lang = rng.pick(['ts', 'py', 'go', 'java'] as const);
    this.prodEnv = rng.pick(PROD_ENVS);
    this.nonProdEnv = rng.pick(NONPROD_ENVS);
    this.logFormat = rng.pick(['plain', 'json', 'logfmt'] as const);
    this.paging = rng.chance(0.6) ? 'pagerduty' : 'opsgenie';
    this.tzOffsetMin = rng.pick([0, 0, 60, 120, -300, 330, 540]);
    const hostStyle = rng.int(0, 2);
    const rs = rng.alnum(5, 'bcdfghjklmnpqrstvwxz0123456789');
    this.hosts = Array.from({ length: rng.int(3, 6) }, (_, i) =>
      hostStyle === 0 ? `${this.service}-${rs}-${rng.alnum(4, 'bcdfghjklmnpqrstvwxz0123456789')}`
        : hostStyle === 1 ? `ip-10-${rng.int(0, 40)}-${rng.int(0, 255)}-${rng.int(2, 254)}`
          : `${stem}-${String(i + 1).padStart(2, '0')}.${rng.pick(['use1', 'euw1', 'apse2', 'dc2'])}.internal`);
    this.interval = rng.pick([10, 10, 20, 30]);
    const envTag = `env:${rng.chance(0.5) ? this.prodEnv : rng.pick(['prod', 'production'])}`;
    const svcScope = `service:${this.service},${envTag}`;
    const u = this.service.replace(/-/g, '_');
    const style = rng.int(0, 4);
    const fw = rng.pick(FRAMEWORKS);
    this.errorMetric = style === 0 ? { metric: 'trace.http.request.errors', scope: svcScope }
      : style === 1 ? { metric: `trace.${fw}.request.errors`, scope: svcScope }
        : style === 2 ? { metric: `${u}.http.5xx`, scope: envTag }
          : style === 3 ? { metric: 'http.server.requests.errors', scope: svcScope }
            : { metric: `${this.org.replace(/-/g, '_')}.${u}.errors.count`, scope: envTag };
    this.hitsMetric = style === 1 ? { metric: `trace.${fw}.request.hits`, scope: svcScope }
      : style === 2 ? { metric: `${u}.http.requests`, scope: envTag }
        : { metric: 'trace.http.request.hits', scope: svcScope };
    this.latencyMetric = { metric: style === 1 ? `trace.${fw}.request.duration.by.service.99p` : `${u}.latency.p99`, scope: svcScope };

    const day = Date.UTC(2023, 0, 1) + rng.int(0, 900) * 24 * HOUR;
    const step = this.interval * 1000;
    this.t0 = Math.floor((day + rng.int(5 * 60, 21 * 60) * MIN + rng.int(0, 59) * 1000) / step) * step;
    this.pageMs = this.t0 + rng.int(50, 260) * 1000 + rng.int(0, 999);
    this.ackMs = this.pageMs + rng.int(30, 300) * 1000;
    this.recoveryMs = this.t0 + rng.int(14, 45) * MIN;
    this.resolveMs = this.recoveryMs + rng.int(5, 25) * MIN;
    this.windowStart = this.t0 - 2 * HOUR;
    this.nextDeployId = rng.int(1_100_000_000, 1_900_000_000);
    this.errorLevel = rng.int(25, 240);
    this.title = rng.pick([
      `${this.service}: 5xx error rate above 5%`,
      `High error rate on ${this.service}`,
      `[${this.prodEnv}] ${this.service} errors above threshold`,
      `${this.service} SLO burn rate critical`,
      `${this.service}: elevated failures on /v1/${rng.pick(this.dom.resources)}`,
    ]);
    const nResponders = rng.int(4, 7);
    for (let i = 0; i < nResponders; i++) this.responders.push(this.person());
  }

  /** a new person with a distinct name; their name, login and email must never leave the engine */
  person(): Person {
    for (;;) {
      const first = this.rng.pick(FIRST_NAMES);
      const last = this.rng.pick(LAST_NAMES);
      const name = `${first} ${last}`;
      if (this.people.some((p) => p.name === name || p.name.endsWith(` ${last}`))) continue;
      const base = (first[0]! + last).toLowerCase().normalize('NFD').replace(/[^a-z]/g, '');
      const login = this.rng.pick([base, `${base}-${this.rng.pick(['sre', 'eng', 'dev', 'ops'])}`, `${first.toLowerCase().replace(/[^a-z]/g, '')}${last.toLowerCase().slice(0, 4)}`]);
      const p: Person = { name, login, email: `${login}@${this.domain}`, slackId: `U0${this.rng.alnum(9, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}` };
      this.people.push(p);
      for (const s of [p.name, p.login, p.email]) this.mustNotAppear.add(s);
      return p;
    }
  }

  /** a fake credential pasted somewhere it should not be */
  secret(): string {
    const r = this.rng;
    const s = r.pick([
      () => `AKIA${r.alnum(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
      () => `ghp_${r.alnum(36, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
      () => `xoxb-${r.int(100000000000, 999999999999)}-${r.int(1000000000000, 9999999999999)}-${r.alnum(24, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
      () => `sk_live_${r.alnum(24, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
    ])();
    this.mustNotAppear.add(s);
    return s;
  }

  sha(): string {
    return this.rng.hex(40);
  }

  otherService(): { name: string; repo: string; stem: string } {
    for (;;) {
      const d = this.rng.pick(DOMAINS);
      if (d === this.dom) continue;
      const stem = this.rng.pick(d.stems);
      const name = stem + this.rng.pick(['-api', '-service', '-web', '-ui', '-worker', '']);
      return { name, stem, repo: `${this.org}/${name}` };
    }
  }

  private repo(fullName: string): RepoBuild {
    let r = this.repos.get(fullName);
    if (!r) {
      r = { full_name: fullName, deployments: [], commits: [], deployment_commits: {} };
      this.repos.set(fullName, r);
    }
    return r;
  }

  /** registers an empty repository (harvested, no deployments in the window) */
  touchRepo(fullName: string): void {
    this.repo(fullName);
  }

  deploy(repoName: string, o: DeployOptions): DeployResult {
    const r = this.rng;
    const repo = this.repo(repoName);
    const id = this.nextDeployId;
    this.nextDeployId += r.int(300, 90_000);
    const env = o.env ?? this.prodEnv;
    const finished = Math.floor(o.finishedMs / 1000) * 1000;
    const created = finished - r.int(40, 420) * 1000;
    let authoredAt = created - r.int(15, 240) * MIN;
    const shas: string[] = [];
    for (const c of o.commits) {
      const sha = this.sha();
      shas.push(sha);
      authoredAt += r.int(2, 30) * MIN;
      const when = Math.min(authoredAt, created - 5 * MIN);
      const author = c.bot ? null : (c.author ?? this.person());
      const offset = r.pick([0, 60, 120, -240, 330, 540]);
      repo.commits.push({
        sha,
        commit: {
          message: c.message,
          author: c.bot ? { name: c.bot, email: `${r.int(10000, 99999)}+${c.bot}@users.noreply.github.com`, date: isoWithOffset(when, offset) }
            : { name: author!.name, email: author!.email, date: isoWithOffset(when, offset) },
          committer: { name: 'GitHub', email: 'noreply@github.com', date: isoWithOffset(when + r.int(1, 20) * MIN, offset) },
        },
        author: c.bot ? { login: `${c.bot}[bot]`, type: 'Bot' } : { login: author!.login, type: 'User' },
        parents: [{ sha: this.sha() }],
        html_url: `https://github.com/${repoName}/commit/${sha}`,
        stats: { additions: 0, deletions: 0, total: 0 },
        files: c.files.map((f) => {
          const additions = f.patch.split('\n').filter((l) => l.startsWith('+')).length;
          const deletions = f.patch.split('\n').filter((l) => l.startsWith('-')).length;
          return { sha: this.sha(), filename: f.filename, status: f.status ?? 'modified', additions, deletions, changes: additions + deletions, patch: f.patch };
        }),
      });
    }
    const sha = shas[shas.length - 1]!;
    const ref = o.ref ?? r.pick([
      `v${r.int(1, 14)}.${r.int(0, 40)}.${r.int(0, 20)}`,
      'main',
      `release-${iso(finished).slice(0, 10)}.${r.int(1, 5)}`,
      sha.slice(0, 7),
    ]);
    const human = r.chance(0.35) ? this.person() : null;
    const creator = human ? { login: human.login, type: 'User' } : { login: r.pick(['deploy-bot', 'github-actions[bot]', 'argocd-bot', 'spinnaker']), type: 'Bot' };
    const state = o.state ?? 'success';
    repo.deployments.push({
      url: `https://api.github.com/repos/${repoName}/deployments/${id}`,
      id,
      sha,
      ref,
      task: 'deploy',
      environment: env,
      payload: o.payload ?? {},
      description: o.description ?? r.pick([`Deploy ${ref} to ${env}`, `deploy ${ref}`, `${repoName.split('/')[1]} ${ref}`, '']),
      creator,
      created_at: isoSec(created),
      updated_at: isoSec(finished),
      statuses: [
        { state, created_at: isoSec(finished), description: state === 'success' ? r.pick(['Deployment finished successfully.', 'rollout complete', 'healthy']) : 'rollout failed health checks, aborted' },
        { state: 'in_progress', created_at: isoSec(created + r.int(5, 30) * 1000), description: 'Rolling out' },
        { state: 'queued', created_at: isoSec(created), description: 'Queued' },
      ],
    });
    repo.deployment_commits[String(id)] = shas;
    if (o.ddEvent ?? r.chance(0.4)) {
      const svc = o.ddService ?? repoName.split('/')[1]!;
      this.ddEvent({
        ms: finished + r.int(2, 40) * 1000,
        title: state === 'success' ? `Deployed ${svc} ${ref} to ${env}` : `Deploy of ${svc} ${ref} failed`,
        text: state === 'success' ? `%%% \nDeployment ${id} of ${repoName}@${sha.slice(0, 7)} finished\n %%%` : `Rollout of ${repoName}@${sha.slice(0, 7)} did not become healthy, aborted`,
        type: 'deploy',
        alertType: state === 'success' ? 'info' : 'error',
        tags: [`service:${svc}`, `env:${env}`, `repo:${repoName}`],
      });
    }
    return { repo: repoName, id, sha, shas, finishedMs: finished, env, ref };
  }

  ddEvent(e: { ms: number; title: string; text: string; type: string; alertType?: string; tags: string[] }): number {
    const id = this.rng.int(7_000_000_000, 7_999_999_999);
    this.ddEvents.push({
      id, date_happened: Math.floor(e.ms / 1000), title: e.title, text: e.text, alert_type: e.alertType ?? 'info', priority: 'normal',
      source_type_name: e.type, tags: e.tags, host: null, url: `/event/event?id=${id}`,
    });
    return id;
  }

  changeEvent(e: { ms: number; summary: string; integration: string; services?: string[]; details?: Record<string, unknown>; links?: Array<{ href: string; text: string }> }): string {
    const id = `01${this.rng.alnum(24, 'ABCDEFGHJKMNPQRSTVWXYZ0123456789')}`;
    this.changeEvents.push({
      id,
      type: 'change_event',
      timestamp: isoSec(e.ms),
      summary: e.summary,
      source: e.integration.toLowerCase().replace(/\s+/g, '-'),
      services: (e.services ?? [this.service]).map((s) => ({ id: `P${this.rng.alnum(6, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, type: 'service_reference', summary: s })),
      integration: { id: `P${this.rng.alnum(6, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, type: 'inbound_integration_reference', summary: e.integration },
      links: e.links ?? [],
      custom_details: e.details ?? {},
    });
    return id;
  }

  /** a log line in this incident's format; text may hold a multi-line stack trace */
  log(ms: number, level: 'info' | 'warn' | 'error', text: string, o: { host?: string; service?: string } = {}): void {
    const r = this.rng;
    const [first, ...rest] = text.split('\n');
    const traceId = r.hex(16);
    let message: string;
    if (this.logFormat === 'json') {
      const obj: Record<string, unknown> = { level, msg: first, trace_id: traceId };
      if (rest.length) obj.stack = rest.join('\n');
      message = JSON.stringify(obj);
    } else if (this.logFormat === 'logfmt') {
      message = `level=${level} msg=${JSON.stringify(first)} trace_id=${traceId}${rest.length ? '\n' + rest.join('\n') : ''}`;
    } else {
      message = text;
    }
    const line: Record<string, unknown> = { timestamp: iso(ms), service: o.service ?? this.service, host: o.host ?? r.pick(this.hosts), message };
    if (r.chance(0.9)) line.status = level;
    else line.level = level;
    this.logs.push(line);
  }

  /** error lines from `from` to `to`, roughly `perMin` a minute (capped) */
  errors(from: number, to: number, perMin: number, make: (i: number, ms: number) => string, o: { hosts?: string[]; service?: string; level?: 'error' | 'warn' } = {}): void {
    const r = this.rng;
    const gap = 60_000 / perMin;
    let i = 0;
    for (let ms = from + r.int(0, Math.floor(gap / 2)); ms < to && i < 160; ms += gap * (0.5 + r.next())) {
      this.log(Math.floor(ms), o.level ?? 'error', make(i, ms), { host: o.hosts ? r.pick(o.hosts) : undefined, service: o.service });
      i++;
    }
  }

  say(ms: number, who: Person | string, text: string): string {
    const r = this.rng;
    const sec = Math.floor(ms / 1000);
    const ts = `${sec}.${String(ms % 1000).padStart(3, '0')}${String(r.int(0, 999)).padStart(3, '0')}`;
    if (typeof who === 'string') {
      let bot = this.botIds.get(who);
      if (!bot) {
        bot = `B0${r.alnum(9, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`;
        this.botIds.set(who, bot);
      }
      this.messages.push({ type: 'message', subtype: 'bot_message', bot_id: bot, username: who, text, ts });
    } else {
      this.messages.push({ type: 'message', user: who.slackId, text, ts });
      if (!this.responders.includes(who)) this.responders.push(who);
    }
    return ts;
  }

  responder(): Person {
    return this.rng.pick(this.responders);
  }

  addSeries(s: Series): void {
    this.series.push(s);
  }

  get level(): number {
    return this.errorLevel;
  }

  /** builds the bundle */
  finish(): Record<string, unknown> {
    const r = this.rng;
    const end = this.resolveMs + 30 * MIN;
    this.background(end);
    this.chatNoise();
    const shape = this.errorShape ?? ((ms: number) => (ms >= this.t0 && ms < this.recoveryMs ? 1 : 0));
    if (!this.customErrorSeries) {
      const lvl = this.errorLevel;
      this.series.push({ ...this.errorMetric, interval: this.interval, value: (ms) => Math.max(0, Math.round(r.int(0, 2) * (r.chance(0.7) ? 0 : 1) + shape(ms) * lvl * (1 + 0.25 * r.jitter()))) });
    }
    const hitsBase = r.int(400, 3000);
    const traffic = this.trafficShape ?? (() => 1);
    this.series.push({ ...this.hitsMetric, interval: this.interval, value: (ms) => Math.round(hitsBase * traffic(ms) * (1 + 0.06 * r.jitter())) });
    const latBase = r.int(80, 400);
    this.series.push({ ...this.latencyMetric, interval: 60, value: (ms) => Number((latBase * (1 + 0.08 * r.jitter()) * (1 + 2.5 * Math.min(1, shape(ms)))).toFixed(1)) });

    const metrics = this.series.map((s) => {
      const step = s.interval * 1000;
      const from = Math.ceil((s.from ?? this.windowStart) / step) * step;
      const to = s.to ?? end;
      const pointlist: Array<[number, number | null]> = [];
      for (let ms = from; ms <= to; ms += step) pointlist.push([ms, s.value(ms)]);
      return { metric: s.metric, expression: `avg:${s.metric}{${s.scope}}`, scope: s.scope, interval: s.interval, pointlist };
    });

    const incident: Record<string, unknown> = {
      id: this.paging === 'pagerduty' ? `Q${r.alnum(13, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}` : `${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}-${r.int(1000, 1999)}`,
      source: this.paging,
      title: this.title,
      service: this.service,
      severity: r.pick(['SEV1', 'SEV2', 'P1', 'P2', 'critical', 'high']),
      status: 'resolved',
      created_at: isoWithOffset(this.pageMs, 0),
      acknowledged_at: isoWithOffset(this.ackMs, 0),
      resolved_at: isoWithOffset(this.resolveMs, 0),
    };
    const onCall = this.responders[0]!;
    const sources: Record<string, unknown> = {};
    if (this.paging === 'pagerduty') {
      incident.url = `https://${this.org}.pagerduty.com/incidents/${incident.id}`;
      const off = this.tzOffsetMin;
      const monitor = `[P1] ${this.title}`;
      sources.pagerduty = {
        log_entries: [
          { id: `R${r.alnum(25, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, type: 'trigger_log_entry', created_at: isoWithOffset(this.pageMs, off), summary: 'Triggered through the API.', agent: { type: 'generic_events_api_inbound_integration_reference', summary: 'Datadog' }, channel: { type: 'api', summary: monitor, details: {} } },
          { id: `R${r.alnum(25, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, type: 'notify_log_entry', created_at: isoWithOffset(this.pageMs + 1000, off), summary: `Notified ${onCall.name} by push notification.`, agent: { type: 'user_reference', summary: onCall.name }, channel: { type: 'push_notification' }, user: { type: 'user_reference', summary: onCall.name } },
          { id: `R${r.alnum(25, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, type: 'acknowledge_log_entry', created_at: isoWithOffset(this.ackMs, off), summary: `Acknowledged by ${onCall.name}.`, agent: { type: 'user_reference', summary: onCall.name }, channel: { type: r.pick(['mobile', 'web_ui', 'slack']) } },
          { id: `R${r.alnum(25, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, type: 'resolve_log_entry', created_at: isoWithOffset(this.resolveMs, off), summary: `Resolved by ${onCall.name}.`, agent: { type: 'user_reference', summary: onCall.name }, channel: { type: 'web_ui' } },
        ],
        alerts: [
          { id: `A${r.alnum(13, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, type: 'alert', created_at: isoWithOffset(this.pageMs - 2000, off), status: 'resolved', summary: monitor, severity: 'critical', body: { type: 'alert_body', details: { monitor: `${this.service} error rate`, query: `sum(last_5m):sum:${this.errorMetric.metric}{${this.errorMetric.scope}}.as_count() > ${r.int(20, 100)}` } } },
        ],
        change_events: this.changeEvents,
      };
    } else {
      sources.opsgenie = {
        logs: [
          { log: `Alert created via Datadog integration: ${this.title}`, type: 'system', owner: '', createdAt: iso(this.pageMs) },
          { log: `Alert is acknowledged`, type: 'alertAck', owner: onCall.email, createdAt: iso(this.ackMs) },
          { log: `Alert closed`, type: 'alertClose', owner: onCall.email, createdAt: iso(this.resolveMs) },
        ],
      };
      if (this.changeEvents.length) sources.pagerduty = { change_events: this.changeEvents };
    }
    const users: Record<string, unknown> = {};
    for (const p of this.responders) users[p.slackId] = { name: p.login, real_name: p.name, tz: 'Europe/Berlin', is_bot: false };
    sources.slack = {
      channel: { id: `C0${r.alnum(9, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, name: `inc-${iso(this.pageMs).slice(0, 10)}-${this.service}` },
      messages: this.messages.sort((a, b) => Number(a.ts) - Number(b.ts)),
      users,
    };
    sources.github = { repos: r.shuffle([...this.repos.values()]) };
    sources.datadog = { metrics, events: this.ddEvents.sort((a, b) => Number(b.date_happened) - Number(a.date_happened)) };
    sources.logs = this.logs.sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)));
    return {
      bundle_version: 1,
      incident,
      harvest: { harvester: 'families-generator', harvested_at: iso(this.resolveMs + 40 * MIN) },
      sources,
    };
  }

  private background(end: number): void {
    const r = this.rng;
    const paths = this.dom.resources.map((x) => `/v1/${x}`).concat(['/healthz']);
    for (let ms = this.windowStart + r.int(0, 60_000); ms < end; ms += r.int(60, 150) * 1000) {
      const p = r.pick(paths);
      this.log(ms, 'info', `${r.pick(['GET', 'GET', 'POST'])} ${p} 200 in ${r.int(5, 180)}ms`);
    }
    for (let i = 0; i < r.int(0, 3); i++) {
      this.log(this.windowStart + r.int(0, 100) * MIN, 'warn', r.pick([`slow request: GET /v1/${r.pick(this.dom.resources)} took ${r.int(1200, 4000)}ms`, 'retrying cache warmup (attempt 2)', `deprecated header X-Client-Version from ${r.int(1, 50)} clients`]));
    }
  }

  private chatNoise(): void {
    const r = this.rng;
    const commander = this.responders[1] ?? this.responders[0]!;
    this.say(this.pageMs + r.int(5, 40) * 1000, this.paging === 'pagerduty' ? 'PagerDuty' : 'Opsgenie', `:rotating_light: *Triggered* ${this.title} — assigned to <@${this.responders[0]!.slackId}>`);
    this.say(this.pageMs + r.int(40, 90) * 1000, 'incident-bot', `Incident channel created. Commander: <@${commander.slackId}>. Please keep updates in this channel.`);
    this.say(this.ackMs + r.int(10, 90) * 1000, this.responders[0]!, r.pick([`ack'd. errors on ${this.service}, looking`, `ack, looking at ${this.service} now`, `on it. ${this.service} error rate is up`]));
    const n = r.int(4, 12);
    for (let i = 0; i < n; i++) {
      this.say(this.ackMs + r.int(1, Math.max(2, Math.floor((this.resolveMs - this.ackMs) / 1000) - 1)) * 1000, this.responder(), r.pick(CHAT_NOISE));
    }
    if (r.chance(0.3)) this.say(this.ackMs + r.int(60, 600) * 1000, this.responder(), `debug creds for the read replica in case someone needs them: ${this.secret()}`);
    this.say(this.resolveMs - r.int(10, 120) * 1000, this.responders[0]!, r.pick(['resolving', 'all green, resolving', 'metrics back to baseline, closing the page']));
  }

  /** a non-production environment name (staging, dev, preview...) */
  nonProd(): string {
    return this.rng.pick(NONPROD_ENVS);
  }
}
