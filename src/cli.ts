#!/usr/bin/env node
// hindsight: the command line. Exit codes: 0 ok, 2 bad input, 1 internal error.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeBundle, buildReport, triggerOf, type ReportOptions } from './core/analyze.js';
import { renderMarkdown } from './core/markdown.js';
import { renderHtml } from './core/html.js';
import { metricCharts } from './core/charts.js';
import { redactSecrets } from './core/redact.js';
import { parseIsoMs } from './core/time.js';
import { filterTimeline, timelineMarkdown, toEntries } from './core/timeline.js';
import { candidateLabel, ROLE_LABEL, triggerLabel, type Relevance, type TimelineSource } from './core/report.js';
import { parseFlags, oneOf, parseTimeFlag } from './cli/args.js';
import { InputError, readBundleFile, writeFileAtomic } from './io/files.js';
import { loadBundleFile, type LoadedBundle } from './io/bundleLoader.js';
import { statSync } from 'node:fs';
import type { Bundle } from './core/bundle.js';
import { Redactor } from './core/redact.js';
import { PeopleDirectory } from './core/people.js';
import { IncidentStore, hindsightHome } from './store/incidentStore.js';
import { checkExpected, ExpectedError, score, type Check, type Decision, type Expected } from './eval/scoreReport.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES: readonly TimelineSource[] = ['pagerduty', 'opsgenie', 'slack', 'github', 'datadog', 'newrelic', 'logs'];
const RELEVANCES: readonly Relevance[] = ['low', 'medium', 'high'];

const USAGE = `hindsight — blameless, evidence-backed incident post-mortems

Usage:
  hindsight demo                               write a post-mortem of the bundled sample incident
  hindsight postmortem --bundle FILE [--format md|json|html|png] [--out FILE] [--strict]
  hindsight timeline --bundle FILE [--min-relevance low|medium|high] [--from T] [--to T]
                     [--sources a,b] [--limit N] [--format md|json] [--strict]
  hindsight trigger --bundle FILE [--format md|json] [--strict]
  hindsight validate --bundle FILE [--strict]  check a context bundle, list its problems
  hindsight postmortem --incident ID [--format md|json|html|png] [--out FILE] [--config FILE] [--slack-channel C]
  hindsight harvest --incident ID --out FILE [--redact] [--config FILE] [--slack-channel C]
  hindsight doctor [--config FILE] [--format text|json]
                                               check each configured vendor source
  hindsight watch [--apply] [--listen PORT] [--once] [--retry-failed] [--config FILE] [--database-url URL]
                                               autonomous mode: resolved incident -> draft ->
                                               Slack review -> approval -> tickets
  hindsight status [--format text|json]        incidents known to watch and their stages
  hindsight db migrate [--database-url URL]    apply the watch state's schema migrations
  hindsight serve [--http PORT]                MCP server on stdio (Claude Desktop, IDEs) or HTTP (a team)
  hindsight eval DIR                           score the analysis on labelled incidents
                                               (DIR/*/bundle.json + expected.json)
  hindsight history import PATH...             import past post-mortems (Markdown, HTML, JSON)
  hindsight history search TEXT [--incident ID] similar past incidents, with why_similar
  hindsight eval-history DIR                   recall@1, recall@5, MRR of similar-incident search

Every command takes --help. Data lives under HINDSIGHT_HOME (default ~/.hindsight).
Malformed elements of a bundle (a metric point, a log line, a message...) are left out and
listed under "What this analysis could not see"; --strict rejects such a bundle instead.
Exit codes: 0 ok, 2 bad input, 1 internal error.`;

const LISTED_PROBLEMS = 50;
const STRICT_HELP = `A malformed element (a metric point, a log line, a message, a deployment...) is left out and\nlisted under "What this analysis could not see", with a warning on stderr. --strict rejects\nthe bundle instead (exit 2, one line naming the JSON path).`;

