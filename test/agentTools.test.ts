import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentToolSpecs, runAgentTool, truncateForModel } from '../src/agent/toolAdapter.js';
import { IncidentStore } from '../src/store/incidentStore.js';
import { TOOLS } from '../src/tools/index.js';
import { buildIncident, sha, TIMEOUT_PATCH } from './helpers/incidentBuilder.js';

describe('agent view of the tools', () => {
  it('exposes exactly the tool definitions the MCP server registers', () => {
    const specs = agentToolSpecs();
    expect(specs.map((s) => s.name)).toEqual(TOOLS.map((t) => t.name));
    const timeline = specs.find((s) => s.name === 'build_timeline')!;
    expect((timeline.input_schema as { properties: Record<string, unknown> }).properties).toHaveProperty('min_relevance');
  });

  it('runs tools with validated input and returns errors as text', async () => {
    const store = IncidentStore.open(mkdtempSync(join(tmpdir(), 'hs-agent-')));
    const deps = { store, writesEnabled: false, cwd: process.cwd() };
    const bundle = buildIncident({
      service: 'gateway-api', errorOnset: 0, pageAt: 3, resolveAt: 30, errorLog: 'UpstreamTimeoutError: timed out after 20ms ({n})',
      deployments: [{ repo: 'acme/gateway-api', id: 3, finishedAt: -1, commits: [{ sha: sha('agent'), message: 'timeout', files: [{ filename: 'config/u.yaml', patch: TIMEOUT_PATCH }] }] }],
    });
    expect((await runAgentTool('get_incident_context', { bundle }, deps)).ok).toBe(true);
    const trig = await runAgentTool('find_triggering_commit', { incident_id: 'INC-TEST' }, deps);
    expect(trig.text).toContain(sha('agent').slice(0, 12));
    const bad = await runAgentTool('build_timeline', { incident_id: 'INC-TEST', limit: -4 }, deps);
    expect(bad.ok).toBe(false);
    expect(bad.text).toMatch(/invalid arguments for build_timeline: limit/);
    expect((await runAgentTool('no_such_tool', {}, deps)).text).toMatch(/unknown tool/);
    store.close();
  });

  it('truncates long tool output before it reaches the model', () => {
    const text = truncateForModel('x'.repeat(50_000), 1000);
    expect(text.length).toBeLessThan(1100);
    expect(text).toMatch(/\[truncated: 49000 more characters\]$/);
  });
});
