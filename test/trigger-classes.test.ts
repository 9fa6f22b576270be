// Trigger decisions by class of incident, each tried with several surface forms (names, repos,
// environments) so that a rule serving only one spelling fails here.
import { describe, expect, it } from 'vitest';
import { postmortem } from '../src/core/analyze.js';
import { renderMarkdown } from '../src/core/markdown.js';
import type { Bundle } from '../src/core/bundle.js';
import { generateIncident, FAMILY_NAMES, NO_CHANGE_FAMILIES } from './families/index.js';
import { at, buildIncident, DOCS_PATCH, sha, type DeploySpec, type IncidentSpec } from './helpers/incidentBuilder.js';

const incident = (service: string, errorLog: string, deployments: DeploySpec[], extra: Partial<IncidentSpec> = {}): IncidentSpec => ({
  service,
  errorOnset: 0,
  pageAt: 3,
  resolveAt: 40,
  errorLog,
  deployments,
  ...extra,
});

const docs = (repo: string, id: number, finishedAt: number): DeploySpec => ({
  repo,
  id,
  finishedAt,
  commits: [{ sha: sha(`docs-${repo}-${id}`), message: 'docs: typo', files: [{ filename: 'README.md', patch: DOCS_PATCH }] }],
});

function withChangeEvents(bundle: Bundle, events: unknown[]): Bundle {
  const b = bundle as Record<string, any>;
  b.sources.pagerduty = { ...(b.sources.pagerduty ?? {}), change_events: events };
  return bundle;
}

describe('changes from another repository, linked by content', () => {
  for (const [org, rulesRepo, service, rule] of [
    ['acme', 'acme/edge-rules', 'checkout-api', 'block-legacy-clients-v2'],
    ['globex', 'globex/waf-policies', 'search-web', 'deny_bulk_export_4'],
    ['initech', 'initech/routing', 'ledger', 'route-eu-canary-17'],
  ] as const) {
    it(`convicts a rules push in ${rulesRepo} whose new rule the errors quote (${service})`, () => {
      const push: DeploySpec = {
        repo: rulesRepo,
        id: 7001,
        finishedAt: -4,
        environment: 'global',
        commits: [{ sha: sha(`rule-${rule}`), message: `Add ${rule}`, files: [{ filename: 'rules/edge.yaml', patch: `@@ -10,0 +10,4 @@\n+- id: ${rule}\n+  action: block\n+  match:\n+    path_prefix: /v1/` }] }],
      };
      const own = docs(`${org}/${service}`, 7002, -1);
      const report = postmortem(buildIncident(incident(service, `403 Forbidden from edge: request blocked by rule ${rule} (path=/v1/items {n})`, [push, own])));
      expect(report.trigger).toMatchObject({ repo: rulesRepo, deployment_id: 7001 });
      expect(report.trigger!.evidence.join('\n')).toContain(rule);
    });
  }
});

describe('environments', () => {
  const pool: DeploySpec['commits'] = [{ sha: sha('pool'), message: 'Lower pool size', files: [{ filename: 'config/db.yaml', patch: '@@ -1,2 +1,2 @@\n database:\n-  max_connections: 80\n+  max_connections: 8' }] }];
  for (const env of ['global', 'edge', 'all', 'live', 'prod-eu', 'us-east-1', 'eu-west-3']) {
    it(`a deployment to "${env}" can be the trigger`, () => {
      const report = postmortem(buildIncident(incident('orders-api', 'DB_CONNECTION_ERROR: pool exhausted (8/8) {n}', [{ repo: 'acme/orders-api', id: 11, finishedAt: -2, environment: env, commits: pool }])));
      expect(report.trigger?.deployment_id).toBe(11);
    });
  }
  for (const env of ['staging', 'dev', 'qa', 'preview', 'pr-482', 'sandbox', 'pre-prod']) {
    it(`a deployment to "${env}" is never the trigger`, () => {
      const report = postmortem(buildIncident(incident('orders-api', 'DB_CONNECTION_ERROR: pool exhausted (8/8) {n}', [{ repo: 'acme/orders-api', id: 12, finishedAt: -2, environment: env, commits: pool }])));
      expect(report.trigger).toBeNull();
      expect(report.candidates[0]!.reasons.join(' ')).toMatch(/does not serve production/);
    });
  }
});

describe('change events recorded outside git deployments', () => {
  for (const [tool, flag, service] of [
    ['LaunchDarkly', 'new-pricing-engine', 'quotes-api'],
    ['Statsig', 'bulk_refunds_v2', 'refunds'],
  ] as const) {
    it(`a ${tool} flag change the errors name is the trigger, with no SHA`, () => {
      const bundle = withChangeEvents(buildIncident(incident(service, `TypeError: cannot read 'tiers' of undefined [flag=${flag}] {n}`, [docs(`acme/${service}`, 31, -1)])), [
        { id: 'CE-FLAG-1', timestamp: at(-6), summary: `Flag "${flag}" turned on for ${service}`, type: 'change_event', services: [{ id: 'P1', summary: service }], integration: { summary: tool }, custom_details: {} },
        { id: 'CE-OTHER', timestamp: at(-2), summary: 'Flag "holiday-banner" turned on for storefront', type: 'change_event', services: [{ id: 'P2', summary: 'storefront' }], integration: { summary: tool }, custom_details: {} },
      ]);
      const report = postmortem(bundle);
      expect(report.trigger).toMatchObject({ kind: 'change_event', change_event_id: 'CE-FLAG-1', sha: null, deployment_id: null });
      expect(report.candidates.find((c) => c.change_event_id === 'CE-OTHER')!.role).toBe('ruled_out');
      expect(report.timeline.some((e) => e.kind === 'config_change' && e.ref === 'pagerduty-change-event:CE-FLAG-1')).toBe(true);
    });
  }

  it('a change event that records a GitHub deployment is not a second candidate', () => {
    const culprit = sha('pool-echo');
    const deploy: DeploySpec = { repo: 'acme/billing', id: 41, finishedAt: -2, commits: [{ sha: culprit, message: 'Lower pool', files: [{ filename: 'config/db.yaml', patch: '@@ -1,2 +1,2 @@\n db:\n-  pool_size: 50\n+  pool_size: 5' }] }] };
    const bundle = withChangeEvents(buildIncident(incident('billing', 'pool exhausted (5/5) waiting for connection {n}', [deploy])), [
      { id: 'CE-ECHO', timestamp: at(-2), summary: 'Deployed billing', links: [{ href: `https://github.com/acme/billing/commit/${culprit}`, text: 'commit' }], custom_details: {} },
    ]);
    const report = postmortem(bundle);
    expect(report.candidates.filter((c) => c.change_event_id === 'CE-ECHO')).toHaveLength(0);
    expect(report.trigger).toMatchObject({ repo: 'acme/billing', sha: culprit });
    expect(report.trigger!.evidence.join('\n')).toMatch(/also recorded as PagerDuty change event CE-ECHO/);
  });
});

