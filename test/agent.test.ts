// LLM mode: the Claude drafting loop against a loopback Anthropic Messages API, with the real SDK
// and a real incident store holding the sample incident. The model's draft is untrusted: these
// tests script good and bad answers and check what reaches the report (and the API).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { AGENT_TOOL_NAMES, runAgentLoop } from '../src/agent/agentLoop.js';
import { draftWithClaude, type DraftResult } from '../src/agent/llmDraft.js';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { validateBundle, type Bundle } from '../src/core/bundle.js';
import type { Report } from '../src/core/report.js';
import type { AutonomousConfig } from '../src/harvest/config.js';
import { loadPromptFiles, PROMPTS_DIR } from '../src/io/promptFiles.js';
const agentPrompts = () => loadPromptFiles(join(PROMPTS_DIR, 'agent'));
import { IncidentStore } from '../src/store/incidentStore.js';
import type { ToolDeps } from '../src/tools/index.js';
import { apiKeyOf, createAnthropicFake, toolResultsOf, type AnthropicFake, type FakeAnthropicRequest, type ScriptEntry } from './fakes/anthropicFake.js';

const ROOT = new URL('..', import.meta.url);
const bundle: Bundle = validateBundle(JSON.parse(readFileSync(new URL('examples/sample-incident/bundle.json', ROOT), 'utf8')));
const expected = JSON.parse(readFileSync(new URL('examples/sample-incident/expected.json', ROOT), 'utf8')) as {
  trigger: { repo: string; sha: string; deployment_id: number };
  must_not_appear: string[];
};
const ID = bundle.incident.id;
const API_KEY = 'sk-ant-fake-test-key';
const AWS_KEY = 'AKIAZKLBQSZTO4WZZGUE';

let home: string;
let store: IncidentStore;
let deps: ToolDeps;
let base: Report;
const fakes: AnthropicFake[] = [];

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'hs-llm-'));
  store = IncidentStore.open(home);
  store.saveBundle(bundle);
  deps = { store, writesEnabled: false, cwd: home };
  base = buildReport(analyzeBundle(bundle));
});

afterEach(async () => {
  while (fakes.length) await fakes.pop()!.close();
});

afterAll(() => {
  store.close();
  rmSync(home, { recursive: true, force: true });
});

async function fake(script: ScriptEntry[]): Promise<AnthropicFake> {
  const f = await createAnthropicFake({ apiKey: API_KEY, script });
  fakes.push(f);
  return f;
}

function llm(f: AnthropicFake, over: Partial<AutonomousConfig['llm']> = {}): AutonomousConfig['llm'] {
  return { apiKey: API_KEY, baseUrl: f.url, model: 'claude-test-model', maxSteps: 6, maxTokens: 2048, toolOutputChars: 4000, ...over };
}

type Draft = {
  summary: string;
  root_cause: string;
  trigger: { repo: string; deployment_id: number | string; sha: string } | null;
  five_whys: Array<{ why: string; because: string; evidence: string[] }>;
  action_items: Array<{ title: string; priority: string; type: string; rationale: string; labels: string[] }>;
};