const HELP: Record<string, string> = {
  demo: `hindsight demo [--out-dir DIR]\n\nAnalyses the sample incident in examples/sample-incident and writes postmortem.md,\npostmortem.json, postmortem.html and chart.png (the leading metric's chart) to DIR (default\n./hindsight-demo). Needs no account, key or network.`,
  postmortem: `hindsight postmortem --bundle FILE [--format md|json|html|png] [--out FILE] [--no-store] [--strict]\nhindsight postmortem --incident ID [--config FILE] [--slack-channel C] [--format md|json|html|png] [--out FILE]\n\nWrites the full post-mortem (Markdown by default; html: one self-contained page with a chart\nper leading metric; png: the leading metric's chart as an image, needs --out) to stdout or\n--out, from a bundle file or harvested live (PagerDuty/Opsgenie, Slack, GitHub, Datadog, New Relic: see README for the\nenvironment variables). The bundle and the report are stored in HINDSIGHT_HOME for\nsearch_past_rcas unless --no-store.\n\n${STRICT_HELP}`,
  harvest: `hindsight harvest --incident ID --out FILE [--redact] [--config FILE] [--slack-channel C]\n\nHarvests the incident's context from the configured sources into a bundle file, so the\nanalysis can be replayed and shared. --redact replaces secrets and people before writing.`,
  doctor: `hindsight doctor [--config FILE] [--format text|json]\n\nShows, per source, whether it is configured, reachable and authorised, and which permission\nis missing. Never prints a secret. Exit 0 when every configured source is healthy, 1 otherwise.`,
  timeline: `hindsight timeline --bundle FILE [--min-relevance low|medium|high] [--from ISO] [--to ISO]\n                   [--sources pagerduty,slack,...] [--limit N] [--format md|json] [--strict]\n\nThe merged, redacted timeline. Default: relevance medium and above, Markdown.\n\n${STRICT_HELP}`,
  trigger: `hindsight trigger --bundle FILE [--format md|json] [--strict]\n\nThe triggering change (or why none), with every candidate ranked and its reasons.\n\n${STRICT_HELP}`,
  validate: `hindsight validate --bundle FILE [--strict]\n\nChecks a context bundle v1. A bundle without a usable incident.id or incident.created_at, with\nanother bundle_version or that is not JSON cannot be analysed: one line names the JSON path,\nexit 2. Otherwise prints "ok" with what the bundle holds, then every problem found (JSON path:\nwhat is wrong, one per line, the first ${LISTED_PROBLEMS}), exit 0: the analysis leaves those\nelements out. With --strict any problem is an error: the first one is printed, exit 2.`,
  watch: `hindsight watch [--apply] [--listen PORT] [--listen-host HOST] [--once] [--retry-failed] [--config FILE] [--database-url URL]\n\nRuns unattended: polls PagerDuty (and Opsgenie) for resolved incidents (and, with --listen,\naccepts signed PagerDuty v3 webhooks), harvests each one, drafts the post-mortem (Claude when\nANTHROPIC_API_KEY is set, else the deterministic engine), posts it to the review channel, waits\nfor an approver's approval there, then files the tickets. Posting and filing happen only with\n--apply or HINDSIGHT_WRITE=1; otherwise it stops after drafting. State lives in HINDSIGHT_HOME,\nso a restart resumes where it stopped. SIGTERM/SIGINT finish the current stage and exit 0.\n\n--database-url postgres://… (or HINDSIGHT_DATABASE_URL) keeps the state in PostgreSQL instead,\nshared by any number of watch replicas: each stage is claimed with a lease (HINDSIGHT_LEASE_SECONDS,\ndefault 60) and done once; a replica that dies loses its lease and another one finishes the stage.`,
  status: `hindsight status [--format text|json] [--database-url URL]\n\nLists the incidents the watcher knows, their stage, attempts, next retry, Slack message and tickets, and the watcher's heartbeat (cycles and polls completed, the last one's time). JSON: { watcher, incidents }; each incident's \`checks\` counts the stage runs that ended.`,
  db: `hindsight db migrate [--database-url URL]\n\nApplies the versioned schema migrations of the watch state: PostgreSQL when --database-url or\nHINDSIGHT_DATABASE_URL is set, else SQLite in HINDSIGHT_HOME. Watchers and the serverless entry\nalso apply them on start; this command is for doing it ahead of a deployment.`,
  serve: `hindsight serve [--http PORT]\n\nRuns the MCP server on stdio (exits 0 when the client closes stdin or goes away), or with\n--http PORT (or HINDSIGHT_HTTP_PORT) over Streamable HTTP at /mcp for a team. Tools:\nget_incident_context, build_timeline, find_triggering_commit, search_past_rcas, file_tickets,\ndraft_postmortem. Resources larger than HINDSIGHT_MAX_RESOURCE_BYTES (default 4194304) are refused.\n\nHTTP settings (environment):\n  HINDSIGHT_HTTP_HOST            bind address (default 127.0.0.1)\n  HINDSIGHT_HTTP_PUBLIC_URL      the endpoint's public URL = the token audience (default http://HOST:PORT/mcp)\n  HINDSIGHT_HTTP_TOKEN           static bearer token (small teams); HINDSIGHT_HTTP_TOKEN_SCOPES (default\n                                 "hindsight:read hindsight:write")\n  HINDSIGHT_HTTP_ISSUER          OAuth authorization server; JWTs are checked against HINDSIGHT_HTTP_JWKS_URL\n                                 (default ISSUER/.well-known/jwks.json), or opaque tokens by\n                                 HINDSIGHT_HTTP_INTROSPECTION_URL with HINDSIGHT_HTTP_CLIENT_ID/SECRET\n  HINDSIGHT_HTTP_ALLOWED_ORIGINS, HINDSIGHT_HTTP_ALLOWED_HOSTS   extra hostnames (DNS rebinding checks)\n  HINDSIGHT_HTTP_MAX_BODY_BYTES  largest request body (default 67108864)\n  HINDSIGHT_HTTP_BUNDLE_DIR      the only directory bundle_path may read (default: none, bundle_path is off;\n                                 clients send the bundle inline or an incident id to harvest)\n  HINDSIGHT_HTTP_INSECURE_NO_AUTH=1  no token (loopback only, for tests)\nWithout a token setting the server refuses to start. Every call needs the hindsight:read scope;\nfile_tickets with writes enabled (HINDSIGHT_WRITE=1) needs hindsight:write. GET /healthz answers\nwithout a token; /.well-known/oauth-protected-resource/mcp is the RFC 9728 metadata.`,
  eval: `hindsight eval DIR [--format text|json]\n\nScores the analysis on every DIR/*/bundle.json against DIR/*/expected.json. The summary\nleads with trigger decisions right/total and false blames (a trigger named where none was\nexpected, or the wrong one), then onsets and leaks, then the check count. Exit 1 when any\ncheck fails, 0 when all pass, 2 on bad input.`,
};

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

