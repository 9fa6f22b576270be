import { describe, expect, it } from 'vitest';
import { postmortem } from '../src/core/analyze.js';
import { buildIncident, DOCS_PATCH, sha, TIMEOUT_PATCH, type DeploySpec, type IncidentSpec } from './helpers/incidentBuilder.js';

const culprit = sha('culprit');
const head = sha('head-docs');
const timeoutDeploy = (finishedAt: number, extra: Partial<DeploySpec> = {}): DeploySpec => ({
  repo: 'acme/gateway-api',
  id: 501,
  finishedAt,
  commits: [
    { sha: culprit, message: 'Tighten upstream timeout', files: [{ filename: 'config/upstream.yaml', patch: TIMEOUT_PATCH }] },
    { sha: head, message: 'docs: runbook contact', files: [{ filename: 'docs/runbook.md', patch: DOCS_PATCH }] },
  ],
  ...extra,
});
const docsDeploy: DeploySpec = {
  repo: 'acme/gateway-api',
  id: 400,
  finishedAt: -3,
  commits: [{ sha: sha('docs-only'), message: 'docs: typo', files: [{ filename: 'README.md', patch: DOCS_PATCH }] }],
};
const otherServiceDeploy: DeploySpec = {
  repo: 'acme/storefront',
  id: 402,
  finishedAt: -1,
  commits: [{ sha: sha('css'), message: 'style: header', files: [{ filename: 'src/styles/header.css', patch: '@@ -1 +1 @@\n-gap: 4px;\n+gap: 8px;' }] }],
};
const base: IncidentSpec = {
  service: 'gateway-api',
  errorOnset: 0,
  pageAt: 3,
  resolveAt: 40,
  errorLog: 'UpstreamTimeoutError: request to inventory timed out after 20ms (attempt {n})',
  deployments: [],
};