describe('trigger versus latent defect', () => {
  for (const [dataRepo, dataFile, codeFile, key] of [
    ['acme/pricing-rules', 'rules/tiers.json', 'src/pricing/tierEvaluator.ts', 'platinum_plus'],
    ['acme/policy-data', 'policies/regions.yaml', 'src/policy/regionMatcher.ts', 'eu_sovereign_3'],
  ] as const) {
    it(`the recent ${dataRepo} push is the trigger; the code it exercised, shipped days earlier, is the latent defect`, () => {
      const code: DeploySpec = {
        repo: 'acme/checkout',
        id: 51,
        finishedAt: -3 * 24 * 60,
        commits: [{ sha: sha(`code-${key}`), message: 'Evaluate rules server-side', files: [{ filename: codeFile, patch: `@@ -0,0 +1,3 @@\n+export function evaluate(rule) {\n+  return rule.conditions.every((c) => c.operator(c.value));\n+}` }] }],
      };
      const push: DeploySpec = {
        repo: dataRepo,
        id: 52,
        finishedAt: -5,
        commits: [{ sha: sha(`data-${key}`), message: `Publish ${key}`, files: [{ filename: dataFile, patch: `@@ -3,0 +3,2 @@\n+- id: ${key}\n+  conditions: []` }] }],
      };
      const errorLog = `TypeError: Cannot read properties of undefined (reading 'operator') while evaluating ${key} {n}\n    at evaluate (${codeFile}:2:40)`;
      const report = postmortem(buildIncident(incident('checkout', errorLog, [code, push])));
      expect(report.trigger).toMatchObject({ repo: dataRepo, deployment_id: 52 });
      const latent = report.candidates.find((c) => c.deployment_id === 51)!;
      expect(latent.role).toBe('latent_defect');
      expect(report.root_cause).toMatch(/latent defect/);
      expect(report.root_cause).toContain('deployment 51');
    });
  }
});

describe('indirect links and delayed onsets', () => {
  it('a dependency bump whose library the stack traces run through (Python spells it with underscores)', () => {
    const bump: DeploySpec = {
      repo: 'acme/catalog',
      id: 61,
      finishedAt: -9,
      commits: [{ sha: sha('bump'), message: 'chore(deps): bump fetchlet-http', files: [{ filename: 'requirements.txt', patch: '@@ -4,1 +4,1 @@\n-fetchlet-http==2.4.0\n+fetchlet-http==3.0.1' }] }],
    };
    const errorLog = 'Traceback (most recent call last):\n  File "/usr/lib/python3.11/site-packages/fetchlet_http/pool.py", line 88, in get\nFetchletError: connect timeout after 1000ms {n}';
    const report = postmortem(buildIncident(incident('catalog', errorLog, [bump, docs('acme/catalog', 62, -1)])));
    expect(report.trigger).toMatchObject({ repo: 'acme/catalog', deployment_id: 61 });
    expect(report.trigger!.evidence.join('\n')).toMatch(/fetchlet-http from 2\.4\.0 to 3\.0\.1/);
  });

  it('a migration that locks the table the errors wait on', () => {
    const migration: DeploySpec = {
      repo: 'acme/db-migrations',
      id: 71,
      finishedAt: -2,
      commits: [{ sha: sha('mig'), message: 'db: add column', files: [{ filename: 'migrations/20250304_add_region.sql', patch: "@@ -0,0 +1,1 @@\n+ALTER TABLE shipments ADD COLUMN region varchar(8) NOT NULL DEFAULT 'eu';" }] }],
    };
    const errorLog = 'ERROR: canceling statement due to lock timeout {n}\nSTATEMENT: UPDATE shipments SET status = $1 WHERE id = $2';
    const report = postmortem(buildIncident(incident('shipping-api', errorLog, [migration, docs('acme/shipping-api', 72, -1)])));
    expect(report.trigger).toMatchObject({ repo: 'acme/db-migrations', deployment_id: 71 });
  });

  it('a DNS record change the errors name as the unresolvable host', () => {
    const zone: DeploySpec = {
      repo: 'acme/dns-zones',
      id: 81,
      finishedAt: -6,
      environment: 'global',
      commits: [{ sha: sha('dns'), message: 'dns: move ledger to new LB', files: [{ filename: 'zones/acme.dev.zone', patch: '@@ -12,1 +12,1 @@\n-ledger 300 IN CNAME ledger-lb-1.elb.example.com.\n+ledger 300 IN CNAME ledger-lb-2.elb.example.com.' }] }],
    };
    const errorLog = 'dial tcp: lookup ledger.acme.dev on 10.0.0.2:53: no such host {n}';
    const report = postmortem(buildIncident(incident('payments', errorLog, [zone, docs('acme/payments', 82, -1)])));
    expect(report.trigger).toMatchObject({ repo: 'acme/dns-zones', deployment_id: 81 });
  });

  it('a job the change schedules for the minute the failure began, hours after the deploy', () => {
    const cron: DeploySpec = {
      repo: 'acme/reports',
      id: 91,
      finishedAt: -150,
      commits: [{ sha: sha('cron'), message: 'Add nightly export', files: [{ filename: 'k8s/cron.yaml', patch: '@@ -1,0 +1,3 @@\n+- name: full-export\n+  schedule: "0 10 * * *"\n+  command: ["bin/export", "--all"]' }] }],
    };
    const report = postmortem(buildIncident(incident('reports', 'timed out acquiring a database connection {n}', [cron, docs('acme/reports', 92, -3)])));
    expect(report.trigger).toMatchObject({ deployment_id: 91 });
    expect(report.trigger!.evidence.join('\n')).toMatch(/schedules a job .* fires at 10:00 UTC/);
  });

  it('a deploy of the upstream service the errors name, rolled back before recovery (cascade)', () => {
    const upstream: DeploySpec = {
      repo: 'acme/inventory-svc',
      id: 101,
      finishedAt: -7,
      commits: [{ sha: sha('inv'), message: 'Return 404 for archived items', files: [{ filename: 'src/routes/items.ts', patch: '@@ -5,1 +5,2 @@\n-  return item;\n+  if (item.archived) throw new NotFound();\n+  return item;' }] }],
    };
    const report = postmortem(buildIncident(incident('storefront', 'GET http://inventory-svc.internal/v1/items returned 404 Not Found {n}', [upstream, docs('acme/storefront', 102, -1)])));
    expect(report.trigger).toMatchObject({ repo: 'acme/inventory-svc', deployment_id: 101 });
  });
});

