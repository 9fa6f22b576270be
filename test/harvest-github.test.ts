// The GitHub source against a loopback GitHub (test/fakes/githubFake.ts), with the real Octokit
// client: the reference bundle's repositories come back as harvested, pagination, rate limits,
// failures, doctor, patch caps and the workflow-run fallback.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { validateBundle } from '../src/core/bundle.js';
import { checkGithub, harvestGithub } from '../src/harvest/sources/github.js';
import type { HarvestCaps, HarvestContext, HttpPolicy } from '../src/harvest/types.js';
import { DEFAULT_CAPS } from '../src/harvest/config.js';
import { createGithubFake, type GithubFake, type GithubFakeOptions } from './fakes/githubFake.js';

type Json = Record<string, any>;

const TOKEN = 'ghp_fakeTokenForHindsightTests0000000001';
const reference = JSON.parse(readFileSync(new URL('../examples/sample-incident/bundle.json', import.meta.url), 'utf8')) as Json;
const refRepos = reference.sources.github.repos as Json[];
const refNames = refRepos.map((r) => r.full_name as string);

const HTTP: HttpPolicy = { timeoutMs: 2000, retries: 2, baseDelayMs: 20, maxDelayMs: 200 };
const CAPS: HarvestCaps = { ...DEFAULT_CAPS };

function context(over: { deployWindow?: { fromMs: number; toMs: number }; caps?: Partial<HarvestCaps>; http?: Partial<HttpPolicy>; log?: (m: string) => void } = {}): HarvestContext {
  const created = Date.parse(reference.incident.created_at);
  const resolved = Date.parse(reference.incident.resolved_at);
  return {
    incident: {
      id: reference.incident.id,
      source: 'pagerduty',
      number: reference.incident.incident_number,
      title: reference.incident.title,
      service: reference.incident.service,
      severity: reference.incident.severity,
      urgency: reference.incident.urgency,
      status: reference.incident.status,
      createdAt: reference.incident.created_at,
      acknowledgedAt: reference.incident.acknowledged_at,
      resolvedAt: reference.incident.resolved_at,
      url: reference.incident.url,
      raw: reference.incident,
    },
    window: { fromMs: created - 6 * 3600_000, toMs: resolved + 30 * 60_000 },
    // 72 h back from the page, 30 min after resolution: covers every reference deployment
    deployWindow: over.deployWindow ?? { fromMs: created - 72 * 3600_000, toMs: resolved + 30 * 60_000 },
    caps: { ...CAPS, ...over.caps },
    http: { ...HTTP, ...over.http },
    service: null,
    log: over.log ?? (() => {}),
  };
}

