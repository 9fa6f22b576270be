// After GitLab.com, 2017-01-31: while rebuilding a lagging replica late at night, an engineer ran the
// command to empty the replica's data directory in the terminal connected to the primary. About 300 GB
// of the primary's data was gone before the command was stopped; the site was restored from a
// six-hour-old snapshot. Nothing deployed caused it; a PostgreSQL settings change pushed to the
// primary shortly before is a decoy.
import { Incident, ms, iso, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'db-wrong-host-wipe';
export const source = 'GitLab, "Postmortem of database outage of January 31" (about.gitlab.com/blog, 2017-02-10)';

export function build() {
  const I = new Incident({ seed: 170131, company: 'Forgelab', domain: 'forgelab.com' });
  I.person('oncall', 'Ruth Abebe', { login: 'rabebe' });
  I.person('dbe', 'Stefan Horvat', { login: 'shorvat' });
  I.person('ic', 'Julia Santos', { login: 'jsantos-infra' });
  I.person('dbe2', 'Niamh Byrne', { login: 'nbyrne' });
  I.person('abuse', 'Hamid Karimi', { login: 'hkarimi' });
  I.person('dev', 'Anya Volkova', { login: 'avolkova' });

  const from = ms('2017-01-31T19:00:00Z');
  const to = ms('2017-02-01T20:00:00Z');
  const rm = ms('2017-01-31T23:27:08Z');
  const onset = ms('2017-01-31T23:27:30Z');
  const maint = ms('2017-01-31T23:46:00Z');
  const back = ms('2017-02-01T18:14:00Z');
  const page = ms('2017-01-31T23:29:10.214Z');
  const ack = ms('2017-01-31T23:30:02.870Z');
  const resolve = ms('2017-02-01T18:31:44.502Z');
  const dbe = I.p('dbe');

  // ---- GitHub: the postgres settings change on the primary (decoy), an app deploy in the afternoon (decoy)
  const CH = 'forgelab/chef-repo';
  I.commit(CH, { message: 'postgresql: max_wal_senders 32, max_connections 8000 -> 2000\n\nmax_wal_senders so pg_basebackup can connect for the db2 resync; 8000 connections\nwould not fit the semaphore limit on restart.', author: 'dbe', at: ms('2017-01-31T22:38:00Z'), files: [
    { filename: 'roles/forgelab-db-primary.json', patch: '@@ -18,8 +18,8 @@\n       "postgresql": {\n-        "max_connections": 8000,\n-        "max_wal_senders": 5,\n+        "max_connections": 2000,\n+        "max_wal_senders": 32,\n         "wal_keep_segments": 50,' },
  ] });
  const chefDeploy = I.deploy(CH, { env: 'production-db1', ref: 'chef-2017.01.31-7', description: 'chef-client on db1.cluster.forgelab.com (postgresql restart)', createdAt: ms('2017-01-31T22:51:00Z'), finishedAt: ms('2017-01-31T22:54:36Z') });
  I.commit('forgelab/forgelab-ce', { message: 'Snippets: rate limit creation per user (spam)', author: 'dev', at: ms('2017-01-31T15:00:00Z'), files: [
    { filename: 'app/controllers/snippets_controller.rb', patch: "@@ -4,6 +4,7 @@ class SnippetsController < ApplicationController\n   before_action :authenticate_user!, except: [:show, :raw]\n+  before_action -> { check_rate_limit!(:snippet_create, scope: current_user) }, only: :create" },
  ] });
  const appDeploy = I.deploy('forgelab/forgelab-ce', { env: 'production', ref: 'v8.16.3-fl2', description: 'forgelab-ce v8.16.3-fl2', createdAt: ms('2017-01-31T20:30:00Z'), finishedAt: ms('2017-01-31T21:02:48Z') });

  // ---- Datadog
  const down = (t) => t >= onset && t < back;
  const spam = (t) => t >= ms('2017-01-31T21:00:00Z') && t < onset;
  I.series({ metric: 'forgelab.web.errors', expression: 'sum:forgelab.web.errors{env:production,status_class:5xx}.as_count()', scope: 'env:production,status_class:5xx', interval: 30, from, to, unit: 'request', fn: (t) => down(t) ? I.noise(t < maint ? 46000 : 61000, 0.05) : t >= chefDeploy.finishedAt - 20 * SEC && t < chefDeploy.finishedAt + 20 * SEC ? I.noise(70, 0.1) : I.noise(spam(t) ? 58 : 50, 0.15) });
  I.series({ metric: 'postgresql.replication_delay', expression: 'max:postgresql.replication_delay{host:db2.cluster.forgelab.com}', scope: 'host:db2.cluster.forgelab.com', interval: 60, from, to, unit: 'second', fn: (t) => t < ms('2017-01-31T21:00:00Z') ? I.noise(0.4, 0.5) : t < onset ? Math.min(7200, (t - ms('2017-01-31T21:00:00Z')) / 1000 * 0.8) : null });
  I.series({ metric: 'postgresql.database_size', expression: 'max:postgresql.database_size{host:db1.cluster.forgelab.com}', scope: 'host:db1.cluster.forgelab.com', interval: 60, from, to, unit: 'byte', fn: (t) => t < rm ? I.noise(3.1e11, 0.001) : t < back ? 4.6e9 : I.noise(3.09e11, 0.001) });
  I.series({ metric: 'postgresql.connections', expression: 'sum:postgresql.connections{host:db1.cluster.forgelab.com}', scope: 'host:db1.cluster.forgelab.com', interval: 60, from, to, unit: 'connection', fn: (t) => down(t) ? 0 : I.noise(spam(t) ? 1650 : 1100, 0.05) });
  I.ddEvent({ at: appDeploy.finishedAt, title: 'Deployed forgelab-ce v8.16.3-fl2', source_type_name: 'deploy', tags: ['service:forgelab-web', 'env:production', 'repo:forgelab/forgelab-ce'] });
  I.ddEvent({ at: chefDeploy.finishedAt, title: 'chef-client run on db1.cluster.forgelab.com: postgresql restarted', source_type_name: 'config', tags: ['host:db1.cluster.forgelab.com', 'repo:forgelab/chef-repo'] });

  // ---- logs
  I.log(ms('2017-01-31T17:20:00Z'), 'lvm-snapshot', 'info', 'db1.cluster.forgelab.com', 'snapshot forgelab-db-20170131-1720 created for staging refresh (300.4 GB)');
  I.logsBetween(ms('2017-01-31T21:00:00Z'), onset, 60, 'forgelab-web', 'warn', ['web-04', 'web-11'], () => `spam heuristics: user ${I.int(1e6, 2e6)} created ${I.int(40, 400)} snippets in 10 min, queued for removal`);
  I.log(ms('2017-01-31T23:00:41Z'), 'postgresql', 'error', 'db1.cluster.forgelab.com', 'ERROR: requested WAL segment 000000010000A4A70000009E has already been removed (walsender for db2.cluster.forgelab.com)');
  I.log(ms('2017-01-31T23:18:20Z'), 'shell-audit', 'info', 'db2.cluster.forgelab.com', `user=${dbe.slack} cwd=/var/opt/forgelab/postgresql cmd="sudo -u forgelab-psql pg_basebackup -h db1.cluster.forgelab.com -D /var/opt/forgelab/postgresql/data -P" (no output after 4 min)`);
  I.log(rm, 'shell-audit', 'warn', 'db1.cluster.forgelab.com', `user=${dbe.slack} cwd=/var/opt/forgelab/postgresql cmd="sudo rm -rvf /var/opt/forgelab/postgresql/data" (interrupted after 1.9s)`);
  I.logsBetween(rm + 3 * SEC, maint, 60, 'postgresql', 'error', ['db1.cluster.forgelab.com'], () => I.pick([
    `FATAL: could not open file "base/16401/${I.int(2600, 99999)}": No such file or directory`,
    `PANIC: could not open file "pg_xlog/000000010000A4A8000000${I.int(10, 99)}" (log file 0, segment ${I.int(100, 200)}): No such file or directory`,
  ]));
  I.logsBetween(onset, maint, 140, 'forgelab-web', 'error', ['web-04', 'web-11', 'web-19'], () => `ActiveRecord::StatementInvalid (PG::UndefinedFile: ERROR: could not open file "base/16401/${I.int(2600, 99999)}": No such file or directory): app/models/${I.pick(['project', 'issue', 'merge_request', 'user'])}.rb:${I.int(20, 400)}`);
  I.logsBetween(maint, back, 40, 'forgelab-web', 'info', ['web-04'], () => 'deploy page active: 503 "Forgelab.com is currently undergoing emergency database maintenance"');
  I.logsBetween(from, to, 150, 'forgelab-web', 'info', ['web-04', 'web-11'], () => `${I.pick(['GET /', 'GET /explore', 'POST /api/v4/projects', 'GET /users/sign_in'])} 200 ${I.int(40, 600)}ms`);

  // ---- Opsgenie
  I.og(page, 'Alert created via Datadog integration: [P1] forgelab.com 5xx rate > 10%');
  I.og(page + 380, `Alert notified ${I.p('oncall').realName} via sms`);
  I.og(ack, `Alert acknowledged by ${I.p('oncall').realName}`, 'alertAction', I.p('oncall').email);
  I.og(ms('2017-01-31T23:50:12.000Z'), 'Note added: db1 data directory was removed by mistake (rm -rf meant for db2). ~4.5 GB of ~300 GB left. Site in maintenance mode. Looking for the newest usable backup.', 'note', I.p('ic').email);
  I.og(ms('2017-02-01T00:40:31.000Z'), 'Note added: pg_dump backups are empty (pg_dump 9.2 vs server 9.6, failures mailed but rejected by DMARC). Using the 17:20 LVM snapshot taken for staging.', 'note', I.p('ic').email);
  I.og(resolve, `Alert closed by ${I.p('ic').realName}`, 'alertAction', I.p('ic').email);

  // ---- Slack
  const at = (d, hms) => ms(`2017-${d}T${hms}Z`);
  I.say(at('01-31', '22:41:00'), 'abuse', 'spam wave still going, db load up, removing the accounts');
  I.say(at('01-31', '23:02:10'), 'dbe', 'db2 replication broke: the WAL it needs was already removed on db1. going to wipe db2 and resync with pg_basebackup');
  I.say(at('01-31', '23:22:40'), 'dbe', `pg_basebackup just hangs. running it by hand: PGPASSWORD=${I.secret('fl-repl-9Vq2!xTm47')} pg_basebackup -h db1.cluster.forgelab.com -U forgelab_replicator ...`);
  I.say(at('01-31', '23:24:30'), 'dbe2', 'maybe it hangs because the data dir on db2 is not empty? remove it and retry');
  I.say(at('01-31', '23:27:20'), 'dbe', 'oh no. I ran the rm -rf on db1, not db2. stopped it after a second or two');
  I.say(at('01-31', '23:28:05'), 'dbe', 'db1 data dir is 4.5 GB. it was 300 GB');
  I.bot(at('01-31', '23:29:12'), 'Opsgenie', ':rotating_light: [P1] forgelab.com 5xx rate > 10% (Datadog)');
  I.say(at('01-31', '23:31:00'), 'oncall', 'ack. 5xx everywhere, PG::UndefinedFile from db1');
  I.say(at('01-31', '23:32:40'), 'dev', 'is it the snippet rate limit deploy from this afternoon?');
  I.say(at('01-31', '23:33:20'), 'oncall', 'no, that ran for 2.5 hours fine. the errors are missing database files');
  const th = I.say(at('01-31', '23:35:00'), 'ic', 'IC. and the chef run on db1 at 22:54, max_connections 2000? that restarted postgres');
  I.say(at('01-31', '23:36:10'), 'dbe2', 'postgres came back fine after that restart and served for 30 minutes. the files are gone because of the rm, the audit log shows it on db1 at 23:27:08', { thread: th });
  I.say(at('01-31', '23:40:00'), 'ic', 'ok. putting the site in maintenance mode. what is our newest backup?');
  I.say(at('01-31', '23:58:00'), 'dbe2', 'db2 is already wiped, so no replica. checking pg_dump backups in S3');
  I.say(at('02-01', '00:38:00'), 'dbe2', 'S3 backup bucket is empty: pg_dump 9.2 against a 9.6 server has been failing, the failure mails got rejected by DMARC');
  I.say(at('02-01', '00:45:00'), 'dbe', 'there is the LVM snapshot I took at 17:20 to refresh staging. 6 hours old, but it is all we have');
  I.say(at('02-01', '00:50:00'), 'ic', 'decision: restore from the 17:20 snapshot via staging. it will be slow, the staging disks are network storage');
  I.say(at('02-01', '18:15:00'), 'dbe2', 'db1 restored from the 17:20 snapshot, site back up 18:14. data between 17:20 and 23:27 is lost for the database');
  I.say(at('02-01', '18:30:30'), 'ic', 'closing. follow-ups: verified backups with alerting, distinct prompts per db host, tooling for resync instead of hand commands');

  const incident = { id: '6d0e5b1c-2f7a-4c19-9e38-1b4f0a7d2c95', source: 'opsgenie', title: '[P1] forgelab.com 5xx rate > 10%', service: 'forgelab-web', severity: 'P1', status: 'closed', created_at: iso(page), acknowledged_at: iso(ack), resolved_at: iso(resolve), url: 'https://forgelab.app.opsgenie.com/alert/detail/6d0e5b1c-2f7a-4c19-9e38-1b4f0a7d2c95/details' };
  const bundle = I.bundle({ incident, channel: { id: 'C3DBOUTAGE', name: 'production' }, opsgenie: true });
  const expected = {
    family: 'operator-action',
    trigger: null,
    spike_onset: { metric: 'forgelab.web.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['rm -rf', 'data directory', 'db1', 'wrong host', 'pg_basebackup'],
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
