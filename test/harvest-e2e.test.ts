// The whole harvest against loopback fakes of every vendor, fed from the reference bundle
// (examples/sample-incident): the harvested bundle matches it, the post-mortem made from the
// harvest equals the one made from the reference, a source that is down leaves a partial bundle
// whose report says what it could not see, and the CLI works from the environment variables alone.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeBundle, buildReport } from '../src/core/analyze.js';
import { validateBundle, type Bundle } from '../src/core/bundle.js';
import { loadConfig } from '../src/harvest/config.js';
import { harvestIncident } from '../src/harvest/harvest.js';
import { createDatadogFake, type DatadogFake } from './fakes/datadogFake.js';
import { createGithubFake, type GithubFake } from './fakes/githubFake.js';
import { createPagerDutyFake, pagerdutyIncidentFromBundle, type PagerDutyFake } from './fakes/pagerdutyFake.js';
import { createSlackFake, type SlackFake } from './fakes/slackFake.js';
import { vendorEnv } from './helpers/vendorEnv.js';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const reference = validateBundle(JSON.parse(readFileSync(join(ROOT, 'examples/sample-incident/bundle.json'), 'utf8')));
const src = reference.sources!;
const clone = <T>(v: T): T => structuredClone(v);
const TOKENS = { pd: 'pd-token-e2e', slack: 'xoxb-e2e-token', gh: 'ghp_e2eTokenForLoopbackFake000000000000', ddApi: 'dd-api-e2e', ddApp: 'dd-app-e2e' };

let pd: PagerDutyFake;
let slack: SlackFake;
let gh: GithubFake;
let dd: DatadogFake;
let workdir: string;

function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...vendorEnv({ home: join(workdir, 'home'), config: join(workdir, 'hindsight.config.json'), fakes: { pd, slack, gh, dd }, tokens: TOKENS, repos: src.github!.repos!.map((r) => r.full_name) }),
    ...overrides,
  };
}

beforeAll(async () => {
  workdir = mkdtempSync(join(tmpdir(), 'hs-e2e-'));
  pd = await createPagerDutyFake({ token: TOKENS.pd, incident: pagerdutyIncidentFromBundle(reference as never), logEntries: clone(src.pagerduty!.log_entries!), alerts: clone(src.pagerduty!.alerts ?? []), changeEvents: clone(src.pagerduty!.change_events ?? []), pageSize: 3 });
  slack = await createSlackFake({ token: TOKENS.slack, channel: clone(src.slack!.channel) as never, messages: clone(src.slack!.messages) as never, users: clone(src.slack!.users) as never, pageSize: 10 });
  gh = await createGithubFake({ token: TOKENS.gh, repos: clone(src.github!.repos!), pageSize: 2 });
  dd = await createDatadogFake({ apiKey: TOKENS.ddApi, appKey: TOKENS.ddApp, metrics: clone(src.datadog!.metrics!), events: clone(src.datadog!.events ?? []), logs: clone(src.logs) as never, pageSize: 50 });
  writeFileSync(
    join(workdir, 'hindsight.config.json'),
    JSON.stringify({
      services: {
        [reference.incident.service!]: {
          slack_channel: src.slack!.channel!.id,
          datadog: { queries: src.datadog!.metrics!.map((m) => m.expression), logs_query: '*' },
        },
      },
      datadog: { snapshots: 0 },
      windows: { after_resolve_minutes: 60 },
      http: { timeout_ms: 5000, retries: 2 },
    }),
  );
});

afterAll(async () => {
  await Promise.all([pd?.close(), slack?.close(), gh?.close(), dd?.close()]);
});

const comparable = (report: ReturnType<typeof buildReport>) => {
  const { generated_by: _g, data_gaps: _d, redactions: _r, ...rest } = report;
  return rest;
};

