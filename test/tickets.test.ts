// Ticket filing, exactly once: drafts from the sample incident's report, filed against a loopback
// GitHub (test/fakes/githubFake.ts, real Octokit) and a loopback Jira (test/fakes/jiraFake.ts, real
// jira.js), then the file_tickets tool and the MCP server's annotations and confirmation.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { validateBundle } from '../src/core/bundle.js';
import type { ActionItem, Report } from '../src/core/report.js';
import { loadConfig, type AutonomousConfig } from '../src/harvest/config.js';
import type { HttpPolicy } from '../src/harvest/types.js';
import { createServer } from '../src/server/createServer.js';
import { IncidentStore } from '../src/store/incidentStore.js';
import { fileGithubIssues, githubIncidentLabel } from '../src/tickets/githubIssues.js';
import { adfText, fileJiraIssues, jiraMarkerLabel } from '../src/tickets/jiraIssues.js';
import {
  MAX_TICKETS_PER_INCIDENT,
  TicketFilingError,
  draftTickets,
  resolveTarget,
  ticketDeps,
  ticketMarker,
  titleSimilarity,
  type TicketDraft,
  type TicketTarget,
} from '../src/tickets/tickets.js';
import type { ToolDeps } from '../src/tools/defineTool.js';
import { fileTickets } from '../src/tools/fileTickets.js';
import { createGithubFake, type GithubFake, type GithubFakeOptions } from './fakes/githubFake.js';
import { createJiraFake, type JiraFake, type JiraFakeOptions } from './fakes/jiraFake.js';

type Json = Record<string, any>;

const bundleJson = JSON.parse(readFileSync(new URL('../examples/sample-incident/bundle.json', import.meta.url), 'utf8')) as Json;
const report: Report = buildReport(analyzeBundle(validateBundle(structuredClone(bundleJson))));
const drafts = draftTickets(report);
const N = drafts.length;
const INCIDENT = report.incident.id;

const HTTP: HttpPolicy = { timeoutMs: 3000, retries: 2, baseDelayMs: 5, maxDelayMs: 20 };
const TOKEN = 'ghp_fakeTicketTokenForHindsightTests00000001';
const REPO = 'acme/tickets';
const GH_TARGET = { system: 'github', repo: REPO } as const;
const OPTS = { policy: HTTP, incident: report.incident };

const JIRA_CREDS = { email: 'bot@acme.example', apiToken: 'jira-api-token-for-tests-0001' };
const JIRA_PRIORITIES = { P0: 'Blocker', P1: 'Critical', P2: 'Major', P3: 'Minor' };
const JIRA_TARGET = { system: 'jira', project: 'OPS', issueType: 'Task', priorities: JIRA_PRIORITIES } as const;

let ghFakes: GithubFake[] = [];
let jiraFakes: JiraFake[] = [];
const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  await Promise.all([...ghFakes, ...jiraFakes].map((f) => f.close()));
  ghFakes = [];
  jiraFakes = [];
  for (const c of cleanups.splice(0)) await c();
});

async function github(over: Partial<GithubFakeOptions> = {}): Promise<GithubFake> {
  const f = await createGithubFake({ token: TOKEN, repos: [{ full_name: REPO }], ...over });
  ghFakes.push(f);
  return f;
}

async function jira(over: Partial<JiraFakeOptions> = {}): Promise<JiraFake> {
  const f = await createJiraFake({ ...JIRA_CREDS, projects: ['OPS'], priorities: Object.values(JIRA_PRIORITIES), ...over });
  jiraFakes.push(f);
  return f;
}

const ghCreds = (f: GithubFake) => ({ token: TOKEN, apiUrl: f.url });
const jiraCreds = (f: JiraFake) => ({ host: f.url, ...JIRA_CREDS });
const posts = (f: { requests: Array<{ method: string }> }) => f.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
const issuePosts = (f: GithubFake) => f.requests.filter((r) => r.method === 'POST' && /\/issues$/.test(r.pathname));
const statuses = (filed: Array<{ status: string }>) => filed.map((t) => t.status);
const labelNames = (issue: Json) => (issue.labels as Json[]).map((l) => l.name as string);

