// Every way data leaves the process, fed with one incident seeded with 30 kinds of credentials and
// personal data (test/fixtures/seeded-credentials: chat, logs, commit messages): the CLI's report
// (JSON and Markdown) and timeline, the MCP server's tool results and resources (built server over
// stdio, official SDK client), the Slack review post and its upload (loopback Slack fake), GitHub
// issue bodies (loopback GitHub fake), the watcher's pino log lines, and every request the Claude
// draft loop sends to the model (loopback Anthropic fake). Run `npm run build` first (`npm test`
// does): the CLI, MCP and log checks run the built dist/.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftWithClaude } from '../src/agent/llmDraft.js';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { validateBundle, type Bundle } from '../src/core/bundle.js';
import { renderMarkdown } from '../src/core/markdown.js';
import type { Report } from '../src/core/report.js';
import type { HttpPolicy } from '../src/harvest/types.js';
import { publishDraft } from '../src/review/slackReview.js';
import { IncidentStore } from '../src/store/incidentStore.js';
import { fileGithubIssues } from '../src/tickets/githubIssues.js';
import { fileJiraIssues } from '../src/tickets/jiraIssues.js';
import { draftTickets } from '../src/tickets/tickets.js';
import { createAnthropicFake, type AnthropicFake } from './fakes/anthropicFake.js';
import { createGithubFake } from './fakes/githubFake.js';
import { createJiraFake } from './fakes/jiraFake.js';
import { ALL_REVIEW_SCOPES, createSlackFake } from './fakes/slackFake.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'seeded-credentials');
const BUNDLE_PATH = join(FIXTURE, 'bundle.json');
const TIMEOUT_MS = 60_000;
const HTTP: HttpPolicy = { timeoutMs: 3000, retries: 1, baseDelayMs: 5, maxDelayMs: 20 };

const seeded = JSON.parse(readFileSync(join(FIXTURE, 'seeded.json'), 'utf8')) as Array<{ kind: string; value: string }>;
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as { must_not_appear: string[] };
const bundle: Bundle = validateBundle(JSON.parse(readFileSync(BUNDLE_PATH, 'utf8')));
const report: Report = buildReport(analyzeBundle(bundle));
const markdown = renderMarkdown(report);

/** The raw texts of the bundle that carry the seeded values, as a caller could pass them on unredacted. */
const contexts: string[] = (() => {
  const texts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (seeded.some((s) => v.includes(s.value))) texts.push(v);
    } else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  walk(JSON.parse(readFileSync(BUNDLE_PATH, 'utf8')));
  return texts;
})();

/**
 * Names every seeded kind found in `text` (also as a 16-character piece or JSON-escaped) and, with
 * `people`, every name, login and address of the incident's responders.
 */
function leaks(text: string, people = true): string[] {
  const lower = text.toLowerCase();
  const found: string[] = [];
  for (const { kind, value } of seeded) {
    const pieces = [value, JSON.stringify(value).slice(1, -1)];
    if (value.length >= 32) pieces.push(value.slice(8, 24), value.slice(-16));
    if (pieces.some((p) => lower.includes(p.toLowerCase()))) found.push(kind);
  }
  if (people) for (const s of expected.must_not_appear) if (lower.includes(s.toLowerCase()) && !found.includes(s)) found.push(s);
  return found;
}

function expectNoLeak(text: string, what: string): void {
  expect(leaks(text), `${what} leaks`).toEqual([]);
}

/**
 * For text handed over unredacted (the edge's last guard knows credentials and contact details,
 * not the roster of people, which only the analysis has).
 */
function expectNoCredential(text: string, what: string): void {
  expect(leaks(text, false), `${what} leaks`).toEqual([]);
  expect(text, `${what} never received the pasted text`).toContain('[REDACTED]');
}

it('the seeded bundle really carries every kind (so the checks below can fail)', () => {
  expect(seeded.length).toBeGreaterThanOrEqual(22);
  const raw = readFileSync(BUNDLE_PATH, 'utf8');
  expect(leaks(raw).filter((k) => seeded.some((s) => s.kind === k)).sort()).toEqual(seeded.map((s) => s.kind).sort());
});

