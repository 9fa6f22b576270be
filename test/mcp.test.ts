// End-to-end test of the MCP server as a client sees it: spawns the BUILT server
// (`node dist/cli.js serve`, so run `npm run build` first; `npm test` does) over stdio with the
// official SDK client, against a fresh HINDSIGHT_HOME and a hand-written bundle.
//
// The `it` blocks share one server and run in order (vitest runs a file's tests sequentially);
// the bundle is loaded in beforeAll, so each block only depends on that.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_COUNTS,
  INCIDENT_ID,
  PERSON_EMAILS,
  PERSON_STRINGS,
  PLANTED_SECRET,
  REPO,
  REVERT_COMMIT_SHA,
  SERVICE,
  TIMEOUT_COMMIT_SHA,
  TIMEOUT_DEPLOYMENT_ID,
  TIMEOUT_KEY,
  makeBundle,
} from './helpers/bundles.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const TIMEOUT_MS = 60_000;

const EXPECTED_TOOLS: Record<string, { readOnly: boolean }> = {
  get_incident_context: { readOnly: false },
  build_timeline: { readOnly: true },
  find_triggering_commit: { readOnly: true },
  search_past_rcas: { readOnly: true },
  // dry-run by default: files nothing unless the server enables writes
  file_tickets: { readOnly: true },
  draft_postmortem: { readOnly: false },
};

const EXPECTED_PROMPTS = ['action_items', 'five_whys', 'review_summary', 'timeline_reconstruction'];

let home: string;
let work: string;
let bundlePath: string;
let client: Client;
let transport: StdioClientTransport;
let serverStderr = '';

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function textOf(result: CallToolResult): string {
  return result.content
    .filter((c): c is Extract<typeof c, { type: 'text' }> => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

/** Fails with the tool's own error text (and the server's stderr) rather than a bare `true`. */
function expectOk(result: CallToolResult): Record<string, unknown> {
  expect(result.isError ?? false, `tool error: ${textOf(result)}\nserver stderr:\n${serverStderr}`).toBe(false);
  expect(result.structuredContent).toBeDefined();
  return result.structuredContent!;
}

/** Case-insensitive: no person's name, login or e-mail and no planted secret. */
function expectNoPeopleOrSecrets(text: string, what: string): void {
  const lower = text.toLowerCase();
  for (const s of [...PERSON_STRINGS, PLANTED_SECRET]) {
    expect(lower.includes(s.toLowerCase()), `${what} contains "${s}"`).toBe(false);
  }
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: run \`npm run build\` before this test`);
  home = mkdtempSync(join(tmpdir(), 'hindsight-mcp-home-'));
  work = mkdtempSync(join(tmpdir(), 'hindsight-mcp-work-'));
  bundlePath = join(work, 'bundle.json');
  writeFileSync(bundlePath, JSON.stringify(makeBundle(), null, 2));

  transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve'],
    cwd: work,
    env: { PATH: process.env.PATH ?? '', HINDSIGHT_HOME: home },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => {
    serverStderr += chunk.toString();
  });
  client = new Client({ name: 'hindsight-mcp-test', version: '0.0.0' });
  await client.connect(transport);
}, TIMEOUT_MS);