function validDraft(): Draft {
  return {
    summary:
      'inventory-api returned 5xx on stock reads for about 26 minutes.\n' +
      'Trigger: deployment 2183627154 of fernhill/inventory-api (commit 08afc51).\n' +
      'Root cause: a Redis client timeout was lowered below real latency with no pre-deploy check.',
    root_cause:
      'Commit 08afc51 lowered command_timeout_ms from 250 to 25 in config/production.yaml. No check compared the new limit with measured Redis latency, and the rollout went to all traffic at once.',
    trigger: { repo: expected.trigger.repo, deployment_id: expected.trigger.deployment_id, sha: expected.trigger.sha.slice(0, 12) },
    five_whys: [
      {
        why: 'Why did inventory-api return 5xx?',
        because: 'Stock reads failed with Redis timeouts.',
        evidence: ['trace.http.request.errors rose from 0.5 to 102 at 2024-11-14T18:23:50.000Z', 'log signature "RedisTimeoutError: command GET timed out after <*>": 69 lines'],
      },
      { why: 'Why did Redis reads time out?', because: 'The client gave Redis 25 ms per command.', evidence: ['config/production.yaml lowers command_timeout_ms from 250 to 25'] },
      { why: 'Why was the limit 25 ms?', because: 'Deployment 2183627154 shipped the change.', evidence: ['commit 08afc518c37d, deployment finished 2024-11-14T18:22:47Z'] },
      { why: 'Why was it not caught before production?', because: 'No test exercised the limit and there was no canary.', evidence: ['commit 08afc51 changes config/production.yaml and no test files'] },
      {
        why: 'Why did the impact last 26 minutes?',
        because: 'Rollback was a manual revert and redeploy.',
        evidence: ['page at 2024-11-14T18:26:14.000Z; revert deployment 2183735418 finished at 2024-11-14T18:48:36.000Z'],
      },
    ],
    action_items: [
      { title: 'Alert on RedisTimeoutError rate for inventory-api', priority: 'P2', type: 'detect', rationale: 'The page came 2 min 29 s after the onset.', labels: ['postmortem', 'alerting'] },
      { title: 'Validate Redis timeouts against measured p99 latency before deploy', priority: 'P1', type: 'prevent', rationale: '25 ms is below the observed command latency.', labels: ['postmortem', 'timeout'] },
      { title: 'Canary inventory-api config deploys with automatic rollback', priority: 'P1', type: 'mitigate', rationale: 'The change reached all traffic in one step.', labels: ['postmortem', 'deploy-safety'] },
    ],
  };
}

const fenced = (d: unknown) => ({ kind: 'text' as const, text: '```json\n' + JSON.stringify(d, null, 2) + '\n```' });
const plain = (d: unknown) => ({ kind: 'text' as const, text: JSON.stringify(d) });

function lastUserText(req: FakeAnthropicRequest): string {
  const last = req.body.messages[req.body.messages.length - 1]!;
  return typeof last.content === 'string' ? last.content : last.content.map((b) => b.text ?? '').join('\n');
}

function expectClean(result: DraftResult, f: AnthropicFake): void {
  const out = JSON.stringify(result.report) + result.markdown + result.notes.join('\n');
  for (const s of expected.must_not_appear) expect(out, s).not.toContain(s);
  // nothing secret or personal was ever sent to the API either
  const sent = JSON.stringify(f.requests.map((r) => r.body));
  for (const s of expected.must_not_appear) expect(sent, s).not.toContain(s);
}

function expectDeterministicSkeleton(report: Report): void {
  expect(report.timeline).toEqual(base.timeline);
  expect(report.candidates).toEqual(base.candidates);
  expect(report.spikes).toEqual(base.spikes);
  expect(report.log_signatures).toEqual(base.log_signatures);
  expect(report.incident).toEqual(base.incident);
  expect(report.data_gaps).toEqual(base.data_gaps);
}

describe('runAgentLoop', () => {
  it('with a single step, calls once without tools and with the final instruction', async () => {
    const f = await fake([{ kind: 'text', text: '{"done": true}' }]);
    const client = new Anthropic({ apiKey: API_KEY, baseURL: f.url, maxRetries: 0, timeout: 5_000 });
    const out = await runAgentLoop({ client, model: 'm', maxSteps: 1, maxTokens: 300, toolOutputChars: 500, system: 'sys', userPrompt: 'go', finalInstruction: 'ANSWER NOW', deps });
    expect(out).toMatchObject({ finalText: '{"done": true}', steps: 1, transcript: [] });
    expect(f.requests[0]!.body.tools).toBeUndefined();
    expect(f.requests[0]!.body.max_tokens).toBe(300);
    expect(lastUserText(f.requests[0]!)).toBe('go\n\nANSWER NOW');
    expect(out.conversation.map((m) => m.role)).toEqual(['user', 'assistant']);
  });
});

describe('agent prompts', () => {
  it('ship the system and final prompts with valid front matter', () => {
    const prompts = agentPrompts();
    for (const name of ['agent_system', 'agent_final']) {
      const p = prompts.find((x) => x.name === name)!;
      expect(p, name).toBeDefined();
      expect(p.title.length).toBeGreaterThan(0);
      expect(p.description.length).toBeGreaterThan(0);
      expect(p.arguments).toEqual([]);
      expect(p.body).toMatch(/JSON/);
    }
  });
});

