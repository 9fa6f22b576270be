// After Microsoft Azure AD MFA, 2018-11-19: a code update to the MFA front end, rolled out the week
// before, added latency to its calls to the cache service that only showed under high load. When Monday
// morning traffic arrived in Europe, requests backed up, a race in handling back-end responses recycled
// processes, and MFA failed for hours until the change was turned off with a hotfix.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'mfa-cache-latency-peak';
export const source = 'Microsoft Azure, RCA "Multi-Factor Authentication - Global", tracking ID D7PF-7R8 (status.azure.com history, 2018-11-19/27)';

export function build() {
  const I = new Incident({ seed: 20181119, company: 'Keystrata', domain: 'keystrata.com' });
  I.person('oncall', 'Anjali Deshpande', { login: 'adeshpande' });
  I.person('ic', 'Lars Eriksen', { login: 'leriksen', slack: 'lars.e', email: 'lars.eriksen@keystrata.com' });
  I.person('mfa', 'Zoltan Varga', { login: 'zvarga' });
  I.person('net', 'Amara Nwosu', { login: 'anwosu' });
  I.person('sts', 'Pablo Iglesias-Mora', { login: 'piglesias' });
  const at = (t) => ms(t.length <= 8 ? `2018-11-19T${t}Z` : t);
  const from = at('00:00:00'), to = at('20:00:00');
  const dep = at('2018-11-14T16:05:20'), onset = at('04:39:00'), page = at('04:41:30'), ack = at('04:42:20'), hotfix = at('18:38:00'), resolve = at('18:58:00');

  const M = 'keystrata/mfa-frontend';
  I.commit(M, { message: 'Telemetry: tag requests with tenant region', author: 'mfa', at: ms('2018-11-08T10:00:00Z'), files: [{ filename: 'src/Telemetry/RequestTags.cs', patch: '@@ -12,1 +12,2 @@\n+            tags["tenant_region"] = ctx.Tenant.Region;' }] });
  const bad = I.commit(M, { message: 'Session cache: read-through with per-request connection validation', author: 'mfa', at: ms('2018-11-09T14:00:00Z'), files: [{ filename: 'src/Cache/SessionCacheClient.cs', patch: '@@ -40,8 +40,12 @@ public async Task<Session> GetAsync(string key) {\n-            var conn = _pool.Get();\n+            var conn = await _pool.GetAsync();\n+            // make sure the connection is alive before use\n+            await conn.PingAsync(TimeSpan.FromMilliseconds(_opts.ValidateTimeoutMs));\n+            lock (_validateLock) {\n+                _validated[conn.Id] = DateTime.UtcNow;\n+            }\n             return await conn.GetAsync<Session>(key);' }] });
  I.commit(M, { message: 'SMS: new copy for verification text', author: 'mfa', at: ms('2018-11-12T09:00:00Z'), files: [{ filename: 'src/Sms/Templates.resx', patch: '@@ -3,1 +3,1 @@\n-    <value>Your code is {0}</value>\n+    <value>Your verification code is {0}</value>' }] });
  const trig = I.deploy(M, { env: 'prod-global', ref: 'mfa-fe-1.48.0', description: 'mfa-frontend 1.48.0 (all regions)', createdAt: ms('2018-11-13T08:00:00Z'), finishedAt: dep, creator: 'zvarga' });
  I.repo(M).deployment_commits[String(trig.id)] = I.repo(M).commits.slice(-3).map((c) => c.sha);
  I.commit('keystrata/sts', { message: 'Token: shorten refresh token sliding window for guests', author: 'sts', at: ms('2018-11-16T11:00:00Z'), files: [{ filename: 'src/Tokens/RefreshPolicy.cs', patch: '@@ -8,1 +8,1 @@\n-        GuestSliding = TimeSpan.FromDays(14);\n+        GuestSliding = TimeSpan.FromDays(7);' }] });
  I.deploy('keystrata/sts', { env: 'prod-eu', ref: 'sts-9.3.2', description: 'sts 9.3.2', createdAt: at('03:40:00'), finishedAt: at('04:02:18'), creator: 'piglesias' });
  I.changeEvent({ at: at('04:30:10'), summary: 'traffic-manager: EU MFA endpoint weight westeu 50 -> 60, northeu 50 -> 40', integration: 'traffic-manager', services: ['mfa-frontend'], custom_details: { westeu: 60, northeu: 40 } });
  I.changeEvent({ at: hotfix, summary: 'mfa-frontend: config hotfix SessionCache.ValidateConnection=false (all regions)', integration: 'mfa-config', services: ['mfa-frontend'], custom_details: { key: 'SessionCache.ValidateConnection', from: true, to: false } });

  const bad2 = (t) => (t < onset ? 0 : t < hotfix ? 1 : Math.max(0, 1 - (t - hotfix) / (10 * MIN)));
  I.series({ metric: 'mfa.auth.failures', expression: 'sum:mfa.auth.failures{*}.as_count()', scope: '*', interval: 60, from, to, unit: 'request', fn: (t) => I.noise(60, 0.3) + bad2(t) * I.noise(52000, 0.1) });
  I.series({ metric: 'mfa.cache.get.p99_ms', expression: 'p99:mfa.cache.get.latency{*}', scope: '*', interval: 60, from, to, fn: (t) => (t < at('04:15:00') ? I.noise(9, 0.2) : t < hotfix ? I.noise(2400, 0.2) : I.noise(4, 0.2)) });

  const fe = ['mfafe-weu-07', 'mfafe-neu-12', 'mfafe-sea-03'];
  I.logsBetween(onset, hotfix, 110, 'mfa-frontend', 'error', fe, () => I.pick([
    `System.TimeoutException: The operation has timed out after 2000ms\n   at Keystrata.Mfa.Cache.SessionCacheClient.GetAsync(String key) in SessionCacheClient.cs:line 43\n   at Keystrata.Mfa.Auth.ChallengeHandler.HandleAsync(ChallengeRequest req) in ChallengeHandler.cs:line 88`,
    `worker recycled: ${I.int(900, 1400)} requests queued, lock wait on SessionCacheClient._validateLock ${I.int(1500, 4000)}ms`,
    `backend response for request ${I.hex(12)} arrived after caller recycled; dropping`]));
  I.logsBetween(from, to, 30, 'sts', 'info', ['sts-weu-2'], () => `token issued grant=refresh_token ${I.int(5, 40)}ms`);
  I.log(at('05:10:00'), 'mfa-frontend', 'info', 'mfafe-weu-07', `cache endpoint mfa-cache.weu.internal:6380,password=${I.secret('mFaC4che!Weu-2018-ZpQ7')},ssl=True`);

  I.say(at('04:42:40'), 'oncall', 'ack. MFA challenges failing in EU, spreading to APAC');
  const th = I.say(at('04:43:30'), 'sts', 'sts 9.3.2 went to prod-eu at 04:02, guest refresh window. rolling back to be safe');
  I.say(at('04:45:00'), 'oncall', 'failures are in mfa-frontend GetAsync on the session cache, sts tokens look fine', { thread: th });
  I.say(at('04:48:00'), 'net', 'I shifted EU MFA weights 50/50 -> 60/40 at 04:30. reverting it');
  I.say(at('05:20:00'), 'net', 'sts rolled back, weights reverted, no change in failures');
  I.say(at('06:10:00'), 'mfa', 'cache p99 went from 9ms to seconds at the Monday EU ramp. 1.48.0 (shipped Wednesday) added connection validation with a lock in SessionCacheClient.GetAsync; at peak every request waits on _validateLock, workers back up and recycle, and late backend responses race with recycled callers. it was fine at weekend traffic');
  I.say(at('06:30:00'), 'ic', 'IC. turn validation off by config everywhere once the hotfix switch is tested; meanwhile add capacity');
  I.say(at('18:40:00'), 'mfa', 'ValidateConnection=false everywhere at 18:38, cache p99 back to 4ms, failures gone');
  I.say(at('18:58:00'), 'ic', 'resolving. follow-ups: load test at peak before global rollout, staged rollout by region over a weekday, remove the lock');

  return finish(I, { page, ack, resolve, monitor: 'MFA auth failure rate > 5%', service: 'mfa-frontend', number: 18119, oncall: 'oncall', ic: 'ic',
    notes: [[at('06:35:00'), 'mfa-frontend 1.48.0 cache connection validation serializes under peak load. Disabling via config.']],
    channel: { id: 'C0KSTRMFA1', name: 'inc-mfa-failures' }, family: 'delayed-onset', trigger: { repo: M, sha: bad, deployment_id: trig.id },
    metric: 'mfa.auth.failures', scope: '*', onset, deployAt: dep, terms: ['1.48.0', 'SessionCacheClient', 'ValidateConnection', 'lock', 'cache'] });
}