describe('report and CLI', () => {
  it('report JSON and Markdown keep the evidence and lose every credential', () => {
    expectNoLeak(JSON.stringify(report), 'report JSON');
    expectNoLeak(markdown, 'report Markdown');
    // The evidence survives: the culprit commit, the deployment id, a host, ISO times.
    expect(report.trigger?.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(JSON.stringify(report)).toContain(report.trigger!.sha!);
    expect(markdown).toContain(String(report.trigger!.deployment_id));
    expect(JSON.stringify(report.timeline)).toMatch(/"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"/);
    // Redactions are counted by kind, provider rules under their rule id.
    const kinds = report.redactions.by_kind;
    expect(report.redactions.total).toBeGreaterThan(0);
    expect(Object.keys(kinds).some((k) => k.includes('-'))).toBe(true);
  });

  it('hindsight postmortem (json, md) and timeline print no credential', { timeout: TIMEOUT_MS }, () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} not found: run \`npm run build\` first`);
    const run = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const json = run('postmortem', '--bundle', BUNDLE_PATH, '--format', 'json');
    expect(JSON.parse(json).incident.id).toBe(bundle.incident.id);
    expectNoLeak(json, 'postmortem --format json');
    expectNoLeak(run('postmortem', '--bundle', BUNDLE_PATH, '--format', 'md'), 'postmortem --format md');
    expectNoLeak(run('timeline', '--bundle', BUNDLE_PATH, '--min-relevance', 'low', '--format', 'json'), 'timeline --format json');
    expectNoLeak(run('trigger', '--bundle', BUNDLE_PATH, '--format', 'json'), 'trigger --format json');
  });
});

describe('MCP server over stdio', { timeout: TIMEOUT_MS }, () => {
  let home: string;
  let client: Client;
  let stderr = '';

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} not found: run \`npm run build\` first`);
    home = mkdtempSync(join(tmpdir(), 'hindsight-egress-mcp-'));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve'],
      cwd: home,
      env: { PATH: process.env.PATH ?? '', HINDSIGHT_HOME: home },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    client = new Client({ name: 'hindsight-egress-test', version: '0.0.0' });
    await client.connect(transport);
  }, TIMEOUT_MS);

  afterAll(async () => {
    await client?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  }, TIMEOUT_MS);

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    expect(result.isError ?? false, `${name}: ${JSON.stringify(result.content)}\n${stderr}`).toBe(false);
    return JSON.stringify(result);
  };

  it('tool results carry no credential', async () => {
    const id = bundle.incident.id;
    expectNoLeak(await call('get_incident_context', { bundle_path: BUNDLE_PATH }), 'get_incident_context');
    expectNoLeak(await call('build_timeline', { incident_id: id, min_relevance: 'low' }), 'build_timeline');
    expectNoLeak(await call('find_triggering_commit', { incident_id: id }), 'find_triggering_commit');
    expectNoLeak(await call('draft_postmortem', { incident_id: id, format: 'json' }), 'draft_postmortem json');
    expectNoLeak(await call('draft_postmortem', { incident_id: id, format: 'md' }), 'draft_postmortem md');
    expectNoLeak(await call('search_past_rcas', { query: 'batch_size' }), 'search_past_rcas');
    expectNoLeak(await call('file_tickets', { incident_id: id, target: 'github', project: 'acme/tickets' }), 'file_tickets (dry run)');
  });

  it('resources carry no credential', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.length).toBeGreaterThanOrEqual(3);
    for (const t of resourceTemplates) {
      const uri = t.uriTemplate.replace('{incident_id}', bundle.incident.id);
      const { contents } = await client.readResource({ uri });
      expect(contents.length, uri).toBeGreaterThan(0);
      expectNoLeak(JSON.stringify(contents), uri);
    }
  });
});

