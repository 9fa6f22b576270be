// After Google Cloud, 2025-06-12: a new quota-policy check was added to Service Control on 2025-05-29
// without a feature flag; its code path ran only for policies of a new kind. A policy change inserted
// such a policy with blank fields; it replicated to every region within seconds, and every Service
// Control task hit a null pointer and crash-looped, failing API requests everywhere. A red button turned
// the check off; the largest region recovered last because restarting tasks overloaded the policy store.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'quota-policy-null-crashloop';
export const source = 'Google Cloud Service Health, "Multiple GCP products are experiencing Service issues" incident report (status.cloud.google.com, 2025-06-13/14)';

export function build() {
  const I = new Incident({ seed: 20250612, company: 'Orbitum', domain: 'orbitum.cloud' });
  I.person('oncall', 'Ayumi Sato', { login: 'asato' });
  I.person('ic', 'Gabriel Lefèvre', { login: 'glefevre' });
  I.person('sc', 'Moses Kiptoo', { login: 'mkiptoo' });
  I.person('quota', 'Rosa Delgado', { login: 'rdelgado' });
  I.person('gw', 'Henrik Aalto', { login: 'haalto' });
  const at = (t) => ms(t.length <= 8 ? `2025-06-12T${t}Z` : t);
  const from = at('15:00:00'), to = at('22:00:00');
  const change = at('17:45:10'), onset = at('17:46:00'), page = at('17:48:20'), ack = at('17:49:00'), red = at('18:25:00'), central = at('20:18:00'), resolve = at('20:49:30');

  const SC = 'orbitum/service-control';
  const latent = I.commit(SC, { message: 'Quota: evaluate regional policy overrides in the admission check', author: 'sc', at: ms('2025-05-27T10:00:00Z'), files: [
    { filename: 'quota/policy_check.cc', patch: '@@ -140,6 +140,12 @@ Status AdmissionCheck::Evaluate(const Request& r) {\n+  for (const QuotaPolicy* p : store_->RegionalOverrides(r.project())) {\n+    // overrides always carry a limit spec\n+    const LimitSpec& spec = *p->limit_spec();\n+    if (r.units() > spec.max_units()) return Status::ResourceExhausted(p->name());\n+  }' },
  ] });
  I.deploy(SC, { env: 'production', ref: 'sc-2025.05.29', description: 'service-control 2025.05.29 (all regions, staged)', createdAt: ms('2025-05-29T08:00:00Z'), finishedAt: ms('2025-05-29T19:40:12Z') });
  I.commit('orbitum/api-gateway', { message: 'Gateway: HTTP/3 for console endpoints', author: 'gw', at: ms('2025-06-11T12:00:00Z'), files: [{ filename: 'gw/listeners.yaml', patch: '@@ -4,1 +4,2 @@\n   console: { h2: true }\n+  console: { h3: true }' }] });
  I.deploy('orbitum/api-gateway', { env: 'production', ref: 'gw-812', description: 'api-gateway 812', createdAt: at('17:05:00'), finishedAt: at('17:31:48'), creator: 'haalto' });
  const ce = I.changeEvent({ at: change, summary: 'quota-policy: inserted regional override policy qp-7731 (customer request, type=regional_override)', integration: 'quota-policy-store', services: ['service-control'], custom_details: { policy: 'qp-7731', type: 'regional_override', limit_spec: null, replication: 'global, immediate' } });
  I.changeEvent({ at: at('17:45:35'), summary: 'Logging sink quota raised for project analytics-prod', integration: 'admin-console', services: ['logging'], custom_details: { project: 'analytics-prod', from: '2 TB/day', to: '4 TB/day' } });
  I.changeEvent({ at: red, summary: 'red button: disable regional override evaluation in service-control', integration: 'flag-service', services: ['service-control'], custom_details: { flag: 'quota_regional_overrides', value: false } });

  const down = (t, end) => (t < onset ? 0 : t < red + 10 * MIN ? 1 : t < end ? Math.max(0, 1 - (t - red - 10 * MIN) / (end - red - 10 * MIN)) : 0);
  I.series({ metric: 'service_control.task_restarts', expression: 'sum:service_control.task_restarts{*}.as_count()', scope: '*', interval: 20, from, to, unit: 'restart', fn: (t) => I.noise(2, 0.5) + down(t, central) * I.noise(8000, 0.1) });
  I.series({ metric: 'api.requests.503', expression: 'sum:api.requests.503{*}.as_count()', scope: '*', interval: 60, from, to, unit: 'response', fn: (t) => I.noise(300, 0.3) + (t < onset + 60 * SEC ? 0 : 0.7 * down(t, at('19:10:00')) * I.noise(4e6, 0.05) + 0.3 * down(t, central) * I.noise(4e6, 0.05)) });
  I.ddEvent({ at: at('17:31:48'), title: 'api-gateway 812 deployed', source_type_name: 'deploy', tags: ['service:api-gateway'] });

  const tasks = ['sc-us-central1-0412', 'sc-europe-west4-0077', 'sc-asia-south1-0019'];
  I.logsBetween(onset, red + 10 * MIN, 90, 'service-control', 'error', tasks, () => `F quota/policy_check.cc:143] Check failed: p->limit_spec() != nullptr (policy qp-7731) *** SIGSEGV; task restarting`);
  I.logsBetween(red + 10 * MIN, central, 40, 'service-control', 'warn', ['sc-us-central1-0412', 'sc-us-central1-0588'], () => `policy store read timeout (us-central1 spanner, ${I.int(2000, 9000)} concurrent task starts)`);
  I.logsBetween(onset + 60 * SEC, central, 60, 'api-gateway', 'error', ['gw-use1-3', 'gw-euw4-9'], () => '503 service-control unavailable: admission check failed');
  I.logsBetween(from, to, 60, 'api-gateway', 'info', ['gw-use1-3', 'gw-euw4-9'], () => `POST /v1/projects/p-${I.int(1000, 9999)}/instances 200 ${I.int(30, 300)}ms`);
  I.log(at('16:00:00'), 'quota-policy-store', 'info', 'qps-1', `replicator auth bearer=${I.secret('ya29.Orbitum-QPS-r3pl-Zk8q')}`);

  I.say(at('17:49:30'), 'oncall', 'ack. 503s on every API in every region; service-control tasks crash-looping');
  const th = I.say(at('17:50:10'), 'gw', 'api-gateway 812 went out 17:31, HTTP/3 on console. rollback?');
  I.say(at('17:51:00'), 'oncall', 'the crashes are in service-control, which the gateway calls. and console is a sliver of the traffic', { thread: th });
  I.say(at('17:52:20'), 'quota', 'logging sink quota for analytics-prod changed at 17:45:35, could that be it?');
  I.say(at('17:55:00'), 'sc', 'crash is policy_check.cc:143, limit_spec null for qp-7731. that policy was inserted 17:45:10 with no limit_spec and replicated globally at once. the override evaluation shipped May 29 with no flag; no override existed until now');
  I.say(at('18:02:00'), 'ic', 'IC. red button to disable regional override evaluation. remove qp-7731. restart with backoff in us-central1');
  I.say(at('18:40:00'), 'sc', 'red button 18:25, most regions recovering; us-central1 tasks herd on the policy store at restart');
  I.say(at('20:20:00'), 'sc', 'us-central1 recovered 20:18 after throttling task restarts');
  I.say(at('20:49:00'), 'ic', 'resolving. follow-ups: flag-gate new check paths, fail open on malformed policy, randomized backoff, stage policy replication');

  return finish(I, { page, ack, resolve, monitor: '[P1] API 503 rate > 1% (global)', service: 'service-control', number: 25612, oncall: 'oncall', ic: 'ic',
    notes: [[at('18:05:00'), 'qp-7731 (regional override, limit_spec null) hits a null dereference in the May 29 override check; all service-control tasks crash-loop. Red button pending.']],
    channel: { id: 'C0ORBSC25', name: 'inc-service-control' }, family: 'latent-defect', trigger: { kind: 'change_event', change_event_id: ce },
    latent: { repo: SC, sha: latent }, metric: 'service_control.task_restarts', onset, terms: ['qp-7731', 'limit_spec', 'null', 'regional override', 'crash loop'] });
}
