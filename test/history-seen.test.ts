// Recurrence: a new incident that repeats an imported one shows "Seen before" with the past
// incident and its action items still open (ticket state read from Jira), in the report's
// Markdown and JSON, the MCP draft_postmortem result and the Slack review post.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/core/report.js';
import { pastFromReport } from '../src/history/json.js';
import { importPaths } from '../src/history/import.js';
import { draftMessage } from '../src/review/slackReview.js';
import { IncidentStore } from '../src/store/incidentStore.js';
import { draftPostmortem } from '../src/tools/draftPostmortem.js';
import { createJiraFake, type JiraFake } from './fakes/jiraFake.js';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
const SAMPLE = join(__dirname, '..', 'examples', 'sample-incident', 'bundle.json');
const EMAIL = 'bot@example.test';
const TOKEN = 'jira-token-history-test';

let work: string;
let jira: JiraFake;
let fresh: Report;

/** Asynchronous: the Jira stand-in answers from this process's event loop. */
function run(args: string[], home: string, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HINDSIGHT_HOME: home, ...extra } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A past write-up of the same failure, in another team's words, built from what the new report found. */
function repeatOf(report: Report, jiraUrl: string): string {
  const f = pastFromReport(report);
  const errorLine = report.log_signatures.find((s) => s.level === 'error')!.template.replace(/<\*>/g, '17');
  const names = [...f.files, ...f.config_keys].map((n) => `\`${n}\``).join(' and ');
  return `# Retrospective: ${report.incident.service} degraded last spring

**Date:** 2024-03-02
**Severity:** SEV2
**Services:** ${report.incident.service}

## What went wrong

A change to ${names} made calls fail. Logs were full of:

\`\`\`
${errorLine}
\`\`\`

## Follow-ups

- [ ] Alert on the dependency's error rate [OPS-1](${jiraUrl}/browse/OPS-1)
- [x] Roll configuration changes out through a canary (OPS-2)
- [ ] Load test the read path before changing limits (OPS-3)
`;
}

const NEAR_MISS = (service: string) => `# ${service} errors and latency

**Date:** 2023-01-10
**Services:** ${service}

## Root cause

The ${service} host ran out of disk: \`No space left on device\` while writing logs. Errors and latency followed.

## Action items

- [ ] Alert on disk usage
`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'hindsight-seen-'));
  const probe = await run(['postmortem', '--bundle', SAMPLE, '--format', 'json', '--no-store'], join(work, 'probe'));
  expect(probe.code, probe.stderr).toBe(0);
  fresh = JSON.parse(probe.stdout) as Report;
  jira = await createJiraFake({
    email: EMAIL,
    apiToken: TOKEN,
    projects: ['OPS'],
    issues: [
      { project: 'OPS', summary: 'Alert on the dependency error rate', status: 'To Do' },
      { project: 'OPS', summary: 'Canary for configuration', status: 'Done' },
      { project: 'OPS', summary: 'Load test the read path', status: 'Done' },
    ],
  });
  mkdirSync(join(work, 'past'));
  writeFileSync(join(work, 'past', 'repeat.md'), repeatOf(fresh, jira.url));
  writeFileSync(join(work, 'past', 'near-miss.md'), NEAR_MISS(fresh.incident.service!));
});

afterAll(async () => {
  await jira?.close();
});

describe('Seen before', () => {
  it('postmortem shows the past incident and its open action items, ticket state from Jira', async () => {
    const home = join(work, 'home-cli');
    expect((await run(['history', 'import', join(work, 'past')], home)).code).toBe(0);
    const env = { JIRA_HOST: jira.url, JIRA_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN };

    const md = await run(['postmortem', '--bundle', SAMPLE], home, env);
    expect(md.code, md.stderr).toBe(0);
    const section = md.stdout.split('## Seen before\n')[1]?.split('\n## ')[0] ?? '';
    expect(section, md.stdout.slice(-3000)).toContain(`degraded last spring`);
    expect(section).toContain(`Action item still open in Jira: [OPS-1](${jira.url}/browse/OPS-1) Alert on the dependency's error rate`);
    expect(section).not.toContain('canary'); // done in the post-mortem
    expect(section).not.toContain('Load test'); // open in the post-mortem, done in Jira
    expect(section).not.toContain('disk'); // the near-miss shares words, not the failure
    expect(jira.requests.some((r) => r.pathname.endsWith('/issue/OPS-1'))).toBe(true);

    const json = JSON.parse((await run(['postmortem', '--bundle', SAMPLE, '--format', 'json'], home, env)).stdout) as Report;
    expect(json.seen_before).toHaveLength(1);
    expect(json.seen_before![0]!.why_similar.join('; ')).toMatch(/same service|error message|config key|file/);
    expect(json.seen_before![0]!.open_action_items).toEqual([
      { title: "Alert on the dependency's error rate", ticket: 'OPS-1', url: `${jira.url}/browse/OPS-1`, status: 'open', status_from: 'jira' },
    ]);
    expect(json.similar_incidents[0]!.title).toContain('degraded last spring');
  });

  it('without a tracker the post-mortem\'s own status counts', async () => {
    const home = join(work, 'home-offline');
    await run(['history', 'import', join(work, 'past')], home);
    const json = JSON.parse((await run(['postmortem', '--bundle', SAMPLE, '--format', 'json'], home)).stdout) as Report;
    expect(json.seen_before![0]!.open_action_items.map((a) => [a.ticket, a.status, a.status_from])).toEqual([
      ['OPS-1', 'open', 'postmortem'],
      ['OPS-3', 'open', 'postmortem'],
    ]);
  });

  it('an incident nothing in the history resembles has no Seen before section', async () => {
    const home = join(work, 'home-unrelated');
    mkdirSync(join(work, 'only-near'), { recursive: true });
    writeFileSync(join(work, 'only-near', 'near-miss.md'), NEAR_MISS(fresh.incident.service!));
    await run(['history', 'import', join(work, 'only-near')], home);
    const out = await run(['postmortem', '--bundle', SAMPLE, '--format', 'json'], home);
    expect((JSON.parse(out.stdout) as Report).seen_before).toBeUndefined();
  });

  it('draft_postmortem (MCP) and the Slack review post show it too', async () => {
    const store = new IncidentStore(':memory:');
    try {
      store.saveBundle(JSON.parse(readFileSync(SAMPLE, 'utf8')));
      importPaths(store.history, [join(work, 'past')]);
      const result = await draftPostmortem.handler({ incident_id: fresh.incident.id, format: 'md', detail: 'summary' }, { store, writesEnabled: false, cwd: work });
      const report = result.structured.report as unknown as Report;
      expect(report.seen_before?.[0]?.title).toContain('degraded last spring');
      expect(result.text).toContain('## Seen before');
      expect(result.text).toContain('OPS-1');

      const post = JSON.stringify(draftMessage(report, 1).blocks);
      expect(post).toContain('*Seen before*');
      expect(post).toContain('still open: <');
      expect(post).toContain('/browse/OPS-1|OPS-1>');
    } finally {
      store.close();
    }
  });
});
