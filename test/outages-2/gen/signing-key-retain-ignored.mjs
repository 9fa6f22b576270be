// After Azure Active Directory, 2021-03-15: an automated key-cleanup job removed a token-signing key
// from the published metadata although the key had been flagged "retain" (still used to sign tokens
// for a migration). The cleanup code ignored the retain state since a refactor weeks earlier. Relying
// services refreshed the metadata, could no longer find the key, and rejected every token it signed.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'signing-key-retain-ignored';
export const source = 'Microsoft Azure, "RCA - Authentication errors across multiple Microsoft services and Azure Active Directory integrated applications (Tracking ID LN01-P8Z)" (status.azure.com history, 2021-03-15)';

export function build() {
  const I = new Incident({ seed: 210315, company: 'Corvid', domain: 'corvidcloud.com' });
  I.person('oncall', 'Olumide Adeyemi', { login: 'oadeyemi' });
  I.person('ic', 'Sarah Lindgren', { login: 'slindgren-sre' });
  I.person('keys', 'Viktor Petrov', { login: 'vpetrov' });
  I.person('keys2', 'Haruka Sato', { login: 'hsato' });
  I.person('sts', 'Gabriel Moreau', { login: 'gmoreau' });
  I.person('graph', 'Zainab Bello', { login: 'zbello' });

  const from = ms('2021-03-15T16:00:00Z');
  const to = ms('2021-03-15T23:30:00Z');
  const removed = ms('2021-03-15T18:59:42Z');
  const onset = ms('2021-03-15T19:00:20Z');
  const restored = ms('2021-03-15T21:05:10Z');
  const page = ms('2021-03-15T19:04:55Z');
  const ack = ms('2021-03-15T19:06:02Z');
  const resolve = ms('2021-03-16T09:37:20Z');
  const kid = 'nQ3kZpR8xWb2LmT0yVc7HsA1eJ4';
  const newKid = 'Tb5uMv9QkX2rLs8NaW0cYh3Ez6p';

  // ---- GitHub: the key-lifecycle repo (retain flag in January, refactor that drops the retain check in February)
  const KL = 'corvid/key-lifecycle';
  I.commit(KL, { message: 'Retain signing key nQ3k… during the sovereign-cloud migration (MIG-2207)', author: 'keys2', at: ms('2021-01-18T10:00:00Z'), files: [
    { filename: 'config/signing-keys.yaml', patch: `@@ -9,6 +9,8 @@ keys:\n   - kid: ${kid}\n     purpose: token-signing\n     rotated_out: 2021-01-11\n+    state: retain   # still signs tokens for the sovereign-cloud migration, do not remove\n+    retain_until: 2021-04-30` },
  ] });
  I.deploy(KL, { env: 'production', ref: 'kl-2021.01.18', description: 'key-lifecycle kl-2021.01.18 (config)', createdAt: ms('2021-01-18T12:00:00Z'), finishedAt: ms('2021-01-18T12:04:31Z') });
  const latent = I.commit(KL, { message: 'cleanup: compute removal eligibility in one place\n\nMoves the per-key checks into eligibleForRemoval() so the scheduler and the\nmanual tool share them. No behaviour change intended.', author: 'keys', at: ms('2021-02-22T14:10:00Z'), files: [
    { filename: 'internal/cleanup/eligibility.go', status: 'added', patch: '@@ -0,0 +1,9 @@\n+package cleanup\n+\n+// eligibleForRemoval reports whether a rotated-out key can leave the published metadata.\n+func eligibleForRemoval(k Key, now time.Time, retention time.Duration) bool {\n+\tif k.RotatedOut.IsZero() {\n+\t\treturn false\n+\t}\n+\treturn now.Sub(k.RotatedOut) > retention\n+}' },
    { filename: 'internal/cleanup/scheduler.go', patch: '@@ -41,12 +41,7 @@ func (s *Scheduler) run(ctx context.Context, now time.Time) error {\n \tfor _, k := range keys {\n-\t\tif k.State == StateRetain {\n-\t\t\tcontinue\n-\t\t}\n-\t\tif k.RotatedOut.IsZero() || now.Sub(k.RotatedOut) <= s.retention {\n-\t\t\tcontinue\n-\t\t}\n+\t\tif !eligibleForRemoval(k, now, s.retention) {\n+\t\t\tcontinue\n+\t\t}\n \t\tif err := s.metadata.Remove(ctx, k.Kid); err != nil {' },
  ] });
  I.deploy(KL, { env: 'production', ref: 'kl-2021.02.24', description: 'key-lifecycle kl-2021.02.24', createdAt: ms('2021-02-24T09:00:00Z'), finishedAt: ms('2021-02-24T09:06:12Z') });
  const fix = I.commit(KL, { message: 'Never remove keys in state retain\n\nRestores the retain check lost in the eligibility refactor; the scheduler removed\nkey nQ3k… on 2021-03-15 although it was flagged retain.', author: 'keys2', at: ms('2021-03-16T02:30:00Z'), files: [
    { filename: 'internal/cleanup/eligibility.go', patch: '@@ -4,5 +4,8 @@ package cleanup\n func eligibleForRemoval(k Key, now time.Time, retention time.Duration) bool {\n+\tif k.State == StateRetain {\n+\t\treturn false\n+\t}\n \tif k.RotatedOut.IsZero() {' },
  ] });
  I.deploy(KL, { env: 'production', ref: 'kl-2021.03.16', description: 'key-lifecycle kl-2021.03.16 (retain fix)', createdAt: ms('2021-03-16T04:00:00Z'), finishedAt: ms('2021-03-16T04:05:48Z'), commits: [fix] });

  // ---- GitHub: an STS deploy 15 minutes before (innocent)
  I.commit('corvid/sts', { message: 'Token endpoint: emit client app id in the sign-in log', author: 'sts', at: ms('2021-03-15T11:00:00Z'), files: [
    { filename: 'src/Sts/Logging/SignInLog.cs', patch: '@@ -31,6 +31,7 @@ public sealed class SignInLog\n         entry.Add("tenant", ctx.TenantId);\n         entry.Add("result", ctx.Result);\n+        entry.Add("appId", ctx.ClientAppId);\n         return entry;' },
  ] });
  const stsDeploy = I.deploy('corvid/sts', { env: 'production', ref: 'sts-21.03.15.2', description: 'sts 21.03.15.2 (SDP ring 3 of 3)', createdAt: ms('2021-03-15T18:20:00Z'), finishedAt: ms('2021-03-15T18:44:37Z') });

  // ---- change events from the key-lifecycle automation and from cert rotation
  I.changeEvent({ at: ms('2021-03-15T18:30:05Z'), summary: `Signing key published to OIDC metadata: kid=${newKid} (scheduled rotation)`, integration: 'key-lifecycle', services: ['identity-platform'], custom_details: { kid: newKid, action: 'publish', metadata: 'login.corvidcloud.com/common/discovery/keys' } });
  const ce = I.changeEvent({ at: removed, summary: `Signing key removed from OIDC metadata: kid=${kid} (automatic cleanup, rotated out 63d ago)`, integration: 'key-lifecycle', services: ['identity-platform'], custom_details: { kid, action: 'remove', key_state: 'retain', retain_until: '2021-04-30', rotated_out: '2021-01-11', published: { from: true, to: false }, metadata: 'login.corvidcloud.com/common/discovery/keys' } });
  I.changeEvent({ at: ms('2021-03-15T18:59:57Z'), summary: 'TLS certificate rotated: graph.corvidcloud.com (auto-renew)', integration: 'cert-rotator', services: ['graph-api'], custom_details: { host: 'graph.corvidcloud.com', thumbprint: { from: '9F2C…41A0', to: 'C17E…0B3D' } } });
  I.changeEvent({ at: restored, summary: `Signing key metadata rolled back: kid=${kid} republished (manual)`, integration: 'key-lifecycle', services: ['identity-platform'], custom_details: { kid, action: 'restore', published: { from: false, to: true }, ticket: 'ICM-2214339' } });

  // ---- Datadog
  const failing = (t) => {
    if (t < onset) return 0;
    const up = Math.min(1, 0.15 + (t - onset) / (25 * MIN));
    if (t < restored + 60 * SEC) return up;
    return up * Math.max(0.04, 1 - (t - restored - 60 * SEC) / (40 * MIN)); // caches refresh; a tail lingers
  };
  const diurnal = (t) => 1 + 0.1 * Math.sin((t - from) / 5e6);
  I.series({ metric: 'identity.token_validation.failures', expression: 'sum:identity.token_validation.failures{env:production}.as_count()', scope: 'env:production', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(150 * diurnal(t), 0.25) + failing(t) * I.noise(880000, 0.05) });
  I.series({ metric: 'sts.tokens.issued', expression: 'sum:sts.tokens.issued{env:production}.as_count()', scope: 'env:production', interval: 20, from, to, unit: 'token', fn: (t) => I.noise(2_100_000 * diurnal(t) * (1 + 0.6 * failing(t)), 0.03) });
  I.series({ metric: 'sts.tokens.issued.by_kid', expression: `sum:sts.tokens.issued{env:production,kid:${kid}}.as_count()`, scope: `env:production,kid:${kid}`, interval: 60, from, to, unit: 'token', fn: (t) => I.noise(1_900_000 * diurnal(t), 0.03) });
  I.ddEvent({ at: stsDeploy.finishedAt, title: 'Deployed sts 21.03.15.2 (ring 3)', source_type_name: 'deploy', tags: ['service:sts', 'env:production', 'repo:corvid/sts'] });
  I.ddEvent({ at: ms('2021-03-15T19:04:30Z'), title: '[P0] Triggered: token validation failures > 1% (global)', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:identity-platform'] });

  // ---- logs
  const rps = [['graph-api', 'graph-wus2-14'], ['storage-frontend', 'stfe-neu-3'], ['chat-backend', 'chat-eus-41'], ['portal', 'portal-weu-7']];
  I.logsBetween(from, to, 200, 'sts', 'info', ['sts-wus2-2', 'sts-neu-9'], () => `token issued tenant=${I.hex(8)}-${I.hex(4)}-${I.hex(4)}-${I.hex(4)}-${I.hex(12)} kid=${kid} grant=${I.pick(['authorization_code', 'refresh_token', 'client_credentials'])}`);
  I.logsBetween(onset, restored + 40 * MIN, 240, 'relying-party', 'error', rps.map((r) => r[1]), () => {
    const [svc] = I.pick(rps);
    return `${svc}: Bearer token rejected: Microsoft.IdentityModel.Tokens.SecurityTokenSignatureKeyNotFoundException: IDX10501: Signature validation failed. Unable to match key: kid: '${kid}'. Keys tried: '${newKid}, Yc1dPq7WmN4sR2tLb9XvK0aEf8h'. Metadata refreshed from https://login.corvidcloud.com/common/discovery/keys\n   at Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler.ValidateSignature(JsonWebToken jwtToken, TokenValidationParameters validationParameters, BaseConfiguration configuration)\n   at Corvid.Auth.BearerHandler.AuthenticateAsync()`;
  });
  I.log(removed + 1200, 'key-lifecycle', 'info', 'kl-sched-1', `cleanup: removing kid=${kid} from published metadata (rotated_out=2021-01-11, retention=60d) state=retain`);
  I.log(ms('2021-03-15T19:41:00Z'), 'ops-debug', 'info', 'saw-ops-17', `repro: POST /common/oauth2/v2.0/token client_id=6b2f0c1e-9d44-4d1a-8f7e-3a5c2b1d0e9f client_secret=${I.secret('Qx8~fR2.tL9vN_kW4pZ7mS1cD-yH6bJ3gE0aU5oi')} -> token kid=${kid}; GET graph -> 401 IDX10501`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P0] token validation failures > 1% (global)', 'identity-platform');
  I.pdNotify(page + 800, 'oncall', 'phone call');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2021-03-15T19:09:00Z'), 'ic');
  I.pdNote(ms('2021-03-15T20:20:00Z'), 'ic', `Relying parties reject tokens signed with kid ${kid}: key-lifecycle cleanup removed it from metadata at 18:59:42 although it is flagged retain. STS still signs with it. Rolling the metadata back.`);
  I.pdNote(ms('2021-03-15T21:10:00Z'), 'ic', 'Metadata restored 21:05. Failures falling as relying-party caches refresh; some services cache for hours.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (hms) => ms(`2021-03-15T${hms}Z`);
  I.bot(at('19:04:57'), 'PagerDuty', ':rotating_light: *Triggered* #77410 [P0] token validation failures > 1% (global)');
  I.say(at('19:06:40'), 'oncall', 'ack. sign-ins work, but every downstream service rejects the tokens: IDX10501 unable to match key');
  const th = I.say(at('19:08:00'), 'sts', 'sts 21.03.15.2 finished ring 3 at 18:44. only a log field, but it is the last thing we shipped');
  I.say(at('19:09:30'), 'oncall', 'it baked 16 min with zero failures, and tokens look fine, they just reference a kid the RPs cannot find', { thread: th });
  I.say(at('19:11:15'), 'graph', 'graph saw a cert rotation at 18:59:57 on graph.corvidcloud.com. could that be it?');
  I.say(at('19:12:40'), 'oncall', 'that is the TLS cert for the endpoint, not a token key. and storage + chat fail identically');
  I.say(at('19:14:30'), 'ic', 'IC. which kid is missing?');
  I.say(at('19:16:05'), 'oncall', `kid ${kid}. the metadata document no longer lists it. sts still signs ~90% of tokens with it`);
  I.say(at('19:19:50'), 'keys', `key-lifecycle scheduler removed ${kid} at 18:59:42, the change event is in PD. it was rotated out in january`);
  I.say(at('19:22:10'), 'keys2', 'that key is state: retain until 2021-04-30 for the sovereign-cloud migration. the cleanup must skip retain keys');
  I.say(at('19:26:00'), 'keys', 'the feb 22 eligibility refactor... eligibleForRemoval() never checks State. the retain check got dropped. my bad, no tests covered it');
  I.say(at('19:28:30'), 'ic', 'blameless please. options: republish the key, or move sts signing to the new key?');
  I.say(at('19:31:00'), 'sts', 'switching signing keys takes a full SDP rollout, hours. republishing is one metadata write');
  I.say(at('19:33:20'), 'ic', 'republish. keys team prepare it, SDP-approved path');
  I.say(at('20:58:00'), 'keys2', 'approval done, republishing now');
  I.say(at('21:05:30'), 'keys2', `kid ${kid} back in metadata 21:05:10`);
  I.say(at('21:30:00'), 'oncall', 'failures down ~80%. remaining are services that cache metadata for hours; asking them to force refresh');
  I.bot(ms('2021-03-16T09:37:22Z'), 'PagerDuty', ':white_check_mark: *Resolved* #77410 [P0] token validation failures > 1% (global)');

  const incident = { id: 'PCV77410', source: 'pagerduty', title: '[P0] token validation failures > 1% (global)', service: 'identity-platform', severity: 'SEV0', status: 'resolved', urgency: 'high', incident_number: 77410, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://corvid.pagerduty.com/incidents/PCV77410' };
  const bundle = I.bundle({ incident, channel: { id: 'C01KEYMISS', name: 'inc-token-signing-key' } });
  const expected = {
    family: 'latent-defect',
    trigger: { kind: 'change_event', change_event_id: ce },
    latent_defect: { repo: KL, sha: latent },
    spike_onset: { metric: 'identity.token_validation.failures', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['signing key', 'retain', kid, 'eligibleForRemoval', 'IDX10501'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