describe('what must not be blamed', () => {
  it('a shared-config push that raises another service\'s limit, during a traffic surge', () => {
    const push: DeploySpec = {
      repo: 'acme/platform-config',
      id: 111,
      finishedAt: -2,
      environment: 'all',
      commits: [{ sha: sha('limits'), message: 'limits: raise media-ui concurrency', files: [{ filename: 'services/media-ui.yaml', patch: '@@ -1,2 +1,2 @@\n media-ui:\n-  max_concurrency: 50\n+  max_concurrency: 200' }] }],
    };
    const report = postmortem(buildIncident(incident('offers', 'worker pool saturated, rejecting request (concurrency limit reached) {n}', [push])));
    expect(report.trigger).toBeNull();
  });

  it('raising a pool size does not explain pool exhaustion', () => {
    const raise: DeploySpec = {
      repo: 'acme/orders-api',
      id: 121,
      finishedAt: -2,
      commits: [{ sha: sha('raise'), message: 'Raise pool', files: [{ filename: 'config/db.yaml', patch: '@@ -1,2 +1,2 @@\n database:\n-  max_connections: 20\n+  max_connections: 40' }] }],
    };
    const report = postmortem(buildIncident(incident('orders-api', 'pool exhausted: timed out waiting for a connection {n}', [raise])));
    expect(report.trigger).toBeNull();
  });

  it('one rollback undoes one change: the one it names', () => {
    const culprit: DeploySpec = { repo: 'acme/cart', id: 131, finishedAt: -6, commits: [{ sha: sha('cart-bad'), message: 'Strict cart schema', files: [{ filename: 'src/cart/schema.ts', patch: '@@ -1,1 +1,1 @@\n-  strict: false\n+  strict: true' }] }] };
    const innocent: DeploySpec = { repo: 'acme/cart', id: 132, finishedAt: -3, commits: [{ sha: sha('cart-copy'), message: 'config: update banner text', files: [{ filename: 'config/app.yaml', patch: '@@ -1,1 +1,1 @@\n-banner_text: Hello\n+banner_text: Welcome' }] }] };
    const rollback: DeploySpec = { repo: 'acme/cart', id: 133, finishedAt: 20, description: 'rollback v131', commits: [{ sha: sha('cart-rb'), message: 'Rollback to the release before v131', files: [] }] };
    const report = postmortem(buildIncident(incident('cart', 'ValidationError: unknown field "gift_note" {n}', [culprit, innocent, rollback], { errorEnd: 21 })));
    const undone = report.candidates.filter((c) => c.reasons.some((r) => /undone by/.test(r)));
    expect(undone.map((c) => c.deployment_id)).toEqual([131]);
  });
});