afterAll(async () => {
  await client?.close();
  if (home) rmSync(home, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
}, TIMEOUT_MS);

describe('MCP server over stdio (built dist/cli.js serve)', { timeout: TIMEOUT_MS }, () => {
  it('lists the six tools with schemas, annotations and descriptions', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(EXPECTED_TOOLS).sort());
    for (const tool of tools) {
      const expected = EXPECTED_TOOLS[tool.name]!;
      expect(tool.description, tool.name).toEqual(expect.any(String));
      expect(tool.description!.length, tool.name).toBeGreaterThan(20);
      expect(tool.inputSchema.type, tool.name).toBe('object');
      expect(tool.outputSchema, tool.name).toBeDefined();
      expect(tool.outputSchema!.type, tool.name).toBe('object');
      expect(tool.annotations, tool.name).toBeDefined();
      expect(tool.annotations!.readOnlyHint, tool.name).toBe(expected.readOnly);
    }
  });

  it('get_incident_context loads a bundle file and summarises it', async () => {
    const result = await call('get_incident_context', { bundle_path: bundlePath });
    const s = expectOk(result);
    expect(s.incident_id).toBe(INCIDENT_ID);
    expect(s.service).toBe(SERVICE);
    expect(s.stored).toBe(true);
    expect(s.repositories).toEqual([REPO]);
    const counts = s.counts as Record<string, number>;
    expect(counts).toMatchObject(BUNDLE_COUNTS);
    expect(counts.log_signatures).toBeGreaterThanOrEqual(1);
    expect(counts.log_signatures).toBeLessThan(BUNDLE_COUNTS.log_lines);
    expectNoPeopleOrSecrets(JSON.stringify(result), 'get_incident_context result');

    // the stored incident can be summarised again by id alone
    const again = expectOk(await call('get_incident_context', { incident_id: INCIDENT_ID }));
    expect(again.incident_id).toBe(INCIDENT_ID);
    expect(again.stored).toBe(false);
  });

  it('build_timeline merges the sources into a redacted timeline', async () => {
    const result = await call('build_timeline', { incident_id: INCIDENT_ID, min_relevance: 'low' });
    const s = expectOk(result);
    expect(s.incident_id).toBe(INCIDENT_ID);
    const entries = s.entries as Array<{ at: string; source: string; kind: string; summary: string }>;
    expect(entries.length).toBe(s.returned);
    expect(entries.length).toBeGreaterThan(5);
    for (const e of entries) expect(e.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const sources = new Set(entries.map((e) => e.source));
    for (const source of ['pagerduty', 'slack', 'github', 'datadog', 'logs']) expect(sources, source).toContain(source);
    expect(entries.some((e) => e.kind === 'deploy' && e.summary.includes(String(TIMEOUT_DEPLOYMENT_ID)))).toBe(true);
    expect(entries.some((e) => e.kind === 'metric_spike')).toBe(true);
    expect(typeof s.markdown).toBe('string');
    expectNoPeopleOrSecrets(JSON.stringify(result), 'build_timeline result');
  });

  it('find_triggering_commit names the timeout deployment and its commit', async () => {
    const result = await call('find_triggering_commit', { incident_id: INCIDENT_ID });
    const s = expectOk(result);
    const trigger = s.trigger as { repo: string; deployment_id: number | string; sha: string; evidence: string[] } | null;
    expect(trigger, `no trigger: ${String(s.reason)}`).not.toBeNull();
    expect(trigger!.repo).toBe(REPO);
    expect(String(trigger!.deployment_id)).toBe(String(TIMEOUT_DEPLOYMENT_ID));
    expect(trigger!.sha).toBe(TIMEOUT_COMMIT_SHA);
    expect(trigger!.evidence.join('\n')).toContain(TIMEOUT_KEY);
    const candidates = s.candidates as Array<{ sha: string; ruled: string }>;
    expect(candidates.find((c) => c.sha === REVERT_COMMIT_SHA)?.ruled).toBe('out');
    expectNoPeopleOrSecrets(JSON.stringify(result), 'find_triggering_commit result');
  });

  it('draft_postmortem returns report v1 without people or secrets', async () => {
    const result = await call('draft_postmortem', { incident_id: INCIDENT_ID, format: 'json' });
    const s = expectOk(result);
    const report = s.report as { report_version: number; incident: { id: string }; root_cause: string; action_items: unknown[] };
    expect(report.report_version).toBe(1);
    expect(report.incident.id).toBe(INCIDENT_ID);
    expect(report.root_cause).toContain(TIMEOUT_KEY);
    expect(report.action_items.length).toBeGreaterThanOrEqual(3);
    expect(report.action_items.length).toBeLessThanOrEqual(5);
    // the Markdown is not sent a second time next to the report (it is the text content with format md)
    expect(s.markdown).toBeUndefined();
    // structured content and text content (format json) alike
    expectNoPeopleOrSecrets(JSON.stringify(result), 'draft_postmortem result');
  });

  it('search_past_rcas finds the stored post-mortem by the timeout key', async () => {
    expectOk(await call('draft_postmortem', { incident_id: INCIDENT_ID })); // stores the report (idempotent)
    const s = expectOk(await call('search_past_rcas', { query: TIMEOUT_KEY }));
    expect(s.query).toBe(TIMEOUT_KEY);
    const hits = s.hits as Array<{ id: string; score: number }>;
    expect(hits.map((h) => h.id)).toContain(INCIDENT_ID);

    const excluded = expectOk(await call('search_past_rcas', { query: TIMEOUT_KEY, exclude_incident_id: INCIDENT_ID }));
    expect((excluded.hits as Array<{ id: string }>).map((h) => h.id)).not.toContain(INCIDENT_ID);
  });

  it('file_tickets returns 3-5 dry-run drafts with markers and no people', async () => {
    const result = await call('file_tickets', { incident_id: INCIDENT_ID, target: 'github', project: REPO });
    const s = expectOk(result);
    expect(s.dry_run).toBe(true);
    expect(s.target).toBe('github');
    const tickets = s.tickets as Array<{ title: string; body: string; marker: string }>;
    expect(tickets.length).toBeGreaterThanOrEqual(3);
    expect(tickets.length).toBeLessThanOrEqual(5);
    const markers = new Set<string>();
    for (const t of tickets) {
      expect(t.marker).toMatch(new RegExp(`^hindsight:${INCIDENT_ID}:[0-9a-f]{6,}$`));
      expect(t.body).toContain(t.marker);
      markers.add(t.marker);
      expectNoPeopleOrSecrets(`${t.title}\n${t.body}`, `ticket "${t.title}"`);
    }
    expect(markers.size).toBe(tickets.length);
  });

  it('an unknown incident id is a tool error, not a protocol error', async () => {
    for (const name of ['build_timeline', 'find_triggering_commit', 'draft_postmortem', 'file_tickets', 'get_incident_context']) {
      const result = await call(name, { incident_id: 'NO-SUCH-INCIDENT' });
      expect(result.isError, name).toBe(true);
      expect(textOf(result), name).toMatch(/unknown incident "NO-SUCH-INCIDENT"/);
    }
  });

  it('an invalid bundle is a tool error naming incident.created_at', async () => {
    const bundle = makeBundle({ incident: { id: 'P-INVALID-1', created_at: undefined } });
    const invalidPath = join(work, 'invalid-bundle.json');
    writeFileSync(invalidPath, JSON.stringify(bundle));

    const fromFile = await call('get_incident_context', { bundle_path: invalidPath });
    expect(fromFile.isError).toBe(true);
    expect(textOf(fromFile)).toContain('incident.created_at');

    const inline = await call('get_incident_context', { bundle: bundle as unknown as Record<string, unknown> });
    expect(inline.isError).toBe(true);
    expect(textOf(inline)).toContain('incident.created_at');

    // nothing was stored for it
    const lookup = await call('get_incident_context', { incident_id: 'P-INVALID-1' });
    expect(lookup.isError).toBe(true);
  });

  it('an imperfect bundle is read: malformed elements are left out and named in the summary and data gaps', async () => {
    const bundle = makeBundle({ incident: { id: 'P-IMPERFECT-1' } }) as any;
    bundle.sources.datadog.metrics[0].pointlist[3] = 'n/a';
    bundle.sources.slack.messages[1].ts = 'noon';
    const result = await call('get_incident_context', { bundle });
    const gaps = expectOk(result).data_gaps as string[];
    expect(textOf(result)).toContain('2 malformed elements were left out (see data_gaps)');
    expect(gaps).toContain('Datadog metric points left out as malformed: 1 (sources.datadog.metrics[0].pointlist[3]: expected [epoch_ms, value], got string)');
    expect(gaps).toContain('Slack messages left out as malformed: 1 (sources.slack.messages[1].ts: not a Slack ts)');
    // the stored copy is the readable one: later tools work from the id alone
    expectOk(await call('build_timeline', { incident_id: 'P-IMPERFECT-1' }));
  });

  it('serves the report, timeline and redacted bundle as resources', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
      'hindsight://history/{incident_id}/postmortem.md',
      'hindsight://incidents/{incident_id}/bundle.json',
      'hindsight://incidents/{incident_id}/report.html',
      'hindsight://incidents/{incident_id}/report.md',
      'hindsight://incidents/{incident_id}/timeline.json',
    ]);

    const read = async (suffix: string) => {
      const uri = `hindsight://incidents/${INCIDENT_ID}/${suffix}`;
      const { contents } = await client.readResource({ uri });
      expect(contents).toHaveLength(1);
      expect(contents[0]!.uri).toBe(uri);
      const text = (contents[0] as { text?: string }).text;
      expect(typeof text, suffix).toBe('string');
      return text!;
    };

    const report = await read('report.md');
    expect(report).toContain(INCIDENT_ID);
    expect(report).toContain(TIMEOUT_KEY);
    expectNoPeopleOrSecrets(report, 'report.md');

    const html = await read('report.html');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(INCIDENT_ID);
    expect(html).toContain('<svg');
    expectNoPeopleOrSecrets(html, 'report.html');

    const timeline = JSON.parse(await read('timeline.json')) as Array<{ at: string; source: string }>;
    expect(Array.isArray(timeline)).toBe(true);
    expect(timeline.length).toBeGreaterThan(5);
    expectNoPeopleOrSecrets(JSON.stringify(timeline), 'timeline.json');

    const bundleText = await read('bundle.json');
    const bundle = JSON.parse(bundleText) as { incident: { id: string } };
    expect(bundle.incident.id).toBe(INCIDENT_ID);
    expect(bundleText).not.toContain(PLANTED_SECRET);
    for (const email of PERSON_EMAILS) expect(bundleText.toLowerCase(), email).not.toContain(email.toLowerCase());
    // documented as "secrets and people redacted": names and logins go too
    expectNoPeopleOrSecrets(bundleText, 'bundle.json');
  });

  it('lists the four prompts and renders five_whys for the incident', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(EXPECTED_PROMPTS);
    const fiveWhys = prompts.find((p) => p.name === 'five_whys')!;
    expect(fiveWhys.arguments?.find((a) => a.name === 'incident_id')?.required).toBe(true);

    const prompt = await client.getPrompt({ name: 'five_whys', arguments: { incident_id: INCIDENT_ID } });
    expect(prompt.messages.length).toBeGreaterThan(0);
    const text = prompt.messages.map((m) => (m.content.type === 'text' ? m.content.text : '')).join('\n');
    expect(text).toContain(INCIDENT_ID);
    expect(text).not.toContain('{{incident_id}}');
  });
});
