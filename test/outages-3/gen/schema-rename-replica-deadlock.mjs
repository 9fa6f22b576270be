// After GitHub, 2021-11-27: an online schema migration on a large MySQL table finished with the table
// rename; applying the rename on the read replicas put them into a semaphore deadlock, reads on the
// table hung, then the replicas crashed (InnoDB's long-semaphore watchdog). Replicas that came back
// took all the read load and crashed again until load was shed.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'schema-rename-replica-deadlock';
export const source = 'GitHub, "GitHub availability report: November 2021" (github.blog, 2021-12-01), incident of November 27';

export function build() {
  const I = new Incident({ seed: 211127, company: 'Forgewright', domain: 'forgewright.dev' });
  I.person('oncall', 'Ravi Shankar', { login: 'rshankar' });
  I.person('ic', 'Emily Carter', { login: 'ecarter-sre' });
  I.person('dba', 'Joaquín Morales', { login: 'jmorales-db' });
  I.person('dba2', 'Yuki Sato', { login: 'ysato' });
  I.person('web', 'Amara Nwosu', { login: 'anwosu' });
  I.person('pr', 'Felix Brandt', { login: 'fbrandt' });

  const from = ms('2021-11-27T13:00:00Z');
  const to = ms('2021-11-27T19:00:00Z');
  const cutover = ms('2021-11-27T16:03:51Z');
  const onset = ms('2021-11-27T16:04:20Z');
  const page = ms('2021-11-27T16:06:48Z');
  const ack = ms('2021-11-27T16:07:30Z');
  const shed = ms('2021-11-27T17:20:00Z');
  const resolve = ms('2021-11-27T17:54:40Z');

  // ---- db-migrations: the migration (copy runs for hours, deployment finishes at the cut-over)
  const DM = 'forgewright/db-migrations';
  I.commit(DM, { message: 'Add index on issue_events(actor_id, created_at)', author: 'dba2', at: ms('2021-11-22T10:00:00Z'), files: [
    { filename: 'migrations/20211122_issue_events_actor_idx.sql', status: 'added', patch: '@@ -0,0 +1 @@\n+ALTER TABLE issue_events ADD INDEX idx_actor_created (actor_id, created_at);' },
  ] });
  I.deploy(DM, { env: 'mysql-production', ref: 'mig-20211122', description: 'online migration issue_events (ost, cluster mysql-issues)', createdAt: ms('2021-11-23T09:00:00Z'), finishedAt: ms('2021-11-23T13:41:20Z') });
  const culprit = I.commit(DM, { message: 'repository_metadata: add default_branch_protected column\n\nOnline migration via ost (copy + binlog apply, atomic rename at the end).\nTable: ~1.9B rows, cluster mysql-repos.', author: 'dba', at: ms('2021-11-26T15:00:00Z'), files: [
    { filename: 'migrations/20211126_repository_metadata_protected.sql', status: 'added', patch: '@@ -0,0 +1,2 @@\n+ALTER TABLE repository_metadata\n+  ADD COLUMN default_branch_protected TINYINT(1) NOT NULL DEFAULT 0;' },
  ] });
  const mig = I.deploy(DM, { env: 'mysql-production', ref: 'mig-20211126', description: 'online migration repository_metadata (ost, cluster mysql-repos; cut-over: RENAME TABLE)', createdAt: ms('2021-11-27T03:10:00Z'), finishedAt: cutover });

  // ---- web monolith deploy (innocent) and a flag ramp right after the cut-over
  I.commit('forgewright/web', { message: 'Pull requests: lazy-load the files-changed tree', author: 'web', at: ms('2021-11-26T17:00:00Z'), files: [
    { filename: 'app/views/pull_requests/files.html.erb', patch: '@@ -12,7 +12,7 @@\n-<%= render "file_tree", files: @pull.files %>\n+<div data-lazy-src="<%= pull_file_tree_path(@pull) %>"></div>' },
  ] });
  const webDeploy = I.deploy('forgewright/web', { env: 'production', ref: 'web-7c1e2', description: 'web deploy 7c1e2 (lazy file tree)', createdAt: ms('2021-11-27T15:41:00Z'), finishedAt: ms('2021-11-27T15:58:36Z') });
  I.changeEvent({ at: ms('2021-11-27T16:04:02Z'), summary: 'Feature flag pr_review_threads_v2 enabled for 25% of actors', integration: 'flipper', services: ['web'], custom_details: { flag: 'pr_review_threads_v2', percentage_of_actors: { from: 5, to: 25 } } });

  // ---- Datadog
  const bad = (t) => (t < onset ? 0 : t < shed ? 1 : Math.max(0, 1 - (t - shed) / (30 * MIN)));
  I.series({ metric: 'web.requests.errors', expression: 'sum:web.requests.errors{env:production,status_class:5xx}.as_count()', scope: 'env:production,status_class:5xx', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(260, 0.2) + bad(t) * I.noise(88000, 0.1) });
  const crashes = [ms('2021-11-27T16:14:30Z'), ms('2021-11-27T16:41:00Z'), ms('2021-11-27T17:02:00Z')];
  I.series({ metric: 'mysql.replicas.healthy', expression: 'sum:mysql.replicas.healthy{cluster:mysql-repos}', scope: 'cluster:mysql-repos', interval: 30, from, to, unit: 'host', fn: (t) => (t < crashes[0] ? 48 : t < crashes[1] ? 9 : t < crashes[2] ? 14 : t < shed ? 6 : Math.min(48, 6 + Math.round((t - shed) / MIN))) });
  I.series({ metric: 'mysql.performance.threads_running', expression: 'avg:mysql.performance.threads_running{cluster:mysql-repos,role:replica}', scope: 'cluster:mysql-repos,role:replica', interval: 30, from, to, fn: (t) => (t < cutover + 20 * SEC ? I.noise(22, 0.2) : t < shed ? I.noise(1900, 0.1) : I.noise(30, 0.2)) });
  I.ddEvent({ at: webDeploy.finishedAt, title: 'Deployed web 7c1e2', source_type_name: 'deploy', tags: ['service:web', 'env:production'] });
  I.ddEvent({ at: ms('2021-11-27T16:06:30Z'), title: '[P1] Triggered: web 5xx rate > 2%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:web'] });

  // ---- logs
  I.log(cutover - 2 * SEC, 'ost', 'info', 'ost-runner-2', 'repository_metadata: row copy 100% (1,903,441,210 rows), binlog lag 0.3s; starting cut-over');
  I.log(cutover, 'ost', 'info', 'ost-runner-2', 'repository_metadata: RENAME TABLE `repository_metadata` TO `_repository_metadata_del`, `_repository_metadata_gho` TO `repository_metadata` ok (primary, 41ms); migration complete');
  const reps = ['mysql-repos-r07', 'mysql-repos-r19', 'mysql-repos-r33', 'mysql-repos-r41'];
  for (const [i, h] of reps.entries()) {
    I.log(cutover + (3 + i) * SEC, 'mysqld', 'info', h, 'Replica SQL thread applying: RENAME TABLE `repository_metadata` TO `_repository_metadata_del`, `_repository_metadata_gho` TO `repository_metadata`');
    I.log(ms('2021-11-27T16:08:00Z') + i * 9 * SEC, 'mysqld', 'warn', h, `InnoDB: A long semaphore wait: --Thread ${139800000000000 + I.int(1e6, 9e6)} has waited at dict0dict.cc line 1236 for ${I.int(230, 260)} seconds the semaphore: X-lock on RW-latch at 0x7f3c2c0d3a40 created in file dict0dict.cc line 1121 (dict_operation_lock)`);
    I.log(crashes[0] + i * 4 * SEC, 'mysqld', 'error', h, '[ERROR] [MY-012872] [InnoDB] Semaphore wait has lasted > 600 seconds. We intentionally crash the server because it appears to be hung.');
  }
  I.logsBetween(onset, shed + 20 * MIN, 170, 'web', 'error', ['web-fe-112', 'web-fe-087', 'web-fe-140'], () => `ActiveRecord::QueryCanceled: Mysql2::Error: Query execution was interrupted, maximum statement execution time exceeded (SELECT \`repository_metadata\`.* FROM \`repository_metadata\` WHERE repository_id = ${I.int(1e6, 4e8)}) [replica ${I.pick(reps)}]`);
  I.logsBetween(from, to, 150, 'web', 'info', ['web-fe-112', 'web-fe-087'], () => `${I.pick(['GET /:owner/:repo', 'GET /:owner/:repo/pull/:id', 'POST /:owner/:repo/issues'])} 200 ${I.int(40, 600)}ms`);
  I.log(ms('2021-11-27T14:30:00Z'), 'ost', 'info', 'ost-runner-2', `connected throttle-control to mysql-repos-p01 as ost_migrator password=${I.secret('0st!Migr4t0r-9hQe')}`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] web 5xx rate > 2%', 'web');
  I.pdNotify(page + 600, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2021-11-27T16:10:00Z'), 'ic');
  I.pdNote(ms('2021-11-27T16:30:00Z'), 'ic', 'Read replicas of mysql-repos hung on the RENAME from the repository_metadata migration cut-over (semaphore wait), then crashed. Rebuilt replicas overload and crash again.');
  I.pdNote(ms('2021-11-27T17:25:00Z'), 'ic', 'Shedding read load from repository pages, replicas recovering one by one.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (t) => ms(`2021-11-27T${t}Z`);
  I.bot(at('16:06:50'), 'PagerDuty', ':rotating_light: *Triggered* #51730 [P1] web 5xx rate > 2%');
  I.say(at('16:07:50'), 'oncall', 'ack. 5xx on repo pages, queries on repository_metadata timing out on every replica');
  const th = I.say(at('16:08:40'), 'web', 'web 7c1e2 went out 15:58, lazy file tree. revert?');
  I.say(at('16:09:30'), 'oncall', 'that only changes a view and ran 6 minutes clean. the failing queries are plain repository_metadata lookups', { thread: th });
  I.say(at('16:10:10'), 'pr', 'pr_review_threads_v2 went to 25% at 16:04, turning it off to be safe');
  I.say(at('16:13:00'), 'pr', 'flag off, errors unchanged');
  I.say(at('16:11:20'), 'dba2', 'replicas show a long semaphore wait on dict_operation_lock, SQL thread stuck applying the RENAME from the repository_metadata migration');
  I.say(at('16:12:30'), 'dba', 'that is my migration, ost cut over at 16:03:51. primary took the rename in 41ms, replicas deadlocked applying it');
  I.say(at('16:15:00'), 'dba2', 'first replicas crashed: "Semaphore wait has lasted > 600 seconds. We intentionally crash the server". 9 of 48 left');
  I.say(at('16:20:00'), 'ic', 'IC. the rename already happened, nothing to roll back on the primary. bring replicas back, and keep load off them while they warm up');
  I.say(at('16:42:10'), 'dba2', 'restored replicas took all the reads and crashed again. need to shed load first');
  I.say(at('17:20:30'), 'web', 'read shedding on for repo metadata (serving cached), replicas coming back');
  I.say(at('17:54:00'), 'ic', 'all 48 replicas healthy, errors at baseline. resolving. follow-ups: pause renames on this MySQL version, replica warm-up before taking traffic');
  I.bot(at('17:54:42'), 'PagerDuty', ':white_check_mark: *Resolved* #51730 [P1] web 5xx rate > 2%');

  const incident = { id: 'Q4FW51730', source: 'pagerduty', title: '[P1] web 5xx rate > 2%', service: 'web', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 51730, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://forgewright.pagerduty.com/incidents/Q4FW51730' };
  const bundle = I.bundle({ incident, channel: { id: 'C02DBREPOS', name: 'inc-mysql-repos' } });
  const expected = {
    family: 'schema-migration',
    trigger: { repo: DM, sha: culprit, deployment_id: mig.id },
    spike_onset: { metric: 'web.requests.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['repository_metadata', 'RENAME', 'semaphore', 'schema migration', 'read replica'],
    timeline_must_include: [
      { at: iso(cutover), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