describe('generated incidents, two per family', () => {
  // A smoke slice of `npm run eval:families` (dev seeds only): the full measurement lives there.
  const seeds = Array.from({ length: FAMILY_NAMES.length * 2 }, (_, i) => i + 1);
  it('names the labelled trigger and never blames a change where none caused the incident', () => {
    const wrong: string[] = [];
    for (const seed of seeds) {
      const g = generateIncident(seed);
      const report = postmortem(g.bundle as unknown as Bundle);
      const e = g.expected as { trigger: null | { repo?: string; sha?: string; change_event_id?: string } };
      const t = report.trigger;
      const ok = e.trigger === null
        ? t === null
        : e.trigger.change_event_id
          ? t?.change_event_id === e.trigger.change_event_id
          : t !== null && t.repo === e.trigger.repo && (t.sha ?? '').startsWith(e.trigger.sha!.slice(0, 7));
      if (!ok) wrong.push(`${seed} ${g.family}${NO_CHANGE_FAMILIES.has(g.family) && t ? ' (false blame)' : ''}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('links found in rebuilt real-world outages, tried on new names', () => {
  for (const [repo, ref, label] of [
    ['acme/waf-rules', '2025.03.04-2', 'ruleset=managed/2025.03.04-2'],
    ['globex/edge-policies', 'policy-v812', 'policy_version=policy-v812'],
  ] as const) {
    it(`a release of ${repo} that the errors quote (${ref}), with a regex that backtracks, under CPU saturation`, () => {
      const deploy: DeploySpec = {
        repo,
        id: 201,
        finishedAt: -0.5,
        environment: 'global',
        commits: [
          { sha: sha(`${repo}-changelog`), message: 'Changelog', files: [{ filename: 'CHANGELOG.md', patch: `@@ -1 +1,2 @@\n+## ${ref}` }] },
          { sha: sha(`${repo}-rule`), message: 'Add XSS rule', files: [{ filename: 'rules/xss/900.yaml', patch: "@@ -0,0 +1,2 @@\n+id: 900\n+expression: '(?:.*=.*;?)+(?:.*\\\\(.*\\\\))'" }] },
          { sha: sha(`${repo}-other`), message: 'Tune SQLi rule', files: [{ filename: 'rules/sqli/901.yaml', patch: "@@ -1 +1 @@\n-paranoia: 2\n+paranoia: 3" }] },
        ],
      };
      (deploy as { ref?: string }).ref = ref;
      const bundle = buildIncident(incident('edge-proxy', `worker busy 5000ms in waf.phase_rewrite -> matcher.lua:211 re.match (${label}) cpu_saturated=true {n}`, [deploy, docs('acme/edge-proxy', 202, -0.2)], {
        extraSeries: [{ metric: 'edge.proxy.cpu.utilization', scope: 'service:edge-proxy', value: (m) => (m >= 0 && m < 30 ? 99 : 35) }],
      }));
      const d = (bundle.sources!.github!.repos!.find((r) => r.full_name === repo)!.deployments![0] as { ref: string });
      d.ref = ref;
      const report = postmortem(bundle);
      expect(report.trigger).toMatchObject({ repo, deployment_id: 201, sha: sha(`${repo}-rule`) });
      expect(report.trigger!.evidence.join('\n')).toMatch(/nested unbounded quantifiers/);
    });
  }

  it('a scheduled capacity raise is not blamed for a surge that outgrew it', () => {
    const bundle = withChangeEvents(buildIncident(incident('webapp', 'ec2:RunInstances throttled: RequestLimitExceeded (webapp-asg scale-out); capacity exhausted {n}', [])), [
      { id: 'CE-ASG', timestamp: at(-25), summary: 'Autoscaling: webapp-asg min capacity 900 -> 1100', services: [{ summary: 'webapp' }], custom_details: { autoscaling_group: 'webapp-asg', min_size: { from: 900, to: 1100 } } },
    ]);
    const report = postmortem(bundle);
    expect(report.trigger).toBeNull();
    expect(report.candidates[0]!.reasons.join(' ')).toMatch(/only gives more room/);
  });

  it('a longer timeout, or a cache TTL, does not explain calls timing out', () => {
    const longer: DeploySpec = { repo: 'acme/edge-cache', id: 211, finishedAt: -3, commits: [{ sha: sha('ttl'), message: 'Raise cache TTL', files: [{ filename: 'conf/ttl.yaml', patch: '@@ -1,2 +1,2 @@\n history:\n-  ttl: 30s\n+  ttl: 45s' }] }] };
    const raise: DeploySpec = { repo: 'acme/api', id: 212, finishedAt: -2, commits: [{ sha: sha('tmo'), message: 'Raise upstream timeout', files: [{ filename: 'config/upstream.yaml', patch: '@@ -1,2 +1,2 @@\n upstream:\n-  timeout_ms: 500\n+  timeout_ms: 2000' }] }] };
    const report = postmortem(buildIncident(incident('api', 'upstream connect error: connection timeout after 2000ms {n}', [longer, raise])));
    expect(report.trigger).toBeNull();
  });

  it('a zone push recorded by the deploy tool within seconds of the DNS deployment is the same change', () => {
    const zone: DeploySpec = { repo: 'acme/dns-zones', id: 221, finishedAt: -20, environment: 'production', commits: [{ sha: sha('zone-txt'), message: 'Add TXT verification record', files: [{ filename: 'zones/acme.dev.zone', patch: '@@ -3,0 +3,1 @@\n+_verify 300 IN TXT "v=abc123"' }] }] };
    const bundle = buildIncident(incident('www', 'DNS resolution failed: SERVFAIL for www.acme.dev {n}', [zone]));
    (bundle.sources as Record<string, any>).datadog.events = [
      ...((bundle.sources as Record<string, any>).datadog.events ?? []),
      { id: 99, date_happened: Math.floor(Date.parse(at(-20)) / 1000) + 20, title: 'Zone push acme.dev serial 2025030401', source_type_name: 'deploy', tags: ['service:dns'] },
    ];
    const report = postmortem(bundle);
    expect(report.candidates.some((c) => c.change_event_id === '99')).toBe(false);
    expect(report.trigger).toBeNull();
  });

  it('removing a setting a day after it was enabled, with recovery right after, convicts the enabling change', () => {
    const enable: DeploySpec = { repo: 'acme/consul-config', id: 231, finishedAt: -23 * 60, commits: [{ sha: sha('stream-on'), message: 'Enable streaming for router agents', files: [{ filename: 'services/edge-router/agent.hcl', patch: '@@ -9,0 +9,1 @@\n+use_streaming_backend = true' }] }] };
    const disable: DeploySpec = { repo: 'acme/consul-config', id: 232, finishedAt: 30, commits: [{ sha: sha('stream-off'), message: 'Disable streaming', files: [{ filename: 'services/edge-router/agent.hcl', patch: '@@ -9,1 +9,0 @@\n-use_streaming_backend = true' }] }] };
    const spec = incident('consul', 'timed out waiting for stream subscription snapshot (topic=ServiceHealth key=edge-router) {n}', [enable, disable], { resolveAt: 120, errorEnd: 34 });
    const report = postmortem(buildIncident(spec));
    expect(report.trigger).toMatchObject({ repo: 'acme/consul-config', deployment_id: 231 });
  });
});

describe('undo that made things worse', () => {
  it('a rollback after which the errors grew is not counted as the undo that ended the incident', () => {
    const code: DeploySpec = { repo: 'acme/router', id: 241, finishedAt: -30, commits: [{ sha: sha('router-code'), message: 'Route new order type', files: [{ filename: 'src/router/dispatch.cpp', patch: '@@ -1,1 +1,2 @@\n+  case FLAG_RLP: return rlpRoute(order);' }] }] };
    const rollback: DeploySpec = { repo: 'acme/router', id: 242, finishedAt: 10, description: 'rollback v241', commits: [{ sha: sha('router-rb'), message: 'Rollback to the release before v241', files: [] }] };
    const bundle = buildIncident(incident('router', 'powerpeg::Run sent child order without fill tracking (flags=0x40) {n}', [code, rollback], { errorEnd: 25, resolveAt: 40 }));
    const errors = (bundle.sources as Record<string, any>).datadog.metrics.find((m: { metric: string }) => m.metric === 'trace.http.request.errors');
    const rollbackMs = Date.parse(at(10));
    for (const p of errors.pointlist as Array<[number, number]>) if (p[0] > rollbackMs && p[1] > 0) p[1] *= 4;
    const report = postmortem(bundle);
    expect(report.candidates.find((c) => c.deployment_id === 241)!.reasons.join(' ')).not.toMatch(/undone by/);
  });
});

describe('what responders say is evidence only when it reports something done', () => {
  for (const text of ['sr-4411 finished right before. I can roll back if you want', 'nobody roll back sr-4411, it is unrelated', 'should we revert sr-4411?']) {
    it(`"${text}" is not an undo`, () => {
      const deploy: DeploySpec = { repo: 'acme/site-router', id: 4411, finishedAt: -2, commits: [{ sha: sha('hdr'), message: 'Add a response header', files: [{ filename: 'src/handlers/respond.ts', patch: "@@ -1,1 +1,2 @@\n+  res.setHeader('x-site-id', site.id);" }] }] };
      (deploy as { description?: string }).description = 'sr-4411';
      const bundle = buildIncident(incident('site-router', '404 site not found: host=tenant-9 lookup returned PURGED {n}', [deploy], { chat: [{ at: 5, user: 'U1', text }], errorEnd: 14 }));
      const d = bundle.sources!.github!.repos![0]!.deployments![0] as { ref: string };
      d.ref = 'sr-4411';
      const report = postmortem(bundle);
      expect(report.trigger).toBeNull();
    });
  }
});