function requireBundle(flag: string | undefined): string {
  if (!flag) throw new InputError('--bundle FILE is required');
  return flag;
}

function problemCount(loaded: LoadedBundle): number {
  return loaded.skipped.total + (loaded.logs.skipped?.total ?? 0);
}

/** After the analysis has visited the log lines, so their problems are counted too. */
function warnSkipped(loaded: LoadedBundle): void {
  const n = problemCount(loaded);
  if (n) process.stderr.write(`hindsight: warning: ${n} ${n === 1 ? 'problem' : 'problems'} in the bundle: malformed elements left out (see "What this analysis could not see"; hindsight validate lists them)\n`);
}

/** Bundles above this size are not copied into the local store; their report still is. */
const MAX_STORED_BUNDLE_BYTES = 25 * 1024 * 1024;

function storeReport(bundleOrPath: string | Bundle, markdown: string, report: ReturnType<typeof buildReport>): void {
  const store = IncidentStore.open(hindsightHome());
  try {
    if (typeof bundleOrPath !== 'string') store.saveBundle(bundleOrPath);
    else if (statSync(bundleOrPath).size <= MAX_STORED_BUNDLE_BYTES) store.saveBundle(readBundleFile(bundleOrPath));
    store.saveReport(report, markdown);
  } finally {
    store.close();
  }
}

/** Similar past incidents and "Seen before" from the local history (ticket states when a tracker is configured). */
async function historyOptions(report: ReturnType<typeof buildReport>): Promise<ReportOptions> {
  const home = hindsightHome();
  // a shared history (Postgres, Pinecone) holds what other processes stored, even on a fresh home
  const shared = process.env.HINDSIGHT_DATABASE_URL?.trim() || process.env.PINECONE_API_KEY?.trim();
  if (!shared && !existsSync(join(home, 'hindsight.db'))) return {};
  const { historyReportOptions } = await import('./history/service.js');
  const { ticketStatusReader } = await import('./history/ticketStatus.js');
  const store = IncidentStore.open(home);
  try {
    return await historyReportOptions(store, report, await ticketStatusReader(process.env));
  } finally {
    store.close();
  }
}