/** a past incident's ticket marker, as a body would carry it */
const OLD_MARKER = '<!-- hindsight:PAST-INCIDENT-1:0123456789ab -->';

function reportWithItems(items: ActionItem[]): Report {
  return { ...structuredClone(report), action_items: items };
}

function manyItems(n: number): ActionItem[] {
  return Array.from({ length: n }, (_, i) => ({
    title: `Distinct action number ${i} for the ${['ledger', 'cache', 'queue', 'proxy', 'auth', 'search', 'billing', 'mailer'][i % 8]} path`,
    priority: (['P3', 'P2', 'P1', 'P0'] as const)[i % 4]!,
    type: 'prevent',
    rationale: `Because of reason ${i}.`,
    labels: ['postmortem'],
  }));
}

/** 8 distinct drafts, bypassing draftTickets' own cap */
function eightDrafts(): TicketDraft[] {
  return manyItems(8).map((item) => {
    const marker = ticketMarker(INCIDENT, item);
    return { title: item.title, body: `x\n<!-- ${marker} -->`, labels: ['postmortem'], priority: item.priority, type: item.type, marker };
  });
}

// ---------------------------------------------------------------------------------------------

describe('drafts', () => {
  it('turn the 3-5 action items into drafts with body, labels and a marker comment', () => {
    expect(N).toBeGreaterThanOrEqual(3);
    expect(N).toBeLessThanOrEqual(MAX_TICKETS_PER_INCIDENT);
    const ranks = drafts.map((d) => Number(d.priority.slice(1)));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const markers = new Set(drafts.map((d) => d.marker));
    expect(markers.size).toBe(N);
    for (const [i, d] of drafts.entries()) {
      const item = report.action_items.find((a) => a.title === d.title)!;
      expect(item, d.title).toBeDefined();
      expect(d.marker).toBe(ticketMarker(INCIDENT, item));
      expect(d.marker).toMatch(new RegExp(`^hindsight:${INCIDENT}:[0-9a-f]{12}$`));
      expect(d.body).toContain(`<!-- ${d.marker} -->`);
      expect(d.body).toContain(item.rationale);
      expect(d.body).toContain(INCIDENT);
      expect(d.body).toContain(report.incident.title);
      expect(d.body).toContain(report.incident.url!);
      expect(d.body).toContain(report.root_cause);
      expect(d.labels, `draft ${i}`).toContain('postmortem');
    }
  });

  it('are at most 5, highest priority first, and pass every string through redactSecrets', () => {
    const items = manyItems(8);
    items[0]!.rationale = 'the deploy used password=hunter2-very-secret-value to reach staging';
    items[0]!.priority = 'P0';
    const many = draftTickets(reportWithItems(items));
    expect(many).toHaveLength(MAX_TICKETS_PER_INCIDENT);
    expect(many[0]!.priority).toBe('P0');
    // items 0 (made P0), 3 and 7 are P0, then 2 and 6 (P1); report order within a priority
    expect(many.map((d) => d.priority)).toEqual(['P0', 'P0', 'P0', 'P1', 'P1']);
    expect(many.map((d) => d.title)).toEqual([0, 3, 7, 2, 6].map((i) => items[i]!.title));
    expect(many[0]!.body).not.toContain('hunter2-very-secret-value');
    expect(many[0]!.body).toContain('[REDACTED]');
  });

  it('titles are similar by the Jaccard of their words', () => {
    expect(titleSimilarity('Alert on timeouts for inventory-api', 'alert on TIMEOUTS for inventory api!')).toBe(1);
    expect(titleSimilarity('a b c d e', 'a b c d f')).toBeCloseTo(4 / 6);
  });
});