describe('rolling deployments and cascades through settings', () => {
  it('a batch still rolling out when the first anomaly began, restarting the component the errors name, is a candidate and the trigger', () => {
    const batch: DeploySpec = { repo: 'acme/chef-agents', id: 251, finishedAt: 5, environment: 'prod-batch-3', commits: [{ sha: sha('agent-bump'), message: 'agent 1.10 -> 1.11', files: [{ filename: 'attributes/default.yaml', patch: "@@ -1,1 +1,1 @@\n-agent_version: '1.10.7'\n+agent_version: '1.11.3'" }] }] };
    const spec = incident('webapp', 'cache node left catalog (meshagent restart, health check critical); replaced with cold spare {n}', [batch], {
      errorOnset: 10,
      pageAt: 12,
      extraSeries: [{ metric: 'db.query.latency.p99', scope: 'keyspace:members', value: (m) => (m >= -10 && m < 30 ? 4000 : 50) }],
    });
    const bundle = buildIncident(spec);
    // the rollout started before the first anomaly and the user-facing errors came after it finished
    const dep = bundle.sources!.github!.repos![0]!.deployments![0] as { created_at: string };
    dep.created_at = at(-20);
    (bundle.sources as Record<string, any>).datadog.events = [{ id: 7, date_happened: Math.floor(Date.parse(at(-20)) / 1000), title: 'meshagent rollout started', source_type_name: 'chef', tags: ['service:meshagent', 'repo:acme/chef-agents'] }];
    const report = postmortem(bundle);
    const c = report.candidates.find((x) => x.deployment_id === 251)!;
    expect(c.reasons.join(' ')).toMatch(/was rolling out from/);
    expect(report.trigger).toMatchObject({ repo: 'acme/chef-agents', deployment_id: 251 });
  });

  it('a settings change to the dependency the errors name needs a link of its own', () => {
    const metrics: DeploySpec = { repo: 'acme/meshnet-config', id: 261, finishedAt: -5, commits: [{ sha: sha('mesh-metrics'), message: 'Enable flow metrics', files: [{ filename: 'values/common.yaml', patch: '@@ -1,1 +1,2 @@\n hubble:\n+  serviceMonitor: { enabled: true }' }] }] };
    const report = postmortem(buildIncident(incident('ingest', 'POST /series 503: no healthy upstream (meshnet-config routes missing on node ip-10-2-3-4) {n}', [metrics])));
    expect(report.trigger).toBeNull();
  });
});

describe('latent defects found through what the trigger changed', () => {
  for (const [label, codeFile] of [
    ['node-role.example.io/control-plane', 'clusters/legacy/bgp.yaml'],
    ['topology.acme.io/zone-a', 'clusters/main/peers.yaml'],
  ] as const) {
    it(`older config selecting on ${label}, exposed by an upgrade that drops the label`, () => {
      const selector: DeploySpec = { repo: 'acme/mesh-config', id: 301, finishedAt: -90 * 24 * 60, commits: [{ sha: sha(`sel-${label}`), message: 'Peer with reflectors', files: [{ filename: codeFile, patch: `@@ -0,0 +1,3 @@\n+kind: BGPPeer\n+spec:\n+  peerSelector: has(${label})` }] }] };
      const upgrade: DeploySpec = { repo: 'acme/k8s-clusters', id: 302, finishedAt: -4, environment: 'legacy-prod', commits: [{ sha: sha(`upg-${label}`), message: 'Upgrade legacy to 1.24', files: [{ filename: 'clusters/legacy/version.yaml', patch: `@@ -1,1 +1,1 @@\n-kubernetes_version: 1.23.9\n+kubernetes_version: 1.24.3\n+# 1.24 removes ${label}` }] }] };
      const back: DeploySpec = { repo: 'acme/k8s-clusters', id: 303, finishedAt: 20, environment: 'legacy-prod', commits: [{ sha: sha(`back-${label}`), message: 'Back to 1.23', files: [{ filename: 'clusters/legacy/version.yaml', patch: '@@ -1,1 +1,1 @@\n-kubernetes_version: 1.24.3\n+kubernetes_version: 1.23.9' }] }] };
      const errorLog = `bird: BGP session with peer 10.1.0.4 down: route reflector not selected (peerSelector matched 0 nodes) {n}`;
      const report = postmortem(buildIncident(incident('api', errorLog, [selector, upgrade, back], { errorEnd: 21 })));
      expect(report.trigger).toMatchObject({ repo: 'acme/k8s-clusters', deployment_id: 302 });
      expect(report.candidates.find((c) => c.deployment_id === 301)!.role).toBe('latent_defect');
    });
  }
});

describe('more ways errors and rollbacks name a change', () => {
  it('a JVM frame that names a changed file by its base name and line', () => {
    const code: DeploySpec = { repo: 'acme/passport', id: 401, finishedAt: -3, commits: [{ sha: sha('tokens'), message: 'Retry session writes optimistically', files: [{ filename: 'src/main/java/com/acme/passport/TokenLedger.java', patch: '@@ -110,1 +110,3 @@\n+    while (!tx.exec()) {\n+      redis.watch(key);\n+    }' }] }] };
    const report = postmortem(buildIncident(incident('passport', 'auth failed: redis timeout after 500ms (TokenLedger.java:118); EXEC aborted (WATCH conflict), shard cpu saturated {n}', [code, docs('acme/billing', 402, -1)])));
    expect(report.trigger).toMatchObject({ repo: 'acme/passport', deployment_id: 401 });
    expect(report.trigger!.evidence.join('\n')).toMatch(/the errors point at .*TokenLedger\.java/);
  });

  it('a rollback that names the ticket the change was made under undoes it', () => {
    const bundle = withChangeEvents(buildIncident(incident('edge-net', 'probe failed: no route to 203.0.113.10 (prefix 203.0.113.0/24 withdrawn) {n}', [], { errorEnd: 30 })), [
      { id: 'CE-BLOCK', timestamp: at(-200), summary: 'netcfg: remove unused IP block 203.0.113.0/24 (OPS-48213), propagate', services: [{ summary: 'edge-net' }], custom_details: {} },
      { id: 'CE-RB', timestamp: at(28), summary: 'netcfg: manual rollback to the config before OPS-48213', services: [{ summary: 'edge-net' }], custom_details: {} },
    ]);
    const report = postmortem(bundle);
    expect(report.trigger).toMatchObject({ kind: 'change_event', change_event_id: 'CE-BLOCK' });
  });
});