async function cmdPostmortem(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    bundle: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    'no-store': { type: 'boolean' },
    incident: { type: 'string' },
    config: { type: 'string' },
    'slack-channel': { type: 'string' },
    strict: { type: 'boolean' },
  });
  if (values.help) return out(HELP.postmortem!);
  const format = oneOf('format', values.format as string | undefined, ['md', 'json', 'html', 'png'] as const, 'md');
  if (values.incident && values.bundle) throw new InputError('pass --bundle FILE or --incident ID, not both');
  if (format === 'png' && !values.out) throw new InputError('--format png needs --out FILE (an image is not written to the terminal)');
  let bundlePath: string | null = null;
  let harvested: Bundle | null = null;
  let analysis;
  if (values.incident) {
    harvested = await harvestForCli(values.incident as string, values.config as string | undefined, values['slack-channel'] as string | undefined);
    analysis = analyzeBundle(harvested);
  } else {
    bundlePath = requireBundle(values.bundle as string | undefined);
    const loaded = loadBundleFile(bundlePath, { strict: Boolean(values.strict) });
    analysis = analyzeBundle(loaded.bundle, loaded.logs);
    warnSkipped(loaded);
  }
  let report = buildReport(analysis);
  if (!values['no-store']) {
    const options = await historyOptions(report).catch((err: Error) => safely(() => { throw err; }, {} as ReportOptions));
    // built again so the past incidents go through the report's one redaction pass
    if (options.similar?.length || options.seenBefore?.length) report = buildReport(analysis, options);
  }
  const markdown = renderMarkdown(report);
  if (format === 'png') {
    const { mainChartPng } = await import('./review/chartPng.js');
    const chart = mainChartPng(analysis, report);
    if (!chart) throw new InputError('the incident has no metric change point to chart (try --format html)');
    writeFileAtomic(resolve(values.out as string), chart.png);
    if (!chart.font) process.stderr.write('hindsight: warning: no known font file found (set HINDSIGHT_CHART_FONT to a .ttf): chart labels use whatever system font resvg finds\n');
  } else {
    const text = format === 'json' ? JSON.stringify(report, null, 2) + '\n' : format === 'html' ? renderHtml(report, metricCharts(analysis, report)) : markdown;
    if (values.out) writeFileAtomic(resolve(values.out as string), text);
    else out(text);
  }
  if (!values['no-store']) safely(() => storeReport(bundlePath ?? harvested!, markdown, report), undefined);
  if (values.out) process.stderr.write(`hindsight: wrote ${resolve(values.out as string)}\n`);
}

/** Storing history is a convenience: it must never fail the main job. */
function safely<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    process.stderr.write(`hindsight: warning: local history unavailable (${redactSecrets((err as Error).message)})\n`);
    return fallback;
  }
}

async function cmdTimeline(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    bundle: { type: 'string' },
    'min-relevance': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    sources: { type: 'string' },
    limit: { type: 'string' },
    format: { type: 'string' },
    strict: { type: 'boolean' },
  });
  if (values.help) return out(HELP.timeline!);
  const loaded = loadBundleFile(requireBundle(values.bundle as string | undefined), { strict: Boolean(values.strict) });
  const minRelevance = oneOf('min-relevance', values['min-relevance'] as string | undefined, RELEVANCES, 'medium');
  const format = oneOf('format', values.format as string | undefined, ['md', 'json'] as const, 'md');
  const sources = values.sources ? (values.sources as string).split(',').map((s) => oneOf('sources', s.trim(), SOURCES, 'pagerduty')) : undefined;
  let limit: number | undefined;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new InputError(`--limit must be a positive integer (got "${values.limit}")`);
  }
  const analysis = analyzeBundle(loaded.bundle, loaded.logs);
  warnSkipped(loaded);
  const entries = analysis.redactor.redactDeep(
    toEntries(
      filterTimeline(analysis.events, {
        minRelevance,
        from: parseTimeFlag('from', values.from as string | undefined, parseIsoMs),
        to: parseTimeFlag('to', values.to as string | undefined, parseIsoMs),
        sources,
        limit,
      }),
    ),
  );
  out(format === 'json' ? JSON.stringify(entries, null, 2) : timelineMarkdown(entries));
}