describe('resolveTarget', () => {
  const base = (over: Partial<AutonomousConfig['tickets']> = {}): AutonomousConfig =>
    ({
      tickets: {
        system: 'github',
        githubRepo: null,
        jiraProject: null,
        jiraIssueType: 'Task',
        jiraPriorities: { P0: 'Highest', P1: 'High', P2: 'Medium', P3: 'Low' },
        labels: ['postmortem'],
        perService: {},
        ...over,
      },
    }) as AutonomousConfig;

  it('is null when nothing is configured', () => {
    expect(resolveTarget(base(), 'inventory-api')).toBeNull();
    expect(resolveTarget(base({ system: 'jira', githubRepo: 'acme/x' }), null)).toBeNull();
  });

  it('takes per_service first, then the defaults', () => {
    const config = base({ githubRepo: 'acme/default', perService: { 'inventory-api': { githubRepo: 'acme/inventory', jiraProject: null }, billing: { githubRepo: null, jiraProject: 'BILL' } } });
    expect(resolveTarget(config, 'inventory-api')).toEqual({ system: 'github', repo: 'acme/inventory' });
    expect(resolveTarget(config, 'other')).toEqual({ system: 'github', repo: 'acme/default' });
    expect(resolveTarget(config, null)).toEqual({ system: 'github', repo: 'acme/default' });
    expect(resolveTarget(config, 'billing')).toEqual({ system: 'jira', project: 'BILL', issueType: 'Task', priorities: { P0: 'Highest', P1: 'High', P2: 'Medium', P3: 'Low' } });
    expect(resolveTarget(base({ system: 'jira', jiraProject: 'OPS' }), 'x')).toMatchObject({ system: 'jira', project: 'OPS' });
  });
});

// ---------------------------------------------------------------------------------------------

