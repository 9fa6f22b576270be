// After Facebook, 2010-09-23: a system that verified configuration values treated an invalid value as
// a broken cache entry, deleted it and re-read the value from the database. A change made the persistent
// copy itself invalid, so every client did this at once; the database cluster was overwhelmed, its
// errors were read as invalid values too, and the loop fed itself until traffic to the cluster was stopped.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'config-invalid-cache-stampede';
export const source = 'Facebook Engineering, "More Details on Today\'s Outage" (Robert Johnson, facebook.com/notes, 2010-09-23)';

export function build() {
  const I = new Incident({ seed: 20100923, company: 'Friendmesh', domain: 'friendmesh.com' });
  I.person('oncall', 'Daniel Okonkwo', { login: 'dokonkwo' });
  I.person('ic', 'Margaret Ellison', { login: 'mellison' });
  I.person('cfg', 'Sven Halvorsen', { login: 'shalvorsen' });
  I.person('db', 'Lucía Romero', { login: 'lromero' });
  I.person('web', 'Nate Kimura', { login: 'nkimura' });
  const at = (t) => ms(`2010-09-23T${t}Z`);
  const from = at('16:00:00'), to = at('22:30:00');
  const change = at('18:04:10'), onset = at('18:05:00'), page = at('18:07:30'), ack = at('18:08:20'), cut = at('19:40:00'), resolve = at('20:48:00');

  const CL = 'friendmesh/configlib';
  const latent = I.commit(CL, { message: 'Self-heal invalid config values: drop the cached copy and re-read from the DB\n\nCorrupt cache entries otherwise stay until TTL.', author: 'cfg', at: ms('2010-04-12T14:00:00Z'), files: [
    { filename: 'lib/config/verify.php', patch: '@@ -31,6 +31,10 @@ function config_get($key) {\n   $v = cache_get("cfg:$key");\n   if (!config_valid($key, $v)) {\n-    return config_default($key);\n+    cache_delete("cfg:$key");\n+    $v = db_read_config($key);   // no backoff: value must be repaired now\n+    if (!config_valid($key, $v)) { cache_delete("cfg:$key"); return config_default($key); }\n+    cache_set("cfg:$key", $v);\n   }' },
  ] });
  I.deploy(CL, { env: 'production', ref: 'cfglib-2010.04.14', description: 'configlib 2010.04.14 (via www push)', createdAt: ms('2010-04-14T18:00:00Z'), finishedAt: ms('2010-04-14T19:05:22Z') });
  I.commit('friendmesh/www', { message: 'Feed: lazy-load photo thumbnails below the fold', author: 'web', at: at('10:00:00'), files: [{ filename: 'html/feed/render.php', patch: '@@ -70,2 +70,3 @@\n+  $opts["lazy_thumbs"] = true;' }] });
  I.deploy('friendmesh/www', { env: 'production', ref: 'www-0923-daily', description: 'www daily push', createdAt: at('17:38:00'), finishedAt: at('17:51:36'), creator: 'nkimura' });

  const ce = I.changeEvent({ at: change, summary: 'configstore: updated feed.ranker.weights (persistent value)', integration: 'configstore', services: ['configstore'], custom_details: { key: 'feed.ranker.weights', editor: 'config-ui', validation: 'schema check skipped (bulk import)', size_bytes: 4112 } });
  I.changeEvent({ at: at('18:04:40'), summary: 'memcache pool mc-west-3 resized 96 -> 104 hosts', integration: 'capacity-tool', services: ['memcache'], custom_details: { pool: 'mc-west-3', from: 96, to: 104 } });
  I.changeEvent({ at: cut, summary: 'Traffic to db cluster cfg-db-1 blocked (site in maintenance page)', integration: 'traffic-control', services: ['www'], custom_details: { action: 'block', cluster: 'cfg-db-1' } });

  const storm = (t) => (t < onset ? 0 : t < cut ? 1 : t < cut + 25 * MIN ? 0.05 : Math.max(0, 0.05 - 0.05 * (t - cut - 25 * MIN) / (20 * MIN)));
  I.series({ metric: 'configdb.queries', expression: 'sum:configdb.queries{cluster:cfg-db-1}.as_count()', scope: 'cluster:cfg-db-1', interval: 20, from, to, unit: 'query', fn: (t) => I.noise(1200, 0.1) + storm(t) * I.noise(420000, 0.08) });
  I.series({ metric: 'www.requests.errors', expression: 'sum:www.requests.errors{*}.as_count()', scope: '*', interval: 60, from, to, unit: 'error', fn: (t) => I.noise(500, 0.2) + (t < onset + 60 * SEC ? 0 : t < cut ? I.noise(900000, 0.05) : t < at('20:30:00') ? I.noise(1_200_000, 0.02) : I.noise(500, 0.2)) });
  I.ddEvent({ at: at('17:51:36'), title: 'www daily push complete', source_type_name: 'deploy', tags: ['service:www'] });

  const web = ['www-1042', 'www-2217', 'www-3301'];
  I.logsBetween(onset, cut, 120, 'www', 'warn', web, () => I.pick([
    'configlib: invalid value for feed.ranker.weights (weights must sum to 1.0, got 13.7); cache_delete + db_read_config',
    'configlib: db_read_config(feed.ranker.weights) failed: cfg-db-1 too many connections; treating as invalid, cache_delete',
    'configlib: invalid value for feed.ranker.weights after DB re-read; returning default']));
  I.logsBetween(onset, cut, 40, 'mysql', 'error', ['cfg-db-1a', 'cfg-db-1b'], () => `Too many connections (max_connections=12000), threads_running=${I.int(3000, 4000)}`);
  I.logsBetween(from, to, 60, 'www', 'info', web, () => `GET /home.php 200 ${I.int(80, 400)}ms`);
  I.log(at('16:40:00'), 'configstore', 'info', 'cfgui-1', `bulk import authenticated session=${I.secret('fmsess_93aQx7Lk2PzWcfg0923')}`);

  I.say(at('18:08:50'), 'oncall', 'ack. site erroring, cfg-db-1 pinned at max connections');
  const th = I.say(at('18:09:40'), 'web', 'daily push landed 17:51, lazy thumbnails. revert?');
  I.say(at('18:10:30'), 'oncall', 'the queries hammering cfg-db-1 are all configlib reads of feed.ranker.weights, not feed rendering', { thread: th });
  I.say(at('18:11:10'), 'db', 'mc-west-3 was resized at 18:04:40, maybe cache misses from the rehash?');
  I.say(at('18:14:00'), 'cfg', 'no, it is one key. feed.ranker.weights was updated at 18:04:10 via bulk import and the value is invalid (sums to 13.7). since April configlib deletes the cache entry and re-reads from the DB when a value is invalid. every web server does that on every request, and DB errors count as invalid too');
  I.say(at('18:20:00'), 'cfg', 'fixed the persistent value, but the DB is too overloaded to serve it and the loop keeps going');
  I.say(at('19:35:00'), 'ic', 'IC. only way to break the loop: block all traffic to cfg-db-1 (site goes to the maintenance page), let it recover, bring traffic back slowly');
  I.say(at('20:45:00'), 'ic', 'traffic restored, errors at baseline. resolving. follow-ups: no DB re-read on invalid values, backoff, validation on bulk import');

  return finish(I, { page, ack, resolve, monitor: '[P1] www error rate > 5%', service: 'www', number: 9231, oncall: 'oncall', ic: 'ic',
    notes: [[at('18:20:00'), 'Invalid persistent value for feed.ranker.weights; configlib self-heal re-reads the DB from every client -> feedback loop on cfg-db-1.']],
    channel: { id: 'C0FMWWW10', name: 'inc-www' }, family: 'latent-defect', trigger: { kind: 'change_event', change_event_id: ce },
    latent: { repo: CL, sha: latent }, metric: 'configdb.queries', scope: 'cluster:cfg-db-1', onset, terms: ['feed.ranker.weights', 'invalid', 'configlib', 'cache', 'feedback loop'] });
}
