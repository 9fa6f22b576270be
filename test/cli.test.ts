// The built CLI as users and outside checks call it: node dist/cli.js ...
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildIncident, DOCS_PATCH, sha, TIMEOUT_PATCH } from './helpers/incidentBuilder.js';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
let dir: string;
let home: string;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, HINDSIGHT_HOME: home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const goodBundle = buildIncident({
  service: 'gateway-api',
  errorOnset: 0,
  pageAt: 3,
  resolveAt: 40,
  errorLog: 'UpstreamTimeoutError: request timed out after 20ms ({n})',
  deployments: [
    {
      repo: 'acme/gateway-api',
      id: 9,
      finishedAt: -1,
      commits: [
        { sha: sha('cli-culprit'), message: 'Tighten timeout', files: [{ filename: 'config/upstream.yaml', patch: TIMEOUT_PATCH }] },
        { sha: sha('cli-docs'), message: 'docs', files: [{ filename: 'docs/a.md', patch: DOCS_PATCH }] },
      ],
    },
  ],
});

beforeAll(() => {
  expect(existsSync(CLI), 'run npm run build first').toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'hindsight-cli-'));
  home = join(dir, 'home');
  writeFileSync(join(dir, 'good.json'), JSON.stringify(goodBundle));
  writeFileSync(join(dir, 'empty.json'), '');
  writeFileSync(join(dir, 'broken.json'), '{"bundle_version": 1, "incident": ');
  writeFileSync(join(dir, 'no-created.json'), JSON.stringify({ bundle_version: 1, incident: { id: 'X' } }));
  writeFileSync(join(dir, 'no-id.json'), JSON.stringify({ bundle_version: 1, incident: { created_at: '2025-01-01T00:00:00Z' } }));
  writeFileSync(join(dir, 'wrong-type.json'), JSON.stringify({ bundle_version: 1, incident: { id: 42, created_at: '2025-01-01T00:00:00Z' } }));
});

describe('bad input', () => {
  const cases: Array<[string, RegExp]> = [
    ['empty.json', /empty\.json: the bundle is empty$/],
    ['broken.json', /broken\.json: not valid JSON/],
    ['no-created.json', /no-created\.json: incident\.created_at: required$/],
    ['no-id.json', /no-id\.json: incident\.id: required$/],
    ['wrong-type.json', /wrong-type\.json: incident\.id: expected string, got number$/],
    ['missing.json', /missing\.json: no such file$/],
  ];
  for (const [file, message] of cases) {
    it(`${file}: exit 2 and one line naming the problem, no stack trace`, () => {
      const r = run(['postmortem', '--bundle', join(dir, file), '--format', 'json']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('writes nothing when the input is bad', () => {
    const out = join(dir, 'never.md');
    expect(run(['postmortem', '--bundle', join(dir, 'no-created.json'), '--out', out]).code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects unknown commands, unknown flags and bad flag values with exit 2', () => {
    expect(run(['frobnicate']).code).toBe(2);
    expect(run(['postmortem', '--bundel', 'x']).code).toBe(2);
    expect(run(['postmortem', '--bundle', join(dir, 'good.json'), '--format', 'pdf']).stderr).toMatch(/--format must be one of md, json, html/);
    expect(run(['postmortem']).stderr).toMatch(/--bundle FILE is required/);
  });
});

describe('commands', () => {
  it('postmortem --format json prints the report on stdout', () => {
    const r = run(['postmortem', '--bundle', join(dir, 'good.json'), '--format', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.report_version).toBe(1);
    expect(report.trigger.sha).toBe(sha('cli-culprit'));
  });

  it('postmortem --out writes Markdown to the file', () => {
    const out = join(dir, 'pm.md');
    const r = run(['postmortem', '--bundle', join(dir, 'good.json'), '--out', out]);
    expect(r.code).toBe(0);
    const md = readFileSync(out, 'utf8');
    expect(md).toMatch(/^# Post-mortem: /);
    expect(md).toMatch(/## Five whys/);
    expect(md).not.toMatch(/Oona Responder/);
  });

  it('postmortem --format html writes one self-contained page with the charts', () => {
    const out = join(dir, 'pm.html');
    const r = run(['postmortem', '--bundle', join(dir, 'good.json'), '--format', 'html', '--out', out, '--no-store']);
    expect(r.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('class="marker trigger"');
    expect(html).not.toMatch(/Oona Responder/);
  });

  it('timeline filters by relevance and source', () => {
    const r = run(['timeline', '--bundle', join(dir, 'good.json'), '--min-relevance', 'high', '--sources', 'pagerduty', '--format', 'json']);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout) as Array<{ source: string; relevance: string }>;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.source === 'pagerduty' && e.relevance === 'high')).toBe(true);
  });

  it('trigger and validate', () => {
    expect(run(['trigger', '--bundle', join(dir, 'good.json')]).stdout).toMatch(/Trigger: Deployment 9 of acme\/gateway-api/);
    const v = run(['validate', '--bundle', join(dir, 'good.json')]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^ok: /);
  });

  it('--help works for every command', () => {
    for (const c of ['demo', 'postmortem', 'timeline', 'trigger', 'validate', 'serve', 'eval', 'harvest', 'doctor', 'watch', 'status']) {
      const r = run([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`hindsight ${c}`));
    }
    expect(run(['--help']).stdout).toMatch(/Usage:/);
  });

  it('eval scores a folder of labelled incidents', () => {
    const evalDir = join(dir, 'labelled');
    mkdirSync(join(evalDir, 'one'), { recursive: true });
    writeFileSync(join(evalDir, 'one', 'bundle.json'), JSON.stringify(goodBundle));
    writeFileSync(
      join(evalDir, 'one', 'expected.json'),
      JSON.stringify({ trigger: { repo: 'acme/gateway-api', sha: sha('cli-culprit'), deployment_id: 9 }, root_cause_terms: ['request_timeout_ms'], must_not_appear: ['Oona Responder'] }),
    );
    const r = run(['eval', evalDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/checks: \d+ passed, 0 failed/);
  });

  it('demo writes the sample post-mortem and prints where it went', () => {
    const outDir = join(dir, 'demo');
    const r = run(['demo', '--out-dir', outDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(join(outDir, 'postmortem.md'));
    expect(JSON.parse(readFileSync(join(outDir, 'postmortem.json'), 'utf8')).report_version).toBe(1);
    expect(readFileSync(join(outDir, 'postmortem.html'), 'utf8')).toContain('class="marker trigger"');
  });
});