describe('full harvest', () => {
  let harvested: Bundle;

  beforeAll(async () => {
    const config = loadConfig(env());
    harvested = (await harvestIncident(reference.incident.id, config)).bundle;
  });

  it('reproduces the reference bundle source by source', () => {
    const h = harvested.sources!;
    expect(harvested.incident.id).toBe(reference.incident.id);
    expect(Date.parse(harvested.incident.created_at)).toBe(Date.parse(reference.incident.created_at));
    expect(harvested.harvest?.errors).toEqual([]);
    expect(h.pagerduty?.log_entries).toEqual(src.pagerduty!.log_entries);
    expect(h.pagerduty?.change_events).toEqual(src.pagerduty!.change_events ?? []);
    expect(h.slack?.messages?.map((m) => m.ts)).toEqual(src.slack!.messages!.map((m) => m.ts).sort());
    expect(h.github?.repos?.map((r) => r.full_name).sort()).toEqual(src.github!.repos!.map((r) => r.full_name).sort());
    for (const repo of src.github!.repos!) {
      const got = h.github!.repos!.find((r) => r.full_name === repo.full_name)!;
      expect(got.deployments!.map((d) => d.id).sort()).toEqual(repo.deployments!.map((d) => d.id).sort());
      expect(got.deployment_commits).toEqual(repo.deployment_commits);
      expect(got.commits!.map((c) => c.sha).sort()).toEqual(repo.commits!.map((c) => c.sha).sort());
    }
    expect(h.datadog?.metrics?.map((m) => m.expression)).toEqual(src.datadog!.metrics!.map((m) => m.expression));
    expect(h.logs?.length).toBe(src.logs!.length);
  });

  it('gives the same post-mortem as the reference bundle', () => {
    const fromHarvest = buildReport(analyzeBundle(harvested));
    const fromReference = buildReport(analyzeBundle(reference));
    expect(comparable(fromHarvest)).toEqual(comparable(fromReference));
  });

  it('goes on without a source that is down and says so in the report', async () => {
    const down = await createDatadogFake({ apiKey: TOKENS.ddApi, appKey: TOKENS.ddApp, faults: { down: true } });
    try {
      const { bundle, sources } = await harvestIncident(reference.incident.id, loadConfig(env({ DATADOG_API_URL: down.url })));
      expect(sources.datadog).toBe('error');
      expect(sources.pagerduty).toBe('ok');
      expect(bundle.sources?.datadog).toBeUndefined();
      expect(bundle.harvest?.errors?.some((e) => e.source === 'datadog' && e.retryable)).toBe(true);
      const report = buildReport(analyzeBundle(bundle));
      expect(report.data_gaps.join('\n')).toMatch(/datadog could not be harvested/);
      expect(report.incident.id).toBe(reference.incident.id);
      expect(report.timeline.some((e) => e.source === 'pagerduty' && e.kind === 'page')).toBe(true);
    } finally {
      await down.close();
    }
  });
});

describe('the CLI from environment variables alone', () => {
  it('postmortem --incident equals postmortem --bundle of the reference', async () => {
    const live = await run(process.execPath, [CLI, 'postmortem', '--incident', reference.incident.id, '--format', 'json', '--no-store'], { env: env(), maxBuffer: 64 << 20 });
    const file = await run(process.execPath, [CLI, 'postmortem', '--bundle', join(ROOT, 'examples/sample-incident/bundle.json'), '--format', 'json', '--no-store'], { env: env(), maxBuffer: 64 << 20 });
    expect(comparable(JSON.parse(live.stdout))).toEqual(comparable(JSON.parse(file.stdout)));
    for (const token of Object.values(TOKENS)) expect(live.stderr).not.toContain(token);
  });

  it('harvest --redact writes a bundle with no secret and no person in it', async () => {
    const out = join(workdir, 'shared.json');
    await run(process.execPath, [CLI, 'harvest', '--incident', reference.incident.id, '--out', out, '--redact'], { env: env() });
    const text = readFileSync(out, 'utf8');
    validateBundle(JSON.parse(text));
    const expected = JSON.parse(readFileSync(join(ROOT, 'examples/sample-incident/expected.json'), 'utf8')) as { must_not_appear: string[] };
    for (const s of expected.must_not_appear) expect(text.toLowerCase()).not.toContain(s.toLowerCase());
  });

  it('doctor shows a bad token without printing it, and exits 1', async () => {
    const bad = 'pd-wrong-token-123456';
    const err = await run(process.execPath, [CLI, 'doctor'], { env: env({ PAGERDUTY_TOKEN: bad }) }).then(
      () => null,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    const table = err!.stdout;
    expect(table).toMatch(/pagerduty\s+yes\s+yes\s+NO/);
    expect(table).toMatch(/slack\s+yes\s+yes\s+yes/);
    expect(table).toMatch(/newrelic\s+no/);
    expect(table + err!.stderr).not.toContain(bad);
  });

  it('doctor exits 0 when every configured source is healthy', async () => {
    const ok = await run(process.execPath, [CLI, 'doctor', '--format', 'json'], { env: env() });
    const checks = JSON.parse(ok.stdout).checks as Array<{ source: string; configured: boolean; authorized: boolean | null }>;
    expect(checks.filter((c) => c.configured).map((c) => c.source).sort()).toEqual(['datadog', 'github', 'pagerduty', 'slack']);
    expect(checks.filter((c) => c.configured).every((c) => c.authorized === true)).toBe(true);
  });

  it('a bad config file is one clear line and exit 2', async () => {
    writeFileSync(join(workdir, 'bad.config.json'), JSON.stringify({ services: { x: { repos: ['not-a-repo'] } } }));
    const err = await run(process.execPath, [CLI, 'doctor', '--config', join(workdir, 'bad.config.json')], { env: env() }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err!.stderr.trim()).toMatch(/bad\.config\.json: services\.x\.repos\[0\]: must be owner\/name$/);
  });
});