describe('switches recorded as change events, and the code they exercise', () => {
  for (const [tool, switchKey, target, codeFile, frame] of [
    ['edge-config', 'killswitch', 'rule:7c1d04', 'lua/rules/apply.lua', 'rules/apply.lua:88'],
    ['ops-console', 'kill_switch', 'module:b2a9e1', 'src/engine/dispatch.lua', 'engine/dispatch.lua:41'],
    ['flagd', 'toggle', 'route:4e7f0c', 'app/routing/table.rb', 'routing/table.rb:203'],
  ] as const) {
    const id = target.split(':')[1]!;
    it(`a ${switchKey} on ${target} switched back just before recovery is the trigger; the old code the errors point at is the latent defect (${tool})`, () => {
      const code: DeploySpec = { repo: 'acme/edge-legacy', id: 501, finishedAt: -200 * 24 * 60, commits: [{ sha: sha(`old-${id}`), message: 'Honour switches per entry', files: [{ filename: codeFile, patch: '@@ -10,0 +10,3 @@\n+  if switched(entry.id) then\n+    return { action = entry.action }\n+  end' }] }] };
      const bundle = withChangeEvents(buildIncident(incident('edge-legacy', `${frame}: attempt to index a nil value (entry=${id}) {n}`, [code], { errorEnd: 25, resolveAt: 40 })), [
        { id: 'CE-ON', timestamp: at(-0.5), summary: `${tool}: ${switchKey} ON for ${target}`, services: [{ summary: 'edge' }], integration: { summary: tool }, custom_details: { [switchKey]: target, from: 'off', to: 'on' } },
        { id: 'CE-TTL', timestamp: at(-0.2), summary: 'dns: default negative TTL 900 -> 300', services: [{ summary: 'dns' }], integration: { summary: 'zone-admin' }, custom_details: { setting: 'zone.negative_ttl', from: 900, to: 300 } },
        { id: 'CE-OFF', timestamp: at(24), summary: `${tool}: ${switchKey} OFF for ${target}`, services: [{ summary: 'edge' }], integration: { summary: tool }, custom_details: { [switchKey]: target, from: 'on', to: 'off' } },
      ]);
      const report = postmortem(bundle);
      expect(report.trigger).toMatchObject({ kind: 'change_event', change_event_id: 'CE-ON' });
      expect(report.trigger!.evidence.join('\n')).toMatch(/CE-OFF/);
      expect(report.candidates.find((c) => c.deployment_id === 501)!.role).toBe('latent_defect');
    });
  }

  it('the same switch flipped without the errors naming it or an undo is not blamed', () => {
    const bundle = withChangeEvents(buildIncident(incident('edge-legacy', 'upstream connect error: connection refused to origin 10.0.4.7 {n}', [])), [
      { id: 'CE-ON', timestamp: at(-0.5), summary: 'edge-config: killswitch ON for rule:5a5a11', services: [{ summary: 'edge' }], custom_details: { killswitch: 'rule:5a5a11', from: 'off', to: 'on' } },
    ]);
    expect(postmortem(bundle).trigger).toBeNull();
  });
});

describe('a library the stack traces end in', () => {
  const cases = [
    ['npm', 'acme/invoice-runner', 'chalkline', '2.1.0', '2.1.1',
      { filename: 'package-lock.json', patch: '@@ -10,4 +10,4 @@\n     "node_modules/chalkline": {\n-      "version": "2.1.0",\n+      "version": "2.1.1",' },
      'main thread busy 1800s\n    at Object.<anonymous> (/app/node_modules/chalkline/lib/index.js:18:3)\n    at require (node:internal/modules/cjs/helpers:102:18)\n    at Object.<anonymous> (/app/src/logger.js:4:1)'],
    ['pip', 'acme/ingest', 'yamlette', '5.3.1', '6.0.0',
      { filename: 'requirements.txt', patch: '@@ -3,1 +3,1 @@\n-yamlette==5.3.1\n+yamlette==6.0.0' },
      'Traceback (most recent call last):\n  File "/app/ingest/load.py", line 40, in load\n  File "/usr/local/lib/python3.11/site-packages/yamlette/reader.py", line 311, in parse\nRecursionError: maximum recursion depth exceeded'],
  ] as const;
  for (const [eco, repo, lib, from, to, file, trace] of cases) {
    it(`a lock-file bump of ${lib} (${eco}) is the trigger when the traces end inside it, though another commit is the deployment head`, () => {
      const service = repo.split('/')[1]!;
      const deploy: DeploySpec = {
        repo,
        id: 601,
        finishedAt: -2,
        commits: [
          { sha: sha(`lock-${lib}`), message: 'chore(deps): lock file maintenance', files: [file] },
          { sha: sha(`head-${lib}`), message: 'Round totals per line', files: [{ filename: 'src/totals.ts', patch: '@@ -1,1 +1,1 @@\n-  return round(sum(xs));\n+  return sum(xs.map(round));' }] },
        ],
      };
      const report = postmortem(buildIncident(incident(service, `${trace} {n}`, [deploy, docs(`acme/${service}-docs`, 602, -1)])));
      expect(report.trigger).toMatchObject({ repo, deployment_id: 601, sha: sha(`lock-${lib}`) });
      expect(report.trigger!.evidence.join('\n')).toContain(`stack traces end inside ${lib}, which it moves from ${from} to ${to}`);
    });
  }

  it('a bump of a framework that is only an outer frame of every trace is not blamed', () => {
    const bump: DeploySpec = { repo: 'acme/orders', id: 611, finishedAt: -2, commits: [{ sha: sha('routerkit'), message: 'chore(deps): lock file maintenance', files: [{ filename: 'package-lock.json', patch: '@@ -10,4 +10,4 @@\n     "node_modules/routerkit": {\n-      "version": "4.18.1",\n+      "version": "4.18.2",' }] }] };
    const trace = "TypeError: Cannot read properties of undefined (reading 'sku') {n}\n    at price (/app/src/cart/price.js:12:9)\n    at Layer.handle (/app/node_modules/routerkit/lib/layer.js:95:5)";
    expect(postmortem(buildIncident(incident('orders', trace, [bump]))).trigger).toBeNull();
  });

  it('pinning the library back through overrides is the undo of the bump', () => {
    const bump: DeploySpec = { repo: 'acme/mailer', id: 621, finishedAt: -2, commits: [{ sha: sha('bump-tinted'), message: 'chore(deps): lock file maintenance', files: [{ filename: 'package-lock.json', patch: '@@ -10,4 +10,4 @@\n     "node_modules/tinted": {\n-      "version": "3.2.0",\n+      "version": "3.2.1",' }] }] };
    const pin: DeploySpec = { repo: 'acme/mailer', id: 622, finishedAt: 20, commits: [{ sha: sha('pin-tinted'), message: 'deps: pin tinted', files: [{ filename: 'package.json', patch: '@@ -40,3 +40,6 @@\n   "devDependencies": {\n   },\n+  "overrides": {\n+    "tinted": "3.2.0"\n+  },' }] }] };
    const trace = 'worker stuck at start-up {n}\n    at Object.<anonymous> (/app/node_modules/tinted/lib/index.js:18:3)';
    const report = postmortem(buildIncident(incident('mailer', trace, [bump, pin], { errorEnd: 21 })));
    expect(report.trigger).toMatchObject({ deployment_id: 621 });
    expect(report.trigger!.evidence.join('\n')).toMatch(/moves tinted back to 3\.2\.0/);
  });
});