async function cmdTrigger(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { bundle: { type: 'string' }, format: { type: 'string' }, strict: { type: 'boolean' } });
  if (values.help) return out(HELP.trigger!);
  const loaded = loadBundleFile(requireBundle(values.bundle as string | undefined), { strict: Boolean(values.strict) });
  const format = oneOf('format', values.format as string | undefined, ['md', 'json'] as const, 'md');
  const analysis = analyzeBundle(loaded.bundle, loaded.logs);
  warnSkipped(loaded);
  const result = analysis.redactor.redactDeep({ ...triggerOf(analysis.trigger), reason: analysis.trigger.reason });
  if (format === 'json') return out(JSON.stringify(result, null, 2));
  const lines: string[] = [];
  if (result.trigger) {
    lines.push(`Trigger: ${triggerLabel(result.trigger)}${result.trigger.sha ? `, commit ${result.trigger.sha}` : ''} (confidence ${result.trigger.confidence.toFixed(2)})`);
    for (const e of result.trigger.evidence) lines.push(`  - ${e}`);
  } else lines.push(`Trigger: none. ${result.reason}`);
  lines.push('', 'Candidates:');
  for (const c of result.candidates) lines.push(`  ${c.score.toFixed(2)}  [${ROLE_LABEL[c.role]}] ${candidateLabel(c)}  ${c.reasons.join('; ')}`);
  out(lines.join('\n'));
}

async function cmdValidate(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { bundle: { type: 'string' }, strict: { type: 'boolean' } });
  if (values.help) return out(HELP.validate!);
  const path = requireBundle(values.bundle as string | undefined);
  const loaded = loadBundleFile(path, { strict: Boolean(values.strict) });
  const { bundle, logs } = loaded;
  let logLines = 0;
  logs.forEach(() => logLines++);
  const s = bundle.sources ?? {};
  const counts = [
    `${s.pagerduty?.log_entries?.length ?? 0} PagerDuty log entries`,
    `${s.slack?.messages?.length ?? 0} Slack messages`,
    `${(s.github?.repos ?? []).reduce((n, r) => n + (r.deployments?.length ?? 0), 0)} deployments`,
    `${s.datadog?.metrics?.length ?? 0} metric series`,
    `${logLines} log lines`,
  ];
  out(`ok: ${path}: incident ${redactSecrets(bundle.incident.id)} (${counts.join(', ')})`);
  const total = problemCount(loaded);
  if (!total) return;
  const problems = [...loaded.skipped.problems, ...(logs.skipped?.problems ?? [])].slice(0, LISTED_PROBLEMS);
  out(`${total} ${total === 1 ? 'problem' : 'problems'}: the analysis leaves the malformed elements out (--strict rejects the bundle instead)`);
  for (const p of problems) out(`  ${redactSecrets(`${p.path}: ${p.problem}`)}`);
  if (total > problems.length) out(`  … and ${total - problems.length} more`);
}

async function cmdDemo(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { 'out-dir': { type: 'string' } });
  if (values.help) return out(HELP.demo!);
  const bundlePath = join(PACKAGE_ROOT, 'examples', 'sample-incident', 'bundle.json');
  const dir = resolve((values['out-dir'] as string | undefined) ?? 'hindsight-demo');
  const bundle = readBundleFile(bundlePath);
  const analysis = analyzeBundle(bundle);
  const report = buildReport(analysis);
  const markdown = renderMarkdown(report);
  writeFileAtomic(join(dir, 'postmortem.md'), markdown);
  writeFileAtomic(join(dir, 'postmortem.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(join(dir, 'postmortem.html'), renderHtml(report, metricCharts(analysis, report)));
  const { mainChartPng } = await import('./review/chartPng.js');
  const chart = mainChartPng(analysis, report);
  if (chart) writeFileAtomic(join(dir, 'chart.png'), chart.png);
  safely(() => storeReport(bundlePath, markdown, report), undefined);
  out(`Post-mortem of the sample incident ${report.incident.id} written to:\n  ${join(dir, 'postmortem.md')}\n  ${join(dir, 'postmortem.json')}\n  ${join(dir, 'postmortem.html')}\n${chart ? `  ${join(dir, 'chart.png')}\n` : ''}`);
  out(report.summary);
}

function progress(message: string): void {
  process.stderr.write(`hindsight: ${message}\n`);
}

async function harvestForCli(incidentId: string, configPath: string | undefined, slackChannel: string | undefined): Promise<Bundle> {
  const { loadConfig } = await import('./harvest/config.js');
  const { harvestIncident } = await import('./harvest/harvest.js');
  const config = loadConfig(process.env, configPath);
  const { bundle } = await harvestIncident(incidentId, config, { slackChannel: slackChannel ?? null, log: progress });
  return bundle;
}

async function cmdHarvest(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { incident: { type: 'string' }, out: { type: 'string' }, redact: { type: 'boolean' }, config: { type: 'string' }, 'slack-channel': { type: 'string' } });
  if (values.help) return out(HELP.harvest!);
  if (!values.incident) throw new InputError('--incident ID is required');
  if (!values.out) throw new InputError('--out FILE is required');
  let bundle = await harvestForCli(values.incident as string, values.config as string | undefined, values['slack-channel'] as string | undefined);
  if (values.redact) bundle = new Redactor(PeopleDirectory.fromBundle(bundle).aliases()).redactDeep(bundle);
  const path = resolve(values.out as string);
  writeFileAtomic(path, JSON.stringify(bundle, null, 2) + '\n');
  const h = bundle.harvest as { errors?: unknown[]; truncated?: unknown[] } | undefined;
  progress(`wrote ${path}${values.redact ? ' (redacted)' : ''}: ${h?.errors?.length ?? 0} source errors, ${h?.truncated?.length ?? 0} truncated lists`);
}

