// Recurrence in ticket filing: a draft for the same action as a still-open ticket of a past
// incident this one repeats ("Seen before") comments on that ticket instead of filing a
// near-duplicate, even when the titles are worded differently (the incidents' structured
// features already say it is the same failure). Real Octokit and jira.js against loopback fakes.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { validateBundle } from '../src/core/bundle.js';
import type { Report } from '../src/core/report.js';
import type { HttpPolicy } from '../src/harvest/types.js';
import { fileGithubIssues } from '../src/tickets/githubIssues.js';
import { fileJiraIssues } from '../src/tickets/jiraIssues.js';
import { draftTickets, pastTicketsOf, SEEN_BEFORE_TITLE_THRESHOLD, SIMILAR_TITLE_THRESHOLD, titleSimilarity } from '../src/tickets/tickets.js';
import { createGithubFake, type GithubFake } from './fakes/githubFake.js';
import { createJiraFake, type JiraFake } from './fakes/jiraFake.js';

const bundle = JSON.parse(readFileSync(new URL('../examples/sample-incident/bundle.json', import.meta.url), 'utf8'));
const report: Report = buildReport(analyzeBundle(validateBundle(bundle)));
const drafts = draftTickets(report);
const HTTP: HttpPolicy = { timeoutMs: 3000, retries: 1, baseDelayMs: 5, maxDelayMs: 20 };
const TOKEN = 'ghp_fakeHistoryTicketToken000000000000001';
const REPO = 'acme/inventory';
const JIRA = { email: 'bot@acme.example', apiToken: 'jira-token-history-tickets-01' };

/** The same action in a past team's words: most of the words, not all, plus their own. */
function reworded(title: string): string {
  const words = title.split(' ');
  return [...words.slice(0, Math.ceil(words.length * 0.75)), 'for', 'good'].join(' ');
}

let fakes: Array<GithubFake | JiraFake> = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

describe('filing against the open tickets of a past incident seen before', () => {
  const target = drafts[1]!;
  const pastTitle = reworded(target.title);

  it('the reworded title is the same action only with the structured match behind it', () => {
    const s = titleSimilarity(pastTitle, target.title);
    expect(s).toBeGreaterThanOrEqual(SEEN_BEFORE_TITLE_THRESHOLD);
    expect(s).toBeLessThan(SIMILAR_TITLE_THRESHOLD);
    const withSeen: Report = {
      ...report,
      seen_before: [{ id: 'PAST-1', title: 'past', date: null, score: 0.8, why_similar: [], open_action_items: [{ title: pastTitle, ticket: `${REPO}#4`, url: null, status: 'open', status_from: 'github' }, { title: 'no ticket', ticket: null, url: null, status: 'unknown', status_from: null }] }],
    };
    expect(pastTicketsOf(withSeen)).toEqual([{ key: `${REPO}#4`, title: pastTitle }]);
  });

  it('GitHub: comments on the open past issue, once; a closed one gets a new issue', async () => {
    const f = await createGithubFake({
      token: TOKEN,
      repos: [{ full_name: REPO }],
      issues: {
        [REPO]: [
          { number: 4, title: pastTitle, body: 'Filed by hand after the last outage.', state: 'open', labels: [], created_at: '2024-03-01T00:00:00Z' },
          { number: 5, title: reworded(drafts[0]!.title), body: 'Done last quarter.', state: 'closed', labels: [], created_at: '2024-03-01T00:00:00Z' },
        ],
      },
    });
    fakes.push(f);
    const pastTickets = [
      { key: `${REPO}#4`, title: pastTitle },
      { key: `${REPO}#5`, title: reworded(drafts[0]!.title) },
    ];
    const opts = { policy: HTTP, incident: report.incident, pastTickets };
    const filed = await fileGithubIssues({ token: TOKEN, apiUrl: f.url }, { system: 'github', repo: REPO }, drafts, opts);
    expect(filed[1]).toMatchObject({ key: `${REPO}#4`, status: 'linked' });
    expect(filed[0]!.status).toBe('created');
    expect(f.comments(REPO, 4)).toHaveLength(1);
    expect(f.comments(REPO, 4)[0]!.body).toContain(target.marker);
    expect(f.comments(REPO, 5)).toHaveLength(0);

    const again = await fileGithubIssues({ token: TOKEN, apiUrl: f.url }, { system: 'github', repo: REPO }, drafts, opts);
    expect(again[1]).toMatchObject({ key: `${REPO}#4`, status: 'linked' });
    expect(f.comments(REPO, 4)).toHaveLength(1);
    expect(f.issues(REPO)).toHaveLength(2 + drafts.length - 1);
  });

  it('Jira: comments on the past ticket not in a Done status', async () => {
    const f = await createJiraFake({
      ...JIRA,
      projects: ['OPS'],
      issues: [
        { project: 'OPS', summary: pastTitle, status: 'In Progress' },
        { project: 'OPS', summary: reworded(drafts[0]!.title), status: 'Done' },
      ],
    });
    fakes.push(f);
    const pastTickets = [
      { key: 'OPS-1', title: pastTitle },
      { key: 'OPS-2', title: reworded(drafts[0]!.title) },
    ];
    const target1 = { system: 'jira' as const, project: 'OPS', issueType: 'Task', priorities: { P0: 'Highest', P1: 'High', P2: 'Medium', P3: 'Low' } };
    const filed = await fileJiraIssues({ host: f.url, ...JIRA }, target1, drafts, { policy: HTTP, incident: report.incident, pastTickets });
    expect(filed[1]).toMatchObject({ key: 'OPS-1', status: 'linked' });
    expect(filed[0]!.status).toBe('created');
    expect(f.issue('OPS-1')!.comments).toHaveLength(1);
    expect(f.issue('OPS-2')!.comments).toHaveLength(0);
  });
});
