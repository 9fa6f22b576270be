// After Microsoft Azure AD, 2020-09-28 (tracking ID SM79-F88): a service update meant only for an
// internal validation ring went straight to every production ring because of a latent defect in the
// safe-deployment system's ring targeting; the update itself broke token issuance for a class of
// requests. Rolling it back took hours because the rollback also went through the deployment system.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'deploy-ring-bypass';
export const source = 'Microsoft Azure status history, "RCA - Authentication errors across multiple Microsoft services" (tracking ID SM79-F88, 2020-09-28/29)';

export function build() {
  const I = new Incident({ seed: 200928, company: 'Marrowgate', domain: 'marrowgate.id' });
  I.person('oncall', 'Eleni Papadopoulos', { login: 'epapadopoulos' });
  I.person('ic', 'Darnell Brooks', { login: 'dbrooks-sre' });
  I.person('sts', 'Harriet Ng', { login: 'hng' });
  I.person('sdp', 'Mateo Rossi', { login: 'mrossi-sdp' });
  I.person('ca', 'Yasmin Farouk', { login: 'yfarouk' });

  const from = ms('2020-09-28T19:00:00Z');
  const to = ms('2020-09-29T02:00:00Z');
  const reached = ms('2020-09-28T21:24:50Z');
  const onset = ms('2020-09-28T21:25:20Z');
  const page = ms('2020-09-28T21:27:43Z');
  const ack = ms('2020-09-28T21:28:30Z');
  const rollbackDone = ms('2020-09-29T00:19:40Z');
  const resolve = ms('2020-09-29T00:31:02Z');

  // ---- safe-deploy: ring targeting (latent, June)
  const SD = 'marrowgate/safe-deploy';
  const latent = I.commit(SD, { message: 'Targets: resolve ring aliases from the topology service\n\nDrops the static ring table. Unknown aliases resolve through topology.', author: 'sdp', at: ms('2020-06-15T11:00:00Z'), files: [
    { filename: 'src/Targeting/RingResolver.cs', patch: '@@ -20,12 +20,11 @@ public IReadOnlyList<Ring> Resolve(string alias)\n-            if (!StaticRings.TryGetValue(alias, out var rings))\n-                throw new UnknownRingException(alias);\n-            return rings;\n+            var rings = _topology.RingsFor(alias);\n+            // topology returns every ring when the alias has no explicit membership\n+            return rings;' },
  ] });
  I.deploy(SD, { env: 'production', ref: 'sdp-2020.06.17', description: 'safe-deploy 2020.06.17', createdAt: ms('2020-06-17T08:00:00Z'), finishedAt: ms('2020-06-17T08:40:10Z') });

  // ---- sts-backend: the update (meant for the validation ring) and the rollback
  const ST = 'marrowgate/sts-backend';
  I.commit(ST, { message: 'Telemetry: tag token requests with client SKU', author: 'sts', at: ms('2020-09-21T10:00:00Z'), files: [
    { filename: 'src/Sts/Telemetry/RequestTags.cs', patch: '@@ -9,3 +9,4 @@ internal static class RequestTags\n     public const string Tenant = "tenant";\n+    public const string ClientSku = "client_sku";' },
  ] });
  const good = I.deploy(ST, { env: 'production', ref: 'sts-2.713.9', description: 'sts-backend 2.713.9 (rings 0-4, 5 days)', createdAt: ms('2020-09-22T08:00:00Z'), finishedAt: ms('2020-09-26T17:30:20Z') });
  const culprit = I.commit(ST, { message: 'Token cache: key refresh-token lookups by (tenant, client, resource)\n\nFor validation in the internal ring first.', author: 'sts', at: ms('2020-09-28T15:00:00Z'), files: [
    { filename: 'src/Sts/Tokens/RefreshTokenCache.cs', patch: '@@ -33,8 +33,8 @@ internal sealed class RefreshTokenCache\n-        private static string Key(TokenRequest r) => $"{r.TenantId}:{r.ClientId}";\n+        private static string Key(TokenRequest r) => $"{r.TenantId}:{r.ClientId}:{r.Resource}";\n@@ -58,6 +58,7 @@ internal sealed class RefreshTokenCache\n         var entry = _cache.Get(Key(r));\n+        if (entry.Resource != r.Resource) throw new TokenValidationException("AADSTS50000: resource mismatch");' },
  ] });
  const bad = I.deploy(ST, { env: 'production', ref: 'sts-2.714.0', description: 'sts-backend 2.714.0 target=ring-validation-internal (resolved rings: 0,1,2,3,4)', createdAt: ms('2020-09-28T21:12:00Z'), finishedAt: reached });
  I.deploy(ST, { env: 'production', ref: 'sts-2.713.9', description: 'rollback to sts-2.713.9 (all rings)', createdAt: ms('2020-09-28T22:05:00Z'), finishedAt: rollbackDone, sha: good.sha, commits: [] });

  // ---- innocent: a conditional-access policy change event right after
  I.changeEvent({ at: ms('2020-09-28T21:25:05Z'), summary: 'Conditional access baseline policy updated: require compliant device for admin portals (tenant group: internal)', integration: 'policy-service', services: ['conditional-access'], custom_details: { policy: 'baseline-admin-portals', scope: 'internal tenants', change: 'add grant: compliantDevice' } });
  I.changeEvent({ at: ms('2020-09-28T20:40:00Z'), summary: 'Capacity: sts-frontend westeurope +40 instances', integration: 'capacity-manager', services: ['sts-frontend'], custom_details: { region: 'westeurope', instances: { from: 320, to: 360 } } });

  // ---- Datadog
  const failing = (t) => (t < onset ? 0 : t < ms('2020-09-28T23:30:00Z') ? 1 : Math.max(0, 1 - (t - ms('2020-09-28T23:30:00Z')) / (rollbackDone - ms('2020-09-28T23:30:00Z'))));
  I.series({ metric: 'sts.token.requests.failed', expression: 'sum:sts.token.requests.failed{env:production}.as_count()', scope: 'env:production', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(700, 0.2) + failing(t) * I.noise(1_900_000, 0.05) });
  I.series({ metric: 'sdp.ring.version_share', expression: 'max:sdp.ring.version_share{service:sts-backend,version:2.714.0}', scope: 'service:sts-backend,version:2.714.0', interval: 60, from, to, unit: 'percent', fn: (t) => (t < ms('2020-09-28T21:13:00Z') ? 0 : t < reached ? Math.min(100, (t - ms('2020-09-28T21:13:00Z')) / (reached - ms('2020-09-28T21:13:00Z')) * 100) : 100 * failing(t)) });
  I.ddEvent({ at: reached, title: 'safe-deploy: sts-backend 2.714.0 completed (rings 0-4)', source_type_name: 'deploy', tags: ['service:sts-backend'] });
  I.ddEvent({ at: ms('2020-09-28T21:27:30Z'), title: '[Sev1] Triggered: STS token failure rate > 2%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:sts-backend'] });

  // ---- logs
  I.log(ms('2020-09-28T21:12:10Z'), 'safe-deploy', 'info', 'sdp-orch-2', 'plan sts-backend 2.714.0: target alias "ring-validation-internal" -> topology rings [0,1,2,3,4] (alias has no explicit membership)');
  I.log(ms('2020-09-28T21:12:12Z'), 'safe-deploy', 'info', 'sdp-orch-2', 'plan approved: single-ring update, bake time 0 (validation ring policy)');
  const hosts = ['sts-weu-1142', 'sts-eus-0318', 'sts-sea-0907'];
  I.logsBetween(onset, rollbackDone, 170, 'sts-backend', 'error', hosts, () => `POST /${I.hex(8)}-${I.hex(4)}/oauth2/token 400 invalid_grant AADSTS50000: resource mismatch at Marrowgate.Sts.Tokens.RefreshTokenCache.Get(TokenRequest r) in RefreshTokenCache.cs:line 59 (client ${I.pick(['mail-web', 'teams-desktop', 'docs-mobile'])})`);
  I.logsBetween(from, to, 150, 'sts-backend', 'info', hosts, () => `POST /oauth2/token 200 grant=${I.pick(['refresh_token', 'authorization_code', 'client_credentials'])} ${I.int(5, 90)}ms`);
  I.log(ms('2020-09-28T20:10:00Z'), 'sts-backend', 'warn', 'sts-eus-0318', `client_credentials retry for diagnostics app: client_secret=${I.secret('Mg~8Qz.vR2_kT5wYp0LxN3sDcB7eHf9aJu')}`);

  // ---- PagerDuty
  I.pdTrigger(page, '[Sev1] STS token failure rate > 2%', 'sts-backend');
  I.pdNotify(page + 600, 'oncall', 'phone call');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2020-09-28T21:33:00Z'), 'ic');
  I.pdNote(ms('2020-09-28T21:58:00Z'), 'ic', 'sts-backend 2.714.0, targeted at the internal validation ring, was resolved by safe-deploy to rings 0-4 and reached all production at 21:24. Its refresh-token cache change fails with AADSTS50000. Rolling back to 2.713.9.');
  I.pdNote(ms('2020-09-29T00:20:00Z'), 'ic', 'Rollback complete in all rings 00:19; failures at baseline.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (t) => ms(`2020-09-${t}Z`);
  I.bot(at('28T21:27:46'), 'PagerDuty', ':rotating_light: *Triggered* #92801 [Sev1] STS token failure rate > 2%');
  I.say(at('28T21:28:50'), 'oncall', 'ack. refresh token grants failing worldwide: AADSTS50000 resource mismatch from RefreshTokenCache');
  const th = I.say(at('28T21:29:40'), 'ca', 'I updated the admin-portal baseline policy at 21:25. could block sign-ins?');
  I.say(at('28T21:30:30'), 'oncall', 'that policy is internal tenants only and would fail with a CA error code, not 50000 from the token cache', { thread: th });
  I.say(at('28T21:32:10'), 'sts', 'RefreshTokenCache line 59 is from 2.714.0. but 2.714.0 only went to ring-validation-internal?');
  I.say(at('28T21:35:00'), 'oncall', 'version share says 2.714.0 is on 100% of rings since 21:24');
  I.say(at('28T21:38:20'), 'sdp', 'safe-deploy plan log: alias ring-validation-internal resolved to rings [0,1,2,3,4]. since June the resolver asks topology, and topology returns all rings for an alias without explicit membership. that alias never had any. and validation policy means bake time 0');
  I.say(at('28T21:40:00'), 'ic', 'IC. roll back sts-backend to 2.713.9 everywhere. and freeze safe-deploy targeting by alias');
  I.say(at('28T22:06:00'), 'sts', 'rollback queued; it also goes through safe-deploy, ring by ring, and the orchestrator authenticates through… STS. slow');
  I.say(at('29T00:20:10'), 'sts', 'rollback complete on all rings 00:19');
  I.say(at('29T00:30:30'), 'ic', 'resolving. follow-ups: unknown ring alias must fail closed, validation ring membership explicit, rollback path independent of STS');
  I.bot(at('29T00:31:05'), 'PagerDuty', ':white_check_mark: *Resolved* #92801 [Sev1] STS token failure rate > 2%');

  const incident = { id: 'Q9MG92801', source: 'pagerduty', title: '[Sev1] STS token failure rate > 2%', service: 'sts-backend', severity: 'Sev1', status: 'resolved', urgency: 'high', incident_number: 92801, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://marrowgate.pagerduty.com/incidents/Q9MG92801' };
  const bundle = I.bundle({ incident, channel: { id: 'C9STSINC', name: 'inc-sts-auth' } });
  const expected = {
    family: 'latent-defect',
    trigger: { repo: ST, sha: culprit, deployment_id: bad.id },
    latent_defect: { repo: SD, sha: latent },
    spike_onset: { metric: 'sts.token.requests.failed', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['2.714.0', 'RefreshTokenCache', 'resource mismatch', 'ring-validation-internal', 'validation ring'],
    timeline_must_include: [
      { at: iso(reached), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
