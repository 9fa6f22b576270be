// After GitHub, 2018-10-21: routine replacement of failing 100G optical equipment cut the east
// network hub off from the east data center for 43 seconds; the failover automation promoted
// west-coast database primaries, leaving writes split across coasts and 24 hours of degradation.
// No deployment or configuration change caused it.
import { Incident, ms, iso, isoS, HOUR, MIN, SEC } from './lib.mjs';

export const slug = 'db-failover-network-partition';
export const source = 'GitHub, "October 21 post-incident analysis" (github.blog, 2018-10-30)';

export function build() {
  const I = new Incident({ seed: 181021, company: 'Forgely', domain: 'forgely.dev' });
  I.person('oncall', 'Sam Whitaker', { login: 'swhitaker' });
  I.person('ic', 'Ngozi Eze', { login: 'ngozi-eze' });
  I.person('db', 'Viktor Petrov', { login: 'vpetrov-db' });
  I.person('db2', 'Lucía Fernández', { login: 'lfernandez' });
  I.person('net', 'Declan Byrne', { login: 'dbyrne-net' });
  I.person('app', 'Mei Wong', { login: 'meiwong' });
  I.person('sup', 'Arjun Rao', { login: 'arao-support' });

  const from = ms('2018-10-21T19:00:00Z');
  const to = ms('2018-10-23T00:30:00Z');
  const cut = ms('2018-10-21T22:52:10Z');
  const heal = ms('2018-10-21T22:52:53Z');
  const onset = ms('2018-10-21T22:52:30Z');
  const restored = ms('2018-10-22T16:24:00Z');
  const page = ms('2018-10-21T22:54:12Z');
  const ack = ms('2018-10-21T22:55:40Z');
  const resolve = ms('2018-10-22T23:03:19Z');

  // ---- GitHub: monolith deploys, innocent; one finished two minutes before the partition
  const APP = 'forgely/forgely-web';
  I.commit(APP, { message: 'Repository sidebar: show license badge', author: 'app', at: ms('2018-10-21T18:30:00Z'), files: [
    { filename: 'app/views/repositories/_sidebar.html.erb', patch: "@@ -18,6 +18,9 @@\n <div class=\"repo-sidebar\">\n+  <% if repository.license %>\n+    <span class=\"badge\"><%= repository.license.spdx_id %></span>\n+  <% end %>" },
  ] });
  I.deploy(APP, { env: 'production', ref: 'deploy-8f31c', description: 'Deploy forgely-web to production (canary -> full)', createdAt: ms('2018-10-21T22:12:00Z'), finishedAt: ms('2018-10-21T22:39:48Z') });
  I.commit(APP, { message: 'Add feature flag markdown_renderer_v2 (off by default)', author: 'app', at: ms('2018-10-21T20:05:00Z'), files: [
    { filename: 'config/features.yml', patch: '@@ -210,3 +210,7 @@\n   actions_beta:\n     default: false\n+  markdown_renderer_v2:\n+    default: false\n+    owner: "@forgely/markup"' },
  ] });
  I.deploy(APP, { env: 'production', ref: 'deploy-b27e0', description: 'Deploy forgely-web to production (canary -> full)', createdAt: ms('2018-10-21T22:41:30Z'), finishedAt: ms('2018-10-21T22:50:37Z') });
  I.commit('forgely/orchestrator-config', { message: 'Raise RecoveryPeriodBlockSeconds to 3600', author: 'db', at: ms('2018-10-18T10:00:00Z'), files: [
    { filename: 'orchestrator.conf.json', patch: '@@ -40,7 +40,7 @@\n-  "RecoveryPeriodBlockSeconds": 1800,\n+  "RecoveryPeriodBlockSeconds": 3600,\n   "RecoverMasterClusterFilters": ["*"],' },
  ] });
  I.deploy('forgely/orchestrator-config', { env: 'production', ref: 'oc-77', description: 'orchestrator-config oc-77', createdAt: ms('2018-10-18T11:00:00Z'), finishedAt: ms('2018-10-18T11:04:31Z') });

  // ---- Datadog
  const split = (t) => t >= onset && t < restored;
  const hourOfDay = (t) => new Date(t).getUTCHours() + new Date(t).getUTCMinutes() / 60;
  const traffic = (t) => 1 + 0.45 * Math.sin(((hourOfDay(t) - 9) / 24) * 2 * Math.PI);
  I.series({ metric: 'trace.rack.request.errors', expression: 'sum:trace.rack.request.errors{service:forgely-web,env:production}.as_count()', scope: 'env:production,service:forgely-web', interval: 30, from, to, unit: 'request', fn: (t) => split(t) ? I.noise(5200 * traffic(t), 0.15) : I.noise(60 * traffic(t), 0.2) });
  I.series({ metric: 'mysql.replication.seconds_behind_master', expression: 'max:mysql.replication.seconds_behind_master{cluster:mysql1}', scope: 'cluster:mysql1', interval: 30, from, to, unit: 'second', fn: (t) => {
    if (t < onset) return I.noise(0.4, 0.5);
    if (t < restored) return Math.max(0, I.noise(1800 * traffic(t), 0.1));
    return I.noise(0.5, 0.5);
  } });
  I.series({ metric: 'network.link.up', expression: 'min:network.link.up{link:iad-hub-r1_hu0-0-0-4}', scope: 'link:iad-hub-r1_hu0-0-0-4', interval: 10, from: cut - 2 * HOUR, to: cut + 2 * HOUR, fn: (t) => t >= cut && t < heal ? 0 : 1 });
  I.series({ metric: 'webhooks.queue.backlog', expression: 'sum:webhooks.queue.backlog{env:production}', scope: 'env:production', interval: 30, from, to, unit: 'job', fn: (t) => {
    const paused = ms('2018-10-21T23:19:00Z'); const resumed = ms('2018-10-22T16:45:00Z');
    if (t < paused) return I.noise(300, 0.2);
    if (t < resumed) return 300 + (t - paused) / 1000 * 80;
    return Math.max(300, 300 + (resumed - paused) / 1000 * 80 - (t - resumed) / 1000 * 1100);
  } });
  I.ddEvent({ at: ms('2018-10-21T22:53:50Z'), title: '[P1] Triggered: forgely-web 5xx > 1%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:forgely-web'] });
  I.ddEvent({ at: ms('2018-10-21T22:50:37Z'), title: 'Deployed forgely-web deploy-b27e0 to production', source_type_name: 'deploy', tags: ['service:forgely-web', 'env:production'] });

  // ---- logs
  const webs = ['web-iad-1142', 'web-iad-0931', 'web-iad-0577'];
  I.logsBetween(from, to, 220, 'forgely-web', 'info', webs, () => `method=${I.pick(['GET', 'GET', 'POST'])} path=${I.pick(['/:owner/:repo', '/:owner/:repo/pull/:id', '/notifications', '/api/v3/repos/:owner/:repo/issues'])} status=200 duration=${I.int(30, 400)}ms`);
  I.log(cut, 'network', 'error', 'iad-hub-r1', '%PKT_INFRA-LINK-3-UPDOWN : Interface HundredGigE0/0/0/4, changed state to Down (optic replacement in progress, ticket NET-5521)');
  I.log(cut + 1 * SEC, 'network', 'error', 'iad-hub-r1', '%ROUTING-BGP-5-ADJCHANGE : neighbor 10.31.0.1 Down - BFD (Bidirectional forwarding detection) session down');
  I.log(heal, 'network', 'info', 'iad-hub-r1', '%PKT_INFRA-LINK-3-UPDOWN : Interface HundredGigE0/0/0/4, changed state to Up');
  I.log(cut + 26 * SEC, 'orchestrator', 'warn', 'orc-sea-2', 'Detected DeadMaster on mysql1-iad-db-01:3306 (replicas reachable: 3 via sea)');
  I.log(cut + 31 * SEC, 'orchestrator', 'warn', 'orc-sea-2', 'RecoverDeadMaster: promoting mysql1-sea-db-04:3306 as new master of cluster mysql1 (cross-region)');
  I.log(cut + 40 * SEC, 'orchestrator', 'info', 'orc-sea-2', 'Topology recovery: mysql1-sea-db-04:3306 is new master; mysql1-iad-db-01:3306 has 954 writes not replicated');
  I.logsBetween(onset, restored, 220, 'forgely-web', 'error', webs, () => `ActiveRecord::StatementInvalid: Mysql2::Error: ${I.pick(['Lost connection to MySQL server during query', 'The MySQL server is running with the --read-only option so it cannot execute this statement', 'Lock wait timeout exceeded; try restarting transaction'])}\n  app/models/issue.rb:412:in \`save_with_lock!'\n  vendor/gems/activerecord-5.2.1/lib/active_record/connection_adapters/mysql/database_statements.rb:26:in \`execute'\n  app/controllers/issues_controller.rb:88:in \`create'`);
  I.logsBetween(ms('2018-10-21T23:05:00Z'), restored, 40, 'forgely-web', 'warn', webs, () => `stale read: replica lag ${I.int(200, 3600)}s on mysql1 (sea primary, iad replicas catching up)`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] forgely-web 5xx > 1%', 'forgely-web');
  I.pdNotify(page + 600, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdNote(ms('2018-10-21T23:09:00Z'), 'ic', 'Orchestrator promoted west primaries after a 43s east hub partition. Deploys locked. Status red.');
  I.pdNote(ms('2018-10-22T00:41:00Z'), 'ic', 'Decision: restore east clusters from backups and replicate west writes, rather than fail back and lose writes.');
  I.pdNote(ms('2018-10-22T16:25:00Z'), 'ic', 'All clusters back to original topology, replicas in sync. Processing webhook backlog.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (s) => ms(s);
  I.bot(at('2018-10-21T22:54:14Z'), 'PagerDuty', ':rotating_light: *Triggered* #22961 [P1] forgely-web 5xx > 1%');
  I.say(at('2018-10-21T22:55:50Z'), 'oncall', "ack. 5xx jumped at 22:52, lots of mysql 'read-only' and lost connection errors");
  const th = I.say(at('2018-10-21T22:56:40Z'), 'app', 'deploy-b27e0 finished 22:50, roll it back?');
  I.say(at('2018-10-21T22:57:30Z'), 'oncall', 'it only added a feature flag that defaults off. errors are db-level, not app', { thread: th });
  I.say(at('2018-10-21T22:58:10Z'), 'net', 'heads up, we had a 43s loss between iad hub and iad DC1 at 22:52:10, optic swap on iad-hub-r1 Hu0/0/0/4 (scheduled maintenance replacing the failing 100G optic). link is back');
  I.say(at('2018-10-21T23:01:20Z'), 'db', 'orchestrator promoted sea primaries for mysql1 and several other clusters during that window. we now have writes in sea that iad never got, and iad writes sea never got');
  I.say(at('2018-10-21T23:04:00Z'), 'ic', "I'm IC. locking deploys. can we just fail back to iad?");
  I.say(at('2018-10-21T23:06:30Z'), 'db2', 'not without losing writes: ~40 minutes... no, ~954 rows on mysql1 only in iad, and sea has taken writes since. cross-country latency is killing the app too');
  I.say(at('2018-10-21T23:13:00Z'), 'ic', 'status to red. pausing webhooks and pages builds to protect data');
  I.say(at('2018-10-21T23:20:45Z'), 'sup', 'users reporting stale PRs and missing comments');
  I.say(at('2018-10-21T23:40:10Z'), 'app', 'could the orchestrator-config change from thursday (RecoveryPeriodBlockSeconds) have made it fail over?');
  I.say(at('2018-10-21T23:42:00Z'), 'db', 'no, that only limits how often it recovers again. failover happened because iad master was unreachable from sea for >30s, as designed. the design is the problem, it allows cross-region promotion');
  I.say(at('2018-10-22T00:41:30Z'), 'db', 'plan: restore iad replicas from backups, replicate from sea, then fail back. multiple TB, will take hours');
  I.say(at('2018-10-22T02:15:00Z'), 'db2', `backup restore running. if you need the backup bucket: ${I.secret('mysql://restore_ro:Forg3ly-R3store!2018@backup-meta.int.forgely.dev:3306/backups')}`);
  I.say(at('2018-10-22T06:51:00Z'), 'db', 'several clusters restored in iad, replicating from sea');
  I.say(at('2018-10-22T11:12:00Z'), 'db', 'all primaries back in iad. replicas still lagging, peak traffic coming');
  I.say(at('2018-10-22T16:24:30Z'), 'db2', 'replicas in sync, topology restored');
  I.say(at('2018-10-22T16:46:00Z'), 'ic', 'resuming webhooks and pages builds, backlog ~5M events');
  I.say(at('2018-10-22T23:02:40Z'), 'ic', 'backlog drained. resolving. follow-ups: no cross-region promotion, status reporting, DC-level failure drills');
  I.bot(at('2018-10-22T23:03:21Z'), 'PagerDuty', ':white_check_mark: *Resolved* #22961 [P1] forgely-web 5xx > 1%');

  const incident = { id: 'PF22961', source: 'pagerduty', title: '[P1] forgely-web 5xx > 1%', service: 'forgely-web', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 22961, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://forgely.pagerduty.com/incidents/PF22961' };
  const bundle = I.bundle({ incident, channel: { id: 'C0FGDB1021', name: 'inc-2018-10-21-db' } });
  const expected = {
    family: 'infra-no-change',
    trigger: null,
    spike_onset: { metric: 'trace.rack.request.errors', at: iso(onset), tolerance_ms: 60000 },
    root_cause_terms: ['partition', 'failover', 'cross-region', 'orchestrator', 'optic'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  void MIN;
  return { bundle, expected };
}