async function cmdDoctor(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: 'string' }, format: { type: 'string' } });
  if (values.help) {
    out(HELP.doctor!);
    return 0;
  }
  const format = oneOf('format', values.format as string | undefined, ['text', 'json'] as const, 'text');
  const { loadConfig } = await import('./harvest/config.js');
  const { runDoctor, doctorTable, doctorHealthy } = await import('./harvest/doctor.js');
  const config = loadConfig(process.env, values.config as string | undefined);
  const checks = await runDoctor(config);
  const { pineconeSettings, pineconeDoctorCheck } = await import('./history/pinecone.js');
  const pinecone = pineconeSettings(process.env);
  if (pinecone) checks.push(await pineconeDoctorCheck(pinecone));
  out(format === 'json' ? JSON.stringify({ config_file: config.file, checks }, null, 2) : `${config.file ? `config: ${config.file}\n` : ''}${doctorTable(checks)}`);
  return doctorHealthy(checks) ? 0 : 1;
}

async function cmdWatch(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    apply: { type: 'boolean' },
    listen: { type: 'string' },
    'listen-host': { type: 'string' },
    once: { type: 'boolean' },
    'retry-failed': { type: 'boolean' },
    config: { type: 'string' },
    'database-url': { type: 'string' },
  });
  if (values.help) return out(HELP.watch!);
  let listenPort: number | undefined;
  if (values.listen !== undefined) {
    listenPort = Number(values.listen);
    if (!Number.isInteger(listenPort) || listenPort < 0 || listenPort > 65535) throw new InputError(`--listen must be a port number (got "${values.listen}")`);
  }
  const { loadConfig } = await import('./harvest/config.js');
  const { createLogger } = await import('./watch/logger.js');
  const { watch } = await import('./watch/watch.js');
  const { pauseFromEnv } = await import('./watch/testHooks.js');
  const { databaseUrlFrom } = await import('./watch/openStore.js');
  const databaseUrl = databaseUrlFrom(values['database-url'] as string | undefined);
  const leaseSeconds = Number(process.env.HINDSIGHT_LEASE_SECONDS ?? 60);
  if (!(leaseSeconds > 0)) throw new InputError(`HINDSIGHT_LEASE_SECONDS must be a positive number (got "${process.env.HINDSIGHT_LEASE_SECONDS}")`);
  const config = loadConfig(process.env, values.config as string | undefined);
  if (!config.credentials.pagerduty && !config.credentials.opsgenie) throw new InputError('watch needs PAGERDUTY_TOKEN or OPSGENIE_API_KEY');
  if (listenPort !== undefined && !config.autonomous.webhookSecret) throw new InputError('--listen needs PAGERDUTY_WEBHOOK_SECRET to verify webhook signatures');
  await watch({
    home: hindsightHome(),
    config,
    log: createLogger(),
    writesEnabled: Boolean(values.apply) || config.autonomous.writesEnabled,
    listenPort,
    listenHost: (values['listen-host'] as string | undefined) ?? '0.0.0.0',
    once: Boolean(values.once),
    retryFailed: Boolean(values['retry-failed']),
    databaseUrl,
    leaseMs: leaseSeconds * 1000,
    testPause: pauseFromEnv(process.env, hindsightHome()),
  });
}