describe('draftWithClaude', () => {
  it('drafts with tools, keeps the deterministic skeleton and the expected trigger', async () => {
    const f = await fake([
      { kind: 'tools', text: 'Loading the incident.', calls: [{ name: 'get_incident_context', input: { incident_id: ID } }, { name: 'find_triggering_commit', input: { incident_id: ID } }] },
      { kind: 'tools', calls: [{ name: 'build_timeline', input: { incident_id: ID, min_relevance: 'high' } }] },
      fenced(validDraft()),
    ]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(result.engine).toBe('llm');
    expect(result.report.generated_by).toMatchObject({ engine: 'llm', model: 'claude-test-model' });
    expectDeterministicSkeleton(result.report);
    expect(result.report.trigger).toMatchObject({ repo: expected.trigger.repo, sha: expected.trigger.sha, deployment_id: expected.trigger.deployment_id });
    expect(result.report.trigger).toEqual(base.trigger);
    expect(result.report.root_cause).toBe(validDraft().root_cause);
    expect(result.report.five_whys).toHaveLength(5);
    expect(result.report.action_items.map((a) => a.priority)).toEqual(['P1', 'P1', 'P2']);
    expect(result.markdown).toContain('command_timeout_ms from 250 to 25');
    expect(result.notes.join('\n')).toMatch(/get_incident_context, find_triggering_commit, build_timeline/);
    expect(result.notes.join('\n')).not.toMatch(/rejected/);

    expect(f.requests).toHaveLength(3);
    const first = f.requests[0]!;
    expect(apiKeyOf(first)).toBe(API_KEY);
    expect(first.headers['anthropic-version']).toBeTruthy();
    expect(first.body.model).toBe('claude-test-model');
    expect(first.body.max_tokens).toBe(2048);
    expect(typeof first.body.system === 'string' && first.body.system).toMatch(/blameless/);
    expect(first.body.tools!.map((t) => t.name).sort()).toEqual([...AGENT_TOOL_NAMES].sort());
    const ctxSchema = first.body.tools!.find((t) => t.name === 'get_incident_context')!.input_schema as { properties: Record<string, unknown> };
    expect(Object.keys(ctxSchema.properties)).toEqual(['incident_id']);
    const results = toolResultsOf(f.requests[1]!);
    expect(results.map((r) => [r.name, r.isError])).toEqual([
      ['get_incident_context', false],
      ['find_triggering_commit', false],
    ]);
    expect(results[1]!.content).toContain(expected.trigger.sha.slice(0, 12));
    expectClean(result, f);
  });

  it('answers unknown tools and invalid arguments with is_error results and carries on', async () => {
    const f = await fake([
      {
        kind: 'tools',
        calls: [
          { name: 'delete_everything', input: {} },
          { name: 'build_timeline', input: { incident_id: ID, limit: -4 } },
          { name: 'file_tickets', input: { incident_id: ID } },
          { name: 'get_incident_context', input: { bundle_path: '/etc/passwd' } },
          { name: 'build_timeline', input: { incident_id: 'NO-SUCH-INCIDENT' } },
        ],
      },
      plain(validDraft()),
    ]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(result.engine).toBe('llm');
    const results = toolResultsOf(f.requests[1]!);
    expect(results.every((r) => r.isError)).toBe(true);
    expect(results[0]!.content).toMatch(/unknown tool "delete_everything"/);
    expect(results[1]!.content).toMatch(/invalid arguments for build_timeline: limit/);
    expect(results[2]!.content).toMatch(/unknown tool "file_tickets"/);
    expect(results[3]!.content).toMatch(/only incident_id may be passed/);
    expect(results[4]!.content).toMatch(/unknown incident "NO-SUCH-INCIDENT"/);
    expect(result.notes.join('\n')).toMatch(/delete_everything \(failed\)/);
    // the stored bundle was not replaced by anything the model asked for
    expect(store.getBundle(ID)?.incident.title).toBe(bundle.incident.title);
  });

  it('sends a leaked secret back for repair without repeating it, and accepts a clean repair', async () => {
    const leaky = validDraft();
    leaky.root_cause = `The pods ran with AWS_ACCESS_KEY_ID=${AWS_KEY} and ${leaky.root_cause}`;
    leaky.five_whys[1]!.evidence.push(`env showed ${AWS_KEY} on 2024-11-14T18:23:50.000Z`);
    let repairRequest: FakeAnthropicRequest | undefined;
    const f = await fake([
      plain(leaky),
      (req) => {
        repairRequest = req;
        return plain(validDraft());
      },
    ]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(result.engine).toBe('llm');
    expect(result.notes.join('\n')).toMatch(/first draft rejected: .*secrets: .*root_cause \(aws_access_key\)/);
    expect(repairRequest!.body.tools).toBeUndefined();
    expect(lastUserText(repairRequest!)).toMatch(/rejected/);
    expect(JSON.stringify(result)).not.toContain(AWS_KEY);
    expectClean(result, f);
  });

  it('falls back to the deterministic draft when the repair leaks again', async () => {
    const leaky = validDraft();
    leaky.summary = `Keys in chat: ${AWS_KEY}\n${leaky.summary}`;
    const f = await fake([plain(leaky), plain(leaky)]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(result.engine).toBe('deterministic');
    expect(result.report).toEqual(base);
    expect(result.notes.join('\n')).toMatch(/repaired draft was rejected too: .*secrets/);
    expect(JSON.stringify(result)).not.toContain(AWS_KEY);
    expectClean(result, f);
  });

  it('rejects a draft that blames a person by name', async () => {
    const blaming = validDraft();
    blaming.root_cause = `Adaeze Okafor shipped a bad config. ${blaming.root_cause}`;
    const stillBlaming = validDraft();
    stillBlaming.five_whys[2]!.because = 'Because aokafor-fh deployed without review.';
    const f = await fake([plain(blaming), plain(stillBlaming)]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(result.engine).toBe('deterministic');
    expect(result.report.generated_by.engine).toBe('deterministic');
    const notes = result.notes.join('\n');
    expect(notes).toMatch(/first draft rejected: blameless: .*root_cause/);
    expect(notes).toMatch(/rejected too: blameless: .*five_whys\[2\]\.because/);
    expectClean(result, f);
  });

  it('rejects a trigger that is not a candidate, and keeps the deterministic trigger over a ruled-out one', async () => {
    const invented = validDraft();
    invented.trigger = { repo: 'fernhill/inventory-api', deployment_id: 2183627154, sha: 'deadbeefcafe1234' };
    const ruledOut = validDraft();
    const frontEnd = base.candidates.find((c) => c.repo === 'fernhill/trailhead-web' && c.ruled === 'out')!;
    ruledOut.trigger = { repo: frontEnd.repo!, deployment_id: frontEnd.deployment_id!, sha: frontEnd.sha!.slice(0, 7) };
    let repairText = '';
    const f = await fake([
      plain(invented),
      (req) => {
        repairText = lastUserText(req);
        return plain(ruledOut);
      },
    ]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(repairText).toMatch(/not one of the candidates/);
    expect(repairText).toContain(expected.trigger.sha.slice(0, 12));
    expect(result.engine).toBe('llm');
    expect(result.report.trigger).toEqual(base.trigger);
    expect(result.notes.join('\n')).toMatch(/ruled out.*deterministic trigger is kept/);

    const g = await fake([plain(invented), plain(invented)]);
    const again = await draftWithClaude(ID, deps, llm(g));
    expect(again.engine).toBe('deterministic');
    expect(again.notes.join('\n')).toMatch(/rejected too: trigger/);
    expect(JSON.stringify(again.report)).not.toContain('deadbeefcafe');
  });

  it('rejects evidence that cites nothing concrete', async () => {
    const vague = validDraft();
    vague.five_whys[3]!.evidence = ['it was clearly a bad change', 'everyone agreed'];
    const f = await fake([plain(vague), plain(validDraft())]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(result.engine).toBe('llm');
    expect(result.notes.join('\n')).toMatch(/evidence: five_whys\[3\]\.evidence\[0\], five_whys\[3\]\.evidence\[1\] cite nothing concrete/);
  });

  it('rejects wrong counts and malformed JSON', async () => {
    const short = validDraft();
    short.five_whys = short.five_whys.slice(0, 4);
    const f = await fake([plain(short), { kind: 'text', text: 'Here is my draft: {"summary": "unfinished' }]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(result.engine).toBe('deterministic');
    const notes = result.notes.join('\n');
    expect(notes).toMatch(/first draft rejected: five_whys: must have exactly 5 entries/);
    expect(notes).toMatch(/rejected too: the answer is not a JSON object/);
  });

  it('falls back with a note when the API fails (500, then the retry fails too)', async () => {
    const f = await fake([
      { kind: 'error', status: 500, message: 'internal' },
      { kind: 'error', status: 500, message: 'internal' },
    ]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(result.engine).toBe('deterministic');
    expect(result.report).toEqual(base);
    expect(result.markdown).toContain('# Post-mortem');
    expect(result.notes.join('\n')).toMatch(/deterministic draft used: the Claude API returned an error \(500 api_error\)/);
    expect(f.requests).toHaveLength(2);
  });

  it('falls back when the API hangs past the timeout', async () => {
    const f = await fake([{ kind: 'hang' }, { kind: 'hang' }]);
    const result = await draftWithClaude(ID, deps, llm(f), { timeoutMs: 150 });
    expect(result.engine).toBe('deterministic');
    expect(result.notes.join('\n')).toMatch(/timed out/);
  });

  it('makes the last step without tools, with the final instruction, when the model keeps calling tools', async () => {
    const finalPrompt = agentPrompts().find((p) => p.name === 'agent_final')!.body;
    const f = await fake([
      { kind: 'tools', calls: [{ name: 'get_incident_context', input: { incident_id: ID } }] },
      { kind: 'tools', calls: [{ name: 'find_triggering_commit', input: { incident_id: ID } }] },
      plain(validDraft()),
    ]);
    const result = await draftWithClaude(ID, deps, llm(f, { maxSteps: 3 }));
    expect(result.engine).toBe('llm');
    expect(f.requests).toHaveLength(3);
    const last = f.requests[2]!;
    expect(last.body.tools).toBeUndefined();
    expect(f.requests[1]!.body.tools).toBeDefined();
    expect(lastUserText(last)).toContain(finalPrompt.slice(0, 60));
    // tool calls and results are written out as text (the API refuses tool blocks without tools)
    expect(last.body.messages.every((m) => typeof m.content === 'string')).toBe(true);
    expect(JSON.stringify(last.body.messages)).toContain(expected.trigger.sha.slice(0, 12));
    expect(result.notes.join('\n')).toMatch(/after 3 calls/);
    expect(result.notes.join('\n')).not.toMatch(/rejected/);
  });

  it('truncates tool output to the configured budget', async () => {
    const f = await fake([{ kind: 'tools', calls: [{ name: 'build_timeline', input: { incident_id: ID, min_relevance: 'low' } }] }, plain(validDraft())]);
    const result = await draftWithClaude(ID, deps, llm(f, { toolOutputChars: 600 }));
    expect(result.engine).toBe('llm');
    const [timeline] = toolResultsOf(f.requests[1]!);
    expect(timeline!.isError).toBe(false);
    expect(timeline!.content).toMatch(/\[truncated: \d+ more characters\]$/);
    expect(timeline!.content.length).toBeLessThanOrEqual(600 + 50);
  });

  it('puts reviewer feedback into the prompt (redacted)', async () => {
    const f = await fake([plain(validDraft())]);
    const feedback = ['Name the Redis latency dashboard in the detect action item.', 'Thank Marisol Quintero for the quick rollback.'];
    const result = await draftWithClaude(ID, deps, llm(f), { feedback });
    expect(result.engine).toBe('llm');
    const prompt = lastUserText(f.requests[0]!);
    expect(prompt).toContain('Reviewer feedback');
    expect(prompt).toContain(feedback[0]);
    expect(prompt).toMatch(/Thank the on-call responder for the quick rollback/);
    expect(prompt).not.toContain('Marisol');
  });

  it('accepts the deterministic draft itself (the checks are not stricter than the engine)', async () => {
    const own = {
      summary: base.summary,
      root_cause: base.root_cause,
      trigger: base.trigger && { repo: base.trigger.repo, deployment_id: base.trigger.deployment_id, sha: base.trigger.sha },
      five_whys: base.five_whys,
      action_items: base.action_items,
    };
    const f = await fake([plain(own)]);
    const result = await draftWithClaude(ID, deps, llm(f));
    expect(result.notes.join('\n')).not.toMatch(/rejected/);
    expect(result.engine).toBe('llm');
    expect({ ...result.report, generated_by: base.generated_by }).toEqual(base);
  });

  it('stays deterministic without an API key', async () => {
    const result = await draftWithClaude(ID, deps, { apiKey: null, baseUrl: null, model: 'm', maxSteps: 4, maxTokens: 1024, toolOutputChars: 1000 });
    expect(result.engine).toBe('deterministic');
    expect(result.notes.join('\n')).toMatch(/no Anthropic API key/);
  });
});