describe('triggering change', () => {
  it('names the culprit commit inside the deployment, not its head', () => {
    const report = postmortem(buildIncident({ ...base, deployments: [docsDeploy, otherServiceDeploy, timeoutDeploy(-1.5)] }));
    expect(report.trigger).not.toBeNull();
    expect(report.trigger!.deployment_id).toBe(501);
    expect(report.trigger!.sha).toBe(culprit);
    expect(report.trigger!.evidence.join('\n')).toMatch(/request_timeout_ms from 2000 to 20/);
    expect(report.candidates[0]!.ruled).toBe('in');
    expect(report.candidates.slice(1).every((c) => c.ruled === 'out' && c.reasons.length > 0)).toBe(true);
  });

  it('abstains when only harmless or unrelated changes precede the onset', () => {
    const report = postmortem(buildIncident({ ...base, deployments: [docsDeploy, otherServiceDeploy] }));
    expect(report.trigger).toBeNull();
    expect(report.trigger_reason).toMatch(/No change explains the incident/);
    expect(report.root_cause).toMatch(/No deployment or configuration change triggered this incident/);
    expect(report.candidates).toHaveLength(2);
  });

  it('never blames a deployment that finished after the onset, however well it matches', () => {
    const report = postmortem(buildIncident({ ...base, deployments: [docsDeploy, timeoutDeploy(1)] }));
    expect(report.trigger).toBeNull();
    const late = report.candidates.find((c) => c.deployment_id === 501)!;
    expect(late.ruled).toBe('out');
    expect(late.reasons[0]).toMatch(/after the onset/);
  });

  it('never blames a deployment whose rollout failed', () => {
    const report = postmortem(buildIncident({ ...base, deployments: [timeoutDeploy(-1.5, { state: 'failure' })] }));
    expect(report.trigger).toBeNull();
    expect(report.candidates[0]!.reasons[0]).toMatch(/never served traffic/);
  });

  it('does not convict on timing alone: a code change right before the onset that nothing ties to the failure', () => {
    const unrelated: DeploySpec = {
      repo: 'acme/gateway-api',
      id: 600,
      finishedAt: -0.5,
      commits: [{ sha: sha('label'), message: 'Add route label to metrics', files: [{ filename: 'src/telemetry/metrics.ts', patch: "@@ -1 +1 @@\n-labelNames: ['method'],\n+labelNames: ['method', 'route']," }] }],
    };
    const report = postmortem(buildIncident({ ...base, deployments: [unrelated] }));
    expect(report.trigger).toBeNull();
  });

  it('does not blame a deployment to a non-production environment', () => {
    const report = postmortem(buildIncident({ ...base, deployments: [timeoutDeploy(-1.5, { environment: 'staging' })] }));
    expect(report.trigger).toBeNull();
  });

  it('uses a later revert that ended the impact as evidence', () => {
    const code: DeploySpec = {
      repo: 'acme/gateway-api',
      id: 700,
      finishedAt: -2,
      commits: [{ sha: sha('refactor'), message: 'Refactor request pipeline', files: [{ filename: 'src/pipeline/run.ts', patch: '@@ -1 +1 @@\n-  return next(req);\n+  return runStages(req, stages);' }] }],
    };
    const revert: DeploySpec = {
      repo: 'acme/gateway-api',
      id: 701,
      finishedAt: 29,
      description: 'rollback',
      commits: [{ sha: sha('revert'), message: `Revert "Refactor request pipeline"\n\nThis reverts commit ${sha('refactor')}.`, files: [{ filename: 'src/pipeline/run.ts', patch: '@@ -1 +1 @@\n-  return runStages(req, stages);\n+  return next(req);' }] }],
    };
    const report = postmortem(buildIncident({ ...base, errorEnd: 30, errorLog: 'Error: stage failed ({n})', deployments: [code, revert] }));
    expect(report.trigger?.deployment_id).toBe(700);
    expect(report.trigger?.evidence.join('\n')).toMatch(/reverts/);
    expect(report.candidates.find((c) => c.deployment_id === 701)!.ruled).toBe('out');
  });

  it('blames a shared configuration change that targets the service and governs the failure', () => {
    const replicas: DeploySpec = {
      repo: 'acme/platform-config',
      id: 800,
      finishedAt: -1,
      commits: [{ sha: sha('replicas'), message: 'Right-size gateway', files: [{ filename: 'services/gateway-api/values.yaml', patch: '@@ -1,3 +1,3 @@\n deployment:\n-  replicas: 6\n+  replicas: 1\n   cpu: 500m' }] }],
    };
    const report = postmortem(buildIncident({ ...base, errorLog: 'upstream connect error: no healthy upstream for gateway-api ({n})', deployments: [docsDeploy, replicas] }));
    expect(report.trigger).toMatchObject({ repo: 'acme/platform-config', deployment_id: 800, kind: 'config_change' });
    expect(report.trigger!.evidence.join('\n')).toMatch(/replicas from 6 to 1/);
  });

  it('does not blame a timeout change when the errors quote a different limit', () => {
    const cacheTimeout: DeploySpec = {
      repo: 'acme/gateway-api',
      id: 801,
      finishedAt: -2,
      commits: [{ sha: sha('cache-timeout'), message: 'Tune cache timeout', files: [{ filename: 'config/cache.yaml', patch: '@@ -1,2 +1,2 @@\n cache:\n-  read_timeout_ms: 500\n+  read_timeout_ms: 200' }] }],
    };
    const report = postmortem(buildIncident({ ...base, errorLog: 'ProviderError: upstream request timed out after 10000ms ({n})', deployments: [cacheTimeout] }));
    expect(report.trigger).toBeNull();
  });

  it('explains a traffic surge without blaming a change', () => {
    const report = postmortem(
      buildIncident({
        ...base,
        errorLog: 'request queue full, shedding load ({n})',
        deployments: [docsDeploy],
        extraSeries: [{ metric: 'trace.http.request.hits', scope: 'service:gateway-api', value: (m) => (m >= -1 && m < 40 ? 2400 + (Math.round(m * 6) % 5) : 300 + (Math.round(m * 6) % 7)) }],
      }),
    );
    expect(report.trigger).toBeNull();
    expect(report.root_cause).toMatch(/traffic surge/i);
  });

  it('convicts a code change whose file the stack traces point at', () => {
    const code: DeploySpec = {
      repo: 'acme/gateway-api',
      id: 900,
      finishedAt: -1,
      commits: [{ sha: sha('pricing'), message: 'Round totals per line item', files: [{ filename: 'src/pricing/compute.ts', patch: '@@ -10,3 +10,3 @@\n-  const total = items.reduce(sum, 0);\n+  const total = items.map(round).reduce(sum, 0);' }] }],
    };
    const errorLog = "TypeError: Cannot read properties of undefined (reading 'amount') ({n})\n    at round (src/pricing/compute.ts:42:13)\n    at Array.map (<anonymous>)";
    const report = postmortem(buildIncident({ ...base, errorLog, deployments: [docsDeploy, code] }));
    expect(report.trigger?.deployment_id).toBe(900);
    expect(report.trigger?.evidence.join('\n')).toMatch(/the errors point at src\/pricing\/compute\.ts/);
  });

  it('does not convict client code that merely appears in the traces of a failing dependency', () => {
    const logging: DeploySpec = {
      repo: 'acme/gateway-api',
      id: 901,
      finishedAt: -1,
      commits: [{ sha: sha('client-log'), message: 'Add request id to provider logs', files: [{ filename: 'src/payments/client.ts', patch: "@@ -5,1 +5,1 @@\n-  log.info('authorize', { status });\n+  log.info('authorize', { status, requestId });" }] }],
    };
    const errorLog = 'ProviderError: upstream returned 503 Service Unavailable ({n})\n    at ProviderClient.authorize (src/payments/client.ts:64:11)';
    const report = postmortem(buildIncident({ ...base, errorLog, deployments: [logging] }));
    expect(report.trigger).toBeNull();
  });

  it('blames a flag switched on for the service just before its own code began to fail', () => {
    const flag: DeploySpec = {
      repo: 'acme/runtime-flags',
      id: 902,
      finishedAt: -1,
      commits: [{ sha: sha('flag'), message: 'Enable v2 cart for everyone', files: [{ filename: 'flags/gateway-api.yaml', patch: '@@ -1,2 +1,2 @@\n flags:\n-  enable_v2_cart: false\n+  enable_v2_cart: true' }] }],
    };
    const errorLog = 'NullPointerException in CartMerger.merge for session {n}';
    const report = postmortem(buildIncident({ ...base, errorLog, deployments: [docsDeploy, flag] }));
    expect(report.trigger).toMatchObject({ repo: 'acme/runtime-flags', deployment_id: 902 });
    expect(report.trigger!.evidence.join('\n')).toMatch(/enable_v2_cart \(false → true\)/);
  });

  it('names the earlier code deployment a flag flip exposed as a latent defect, not as the trigger', () => {
    const latentCode: DeploySpec = {
      repo: 'acme/gateway-api',
      id: 903,
      finishedAt: -180,
      commits: [{ sha: sha('merger'), message: 'Add CartMerger behind enable_v2_cart', files: [{ filename: 'src/cart/cartMerger.ts', patch: '@@ -0,0 +1,3 @@\n+export class CartMerger {\n+  merge(a, b) { return a.items.concat(b.items); }\n+}', status: 'added' }] }],
    };
    const flag: DeploySpec = {
      repo: 'acme/runtime-flags',
      id: 904,
      finishedAt: -1,
      commits: [{ sha: sha('flag2'), message: 'Enable v2 cart', files: [{ filename: 'flags/gateway-api.yaml', patch: '@@ -1,2 +1,2 @@\n flags:\n-  enable_v2_cart: false\n+  enable_v2_cart: true' }] }],
    };
    const errorLog = "TypeError: Cannot read properties of undefined (reading 'items') ({n})\n    at CartMerger.merge (src/cart/cartMerger.ts:2:40)";
    const report = postmortem(buildIncident({ ...base, errorLog, deployments: [latentCode, flag] }));
    expect(report.trigger?.deployment_id).toBe(904);
    const latent = report.candidates.find((c) => c.deployment_id === 903)!;
    expect(latent.ruled).toBe('out');
    expect(latent.role).toBe('latent_defect');
    expect(report.candidates[1]).toBe(latent);
    expect(latent.reasons.join(' ')).toMatch(/latent defect/);
    expect(report.root_cause).toMatch(/deployment 903 .*live without failing until this change exercised it/);
  });
});
