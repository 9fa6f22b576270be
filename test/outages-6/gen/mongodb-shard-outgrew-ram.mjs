// After Foursquare, 2010-10-04: check-ins were sharded over two MongoDB shards by user id, and one shard
// grew faster than the other. When its working set outgrew the machine's RAM, reads went to disk, every
// request queued behind them and the site went down. Adding a shard did not help at once because moving
// chunks left the original shard's data files fragmented; the outage lasted about eleven hours.
import { Incident, ms, MIN, SEC, HOUR } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'mongodb-shard-outgrew-ram';
export const source = 'Foursquare, "So, that was a bummer" (blog.foursquare.com, 2010-10-05) and the MongoDB post-mortem on the mongodb-user list (2010-10)';

export function build() {
  const I = new Incident({ seed: 20101004, company: 'Placetrail', domain: 'placetrail.com' });
  I.person('oncall', 'Darnell Whitaker', { login: 'dwhitaker' });
  I.person('ic', 'Sofia Lindqvist', { login: 'slindqvist', slack: 'sofia', email: 'sofia@placetrail.com' });
  I.person('db', 'Arjun Mehra', { login: 'amehra' });
  I.person('api', 'Beatriz Oliveira', { login: 'boliveira' });
  I.person('vendor', 'Henrik Vos', { login: 'hvos' });
  const at = (t) => ms(t.length <= 8 ? `2010-10-04T${t}Z` : t);
  const from = at('12:00:00'), to = at('2010-10-05T05:00:00');
  const onset = at('15:52:00'), page = at('15:54:30'), ack = at('15:55:10'), newShard = at('17:40:00'), compactDone = at('2010-10-05T02:35:00'), resolve = at('2010-10-05T03:05:00');

  I.commit('placetrail/api', { message: 'Venues: add "trending nearby" endpoint behind trending.enabled', author: 'api', at: at('10:00:00'), files: [{ filename: 'src/main/scala/api/VenuesController.scala', patch: '@@ -88,2 +88,9 @@\n+  def trendingNearby(ll: LatLng) = Action {\n+    if (!flags.on("trending.enabled")) NotFound\n+    else Ok(trending.near(ll, limit = 20))\n+  }' }] });
  I.deploy('placetrail/api', { env: 'production', ref: 'api-1004a', description: 'api 1004a', createdAt: at('14:05:00'), finishedAt: at('14:19:42'), creator: 'boliveira' });
  I.changeEvent({ at: at('15:10:15'), summary: 'memcached: checkins cache pool 8 -> 10 nodes', integration: 'chef', services: ['cache'], custom_details: { pool: 'checkins', from: 8, to: 10 } });
  I.changeEvent({ at: newShard, summary: 'mongo: shard2 added to checkins cluster, balancer enabled', integration: 'chef', services: ['mongodb'], custom_details: { cluster: 'checkins', shard: 'shard2' } });

  const bad = (t) => (t < onset ? 0 : t < compactDone ? 1 : Math.max(0, 1 - (t - compactDone) / (20 * MIN)));
  I.series({ metric: 'api.requests.timeouts', expression: 'sum:api.requests.timeouts{env:prod}.as_count()', scope: 'env:prod', interval: 60, from, to, unit: 'request', fn: (t) => I.noise(12, 0.5) + bad(t) * I.noise(41000, 0.1) });
  I.series({ metric: 'mongodb.disk.read_iops', expression: 'avg:mongodb.disk.read_iops{shard:shard0}', scope: 'shard:shard0', interval: 60, from, to, fn: (t) => I.noise(90, 0.3) + bad(t) * I.noise(2400, 0.1) });
  I.series({ metric: 'mongodb.mem.resident_gb', expression: 'avg:mongodb.mem.resident_gb{shard:shard0}', scope: 'shard:shard0', interval: 300, from, to, fn: (t) => Math.min(65.8, 64.9 + (t - from) / HOUR * 0.25) });
  I.series({ metric: 'mongodb.data_size_gb', expression: 'avg:mongodb.data_size_gb{shard:shard0}', scope: 'shard:shard0', interval: 300, from, to, fn: (t) => 65.2 + (t - from) / HOUR * 0.22 });
  I.ddEvent({ at: at('14:19:42'), title: 'api 1004a deployed', source_type_name: 'deploy', tags: ['service:api'] });

  I.logsBetween(onset, compactDone, 120, 'mongod', 'warn', ['mongo-s0a'], () => `${I.pick(['query', 'update'])} checkins.checkins ${I.int(800, 9500)}ms nscanned:${I.int(1, 40)} (page faults: ${I.int(200, 3000)})`);
  I.logsBetween(onset, compactDone, 80, 'api', 'error', ['app-04', 'app-11', 'app-17'], () => `com.mongodb.MongoException$Network: Read timed out after 5000 ms (mongos -> shard0)\n\tat com.mongodb.DBPort.go(DBPort.java:119)\n\tat placetrail.checkins.CheckinStore.recent(CheckinStore.scala:${I.int(40, 60)})`);
  I.logsBetween(at('11:00:00'), onset, 6, 'mongod', 'info', ['mongo-s0a'], () => `mem: res ${I.int(64, 65)}.${I.int(0, 9)}G of 66G, data ${I.int(65, 66)}G`);
  I.logsBetween(from, to, 40, 'mongod', 'info', ['mongo-s1a'], () => `query checkins.checkins ${I.int(1, 20)}ms`);
  I.log(at('16:30:00'), 'ops', 'info', 'bastion-1', `mongo --host mongo-s0a -u admin -p ${I.secret('Pl4ceTr4il!m0ngo2010')} --eval "db.serverStatus().mem"`);

  I.say(at('15:55:30'), 'oncall', 'ack. api timing out on almost everything that touches check-ins');
  const th = I.say(at('15:56:10'), 'api', 'api-1004a went out 14:19. the trending endpoint is flagged off, but I can roll back');
  I.say(at('15:57:40'), 'db', 'rolling back will not help: the timeouts are all shard0. it has 66G RAM and its data passed 66G this afternoon, resident memory is pinned and disk reads went 90 -> 2400 iops. shard1 is fine', { thread: th });
  I.say(at('15:58:20'), 'oncall', 'what about the memcached pool resize at 15:10?');
  I.say(at('15:59:00'), 'db', 'cache hit ratio unchanged after it, and misses are not what is slow; every shard0 read page-faults');
  I.say(at('16:10:00'), 'ic', 'IC. add a third shard and move chunks off shard0');
  I.say(at('19:30:00'), 'vendor', 'chunks moved but shard0 still faults: the moved documents were small and scattered, the data files are as fragmented as before so the working set did not shrink');
  I.say(at('20:05:00'), 'ic', 'take the site down and repair/compact shard0 from its secondary');
  I.say(at('2010-10-05T02:40:00'), 'db', 'compaction finished 02:35, shard0 resident 41G, reads from memory again');
  I.say(at('2010-10-05T03:05:00'), 'ic', 'resolving. follow-ups: alert on data/working set vs RAM per shard, rebalance earlier, capacity review');

  return finish(I, { page, ack, resolve, monitor: 'api timeouts > 1000/min', service: 'api', number: 10104, oncall: 'oncall', ic: 'ic',
    notes: [[at('16:05:00'), 'shard0 working set exceeded RAM; disk-bound. Adding shard.']],
    channel: { id: 'C0PLTRMDB1', name: 'inc-checkins-down' }, family: 'capacity', trigger: null,
    metric: 'api.requests.timeouts', scope: 'env:prod', onset, terms: ['shard0', 'RAM', 'working set', 'page faults', 'fragment'] });
}
