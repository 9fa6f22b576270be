// After the leap second of 2012-06-30 23:59:60 UTC (Reddit, Mozilla, LinkedIn and others): the Linux
// kernel inserted the second but did not re-arm its high-resolution timers, so futex sleeps returned
// at once and Java (Cassandra) and MySQL threads spun at 100% CPU. Setting the clock (`date -s`) ended it.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'leap-second-futex-spin';
export const source = 'Reddit admins, "Reddit outage report: leap second" (redditblog / r/announcements, 2012-07-01); Mozilla IT "Leap second and Hadoop" (2012-07-01); LKML thread "Leap second hrtimer livelock" and the fix "hrtimer: Update hrtimer base offsets each hrtimer_interrupt" (John Stultz, 2012-07)';

export function build() {
  const I = new Incident({ seed: 20120630, company: 'Threadly', domain: 'threadly.com' });
  I.person('oncall', 'Marcus Oyelaran', { login: 'moyelaran' });
  I.person('ic', 'Hannah Lindqvist', { login: 'hlindqvist' });
  I.person('db', 'Tomasz Wiśniewski', { login: 'twisniewski' });
  I.person('app', 'Priya Raghunathan', { login: 'praghunathan' });
  I.person('ops', 'Diego Fuentes', { login: 'dfuentes' });
  const at = (t) => ms(t.length <= 8 ? `2012-07-01T${t}Z` : t);
  const from = ms('2012-06-30T21:00:00Z'), to = ms('2012-07-01T03:00:00Z');
  const leap = ms('2012-07-01T00:00:00Z');
  const onset = leap;
  const page = at('00:03:52'), ack = at('00:05:10'), fixStart = at('01:02:00'), resolve = at('01:44:30');

  I.commit('threadly/web', { message: 'Comment tree: batch vote lookups per page', author: 'app', at: ms('2012-06-30T19:10:00Z'), files: [{ filename: 'r2/models/comment_tree.py', patch: '@@ -88,6 +88,7 @@ def load_tree(link):\n-    votes = [get_vote(c) for c in comments]\n+    votes = get_votes_batch(comments)' }] });
  I.deploy('threadly/web', { env: 'production', ref: 'web-0630-2', description: 'web: batch vote lookups', createdAt: ms('2012-06-30T22:31:00Z'), finishedAt: ms('2012-06-30T22:44:18Z'), creator: 'praghunathan' });
  I.commit('threadly/chef', { message: 'cassandra: raise compaction throughput to 24 MB/s', author: 'db', at: ms('2012-06-30T20:00:00Z'), files: [{ filename: 'cookbooks/cassandra/attributes/default.rb', patch: "@@ -14,3 +14,3 @@\n-default['cassandra']['compaction_throughput_mb'] = 16\n+default['cassandra']['compaction_throughput_mb'] = 24" }] });
  I.deploy('threadly/chef', { env: 'production', ref: 'chef-2012.06.30', description: 'chef: cassandra compaction throughput', createdAt: ms('2012-06-30T23:20:00Z'), finishedAt: ms('2012-06-30T23:31:40Z') });

  const spin = (t) => (t < onset ? 0 : t < fixStart ? 1 : Math.max(0, 1 - (t - fixStart) / (35 * MIN)));
  I.series({ metric: 'system.cpu.user', expression: 'avg:system.cpu.user{role:cassandra}', scope: 'role:cassandra', interval: 20, from, to, unit: 'percent', fn: (t) => I.noise(22, 0.12) + spin(t) * I.noise(74, 0.03) });
  I.series({ metric: 'web.requests.errors', expression: 'sum:web.requests.errors{*}.as_count()', scope: '*', interval: 20, from, to, unit: 'error', fn: (t) => I.noise(40, 0.3) + (t < onset + 40 * SEC ? 0 : spin(t) * I.noise(5200, 0.1)) });
  I.series({ metric: 'system.load.1', expression: 'avg:system.load.1{role:mysql}', scope: 'role:mysql', interval: 60, from, to, fn: (t) => I.noise(3, 0.2) + spin(t) * I.noise(28, 0.05) });
  I.ddEvent({ at: ms('2012-06-30T22:44:18Z'), title: 'Deployed web-0630-2', source_type_name: 'deploy', tags: ['service:web'] });
  I.ddEvent({ at: page - 20 * SEC, title: '[P1] Triggered: web 5xx > 2%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:web'] });

  const cass = ['cass-a01', 'cass-a07', 'cass-b03', 'cass-b11'];
  for (const h of [...cass, 'db-master-2', 'app-14']) I.log(ms('2012-06-30T23:59:59Z'), 'kernel', 'info', h, 'Clock: inserting leap second 23:59:60 UTC');
  I.logsBetween(onset + 30 * SEC, fixStart, 60, 'cassandra', 'warn', cass, () => `GCInspector: ParNew GC not run; all ${I.int(180, 260)} threads RUNNABLE in sun.misc.Unsafe.park / futex_wait returning immediately, cpu=${I.int(96, 100)}%`);
  I.logsBetween(onset + 40 * SEC, fixStart, 80, 'web', 'error', ['app-14', 'app-22', 'app-31'], () => `TimedOutException: cassandra read timed out after 10000 ms (cf=CommentTree node=${I.pick(cass)})`);
  I.logsBetween(from, to, 60, 'web', 'info', ['app-14', 'app-22'], () => `GET /r/${I.pick(['pics', 'news', 'ask'])}/comments 200 ${I.int(40, 300)}ms`);
  I.log(fixStart, 'ops-shell', 'info', 'bastion-1', "dsh -g cassandra,mysql,app 'date -s \"$(date)\"'  # 212 hosts");
  I.log(ms('2012-06-30T21:30:00Z'), 'web', 'info', 'app-22', `memcache pool ok; s3 uploader key AKIA${I.secret('IOSFODNN7THRD0630X')} loaded`);
  I.log(ms('2012-06-30T21:30:00Z') + 400, 'web', 'info', 'app-22', `s3 uploader secret ${I.secret('wJalrXUtnFEMI/K7MDENG/bPxRfiCYThreadly')}`);

  I.say(at('00:05:40'), 'oncall', 'ack. site is throwing 503s, cassandra read timeouts everywhere');
  const th = I.say(at('00:06:30'), 'app', 'the web deploy went out at 22:44, batch vote lookups. could that be hammering cassandra?');
  I.say(at('00:08:00'), 'oncall', 'it ran fine for over an hour and the cassandra CPU jumped at exactly 00:00:00, not gradually', { thread: th });
  I.say(at('00:09:10'), 'db', 'maybe my compaction throughput bump from chef? that landed 23:31');
  I.say(at('00:12:30'), 'db', 'no, compaction is idle. the JVMs are at 100% user CPU with nothing to do. mysql boxes too, load 30 with no queries');
  I.say(at('00:18:00'), 'ops', 'every box logged "Clock: inserting leap second 23:59:60 UTC" right before. lkml has a thread tonight: hrtimers not updated after the leap second, futex waits return immediately, anything using timed waits spins');
  I.say(at('00:25:00'), 'ic', 'IC. workaround from the thread is to set the clock, `date -s "$(date)"`, no reboot needed. try on one cassandra node');
  I.say(at('00:58:00'), 'db', 'cass-a07 dropped from 100% to 20% right after date -s. rolling it to the fleet');
  I.say(at('01:40:00'), 'oncall', 'cpu normal on all cassandra and mysql hosts, errors back to baseline');
  I.say(at('01:44:00'), 'ic', 'resolving. follow-ups: kernel with the hrtimer fix, leap second smearing on our NTP servers');

  return finish(I, { page, ack, resolve, monitor: '[P1] web 5xx > 2%', service: 'web', number: 5521, oncall: 'oncall', ic: 'ic',
    notes: [[at('00:30:00'), 'All Java and MySQL hosts spinning at 100% CPU since 00:00:00 UTC, the leap second; kernel hrtimer bug. Workaround: date -s.']],
    channel: { id: 'C0LEAP2012', name: 'ops-incident' }, family: 'infra-no-change', trigger: null,
    metric: 'system.cpu.user', scope: 'role:cassandra', onset, terms: ['leap second', 'hrtimer', 'futex', 'date -s', '100% CPU'] });
}