describe('vendors', () => {
  it('the Slack review post, its blocks and the uploaded Markdown carry no credential', async () => {
    const token = 'xoxb-0000000001-0000000002-egressFAKEtoken';
    const f = await createSlackFake({
      token,
      channel: { id: 'C0REVIEW0001', name: 'incident-reports', created: 1_700_000_000 },
      messages: [],
      users: {},
      scopes: ALL_REVIEW_SCOPES,
    });
    try {
      // The raw Markdown (not the report's own rendering) is what a caller could pass: the post
      // must still be clean, because publishing redacts again at the edge.
      const rawMarkdown = `${markdown}\n\n## Pasted\n\n${contexts.join('\n\n')}\n`;
      await publishDraft({ token, apiUrl: f.url }, report, rawMarkdown, { channel: '#incident-reports', policy: HTTP });
      const posted = f.messagesIn('C0REVIEW0001');
      expect(posted.length).toBeGreaterThan(0);
      expectNoLeak(JSON.stringify(posted), 'Slack messages');
      expectNoLeak(JSON.stringify(f.requests.map((r) => r.params)), 'Slack request parameters');
      const files = [...f.files.values()];
      expect(files.some((x) => x.content !== null)).toBe(true);
      for (const file of files) expectNoCredential(file.content ?? '', `Slack upload ${file.filename}`);
    } finally {
      await f.close();
    }
  });

  /** The report with the raw texts pasted into its action items, as if it had never been redacted. */
  const unredacted = (): Report => {
    const raw: Report = structuredClone(report);
    raw.action_items = raw.action_items.map((item, i) => ({ ...item, rationale: `${item.rationale}\n\nSeen:\n${contexts.filter((_, k) => k % raw.action_items.length === i).join('\n\n')}` }));
    return raw;
  };

  it('Jira issue fields carry no credential, even from a report that was never redacted', async () => {
    const creds = { email: 'bot@acme.example', apiToken: 'jira-api-token-for-egress-0001' };
    const priorities = { P0: 'Blocker', P1: 'Critical', P2: 'Major', P3: 'Minor' };
    const f = await createJiraFake({ ...creds, projects: ['OPS'], priorities: Object.values(priorities) });
    try {
      const raw = unredacted();
      const filed = await fileJiraIssues({ host: f.url, ...creds }, { system: 'jira', project: 'OPS', issueType: 'Task', priorities }, draftTickets(raw), { policy: HTTP, incident: raw.incident });
      expect(filed.length).toBeGreaterThanOrEqual(3);
      const issues = JSON.stringify(f.issues('OPS'));
      expect(issues).toContain('Seen:');
      expectNoCredential(issues, 'Jira issues');
    } finally {
      await f.close();
    }
  });

  it('GitHub issue bodies carry no credential, even from a report that was never redacted', async () => {
    const token = 'ghp_fakeTicketTokenForEgressTests000000001';
    const f = await createGithubFake({ token, repos: [{ full_name: 'acme/tickets' }] });
    try {
      const raw = unredacted();
      const filed = await fileGithubIssues({ token, apiUrl: f.url }, { system: 'github', repo: 'acme/tickets' }, draftTickets(raw), { policy: HTTP, incident: raw.incident });
      expect(filed.length).toBeGreaterThanOrEqual(3);
      const issues = JSON.stringify(f.issues('acme/tickets'));
      expect(issues).toContain('Seen:');
      expectNoCredential(issues, 'GitHub issues');
      expectNoCredential(JSON.stringify(f.requests.map((r) => r.body ?? null)), 'GitHub request bodies');
    } finally {
      await f.close();
    }
  });
});

describe('logs', () => {
  it('pino log lines redact credentials in the message, in fields and in errors', { timeout: TIMEOUT_MS }, () => {
    const logger = join(ROOT, 'dist', 'watch', 'logger.js');
    if (!existsSync(logger)) throw new Error(`${logger} not found: run \`npm run build\` first`);
    const values = contexts;
    const script = `
      const { createLogger } = await import(${JSON.stringify(logger)});
      const values = JSON.parse(process.argv[1]);
      const log = createLogger('info');
      for (const v of values) {
        log.info('poll failed: ' + v);
        log.warn({ stage: 'draft', detail: 'vendor said ' + v, nested: { reason: v } }, 'stage failed');
        log.error({ err: new Error('request failed with ' + v) }, 'crash');
      }`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(values)], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const lines = out.stderr.trim().split('\n');
    expect(lines.length).toBe(values.length * 3);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expectNoCredential(out.stderr, 'pino log');
  });
});

describe('the Claude draft loop', () => {
  let home: string;
  let store: IncidentStore;
  let fake: AnthropicFake | undefined;

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'hindsight-egress-llm-'));
    store = IncidentStore.open(home);
    store.saveBundle(bundle);
  });

  afterAll(async () => {
    await fake?.close();
    store.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('no request to the model carries a credential, even one the model itself wrote', async () => {
    const id = bundle.incident.id;
    const apiKey = 'sk-ant-fake-egress-key';
    fake = await createAnthropicFake({
      apiKey,
      script: [
        { kind: 'tools', calls: [{ name: 'get_incident_context', input: { incident_id: id } }, { name: 'build_timeline', input: { incident_id: id, min_relevance: 'low' } }] },
        { kind: 'tools', calls: [{ name: 'find_triggering_commit', input: { incident_id: id } }, { name: 'search_past_rcas', input: { incident_id: id } }] },
        // An answer quoting credentials: it is rejected, and the repair request quotes it back.
        { kind: 'text', text: `The keys seen:\n\n${contexts.join('\n\n')}` },
        { kind: 'text', text: 'still not JSON' },
      ],
    });
    await draftWithClaude(id, { store, writesEnabled: false, cwd: home }, {
      apiKey,
      baseUrl: fake.url,
      model: 'claude-test-model',
      maxSteps: 6,
      maxTokens: 2048,
      toolOutputChars: 200_000,
    });
    expect(fake.requests.length).toBeGreaterThanOrEqual(3);
    for (const [i, req] of fake.requests.entries()) expectNoLeak(JSON.stringify(req.body), `request ${i + 1} to the model`);
  });
});
