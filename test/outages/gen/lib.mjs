// Helpers that render one incident as a context bundle v1 (vendor-native shapes) plus its label.
// Deterministic: every random choice comes from a seeded PRNG, so `node test/outages-tools/build.mjs test/outages` is reproducible.

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ms = (iso) => {
  const v = Date.parse(iso);
  if (Number.isNaN(v)) throw new Error(`bad time ${iso}`);
  return v;
};
export const iso = (t) => new Date(t).toISOString();
export const isoS = (t) => new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
export function isoOffset(t, offMin) {
  const d = new Date(Math.floor(t / 1000) * 1000 + offMin * 60000);
  const sign = offMin >= 0 ? '+' : '-';
  const a = Math.abs(offMin);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return d.toISOString().replace('.000Z', `${sign}${hh}:${mm}`);
}
export const MIN = 60_000;
export const SEC = 1000;
export const HOUR = 3_600_000;

export class Incident {
  constructor({ seed, company, domain, pdSubdomain }) {
    this.rng = mulberry32(seed);
    this.company = company;
    this.domain = domain;
    this.pdSubdomain = pdSubdomain ?? company.toLowerCase();
    this.people = new Map();
    this.secrets = [];
    this.metrics = [];
    this.logs = [];
    this.messages = [];
    this.usedTs = new Set();
    this.pdEntries = [];
    this.pdAlerts = [];
    this.changeEvents = [];
    this.ddEvents = [];
    this.snapshots = [];
    this.opsgenieLogs = [];
    this.repos = new Map();
    this.nextDeployId = 900_000_000 + Math.floor(this.rng() * 400_000_000);
    this.bots = {};
  }