let fakes: GithubFake[] = [];
async function fake(options: Partial<GithubFakeOptions> = {}): Promise<GithubFake> {
  const f = await createGithubFake({ token: TOKEN, repos: refRepos, ...options });
  fakes.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

const creds = (f: GithubFake, token = TOKEN) => ({ token, apiUrl: f.url });
const byId = (a: Json, b: Json) => Number(a.id) - Number(b.id);
const deploymentView = (d: Json) => ({ id: d.id, sha: d.sha, ref: d.ref, environment: d.environment, created_at: d.created_at, statuses: d.statuses });
const commitView = (c: Json) => ({ sha: c.sha, message: c.commit.message, files: (c.files as Json[]).map((f) => ({ filename: f.filename, patch: f.patch })) });
const bySha = (a: { sha?: unknown }, b: { sha?: unknown }) => String(a.sha).localeCompare(String(b.sha));
const isNewestFirst = (ds: Json[]) => ds.every((d, i) => i === 0 || Date.parse(ds[i - 1]!.created_at) >= Date.parse(d.created_at));

// ---- synthetic history for pagination, rollbacks and the workflow fallback ------------------

const sha = (n: number | string) => String(n).padStart(2, '0').repeat(20);
const DAY = 86_400_000;
const T0 = Date.parse('2024-11-14T18:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function commit(n: number, parent: number | null): Json {
  return {
    sha: sha(n),
    commit: { message: `change ${n}`, author: { name: 'Dev', email: 'dev@example.invalid', date: iso(T0 - DAY) }, committer: { name: 'GitHub', email: 'noreply@github.com', date: iso(T0 - DAY + n * 60_000) } },
    author: { login: 'dev', type: 'User' },
    parents: parent === null ? [] : [{ sha: sha(parent) }],
    files: [{ filename: `src/f${n}.ts`, status: 'modified', additions: 1, deletions: 1, changes: 2, patch: `@@ -1 +1 @@\n-old ${n}\n+new ${n}` }],
  };
}

function deployment(id: number, shaN: number, atMs: number, environment = 'production', states: string[] = ['success', 'in_progress']): Json {
  return {
    id,
    sha: sha(shaN),
    ref: `v${id}`,
    task: 'deploy',
    environment,
    payload: {},
    description: `deploy ${id}`,
    creator: { login: 'ship-bot', type: 'Bot' },
    created_at: iso(atMs),
    updated_at: iso(atMs + 60_000),
    // newest first, as GitHub lists them
    statuses: states.map((state, i) => ({ id: id * 10 + (states.length - i), state, created_at: iso(atMs + (states.length - i) * 30_000), description: state })),
  };
}

/**
 * production: D100(s0) D101(s1) D102(s2) | window | D103(s4) D104(s5) D105(s4 rollback) D106(s7) D108(s8)
 * staging:    D107(s7)
 */
function syntheticRepo(): Json {
  return {
    full_name: 'acme/shop',
    deployments: [
      deployment(100, 0, T0 - 6 * DAY),
      deployment(101, 1, T0 - 5 * DAY),
      deployment(102, 2, T0 - 4 * DAY),
      deployment(103, 4, T0 - 3 * 3600_000),
      deployment(104, 5, T0 - 2 * 3600_000),
      deployment(105, 4, T0 - 90 * 60_000),
      deployment(106, 7, T0 - 60 * 60_000),
      deployment(107, 7, T0 - 50 * 60_000, 'staging'),
      deployment(108, 8, T0 - 40 * 60_000, 'production', ['success', 'in_progress', 'queued']),
    ],
    commits: [commit(0, null), commit(1, 0), commit(2, 1), commit(3, 2), commit(4, 3), commit(5, 4), commit(6, 5), commit(7, 6), commit(8, 7)],
  };
}
const syntheticWindow = { fromMs: T0 - 2 * DAY, toMs: T0 + DAY };

describe('GitHub harvest against a loopback GitHub', () => {
  it('(a) harvests the reference repositories exactly as the reference bundle holds them', async () => {
    const f = await fake();
    const out = await harvestGithub(creds(f), context(), { repos: refNames });
    expect(out.errors).toEqual([]);
    expect(out.truncated).toEqual([]);
    const repos = out.data!.repos as Json[];
    expect(repos.map((r) => r.full_name)).toEqual(refNames);
    for (const ref of refRepos) {
      const got = repos.find((r) => r.full_name === ref.full_name)!;
      expect(isNewestFirst(got.deployments)).toBe(true);
      expect((got.deployments as Json[]).map(deploymentView).sort(byId)).toEqual((ref.deployments as Json[]).map(deploymentView).sort(byId));
      for (const d of got.deployments as Json[]) {
        expect(d.description).toBe((ref.deployments as Json[]).find((x) => x.id === d.id)!.description);
        expect(d.creator).toEqual((ref.deployments as Json[]).find((x) => x.id === d.id)!.creator);
      }
      expect((got.commits as Json[]).map(commitView).sort(bySha)).toEqual((ref.commits as Json[]).map(commitView).sort(bySha));
      // the whole vendor object comes back, not just the fields compared above
      expect((got.commits as Json[]).slice().sort(bySha)).toEqual((ref.commits as Json[]).slice().sort(bySha));
      expect(got.deployment_commits).toEqual(ref.deployment_commits);
    }
    // and it is a valid bundle section
    expect(() => validateBundle({ bundle_version: 1, incident: reference.incident, sources: { github: out.data } })).not.toThrow();
    // every request authenticated, none carried anything but the token scheme
    expect(f.requests.every((r) => /^(token|bearer) /i.test(r.authorization ?? ''))).toBe(true);
  });

  it('(b) pages through deployments and statuses, stops past the window, compares per environment', async () => {
    const f = await fake({ repos: [syntheticRepo()], pageSize: 2 });
    const out = await harvestGithub(creds(f), context({ deployWindow: syntheticWindow }), { repos: ['acme/shop'] });
    expect(out.errors).toEqual([]);
    const repo = (out.data!.repos as Json[])[0]!;
    expect((repo.deployments as Json[]).map((d) => d.id)).toEqual([108, 107, 106, 105, 104, 103]);

    const listPages = f.requests.filter((r) => r.pathname === '/repos/acme/shop/deployments').map((r) => r.query.page ?? '1');
    // newest first, two a page: page 4 holds D102 (before the window), so page 5 (D100) is never read
    expect(listPages).toEqual(['1', '2', '3', '4']);
    expect(f.requests.filter((r) => r.pathname === '/repos/acme/shop/deployments/108/statuses').length).toBe(2);
    expect((repo.deployments as Json[])[0]!.statuses.map((s: Json) => s.state)).toEqual(['success', 'in_progress', 'queued']);

    expect(repo.deployment_commits).toEqual({
      '103': [sha(3), sha(4)], // oldest in the window: compared with D102, outside it
      '104': [sha(5)],
      '105': [], // rollback to s4
      '106': [sha(5), sha(6), sha(7)], // after the rollback, s5 ships again
      '107': [sha(7)], // first staging deployment: its own sha
      '108': [sha(8)],
    });
    expect((repo.commits as Json[]).map((c) => c.sha)).toEqual([3, 4, 5, 6, 7, 8].map(sha));
  });

  it('(b2) caps deployments per repository and commits per deployment, with truncation entries', async () => {
    const f = await fake({ repos: [syntheticRepo()], pageSize: 2 });
    const out = await harvestGithub(creds(f), context({ deployWindow: syntheticWindow, caps: { deploymentsPerRepo: 4, commitsPerDeployment: 2 } }), { repos: ['acme/shop'] });
    const repo = (out.data!.repos as Json[])[0]!;
    expect((repo.deployments as Json[]).map((d) => d.id)).toEqual([108, 107, 106, 105]);
    // D106 shipped three commits: the newest two are kept
    expect(repo.deployment_commits['106']).toEqual([sha(6), sha(7)]);
    expect(out.truncated).toEqual(
      expect.arrayContaining([
        { source: 'github', what: 'deployments of acme/shop', kept: 4, total: 6 },
        { source: 'github', what: 'commits of deployment 106 (acme/shop)', kept: 2, total: 3 },
      ]),
    );
  });

  it('(b3) a failed rollout is not the baseline: its retry ships the commits', async () => {
    const repo = {
      full_name: 'acme/retry',
      deployments: [deployment(1, 1, T0 - 3 * 3600_000), deployment(2, 3, T0 - 2 * 3600_000, 'production', ['failure', 'in_progress']), deployment(3, 3, T0 - 3600_000)],
      commits: [commit(1, null), commit(2, 1), commit(3, 2)],
    };
    const f = await fake({ repos: [repo] });
    const out = await harvestGithub(creds(f), context({ deployWindow: syntheticWindow }), { repos: ['acme/retry'] });
    expect((out.data!.repos as Json[])[0]!.deployment_commits).toEqual({ '1': [sha(1)], '2': [sha(2), sha(3)], '3': [sha(2), sha(3)] });
  });

  it('(c) 429 then success: waits for Retry-After', async () => {
    const f = await fake({ faults: [{ kind: 'rate-limit-429', path: '/repos/fernhill/inventory-api/deployments?', times: 1 }] });
    const out = await harvestGithub(creds(f), context(), { repos: ['fernhill/inventory-api'] });
    expect(out.errors).toEqual([]);
    expect((out.data!.repos as Json[])[0]!.deployments).toHaveLength(3);
    const list = f.requests.filter((r) => r.pathname === '/repos/fernhill/inventory-api/deployments');
    expect(list.map((r) => r.status)).toEqual([429, 200]);
    // retry-after: 1 (the policy's own backoff is 20 ms, so only the header explains the gap)
    expect(list[1]!.at - list[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('(c2) 403 with x-ratelimit-remaining 0: waits for x-ratelimit-reset', async () => {
    const f = await fake({ faults: [{ kind: 'rate-limit-403', path: '/commits/', times: 1, seconds: 1 }] });
    const out = await harvestGithub(creds(f), context(), { repos: ['fernhill/platform-config'] });
    expect(out.errors).toEqual([]);
    const calls = f.requests.filter((r) => r.pathname.includes('/commits/'));
    expect(calls.map((r) => r.status)).toEqual([403, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('(c4) a rate limit that resets an hour away is reported at once, as retryable later', async () => {
    const f = await fake({ faults: [{ kind: 'rate-limit-403', seconds: 3600 }] });
    const out = await harvestGithub(creds(f), context(), { repos: ['fernhill/inventory-api'] });
    expect(f.requests).toHaveLength(1);
    expect(out.data).toBeNull();
    expect(out.errors).toEqual([expect.objectContaining({ source: 'github', retryable: true })]);
    expect(out.errors[0]!.message).toMatch(/rate limited: API rate limit exceeded.*resets at \d{4}-/);
  });

  it('(c3) 5xx is retried with backoff; exhausted retries become a retryable error for that call', async () => {
    const f = await fake({ faults: [{ kind: 'server-error', status: 502, path: '/statuses', times: 2 }] });
    const out = await harvestGithub(creds(f), context(), { repos: ['fernhill/platform-config'] });
    expect(out.errors).toEqual([]);
    expect(f.requests.filter((r) => r.pathname.endsWith('/statuses')).map((r) => r.status)).toEqual([502, 502, 200]);

    const g = await fake({ faults: [{ kind: 'server-error', status: 503, path: '/commits/' }] });
    const out2 = await harvestGithub(creds(g), context(), { repos: ['fernhill/platform-config'] });
    const repo = (out2.data!.repos as Json[])[0]!;
    expect(repo.deployments).toHaveLength(1);
    expect(repo.commits).toEqual([]);
    expect(out2.errors).toHaveLength(1);
    expect(out2.errors[0]).toMatchObject({ source: 'github', retryable: true });
    expect(out2.errors[0]!.message).toMatch(/fernhill\/platform-config: commit .*503/);
  });

  it('(d) one repository 404 is an error entry for it alone; the others are harvested', async () => {
    const f = await fake();
    const out = await harvestGithub(creds(f), context(), { repos: ['fernhill/inventory-api', 'fernhill/no-such-repo', 'fernhill/trailhead-web'] });
    expect((out.data!.repos as Json[]).map((r) => r.full_name)).toEqual(['fernhill/inventory-api', 'fernhill/trailhead-web']);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ source: 'github', retryable: false });
    expect(out.errors[0]!.message).toMatch(/^fernhill\/no-such-repo: .*404/);
    // a 404 is not retried
    expect(f.requests.filter((r) => r.pathname.startsWith('/repos/fernhill/no-such-repo')).length).toBe(1);
  });

  it('(e) GitHub down: no data, retryable errors, no throw', async () => {
    const f = await fake({ faults: [{ kind: 'down' }] });
    const out = await harvestGithub(creds(f), context(), { repos: refNames });
    expect(out.data === null || (out.data.repos as unknown[]).length === 0).toBe(true);
    expect(out.errors).toHaveLength(refNames.length);
    expect(out.errors.every((e) => e.retryable && e.source === 'github')).toBe(true);
    // each call was tried 1 + retries times
    expect(f.requests.length).toBe(refNames.length * (HTTP.retries + 1));

    // nothing listening at all
    const g = await fake();
    const url = g.url;
    await g.close();
    const out2 = await harvestGithub({ token: TOKEN, apiUrl: url }, context(), { repos: ['fernhill/inventory-api'] });
    expect(out2.data).toBeNull();
    expect(out2.errors).toEqual([expect.objectContaining({ source: 'github', retryable: true })]);
    expect(out2.errors[0]!.message).toMatch(/network error/);
  });

  it('(e2) a hanging GitHub times out per attempt and is reported as retryable', async () => {
    const f = await fake({ faults: [{ kind: 'hang' }] });
    const out = await harvestGithub(creds(f), context({ http: { timeoutMs: 300, retries: 1 } }), { repos: ['fernhill/inventory-api'] });
    expect(out.data).toBeNull();
    expect(out.errors).toEqual([expect.objectContaining({ source: 'github', retryable: true })]);
    expect(out.errors[0]!.message).toMatch(/timed out/);
    expect(f.requests.length).toBe(2);
  });

  it('(f) doctor: bad token is authorized false, with no token text anywhere', async () => {
    const f = await fake();
    const bad = await checkGithub(creds(f, 'ghp_wrongwrongwrongwrong'), HTTP, refNames);
    expect(bad).toMatchObject({ source: 'github', configured: true, reachable: true, authorized: false });
    expect(JSON.stringify(bad)).not.toContain('ghp_wrong');

    const good = await checkGithub(creds(f), HTTP, [...refNames, 'fernhill/no-such-repo']);
    expect(good).toMatchObject({ reachable: true, authorized: true });
    expect(good.missing).toEqual(['deployments:read on fernhill/no-such-repo', 'contents:read on fernhill/no-such-repo']);
    expect(JSON.stringify(good)).not.toContain(TOKEN);

    const ok = await checkGithub(creds(f), HTTP, refNames);
    expect(ok).toMatchObject({ reachable: true, authorized: true, missing: [] });

    const classic = await fake({ scopes: ['read:org'] });
    const c = await checkGithub(creds(classic), HTTP, ['fernhill/no-such-repo']);
    expect(c.missing).toEqual(['repo']);
    expect(c.detail).toContain('classic token');

    const down = await fake({ faults: [{ kind: 'down' }] });
    expect(await checkGithub(creds(down), HTTP, refNames)).toMatchObject({ reachable: false, authorized: null });

    // the harvest itself with a bad token: one non-retryable 401 per repository, no token text
    const out = await harvestGithub(creds(f, 'ghp_wrongwrongwrongwrong'), context(), { repos: ['fernhill/inventory-api'] });
    expect(out.data).toBeNull();
    expect(out.errors).toEqual([expect.objectContaining({ retryable: false })]);
    expect(out.errors[0]!.message).toMatch(/401.*Bad credentials/);
    expect(JSON.stringify(out)).not.toContain('ghp_wrong');
  });

  it('(g) a patch above the cap is cut with a marker; shorter ones are untouched', async () => {
    const f = await fake();
    const cap = 200;
    const out = await harvestGithub(creds(f), context({ caps: { patchChars: cap } }), { repos: ['fernhill/inventory-api'] });
    const got = (out.data!.repos as Json[])[0]!;
    const ref = refRepos.find((r) => r.full_name === 'fernhill/inventory-api')!;
    let cut = 0;
    for (const c of ref.commits as Json[]) {
      const h = (got.commits as Json[]).find((x) => x.sha === c.sha)!;
      (c.files as Json[]).forEach((file, i) => {
        const patch = h.files[i].patch as string;
        if (file.patch.length <= cap) {
          expect(patch).toBe(file.patch);
        } else {
          cut += 1;
          expect(patch).toBe(`${file.patch.slice(0, cap)}\n… [patch truncated by hindsight: ${file.patch.length - cap} more characters]`);
        }
      });
    }
    expect(cut).toBeGreaterThan(0);
    expect(out.truncated).toEqual([expect.objectContaining({ source: 'github', kept: cut * cap })]);
  });

  it('(h) workflow runs stand in for deployments when a repository has none', async () => {
    const run = (id: number, shaN: number, atMs: number, conclusion: string | null, status = 'completed') => ({
      id,
      name: 'Deploy',
      display_title: `Deploy change ${shaN}`,
      head_branch: 'main',
      head_sha: sha(shaN),
      run_number: id,
      event: 'push',
      status,
      conclusion,
      workflow_id: 777,
      created_at: iso(atMs),
      run_started_at: iso(atMs + 5_000),
      updated_at: iso(atMs + 300_000),
      actor: { login: 'dev', id: 9, type: 'User' },
      html_url: `https://github.com/acme/actions-only/actions/runs/${id}`,
    });
    const repo = { full_name: 'acme/actions-only', deployments: [], commits: [commit(1, null), commit(2, 1), commit(3, 2), commit(4, 3), commit(5, 4)] };
    const f = await fake({
      repos: [...refRepos, repo],
      workflowRuns: {
        'acme/actions-only': {
          'deploy.yml': [
            run(900, 1, T0 - 3 * DAY, 'success'), // before the window: the baseline
            run(901, 3, T0 - 3 * 3600_000, 'success'),
            run(902, 4, T0 - 2 * 3600_000, 'failure'),
            run(903, 4, T0 - 3600_000, 'success'), // retry of the failed run
            run(904, 5, T0 - 30 * 60_000, null, 'in_progress'), // not completed: not a deployment
          ],
        },
      },
    });
    const out = await harvestGithub(creds(f), context({ deployWindow: syntheticWindow }), { repos: ['fernhill/inventory-api', 'acme/actions-only'], deployWorkflow: 'deploy.yml' });
    expect(out.errors).toEqual([]);
    const [inventory, actions] = out.data!.repos as Json[];
    // a repository with deployments never looks at workflow runs
    expect(inventory!.deployments).toHaveLength(3);
    expect(f.requests.some((r) => r.pathname.startsWith('/repos/fernhill/inventory-api/actions'))).toBe(false);

    expect(actions!.deployments).toEqual([
      {
        id: 903,
        sha: sha(4),
        ref: 'main',
        environment: 'production',
        created_at: iso(T0 - 3600_000 + 5_000),
        description: 'Deploy change 4',
        creator: { login: 'dev', type: 'User' },
        statuses: [{ state: 'success', created_at: iso(T0 - 3600_000 + 300_000), description: 'workflow run success' }],
        source: 'actions',
      },
      expect.objectContaining({ id: 902, statuses: [{ state: 'failure', created_at: iso(T0 - 2 * 3600_000 + 300_000), description: 'workflow run failure' }] }),
      expect.objectContaining({ id: 901, sha: sha(3) }),
    ]);
    expect(actions!.deployment_commits).toEqual({ '901': [sha(2), sha(3)], '902': [sha(4)], '903': [sha(4)] });
    expect((actions!.commits as Json[]).map((c) => c.sha)).toEqual([2, 3, 4].map(sha));
    const runsQuery = f.requests.find((r) => r.pathname === '/repos/acme/actions-only/actions/workflows/deploy.yml/runs')!.query;
    expect(runsQuery).toMatchObject({ status: 'completed', created: `>=${new Date(syntheticWindow.fromMs).toISOString()}` });
    expect(() => validateBundle({ bundle_version: 1, incident: reference.incident, sources: { github: out.data } })).not.toThrow();
  });
});
