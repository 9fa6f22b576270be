// After Square, 2017-03-16: a code change deployed to the service that authenticates sessions made it
// retry Redis transactions that lost an optimistic-lock race immediately and without limit; the retries
// saturated the Redis cluster, logins and authenticated API calls failed, and rolling the deploy back
// (then restarting the clients) ended it.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'session-redis-retry-storm';
export const source = 'Square, "Summary of the March 16, 2017 Square service disruption" (issquareup.com incident summary and engineering follow-up)';

export function build() {
  const I = new Incident({ seed: 20170316, company: 'Tillpoint', domain: 'tillpoint.com' });
  I.person('oncall', 'Victoria Nakamura', { login: 'vnakamura' });
  I.person('ic', 'Rahul Deshpande', { login: 'rdeshpande' });
  I.person('auth', 'Emil Johansson', { login: 'ejohansson' });
  I.person('auth2', 'Adaeze Nwosu', { login: 'anwosu' });
  I.person('pay', 'Carlos Mendes', { login: 'cmendes' });
  const at = (t) => ms(`2017-03-16T${t}Z`);
  const from = at('15:00:00'), to = at('21:00:00');
  const onset = at('17:32:40'), page = at('17:35:00'), ack = at('17:35:48'), rollback = at('18:21:00'), resolve = at('19:02:30');

  const MP = 'tillpoint/multipass';
  I.commit(MP, { message: 'Sessions: emit session age histogram', author: 'auth', at: ms('2017-03-14T11:00:00Z'), files: [{ filename: 'src/main/java/com/tillpoint/multipass/Metrics.java', patch: '@@ -20,2 +20,4 @@\n+  static final Histogram SESSION_AGE = Histogram.build()\n+      .name("multipass_session_age_seconds").register();' }] });
  I.deploy(MP, { env: 'production', ref: 'mp-1203', description: 'multipass 1203', createdAt: ms('2017-03-14T16:00:00Z'), finishedAt: ms('2017-03-14T16:18:09Z') });
  const bad = I.commit(MP, { message: 'Sessions: update last-seen with WATCH/MULTI instead of a Lua script', author: 'auth2', at: ms('2017-03-15T13:00:00Z'), files: [
    { filename: 'src/main/java/com/tillpoint/multipass/SessionStore.java', patch: '@@ -112,9 +112,16 @@ public void touch(String sid) {\n-    redis.evalsha(TOUCH_SHA, List.of(key(sid)), List.of(now()));\n+    while (true) {\n+      redis.watch(key(sid));\n+      Session s = read(sid);\n+      Transaction tx = redis.multi();\n+      tx.hset(key(sid), "last_seen", now());\n+      tx.hset(key(sid), "token_gen", s.tokenGen);\n+      if (tx.exec() != null) return;\n+      // lost the race with another request for the same session: try again\n+    }' },
  ] });
  I.commit(MP, { message: 'Log: include client app version in auth failures', author: 'auth', at: ms('2017-03-15T15:00:00Z'), files: [{ filename: 'src/main/java/com/tillpoint/multipass/AuthFilter.java', patch: '@@ -48,1 +48,1 @@\n-    log.warn("auth failed sid={}", sid);\n+    log.warn("auth failed sid={} app={}", sid, req.appVersion());' }] });
  const trig = I.deploy(MP, { env: 'production', ref: 'mp-1204', description: 'multipass 1204', createdAt: at('17:14:00'), finishedAt: at('17:29:51'), creator: 'anwosu' });
  const shipped = I.repo(MP).commits.slice(-2).map((c) => c.sha);
  I.repo(MP).deployment_commits[String(trig.id)] = shipped;
  I.commit('tillpoint/payments-api', { message: 'Refunds: accept partial refunds on split tenders', author: 'pay', at: ms('2017-03-16T10:00:00Z'), files: [{ filename: 'refunds/split.go', patch: '@@ -30,2 +30,4 @@\n+\tif len(t.Tenders) > 1 { return r.partialSplit(t) }' }] });
  I.deploy('tillpoint/payments-api', { env: 'production', ref: 'pay-5512', description: 'payments-api 5512', createdAt: at('17:22:00'), finishedAt: at('17:31:58'), creator: 'cmendes' });
  I.deploy(MP, { env: 'production', ref: 'mp-1203', description: 'multipass rollback to 1203', createdAt: at('18:14:00'), finishedAt: rollback, sha: I.repo(MP).deployments[0].sha, commits: [] });

  const storm = (t) => (t < onset ? 0 : t < rollback ? 1 : Math.max(0, 1 - (t - rollback) / (35 * MIN)));
  I.series({ metric: 'redis.commands', expression: 'sum:redis.commands{cluster:sessions}.as_count()', scope: 'cluster:sessions', interval: 20, from, to, unit: 'command', fn: (t) => I.noise(90000, 0.05) + storm(t) * I.noise(2_400_000, 0.05) });
  I.series({ metric: 'multipass.auth.errors', expression: 'sum:multipass.auth.errors{*}.as_count()', scope: '*', interval: 20, from, to, unit: 'error', fn: (t) => I.noise(30, 0.3) + (t < onset + 40 * SEC ? 0 : storm(t) * I.noise(18000, 0.1)) });
  I.series({ metric: 'redis.cpu', expression: 'avg:redis.cpu{cluster:sessions}', scope: 'cluster:sessions', interval: 60, from, to, unit: 'percent', fn: (t) => Math.min(100, I.noise(35, 0.08) + storm(t) * 65) });
  I.ddEvent({ at: trig.finishedAt, title: 'multipass 1204 deployed', source_type_name: 'deploy', tags: ['service:multipass'] });
  I.ddEvent({ at: at('17:31:58'), title: 'payments-api 5512 deployed', source_type_name: 'deploy', tags: ['service:payments-api'] });

  const mp = ['multipass-03', 'multipass-11', 'multipass-19'];
  I.logsBetween(onset, rollback, 70, 'multipass', 'warn', mp, () => `SessionStore.touch: EXEC aborted (WATCH conflict) sid=${I.hex(12)} attempt=${I.int(40, 9000)}`);
  I.logsBetween(onset + 40 * SEC, rollback + 15 * MIN, 80, 'multipass', 'error', mp, () => `auth failed sid=${I.hex(12)} app=${I.pick(['pos-4.61', 'dash-web', 'api'])}: redis timeout after 500ms (SessionStore.java:118)`);
  I.logsBetween(onset, rollback, 20, 'redis', 'warn', ['sess-redis-1', 'sess-redis-2'], () => `slowlog: WATCH/MULTI/EXEC ${I.int(60000, 90000)} ops/s per shard, cpu ${I.int(97, 100)}%`);
  I.logsBetween(from, to, 60, 'payments-api', 'info', ['pay-7', 'pay-12'], () => `POST /v2/payments 200 ${I.int(40, 220)}ms`);
  I.log(at('16:10:00'), 'multipass', 'info', mp[0], `redis connect redis://:${I.secret('sessR3dis-Tp-2017-8KqW')}@sess-redis-1:6379/0`);

  I.say(at('17:36:10'), 'oncall', 'ack. logins and authenticated API calls failing, session redis at 100% CPU');
  const th = I.say(at('17:36:50'), 'pay', 'payments-api 5512 finished 17:31:58, right before. partial refunds. rolling back');
  I.say(at('17:38:30'), 'oncall', 'the failures are in multipass auth against redis, payments only sees them downstream. refunds do not touch sessions', { thread: th });
  I.say(at('17:41:00'), 'auth', 'redis command rate 25x. slowlog is all WATCH/MULTI/EXEC on session keys');
  I.say(at('17:47:00'), 'auth2', 'that is SessionStore.touch from mp-1204 (finished 17:29). I replaced the Lua script with WATCH/MULTI and retry on conflict with no limit and no backoff. concurrent requests on one session conflict, and under load they all spin');
  I.say(at('17:52:00'), 'ic', 'IC. roll multipass back to 1203');
  I.say(at('18:25:00'), 'auth', 'rollback done 18:21, redis CPU dropping, clients reconnecting');
  I.say(at('19:00:00'), 'ic', 'auth errors at baseline. resolving. follow-ups: bounded retries with jitter, load test session contention');

  return finish(I, { page, ack, resolve, monitor: '[P1] multipass auth errors > 2%', service: 'multipass', number: 1703, oncall: 'oncall', ic: 'ic',
    notes: [[at('17:55:00'), 'mp-1204 SessionStore.touch retries WATCH conflicts without limit; session redis saturated. Rolling back to 1203.']],
    channel: { id: 'C0TPAUTH17', name: 'inc-auth' }, family: 'bad-deploy', trigger: { repo: MP, sha: bad, deployment_id: trig.id },
    metric: 'redis.commands', scope: 'cluster:sessions', onset, deployAt: trig.finishedAt, terms: ['mp-1204', 'WATCH', 'retry', 'SessionStore', 'Redis'] });
}