  // ---------- randomness ----------
  int(lo, hi) { return lo + Math.floor(this.rng() * (hi - lo + 1)); }
  pick(a) { return a[Math.floor(this.rng() * a.length)]; }
  hex(n) { let s = ''; for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(this.rng() * 16)]; return s; }
  alnum(n, chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') { let s = ''; for (let i = 0; i < n; i++) s += chars[Math.floor(this.rng() * chars.length)]; return s; }
  noise(v, frac) { return v * (1 + (this.rng() * 2 - 1) * frac); }

  // ---------- people ----------
  person(key, realName, { login, slack, email } = {}) {
    const first = realName.split(' ')[0].toLowerCase().normalize('NFD').replace(/[^a-z]/g, '');
    const last = realName.split(' ').slice(-1)[0].toLowerCase().normalize('NFD').replace(/[^a-z]/g, '');
    const p = {
      key, realName,
      login: login ?? `${first[0]}${last}`,
      slack: slack ?? `${first}.${last}`,
      email: email ?? `${first}.${last}@${this.domain}`,
      slackId: `U0${this.alnum(9)}`,
    };
    this.people.set(key, p);
    return p;
  }
  p(key) { const v = this.people.get(key); if (!v) throw new Error(`no person ${key}`); return v; }
  secret(s) { this.secrets.push(s); return s; }

  // ---------- datadog ----------
  series({ metric, expression, scope, interval, from, to, unit, fn }) {
    const pointlist = [];
    for (let t = from; t <= to; t += interval * 1000) {
      const v = fn(t);
      pointlist.push([t * 1.0, v === null ? null : Math.round(v * 1000) / 1000]);
    }
    this.metrics.push({
      metric, expression: expression ?? `avg:${metric}{${scope}}`, scope,
      display_name: metric, unit: unit ? [{ family: 'general', name: unit, plural: `${unit}s`, scale_factor: 1, short_name: null }, null] : null,
      interval, start: from * 1.0, end: to * 1.0, length: pointlist.length, attributes: {}, aggr: null,
      pointlist,
    });
  }
  ddEvent({ at, title, text = '', alert_type = 'info', source_type_name, tags = [], host = null, priority = 'normal' }) {
    const id = 5_000_000_000 + Math.floor(this.rng() * 2_000_000_000);
    this.ddEvents.push({ id, date_happened: Math.floor(at / 1000), title, text, alert_type, priority, source_type_name, tags, host, url: `/event/event?id=${id}` });
    return id;
  }
  snapshot(name, q) {
    this.snapshots.push({ name, snapshot_url: `https://p.datadoghq.com/snapshot/view/dd-snapshots-prod/org_${this.int(10000, 99999)}/${this.hex(32)}.png`, graph_def: JSON.stringify({ requests: [{ q, display_type: 'line' }], viz: 'timeseries' }) });
  }

  // ---------- logs ----------
  log(at, service, status, host, message, extra = {}) {
    this.logs.push({ timestamp: iso(at + this.int(0, 999)), service, status, host, message, ...extra });
  }
  /** n log lines at random times in [from, to) from a template function */
  logsBetween(from, to, n, service, status, hosts, make) {
    for (let i = 0; i < n; i++) {
      const at = from + Math.floor(this.rng() * (to - from));
      this.log(at, service, status, this.pick(hosts), make(at, i));
    }
  }

  // ---------- slack ----------
  ts(at) {
    let sec = Math.floor(at / 1000);
    let s;
    do { s = `${sec}.${String(this.int(0, 999999)).padStart(6, '0')}`; } while (this.usedTs.has(s));
    this.usedTs.add(s);
    return s;
  }
  say(at, key, text, { thread } = {}) {
    const ts = this.ts(at);
    const m = { type: 'message', user: this.p(key).slackId, text, ts, client_msg_id: `${this.hex(8)}-${this.hex(4)}-${this.hex(4)}-${this.hex(4)}-${this.hex(12)}` };
    if (thread) {
      m.thread_ts = thread;
      const parent = this.messages.find((x) => x.ts === thread);
      if (parent) { parent.thread_ts = thread; parent.reply_count = (parent.reply_count ?? 0) + 1; parent.latest_reply = ts; }
    }
    this.messages.push(m);
    return ts;
  }
  bot(at, username, text) {
    if (!this.bots[username]) this.bots[username] = `B0${this.alnum(9)}`;
    const ts = this.ts(at);
    this.messages.push({ type: 'message', subtype: 'bot_message', bot_id: this.bots[username], username, text, ts });
    return ts;
  }

  // ---------- pagerduty ----------
  pdId(n = 26) { return `R${this.alnum(n - 1)}`; }
  pd(type, at, summary, extra = {}, off = 0) {
    this.pdEntries.push({ id: this.pdId(), type, created_at: isoOffset(at, off), summary, ...extra });
  }
  pdTrigger(at, monitor, serviceName, off = 0) {
    this.pdService = { id: `P${this.alnum(6)}`, type: 'service_reference', summary: serviceName };
    this.pd('trigger_log_entry', at, 'Triggered through the API.', {
      agent: { type: 'generic_events_api_inbound_integration_reference', summary: 'Datadog' },
      channel: { type: 'api', summary: monitor, details: {} }, service: this.pdService,
    }, off);
  }
  pdNotify(at, key, how = 'push notification', off = 0) {
    const n = this.p(key).realName;
    this.pd('notify_log_entry', at, `Notified ${n} by ${how}.`, { agent: { type: 'user_reference', summary: n }, channel: { type: how.replace(/ /g, '_') }, user: { type: 'user_reference', summary: n } }, off);
  }
  pdAck(at, key, off = 0) {
    const n = this.p(key).realName;
    this.pd('acknowledge_log_entry', at, `Acknowledged by ${n}.`, { agent: { type: 'user_reference', summary: n }, channel: { type: 'mobile' }, acknowledgement_timeout: 1800 }, off);
  }
  pdNote(at, key, content, off = 0) {
    const n = this.p(key).realName;
    this.pd('annotate_log_entry', at, `${n} added a note.`, { agent: { type: 'user_reference', summary: n }, channel: { type: 'note', summary: content, details: { content } } }, off);
  }
  pdEscalate(at, key, off = 0) {
    const n = this.p(key).realName;
    this.pd('escalate_log_entry', at, `Escalated to level 2 (${n}).`, { agent: { type: 'service_reference', summary: this.pdService?.summary }, channel: { type: 'timeout' } }, off);
  }
  pdResolve(at, key, off = 0) {
    const n = this.p(key).realName;
    this.pd('resolve_log_entry', at, `Resolved by ${n}.`, { agent: { type: 'user_reference', summary: n }, channel: { type: 'web_ui' } }, off);
  }
  pdAlert(at, summary, details) {
    this.pdAlerts.push({ id: `Q${this.alnum(13)}`, type: 'alert', created_at: isoS(at), status: 'resolved', summary, severity: 'critical', body: { type: 'alert_body', contexts: [], details } });
  }
  changeEvent({ at, summary, services = [], integration, links = [], custom_details = {}, source }) {
    const id = `01${this.alnum(24, '0123456789ABCDEFGHJKMNPQRSTVWXYZ')}`;
    this.changeEvents.push({
      id, type: 'change_event', timestamp: isoS(at), summary, source: source ?? integration.toLowerCase().replace(/\s+/g, '-'),
      services: services.map((s) => ({ id: `P${this.alnum(6)}`, type: 'service_reference', summary: s })),
      integration: { id: `P${this.alnum(6)}`, type: 'inbound_integration_reference', summary: integration },
      links, custom_details,
    });
    return id;
  }

  // ---------- opsgenie ----------
  og(at, log, type = 'system', owner = '') {
    this.opsgenieLogs.push({ log, type, owner, createdAt: iso(at), offset: `${at}000_${this.hex(6)}` });
  }

  // ---------- github ----------
  repo(fullName) {
    if (!this.repos.has(fullName)) this.repos.set(fullName, { full_name: fullName, deployments: [], commits: [], deployment_commits: {}, head: this.hex(40) });
    return this.repos.get(fullName);
  }
  commit(repoName, { message, author, at, files = [] }) {
    const r = this.repo(repoName);
    const sha = this.hex(40);
    const p = author ? this.p(author) : null;
    const date = isoS(at);
    r.commits.push({
      sha, node_id: `C_kwDO${this.alnum(20, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`,
      commit: {
        message,
        author: p ? { name: p.realName, email: p.email, date } : { name: 'deploy-bot', email: 'deploy-bot@users.noreply.github.com', date },
        committer: { name: 'GitHub', email: 'noreply@github.com', date: isoS(at + this.int(20, 300) * 1000) },
      },
      author: p ? { login: p.login, type: 'User' } : { login: 'deploy-bot', type: 'Bot' },
      parents: [{ sha: r.head }],
      html_url: `https://github.com/${repoName}/commit/${sha}`,
      stats: { additions: files.reduce((a, f) => a + count(f.patch, '+'), 0), deletions: files.reduce((a, f) => a + count(f.patch, '-'), 0) },
      files: files.map((f) => ({ filename: f.filename, status: f.status ?? 'modified', additions: count(f.patch, '+'), deletions: count(f.patch, '-'), changes: count(f.patch, '+') + count(f.patch, '-'), patch: f.patch })),
    });
    r.head = sha;
    return sha;
  }
  /** a deployment of the repo's current head; `commits` are the shas it shipped that the previous one did not */
  deploy(repoName, { env, ref, description, creator = 'deploy-bot', createdAt, finishedAt, state = 'success', commits, sha, task = 'deploy', transient = false }) {
    const r = this.repo(repoName);
    const id = this.nextDeployId; this.nextDeployId += this.int(300, 9000);
    const s = sha ?? r.head;
    const started = createdAt + this.int(4, 15) * 1000;
    const statuses = [
      { id: id * 10 + 3, state, created_at: isoS(finishedAt), description: state === 'success' ? 'Deployment finished successfully.' : state === 'failure' ? 'Deployment failed.' : state, environment: env, creator: { login: creator } },
      { id: id * 10 + 2, state: 'in_progress', created_at: isoS(started), description: 'Deployment started', environment: env, creator: { login: creator } },
      { id: id * 10 + 1, state: 'queued', created_at: isoS(createdAt), description: '', environment: env, creator: { login: creator } },
    ];
    r.deployments.push({
      id, node_id: `DE_kwDO${this.alnum(16)}`, sha: s, ref, task, environment: env, original_environment: env, description,
      transient_environment: transient, production_environment: !/stag|dev|test|qa|preview|sandbox/.test(env),
      creator: { login: creator, type: creator.endsWith('bot') ? 'Bot' : 'User' },
      created_at: isoS(createdAt), updated_at: isoS(finishedAt), statuses,
    });
    r.deployment_commits[String(id)] = commits ?? [s];
    return { id, sha: s, finishedAt };
  }

  // ---------- output ----------
  bundle({ incident, channel, opsgenie = false, slackOrder = 'asc', harvest }) {
    const users = {};
    for (const p of this.people.values()) users[p.slackId] = { name: p.slack, real_name: p.realName, profile: { display_name: p.slack, real_name: p.realName, email: p.email } };
    const msgs = [...this.messages].sort((a, b) => Number(a.ts) - Number(b.ts));
    if (slackOrder === 'desc') msgs.reverse();
    const sources = {};
    if (!opsgenie) {
      sources.pagerduty = { log_entries: this.pdEntries.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at)) };
      if (this.pdAlerts.length) sources.pagerduty.alerts = this.pdAlerts;
      if (this.changeEvents.length) sources.pagerduty.change_events = this.changeEvents.sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp));
    } else {
      sources.opsgenie = { logs: this.opsgenieLogs.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt)) };
      if (this.changeEvents.length) sources.pagerduty = { change_events: this.changeEvents };
    }
    sources.slack = { channel, messages: msgs, users };
    if (this.repos.size) sources.github = { repos: [...this.repos.values()].map(({ head, ...r }) => ({ ...r, deployments: r.deployments.sort((a, b) => b.id - a.id) })) };
    sources.datadog = { metrics: this.metrics, events: this.ddEvents.sort((a, b) => b.date_happened - a.date_happened), snapshots: this.snapshots };
    sources.logs = this.logs.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    const out = { bundle_version: 1, incident };
    if (harvest) out.harvest = harvest;
    out.sources = sources;
    return out;
  }
  /** every person's name, Slack handle and email (all in the users map), their GitHub login when the bundle uses it, and planted secrets */
  mustNotAppear(bundle) {
    const raw = JSON.stringify(bundle);
    const out = [];
    for (const p of this.people.values()) {
      out.push(p.realName, p.slack, p.email);
      if (raw.includes(`"${p.login}"`)) out.push(p.login);
    }
    out.push(...this.secrets);
    return [...new Set(out)];
  }
}

function count(patch, sign) {
  if (!patch) return 0;
  return patch.split('\n').filter((l) => l.startsWith(sign) && !l.startsWith(sign.repeat(3))).length;
}
