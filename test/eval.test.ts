// `hindsight eval DIR` as users run it (the built CLI): exit 1 when a check fails, 0 when all
// pass, 2 on a label it cannot read; the summary leads with trigger decisions and false blames.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
// the sample incident, scored against labels built from what the engine itself names, so these
// tests pin the eval contract (exit codes, summary, false blames) and not the engine's accuracy
const BUNDLE = join(__dirname, '..', 'examples', 'sample-incident', 'bundle.json');
let root: string;
let named: { repo: string; sha: string; deployment_id: number };

function labelled(name: string, expected: unknown): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'incident'), { recursive: true });
  writeFileSync(join(dir, 'incident', 'bundle.json'), readFileSync(BUNDLE));
  writeFileSync(join(dir, 'incident', 'expected.json'), typeof expected === 'string' ? expected : JSON.stringify(expected));
  return dir;
}

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, HINDSIGHT_HOME: join(root, 'home') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  expect(existsSync(CLI), 'run npm run build first').toBe(true);
  root = mkdtempSync(join(tmpdir(), 'hindsight-eval-'));
  const t = JSON.parse(run(['trigger', '--bundle', BUNDLE, '--format', 'json']).stdout).trigger;
  expect(t, 'the engine names a trigger on the sample incident').not.toBeNull();
  named = { repo: t.repo, sha: t.sha, deployment_id: t.deployment_id };
});

describe('hindsight eval', () => {
  it('exits 0 when every check passes, and says so trigger first', () => {
    const r = run(['eval', labelled('pass', { trigger: named })]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = r.stdout.trim().split('\n').filter((l) => !l.startsWith('==') && !l.startsWith('   '));
    expect(summary[0]).toBe('trigger decisions: 1/1 right; false blames: 0');
    expect(summary.at(-1)).toMatch(/^incidents: 1; checks: \d+ passed, 0 failed$/);
  });

  it('exits 1 when a check fails: a wrong change named is a false blame', () => {
    const r = run(['eval', labelled('wrong', { trigger: { ...named, sha: 'abcdef0123456789abcdef0123456789abcdef01' } })]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL trigger_top1');
    expect(r.stdout).toContain('trigger decisions: 0/1 right; false blames: 1');
  });

  it('exits 1 when a string that must never appear leaks, even with the trigger right', () => {
    const r = run(['eval', labelled('leak', { trigger: named, must_not_appear: [named.repo] })]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('trigger decisions: 1/1 right; false blames: 0');
    expect(r.stdout).toMatch(/leaks: 1\b/);
  });

  it('a trigger named where none was expected is a false blame (json summary)', () => {
    const r = run(['eval', labelled('none', { trigger: null }), '--format', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.triggers).toEqual({ right: 0, total: 1, false_blames: 1 });
    expect(out.results[0].checks.find((c: { name: string }) => c.name === 'no_false_blame').pass).toBe(false);
  });

  it('a change-event label is right only when the report names that change event', () => {
    const r = run(['eval', labelled('change-event', { trigger: { kind: 'change_event', change_event_id: 'CE-NOT-IN-BUNDLE' } }), '--format', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).triggers.false_blames).toBe(1);
  });

  it('exits 2 with one line naming the JSON path of a label it cannot read', () => {
    const r = run(['eval', labelled('bad', { trigger: { repo: named.repo } })]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/expected\.json: trigger\.sha: required$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const broken = run(['eval', labelled('broken', '{"trigger": ')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/expected\.json: not valid JSON/);
  });
});