async function cmdStatus(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { format: { type: 'string' }, 'database-url': { type: 'string' } });
  if (values.help) return out(HELP.status!);
  const format = oneOf('format', values.format as string | undefined, ['text', 'json'] as const, 'text');
  const { openWatchStore, databaseUrlFrom } = await import('./watch/openStore.js');
  const store = await openWatchStore({ home: hindsightHome(), databaseUrl: databaseUrlFrom(values['database-url'] as string | undefined), poolSize: 1 });
  try {
    const rows = await store.list();
    const watcher = await store.watcher();
    if (format === 'json') return out(JSON.stringify({ watcher, incidents: rows }, null, 2));
    if (rows.length === 0) return out('No incidents yet: start `hindsight watch`.');
    const lines = rows.map((r) =>
      [
        r.id.padEnd(16),
        (r.service ?? '-').padEnd(18),
        r.stage.padEnd(9),
        String(r.attempts).padEnd(3),
        r.nextAttemptAt > Date.now() ? new Date(r.nextAttemptAt).toISOString() : 'now'.padEnd(24),
        r.slackTs ? `${r.slackChannel}/${r.slackTs}` : '-',
        r.tickets.map((t) => t.key).join(' ') || '-',
        r.lastError ? `error: ${redactSecrets(r.lastError).slice(0, 80)}` : '',
      ].join('  '),
    );
    const heartbeat = watcher.lastCycleAt ? `watcher: ${watcher.cycles} cycles, ${watcher.polls} polls, last cycle ${new Date(watcher.lastCycleAt).toISOString()}` : 'watcher: no cycle yet';
    out([heartbeat, 'incident          service             stage      #   next                      slack  tickets', ...lines].join('\n'));
  } finally {
    await store.close();
  }
}

async function cmdDb(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { 'database-url': { type: 'string' } }, true);
  if (values.help || positionals[0] !== 'migrate') {
    if (values.help) return out(HELP.db!);
    throw new InputError(`db needs a subcommand: hindsight db migrate [--database-url URL]`);
  }
  const { databaseUrlFrom } = await import('./watch/openStore.js');
  const url = databaseUrlFrom(values['database-url'] as string | undefined);
  if (url) {
    const { PostgresWatchStore, describeDatabaseUrl } = await import('./watch/postgresWatchStore.js');
    const { POSTGRES_MIGRATIONS } = await import('./watch/migrations/postgres.js');
    const store = await PostgresWatchStore.open(url, { max: 1, migrate: false });
    try {
      const applied = await store.migrate();
      out(`${describeDatabaseUrl(url)}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'} (schema version ${POSTGRES_MIGRATIONS.at(-1)!.version})`);
    } finally {
      await store.close();
    }
    return;
  }
  const Database = (await import('better-sqlite3')).default;
  const { migrateSqlite, SQLITE_MIGRATIONS } = await import('./watch/migrations/sqlite.js');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(hindsightHome(), { recursive: true });
  const db = new Database(join(hindsightHome(), 'hindsight.db'));
  try {
    db.pragma('busy_timeout = 5000');
    const applied = migrateSqlite(db);
    out(`${join(hindsightHome(), 'hindsight.db')}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'} (schema version ${SQLITE_MIGRATIONS.at(-1)!.version})`);
  } finally {
    db.close();
  }
}

async function cmdServe(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { http: { type: 'string' } });
  if (values.help) return out(HELP.serve!);
  const server = await import('./server/stdio.js');
  if (values.http !== undefined || process.env.HINDSIGHT_HTTP_PORT) await server.runHttpServer(values.http as string | undefined);
  else await server.runStdioServer();
}