describe("a change's own tool logging what it removes as the failure begins", () => {
  const addLogs = (bundle: Bundle, lines: Array<{ at: number; service: string; status?: string; message: string }>) => {
    const logs = (bundle.sources as Record<string, any>).logs as Array<Record<string, string>>;
    for (const l of lines) logs.push({ timestamp: at(l.at), service: l.service, status: l.status ?? 'info', host: 'ctl-0', message: l.message });
    logs.sort((a, b) => a.timestamp!.localeCompare(b.timestamp!));
    return bundle;
  };
  for (const [tool, repo, ref, oldPath, newPath, verb, kind] of [
    ['argocd-application-controller', 'acme/cluster-config', 'cc-0301-2', 'regions/{{ .Region }}/apps', 'regions/apps', 'pruning', 'Namespace'],
    ['flux-kustomize-controller', 'globex/fleet-gitops', 'fg-7731', 'clusters/${CLUSTER}/workloads', 'clusters/workloads', 'deleting', 'Deployment'],
  ] as const) {
    it(`a template push in ${repo} (not the deployment head) whose sync logs ${verb} everything under its new path`, () => {
      const deploy: DeploySpec = {
        repo,
        id: 701,
        finishedAt: -2,
        environment: 'all-clusters',
        commits: [
          { sha: sha(`tmpl-${repo}`), message: 'Templates: tidy root path', files: [{ filename: 'root/apps.yaml.tmpl', patch: `@@ -14,3 +14,3 @@\n   source:\n-    path: ${oldPath}\n+    path: ${newPath}\n   syncPolicy:` }] },
          { sha: sha(`head-${repo}`), message: 'Bump autoscaler', files: [{ filename: 'addons/autoscaler/values.yaml', patch: '@@ -3,1 +3,1 @@\n-  tag: v2.3.0\n+  tag: v2.3.1' }] },
        ],
      };
      const decoy: DeploySpec = { repo: 'acme/catalog-api', id: 702, finishedAt: -1, commits: [{ sha: sha(`decoy-${repo}`), message: 'Cache thumbnails longer', files: [{ filename: 'src/catalog/thumbs.kt', patch: '@@ -1,1 +1,1 @@\n-  val ttl = hours(1)\n+  val ttl = hours(24)' }] }] };
      const bundle = buildIncident(incident('api-gateway', '503 upstream fares-lookup: no healthy endpoints (service not found) {n}', [deploy, decoy]));
      bundle.sources!.github!.repos!.find((r) => r.full_name === repo)!.deployments![0]!.ref = ref;
      addLogs(bundle, [
        { at: -0.5, service: tool, message: `app=root rev=${ref} path=${newPath}: 0 resources rendered for this cluster` },
        ...[0, 1, 2, 3].map((i) => ({ at: -0.4 + i * 0.5, service: tool, message: `app=root rev=${ref} path=${newPath}: ${verb} ${kind}/svc-${i} (not in rendered manifests)` })),
      ]);
      const report = postmortem(bundle);
      expect(report.trigger).toMatchObject({ repo, deployment_id: 701, sha: sha(`tmpl-${repo}`) });
      expect(report.trigger!.evidence.join('\n')).toContain(`its own rollout logs (naming ${ref})`);
    });
  }

  for (const [ticket, component, verb] of [
    ['MNT-81234', 'fabric-route-speaker', 'descheduling job'],
    ['OPS-4410', 'meshctl-xds-pusher', 'draining task'],
  ] as const) {
    it(`a maintenance run (${ticket}) recorded as a change event, whose automation logs "${verb}" for the ${component} jobs the errors then miss`, () => {
      const bundle = withChangeEvents(buildIncident(incident('network', `BGP session to ${component}.26 down: hold timer expired; withdrawing routes {n}`, [docs('acme/blob-frontend', 711, -1)])), [
        { id: 'CE-MNT', timestamp: at(-6), summary: `host-lifecycle: ${ticket} started (firmware update, drain)`, services: [{ summary: 'scheduler' }], custom_details: { ticket, selector: 'cell=eu-north*', matched_cells: ['eun2-b', 'eun1-a'] } },
      ]);
      addLogs(bundle, [0, 1, 2].map((i) => ({ at: -5.5 + i, service: 'scheduler', message: `${ticket}: ${verb} ${component}.${30 + i} (class=system) on eun1-a` })));
      const report = postmortem(bundle);
      expect(report.trigger).toMatchObject({ kind: 'change_event', change_event_id: 'CE-MNT' });
    });
  }

  it("a deploy tool logging its routine steps (draining its own pods) links nothing", () => {
    const deploy: DeploySpec = { repo: 'acme/web', id: 721, finishedAt: -2, commits: [{ sha: sha('web-copy'), message: 'Copy change', files: [{ filename: 'src/pages/home.ts', patch: "@@ -1,1 +1,1 @@\n-  title: 'Hello'\n+  title: 'Welcome'" }] }] };
    const bundle = buildIncident(incident('payments', 'upstream ledger-db timed out after 2000ms (replica lag) {n}', [deploy]));
    bundle.sources!.github!.repos![0]!.deployments![0]!.ref = 'web-5120';
    addLogs(bundle, [0, 1, 2].map((i) => ({ at: -3 + i * 0.5, service: 'deployer', message: `web-5120: draining web-pod-${i} and removing it from the load balancer` })));
    expect(postmortem(bundle).trigger).toBeNull();
  });
});