describe('GitHub issues', () => {
  it('the first run creates one issue per draft with the marker and labels; a second run creates none', async () => {
    const f = await github();
    const first = await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS);
    expect(statuses(first)).toEqual(Array(N).fill('created'));
    const issues = f.issues(REPO);
    expect(issues).toHaveLength(N);
    for (const [i, d] of drafts.entries()) {
      const issue = issues[i]!;
      expect(issue.title).toBe(d.title);
      expect(issue.body).toContain(`<!-- ${d.marker} -->`);
      expect(labelNames(issue)).toEqual(expect.arrayContaining(['postmortem', `priority:${d.priority}`, `type:${d.type}`, githubIncidentLabel(INCIDENT)]));
      expect(first[i]).toEqual({ marker: d.marker, key: `${REPO}#${issue.number}`, url: issue.html_url, status: 'created' });
    }
    expect(f.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);

    const before = f.requests.length;
    const second = await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS);
    expect(statuses(second)).toEqual(Array(N).fill('existing'));
    expect(second.map((t) => t.key)).toEqual(first.map((t) => t.key));
    expect(posts({ requests: f.requests.slice(before) })).toHaveLength(0);
    expect(f.issues(REPO)).toHaveLength(N);
  });

  it('a run that stopped after two issues is completed by the next run: exactly N in the end', async () => {
    const f = await github();
    await fileGithubIssues(ghCreds(f), GH_TARGET, drafts.slice(0, 2), OPTS); // "crashed" after two
    const rerun = await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS);
    expect(statuses(rerun)).toEqual([...Array(2).fill('existing'), ...Array(N - 2).fill('created')]);
    expect(f.issues(REPO)).toHaveLength(N);
    expect(new Set(f.issues(REPO).map((i) => i.title)).size).toBe(N);
  });

  it('a create that fails after retries stops the run with what was filed; the rerun finishes without duplicates', async () => {
    const f = await github({ faults: [{ kind: 'server-error', method: 'POST', path: /\/issues$/, skip: 2, times: HTTP.retries + 1 }] });
    const err = (await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS).catch((e: unknown) => e)) as TicketFilingError;
    expect(err).toBeInstanceOf(TicketFilingError);
    expect(err.message).toMatch(new RegExp(`stopped after 2 of ${N}: HTTP 502`));
    expect(statuses(err.filed)).toEqual(['created', 'created']);
    expect(f.issues(REPO)).toHaveLength(2);

    const rerun = await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS);
    expect(statuses(rerun)).toEqual([...Array(2).fill('existing'), ...Array(N - 2).fill('created')]);
    expect(rerun.slice(0, 2).map((t) => t.key)).toEqual(err.filed.map((t) => t.key));
    expect(f.issues(REPO)).toHaveLength(N);
  });

  it('a create whose answer was lost is found again before retrying, not duplicated', async () => {
    const f = await github({ faults: [{ kind: 'server-error-after', method: 'POST', path: /\/issues$/, times: 1 }] });
    const filed = await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS);
    expect(statuses(filed)).toEqual(Array(N).fill('created'));
    expect(f.issues(REPO)).toHaveLength(N);
    expect(issuePosts(f)).toHaveLength(N); // the lost one was not sent again
  });

  it('a similar open issue from a past incident is linked with a comment, once', async () => {
    const target = drafts[2]!;
    const similarTitle = target.title.replace(/timeouts/i, 'timeout').replace(/Alert/, 'alert');
    expect(titleSimilarity(similarTitle, target.title)).toBeGreaterThanOrEqual(0.8);
    expect(similarTitle).not.toBe(target.title);
    const f = await github({
      issues: {
        [REPO]: [
          // closed: not linked even with the very same title
          { number: 3, title: drafts[0]!.title, body: `old\n${OLD_MARKER}`, state: 'closed', labels: ['postmortem'], created_at: '2024-05-01T00:00:00Z' },
          { number: 7, title: similarTitle, body: `From a past incident.\n${OLD_MARKER}`, state: 'open', labels: ['postmortem', 'inventory-api'], created_at: '2024-06-01T00:00:00Z' },
          { number: 8, title: 'Rotate the staging credentials', body: 'unrelated', state: 'open', labels: ['postmortem'], created_at: '2024-06-02T00:00:00Z' },
        ],
      },
    });
    const first = await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS);
    expect(first[2]).toMatchObject({ marker: target.marker, key: `${REPO}#7`, status: 'linked' });
    expect(statuses(first).filter((s) => s === 'created')).toHaveLength(N - 1);
    expect(f.issues(REPO)).toHaveLength(3 + N - 1);
    const comments = f.comments(REPO, 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(`<!-- ${target.marker} -->`);
    expect(comments[0]!.body).toContain(INCIDENT);
    expect(labelNames(f.issues(REPO).find((i) => i.number === 7)!)).toContain(githubIncidentLabel(INCIDENT));
    // the closed issue with the same title got a new issue instead
    expect(f.comments(REPO, 3)).toHaveLength(0);
    expect(f.comments(REPO, 8)).toHaveLength(0);

    const before = f.requests.length;
    const second = await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS);
    expect(second[2]).toMatchObject({ key: `${REPO}#7`, status: 'linked' });
    expect(statuses(second).filter((s) => s === 'existing')).toHaveLength(N - 1);
    expect(posts({ requests: f.requests.slice(before) })).toHaveLength(0);
    expect(f.comments(REPO, 7)).toHaveLength(1);
  });

  it('a link whose labelling failed is completed by the rerun without a second comment', async () => {
    const target = drafts[2]!;
    const f = await github({
      issues: { [REPO]: [{ number: 1, title: target.title, body: 'past', state: 'open', labels: ['postmortem'] }] },
      faults: [{ kind: 'server-error', method: 'POST', path: '/labels', times: HTTP.retries + 1 }],
    });
    const err = await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TicketFilingError);
    expect(f.comments(REPO, 1)).toHaveLength(1);
    const rerun = await fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS);
    expect(rerun[2]).toMatchObject({ key: `${REPO}#1`, status: 'linked' });
    expect(f.comments(REPO, 1)).toHaveLength(1);
    expect(labelNames(f.issues(REPO)[0]!)).toContain(githubIncidentLabel(INCIDENT));
    expect(f.issues(REPO)).toHaveLength(1 + N - 1);
  });

  it('never files more than 5 per call', async () => {
    const f = await github();
    const eight = eightDrafts();
    const filed = await fileGithubIssues(ghCreds(f), GH_TARGET, eight, OPTS);
    expect(filed).toHaveLength(5);
    expect(f.issues(REPO)).toHaveLength(5);
  });

  it('refuses to file without the access that keeps labels, before writing anything', async () => {
    const f = await github({ permissions: { admin: false, maintain: false, push: false, triage: false, pull: true } });
    await expect(fileGithubIssues(ghCreds(f), GH_TARGET, drafts, OPTS)).rejects.toThrow(/cannot label issues/);
    expect(posts(f)).toHaveLength(0);

    const g = await github({ dropIssueLabels: true });
    const err = (await fileGithubIssues(ghCreds(g), GH_TARGET, drafts, OPTS).catch((e: unknown) => e)) as TicketFilingError;
    expect(err).toBeInstanceOf(TicketFilingError);
    expect(err.message).toMatch(/without the label/);
    expect(err.filed).toHaveLength(1);
    expect(g.issues(REPO)).toHaveLength(1);
  });

  it('bad credentials fail at once, without the token in the message', async () => {
    const f = await github();
    const err = (await fileGithubIssues({ token: 'ghp_wrongTokenWrongTokenWrongToken000000', apiUrl: f.url }, GH_TARGET, drafts, OPTS).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(TicketFilingError);
    expect(err.message).toMatch(/HTTP 401/);
    expect(err.message).not.toContain('ghp_wrongToken');
    expect(f.requests).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Jira issues', () => {
  it('the first run creates one issue per draft (labels, marker, priority by name); a second run creates none', async () => {
    const f = await jira();
    const first = await fileJiraIssues(jiraCreds(f), JIRA_TARGET, drafts, OPTS);
    expect(statuses(first)).toEqual(Array(N).fill('created'));
    const issues = f.issues('OPS');
    expect(issues).toHaveLength(N);
    for (const [i, d] of drafts.entries()) {
      const issue = issues[i]!;
      expect(issue.fields.summary).toBe(d.title);
      expect(issue.fields.labels).toEqual(expect.arrayContaining(['postmortem', jiraMarkerLabel(d.marker), `type-${d.type}`]));
      expect(issue.fields.priority?.name).toBe(JIRA_PRIORITIES[d.priority]);
      expect(issue.fields.issuetype.name).toBe('Task');
      expect(adfText(issue.fields.description)).toContain(d.marker);
      expect((issue.fields.description as Json).type).toBe('doc');
      expect(first[i]).toEqual({ marker: d.marker, key: issue.key, url: `${f.url}/browse/${issue.key}`, status: 'created' });
    }
    // the enhanced search endpoint, not the removed /search
    expect(f.requests.some((r) => r.pathname === '/rest/api/3/search/jql' && r.method === 'POST')).toBe(true);
    expect(f.requests.some((r) => r.pathname === '/rest/api/3/search')).toBe(false);

    const before = f.requests.length;
    const second = await fileJiraIssues(jiraCreds(f), JIRA_TARGET, drafts, OPTS);
    expect(statuses(second)).toEqual(Array(N).fill('existing'));
    expect(second.map((t) => t.key)).toEqual(first.map((t) => t.key));
    const writes = f.requests.slice(before).filter((r) => r.method !== 'GET' && r.pathname !== '/rest/api/3/search/jql');
    expect(writes).toHaveLength(0);
    expect(f.issues('OPS')).toHaveLength(N);
  });

  it('a run that stopped after two issues is completed by the next run: exactly N in the end', async () => {
    const f = await jira();
    await fileJiraIssues(jiraCreds(f), JIRA_TARGET, drafts.slice(0, 2), OPTS);
    const rerun = await fileJiraIssues(jiraCreds(f), JIRA_TARGET, drafts, OPTS);
    expect(statuses(rerun)).toEqual([...Array(2).fill('existing'), ...Array(N - 2).fill('created')]);
    expect(f.issues('OPS')).toHaveLength(N);
  });

  it('a create whose answer was lost is found again before retrying, not duplicated', async () => {
    const f = await jira({ faults: [{ kind: 'server-error-after', method: 'POST', path: /\/rest\/api\/3\/issue$/, times: 1 }] });
    const filed = await fileJiraIssues(jiraCreds(f), JIRA_TARGET, drafts, OPTS);
    expect(statuses(filed)).toEqual(Array(N).fill('created'));
    expect(f.issues('OPS')).toHaveLength(N);
    expect(f.requests.filter((r) => r.method === 'POST' && r.pathname === '/rest/api/3/issue')).toHaveLength(N);
  });

  it('a similar open issue from a past incident is linked with a comment, once; a done one is not', async () => {
    const target = drafts[2]!;
    const similarTitle = target.title.replace(/timeouts/i, 'timeout');
    const f = await jira({
      issues: [
        { project: 'OPS', summary: drafts[0]!.title, labels: ['postmortem'], status: 'Done', description: 'hindsight:PAST-INCIDENT-1:0123456789ab' },
        { project: 'OPS', summary: similarTitle, labels: ['postmortem'], status: 'In Progress', description: 'hindsight:PAST-INCIDENT-1:0123456789ab' },
      ],
    });
    const first = await fileJiraIssues(jiraCreds(f), JIRA_TARGET, drafts, OPTS);
    expect(first[2]).toMatchObject({ marker: target.marker, key: 'OPS-2', status: 'linked' });
    expect(statuses(first).filter((s) => s === 'created')).toHaveLength(N - 1);
    const linked = f.issue('OPS-2')!;
    expect(linked.comments).toHaveLength(1);
    expect(adfText(linked.comments[0]!.body)).toContain(target.marker);
    expect(linked.fields.labels).toContain(jiraMarkerLabel(target.marker));
    expect(f.issue('OPS-1')!.comments).toHaveLength(0);
    expect(f.issues('OPS')).toHaveLength(2 + N - 1);

    const second = await fileJiraIssues(jiraCreds(f), JIRA_TARGET, drafts, OPTS);
    expect(second[2]).toMatchObject({ key: 'OPS-2', status: 'linked' });
    expect(statuses(second).filter((s) => s === 'existing')).toHaveLength(N - 1);
    expect(f.issue('OPS-2')!.comments).toHaveLength(1);
    expect(f.issues('OPS')).toHaveLength(2 + N - 1);
  });

  it('an unknown priority name is a clear error, not retried', async () => {
    const f = await jira({ priorities: ['Highest', 'High'] });
    const err = (await fileJiraIssues(jiraCreds(f), JIRA_TARGET, drafts, OPTS).catch((e: unknown) => e)) as TicketFilingError;
    expect(err).toBeInstanceOf(TicketFilingError);
    expect(err.message).toMatch(/HTTP 400: priority: Priority name 'Critical' is not valid/);
    expect(f.requests.filter((r) => r.method === 'POST' && r.pathname === '/rest/api/3/issue')).toHaveLength(1);
    expect(err.filed).toHaveLength(0);
  });

  it('bad credentials fail at once (401), without the token in the message', async () => {
    const f = await jira();
    const err = (await fileJiraIssues({ host: f.url, email: JIRA_CREDS.email, apiToken: 'wrong-token-wrong-token' }, JIRA_TARGET, drafts, OPTS).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(TicketFilingError);
    expect(err.message).toMatch(/HTTP 401/);
    expect(err.message).not.toContain('wrong-token-wrong-token');
    expect(f.requests).toHaveLength(1);
  });

  it('never files more than 5 per call', async () => {
    const f = await jira();
    const filed = await fileJiraIssues(jiraCreds(f), JIRA_TARGET, eightDrafts(), OPTS);
    expect(filed).toHaveLength(5);
    expect(f.issues('OPS')).toHaveLength(5);
  });
});

// ---------------------------------------------------------------------------------------------

describe('file_tickets tool', () => {
  function setup(config: Json, env: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'hindsight-tickets-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'hindsight.config.json'), JSON.stringify(config));
    const store = new IncidentStore(':memory:');
    cleanups.push(() => store.close());
    store.saveBundle(validateBundle(structuredClone(bundleJson)));
    return { store, config: loadConfig(env, join(dir, 'hindsight.config.json'), dir), dir };
  }

  const call = (deps: ToolDeps, input: Json = {}, ctx?: { confirm?: (m: string) => Promise<boolean> }) =>
    fileTickets.handler({ incident_id: INCIDENT, target: 'github', ...input } as never, deps, ctx);

  it('with writes disabled it is a dry run: drafts only, nothing sent', async () => {
    const f = await github();
    const { store, config, dir } = setup({ tickets: { github_repo: REPO } }, { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: f.url });
    const filer = vi.fn(ticketDeps(config).ticketFiler);
    const result = await call({ store, writesEnabled: false, cwd: dir, ticketFiler: filer });
    expect(result.structured.dry_run).toBe(true);
    expect(result.structured.filed).toEqual([]);
    expect(result.structured.tickets).toHaveLength(N);
    expect(result.structured.tickets.map((t) => t.marker)).toEqual(drafts.map((d) => d.marker));
    expect(result.structured.note).toMatch(/Dry run/);
    expect(filer).not.toHaveBeenCalled();
    expect(f.requests).toHaveLength(0);
  });

  it('with writes enabled and a configured target it files for real, once', async () => {
    const f = await github();
    const { store, config, dir } = setup({ tickets: { github_repo: REPO } }, { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: f.url });
    const deps: ToolDeps = { store, writesEnabled: true, cwd: dir, ...ticketDeps(config) };
    const confirm = vi.fn(async (_message: string) => true);
    const result = await call(deps, {}, { confirm });
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(confirm.mock.calls[0]![0]).toContain(`GitHub ${REPO}`);
    expect(result.structured).toMatchObject({ dry_run: false, target: 'github', project: REPO });
    expect(statuses(result.structured.filed)).toEqual(Array(N).fill('created'));
    expect(f.issues(REPO)).toHaveLength(N);
    expect(result.text).toContain(`${REPO}#1`);

    const again = await call(deps);
    expect(statuses(again.structured.filed)).toEqual(Array(N).fill('existing'));
    expect(f.issues(REPO)).toHaveLength(N);
  });

  it('files in Jira when the configuration says so (priorities by name)', async () => {
    const f = await jira();
    const { store, config, dir } = setup(
      { tickets: { system: 'jira', jira_project: 'OPS', jira_priorities: JIRA_PRIORITIES } },
      { JIRA_HOST: f.url, JIRA_EMAIL: JIRA_CREDS.email, JIRA_API_TOKEN: JIRA_CREDS.apiToken },
    );
    const result = await call({ store, writesEnabled: true, cwd: dir, ...ticketDeps(config) }, { target: 'jira' });
    expect(result.structured).toMatchObject({ dry_run: false, target: 'jira', project: 'OPS' });
    expect(f.issues('OPS').map((i) => i.fields.priority?.name)).toEqual(drafts.map((d) => JIRA_PRIORITIES[d.priority]));
  });

  it('files nothing when the user declines, when the project differs, or when no target is configured', async () => {
    const f = await github();
    const { store, config, dir } = setup({ tickets: { github_repo: REPO } }, { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: f.url });
    const deps: ToolDeps = { store, writesEnabled: true, cwd: dir, ...ticketDeps(config) };

    const declined = await call(deps, {}, { confirm: async () => false });
    expect(declined.structured.dry_run).toBe(true);
    expect(declined.structured.note).toMatch(/declined/);

    const other = await call(deps, { project: 'acme/elsewhere' });
    expect(other.structured.dry_run).toBe(true);
    expect(other.structured.note).toMatch(/not acme\/elsewhere/);
    expect(posts(f)).toHaveLength(0);

    const none = setup({}, { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: f.url });
    const unconfigured = await call({ store: none.store, writesEnabled: true, cwd: none.dir, ...ticketDeps(none.config) });
    expect(unconfigured.structured.dry_run).toBe(true);
    expect(unconfigured.structured.note).toMatch(/no ticket target/);
    expect(f.requests).toHaveLength(0);
  });

  it('a filing failure is a tool error that says a rerun is safe', async () => {
    const store = new IncidentStore(':memory:');
    cleanups.push(() => store.close());
    store.saveBundle(validateBundle(structuredClone(bundleJson)));
    const filer = async () => {
      throw new TicketFilingError('github: boom', [{ marker: drafts[0]!.marker, key: `${REPO}#1`, url: 'https://github.com/acme/tickets/issues/1', status: 'created' }]);
    };
    await expect(call({ store, writesEnabled: true, cwd: '.', ticketFiler: filer })).rejects.toThrow(/boom.*acme\/tickets#1.*again/);
  });
});

describe('MCP server: annotations and confirmation', () => {
  async function connect(deps: ToolDeps, answer: 'accept' | 'decline' | null) {
    const server = createServer(deps);
    const asked: string[] = [];
    const client = new Client({ name: 'tickets-test', version: '0.0.0' }, { capabilities: answer ? { elicitation: {} } : {} });
    if (answer) {
      client.setRequestHandler(ElicitRequestSchema, async (req) => {
        asked.push(req.params.message);
        return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
      });
    }
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    cleanups.push(async () => {
      await client.close();
      await server.close();
    });
    return { client, asked };
  }

  function storeWithIncident() {
    const store = new IncidentStore(':memory:');
    cleanups.push(() => store.close());
    store.saveBundle(validateBundle(structuredClone(bundleJson)));
    return store;
  }

  it('file_tickets is read-only without writes, destructive with them', async () => {
    const ro = await connect({ store: storeWithIncident(), writesEnabled: false, cwd: '.' }, null);
    const a = (await ro.client.listTools()).tools.find((t) => t.name === 'file_tickets')!.annotations!;
    expect(a).toMatchObject({ readOnlyHint: true, destructiveHint: false });

    const rw = await connect({ store: storeWithIncident(), writesEnabled: true, cwd: '.' }, null);
    const b = (await rw.client.listTools()).tools.find((t) => t.name === 'file_tickets')!.annotations!;
    expect(b).toMatchObject({ readOnlyHint: false, destructiveHint: true, openWorldHint: true });
    const other = (await rw.client.listTools()).tools.find((t) => t.name === 'build_timeline')!.annotations!;
    expect(other).toMatchObject({ readOnlyHint: true, destructiveHint: false });
  });

  it('asks through elicitation before filing: declined files nothing, accepted files', async () => {
    const f = await github();
    const filer = (report: Report, ds: TicketDraft[]) => fileGithubIssues(ghCreds(f), GH_TARGET, ds, { policy: HTTP, incident: report.incident });
    const ticketTarget = (): TicketTarget => GH_TARGET;

    const no = await connect({ store: storeWithIncident(), writesEnabled: true, cwd: '.', ticketFiler: filer, ticketTarget }, 'decline');
    const declined = (await no.client.callTool({ name: 'file_tickets', arguments: { incident_id: INCIDENT } })) as CallToolResult;
    expect(declined.isError ?? false).toBe(false);
    expect(no.asked).toHaveLength(1);
    expect(no.asked[0]).toContain(drafts[0]!.title);
    expect(declined.structuredContent).toMatchObject({ dry_run: true, filed: [] });
    expect(posts(f)).toHaveLength(0);

    const yes = await connect({ store: storeWithIncident(), writesEnabled: true, cwd: '.', ticketFiler: filer, ticketTarget }, 'accept');
    const accepted = (await yes.client.callTool({ name: 'file_tickets', arguments: { incident_id: INCIDENT } })) as CallToolResult;
    expect(accepted.isError ?? false).toBe(false);
    expect(yes.asked).toHaveLength(1);
    expect(accepted.structuredContent).toMatchObject({ dry_run: false, project: REPO });
    expect(f.issues(REPO)).toHaveLength(N);

    // a client without elicitation: no question, filing proceeds (and finds the existing ones)
    const silent = await connect({ store: storeWithIncident(), writesEnabled: true, cwd: '.', ticketFiler: filer, ticketTarget }, null);
    const direct = (await silent.client.callTool({ name: 'file_tickets', arguments: { incident_id: INCIDENT } })) as CallToolResult;
    expect(statuses((direct.structuredContent as Json).filed)).toEqual(Array(N).fill('existing'));
  });
});