async function cmdEval(argv: string[]): Promise<number | void> {
  const { values, positionals } = parseFlags(argv, { format: { type: 'string' } }, true);
  if (values.help) return out(HELP.eval!);
  const dir = positionals[0];
  if (!dir) throw new InputError('eval needs a directory: hindsight eval DIR');
  if (!existsSync(dir)) throw new InputError(`${dir}: no such directory`);
  const format = oneOf('format', values.format as string | undefined, ['text', 'json'] as const, 'text');
  const results: Array<{ scenario: string; passed: number; failed: number; decision: Decision; checks: Check[] }> = [];
  for (const name of readdirSync(dir).sort()) {
    const bundlePath = join(dir, name, 'bundle.json');
    const expectedPath = join(dir, name, 'expected.json');
    if (!existsSync(bundlePath) || !existsSync(expectedPath)) continue;
    const bundle = readBundleFile(bundlePath);
    let expected: Expected;
    try {
      expected = checkExpected(JSON.parse(readFileSync(expectedPath, 'utf8')));
    } catch (err) {
      const why = err instanceof ExpectedError ? err.message : `not valid JSON (${(err as Error).message})`;
      throw new InputError(`${expectedPath}: ${why}`);
    }
    const report = buildReport(analyzeBundle(bundle));
    const { checks, decision } = score(report, renderMarkdown(report), expected);
    results.push({ scenario: name, passed: checks.filter((c) => c.pass).length, failed: checks.filter((c) => !c.pass).length, decision, checks });
  }
  if (results.length === 0) throw new InputError(`${dir}: no labelled incidents (expected DIR/NAME/bundle.json and DIR/NAME/expected.json)`);
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const count = (f: (d: Decision) => boolean) => results.filter((r) => f(r.decision)).length;
  const summary = {
    incidents: results.length,
    triggers: { right: count((d) => d.trigger_right), total: results.length, false_blames: count((d) => d.false_blame) },
    latent_defects: { named: count((d) => d.latent_named === true), total: count((d) => d.latent_named !== null) },
    onsets: { hit: count((d) => d.onset_hit === true), total: count((d) => d.onset_hit !== null) },
    leaks: results.reduce((n, r) => n + r.decision.leaks, 0),
    checks: { passed, failed },
  };
  const code = failed > 0 ? 1 : 0;
  if (format === 'json') {
    out(JSON.stringify({ ...summary, passed, failed, results }, null, 2));
    return code;
  }
  for (const r of results) {
    out(`== ${r.scenario}: ${r.passed} passed, ${r.failed} failed`);
    for (const c of r.checks.filter((x) => !x.pass)) out(`   FAIL ${c.name}: ${c.detail}`);
  }
  const s = summary;
  out(`trigger decisions: ${s.triggers.right}/${s.triggers.total} right; false blames: ${s.triggers.false_blames}`);
  if (s.latent_defects.total) out(`latent defects named: ${s.latent_defects.named}/${s.latent_defects.total}`);
  out(`onsets: ${s.onsets.hit}/${s.onsets.total} hit; leaks: ${s.leaks}`);
  out(`incidents: ${s.incidents}; checks: ${passed} passed, ${failed} failed`);
  return code;
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void | number>> = {
  demo: cmdDemo,
  postmortem: cmdPostmortem,
  harvest: cmdHarvest,
  doctor: cmdDoctor,
  watch: cmdWatch,
  status: cmdStatus,
  db: cmdDb,
  timeline: cmdTimeline,
  trigger: cmdTrigger,
  validate: cmdValidate,
  serve: cmdServe,
  eval: cmdEval,
  history: async (argv) => (await import('./history/commands.js')).cmdHistory(argv, out),
  'eval-history': async (argv) => (await import('./history/commands.js')).cmdEvalHistory(argv, out),
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version') {
    out(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version);
    return 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`hindsight: unknown command "${command}" (try hindsight --help)\n`);
    return 2;
  }
  try {
    const code = await run(rest);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    if (err instanceof InputError || (err as Error)?.name === 'ConfigError' || (err as Error)?.name === 'BundleError') {
      process.stderr.write(`hindsight: ${redactSecrets((err as Error).message)}\n`);
      return 2;
    }
    if ((err as Error)?.name === 'HarvestError') {
      process.stderr.write(`hindsight: ${redactSecrets((err as Error).message)}\n`);
      return (err as { notFound?: boolean }).notFound ? 2 : 1;
    }
    process.stderr.write(`hindsight: internal error: ${redactSecrets((err as Error)?.message ?? String(err))}\n`);
    if (process.env.HINDSIGHT_DEBUG) process.stderr.write(`${redactSecrets((err as Error)?.stack ?? '')}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`hindsight: internal error: ${redactSecrets(String(err))}\n`);
    process.exitCode = 1;
  },
);