describe('people named in log fields become roles', () => {
  for (const [realName, login, line] of [
    ['Priya Raman', 'praman', 'user=praman tty=pts/4 cwd=/srv/ops cmd="fleetctl --nodes all reboot"'],
    ['Tomasz Nowicki', 'tomaszn', 'sudo: login=tomaszn ran "drain-host --all"'],
    ['Ines Duarte', 'ines.duarte', 'purge requested (by=ines.duarte) for /assets/*'],
  ] as const) {
    it(`"${login}" in an audit line never reaches the report (a login made from ${realName})`, () => {
      const bundle = buildIncident(incident('fleet', 'node unreachable: connection refused {n}', [], { users: { U7: { name: realName.toLowerCase().replace(' ', '.'), real_name: realName } } }));
      const logs = (bundle.sources as Record<string, any>).logs as Array<Record<string, string>>;
      logs.push({ timestamp: at(-1), service: 'ops-audit', status: 'info', host: 'bastion-1', message: line });
      logs.push({ timestamp: at(-0.5), service: 'ops-audit', status: 'info', host: 'bastion-1', message: 'user=qzhvex tty=pts/9 cmd="uptime"' });
      logs.push({ timestamp: at(-0.4), service: 'warehouse', status: 'info', host: 'db-1', message: 'query user=fleet read 10 rows' });
      const report = postmortem(bundle);
      const text = `${JSON.stringify(report)}\n${renderMarkdown(report)}`;
      expect(text).not.toContain(login);
      // someone the bundle does not otherwise name is still a person, not a login
      expect(text).not.toContain('qzhvex');
      // a service's own account is not a person
      expect(report.log_signatures.map((s) => s.template).join('\n')).toContain('user=fleet read');
    });
  }
});

describe('a removed firewall rule for the port connections now fail on', () => {
  for (const [dep, port] of [['queue', 5432], ['cache', 6379], ['events', 9092]] as const) {
    it(`convicts the security-group clean-up removing ${port} when ${dep}.internal:${port} times out (a one-word dependency name)`, () => {
      const sg: DeploySpec = { repo: 'acme/terraform', id: 801, finishedAt: -8, environment: 'all', commits: [{ sha: sha(`sg-${port}`), message: 'Tighten security groups: remove unused ingress', files: [{ filename: 'network/prod/sg.tf', patch: `@@ -14,12 +14,6 @@\n   ingress {\n     from_port   = 443\n   }\n-  ingress {\n-    description = "${dep} from app subnets"\n-    from_port   = ${port}\n-    to_port     = ${port}\n-  }` }] }] };
      const report = postmortem(buildIncident(incident('orders', `Error: connect ETIMEDOUT 10.2.3.4:${port} (${dep}.internal:${port}) {n}`, [sg, docs('acme/orders', 802, -1)])));
      expect(report.trigger).toMatchObject({ repo: 'acme/terraform', deployment_id: 801 });
      expect(report.trigger!.evidence.join('\n')).toContain(`removes a rule for port ${port}`);
    });
  }

  it('removing a rule for another port is not blamed', () => {
    const sg: DeploySpec = { repo: 'acme/terraform', id: 811, finishedAt: -8, commits: [{ sha: sha('sg-other'), message: 'Remove unused ingress', files: [{ filename: 'network/prod/sg.tf', patch: '@@ -14,6 +14,0 @@\n-  ingress {\n-    from_port   = 11211\n-    to_port     = 11211\n-  }' }] }] };
    expect(postmortem(buildIncident(incident('orders', 'Error: connect ETIMEDOUT 10.2.3.4:5432 (queue.internal:5432) {n}', [sg]))).trigger).toBeNull();
  });
});

describe('a change reaching the failure through a component it names', () => {
  const push = (bundle: Bundle, lines: Array<{ at: number; service: string; message: string }>) => {
    const logs = (bundle.sources as Record<string, any>).logs as Array<Record<string, string>>;
    for (const l of lines) logs.push({ timestamp: at(l.at), service: l.service, status: 'info', host: 'job-1', message: l.message });
    logs.sort((a, b) => a.timestamp!.localeCompare(b.timestamp!));
  };
  for (const [repo, file, patch, job, jobLine, error] of [
    ['acme/warehouse-grants', 'grants/shards.sql', '@@ -3,0 +3,2 @@\n+GRANT SELECT ON s1.* TO reporting, rowsync;\n+GRANT SHOW COLUMNS ON s1.* TO reporting, rowsync;', 'rowsync', 'listing columns of events -> 312 rows; snapshot published', 'panicked at src/load.rs:88: CapacityExceeded { count: 312, limit: 256 }'],
    ['globex/bus-acls', 'acls/topics.yaml', '@@ -8,0 +8,3 @@\n+- principal: exporter\n+  topic: orders.*\n+  operations: [read]', 'exporter', 'exporter batch assembled: 4180 records from orders.*', 'payload rejected: 4180 records in one batch (max 4096)'],
  ] as const) {
    it(`${repo}: the job it names (${job}) logs, from the change on, the number the errors quote`, () => {
      const change: DeploySpec = { repo, id: 901, finishedAt: -10, environment: 'db-prod', commits: [
        { sha: sha(`rename-${repo}`), message: 'rename role', files: [{ filename: 'roles/base.sql', patch: '@@ -1,1 +1,1 @@\n-CREATE ROLE ro;\n+CREATE ROLE reader;' }] },
        { sha: sha(`grant-${repo}`), message: 'explicit access for distributed reads', files: [{ filename: file, patch }] },
      ] };
      const decoy: DeploySpec = { repo: 'acme/status-page', id: 902, finishedAt: -2, commits: [{ sha: sha(`status-${repo}`), message: 'footer copy', files: [{ filename: 'templates/footer.html', patch: '@@ -1,1 +1,1 @@\n-<p>Subscribe</p>\n+<p>Subscribe by email</p>' }] }] };
      const bundle = buildIncident(incident('edge-proxy', `${error} {n}`, [change, decoy]));
      push(bundle, [{ at: -0.8, service: job, message: jobLine }, { at: 4, service: job, message: jobLine }]);
      const report = postmortem(bundle);
      expect(report.trigger).toMatchObject({ repo, deployment_id: 901, sha: sha(`grant-${repo}`) });
      expect(report.trigger!.evidence.join('\n')).toContain(`it names ${job}, whose logs`);
    });
  }

  it('the same number in the job logs before the change links nothing', () => {
    const change: DeploySpec = { repo: 'acme/warehouse-grants', id: 911, finishedAt: -10, commits: [{ sha: sha('grant-old'), message: 'explicit access', files: [{ filename: 'grants/shards.sql', patch: '@@ -3,0 +3,1 @@\n+GRANT SELECT ON s1.* TO reporting, rowsync;' }] }] };
    const bundle = buildIncident(incident('edge-proxy', 'panicked at src/load.rs:88: CapacityExceeded { count: 312, limit: 256 } {n}', [change]));
    push(bundle, [{ at: -40, service: 'rowsync', message: 'listing columns of events -> 312 rows; snapshot published' }, { at: -0.8, service: 'rowsync', message: 'listing columns of events -> 312 rows; snapshot published' }]);
    expect(postmortem(bundle).trigger).toBeNull();
  });
});
