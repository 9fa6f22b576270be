// After Instapaper, 2017-02-08: the bookmarks table on a managed MySQL instance created years earlier
// (ext3 file system underneath) reached the 2 TB per-file limit; every insert failed with "table is
// full" although the volume had free space. Recovery meant dumping into a new instance over more than a
// day. No change caused it: the data grew into a limit.
import { Incident, ms, iso, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'mysql-table-file-limit';
export const source = 'Instapaper, "Instapaper Outage Cause & Recovery" (blog.instapaper.com, 2017-02-13)';

export function build() {
  const I = new Incident({ seed: 170208, company: 'Readlater', domain: 'readlater.app' });
  I.person('oncall', 'Tobias Keller', { login: 'tkeller' });
  I.person('ic', 'Maya Goldberg', { login: 'mgoldberg' });
  I.person('api', 'Kenji Watanabe', { login: 'kwatanabe' });
  I.person('ops', 'Ruth Abebe', { login: 'rabebe-ops' });

  const from = ms('2017-02-08T17:00:00Z');
  const to = ms('2017-02-09T02:00:00Z');
  const onset = ms('2017-02-08T20:30:40Z');
  const page = ms('2017-02-08T20:34:05Z');
  const ack = ms('2017-02-08T20:36:12Z');
  const resolve = ms('2017-02-10T04:12:30Z');
  const TWO_TIB = 2_199_023_255_552;

  // ---- innocent changes in the hours before
  I.commit('readlater/bookmarks-api', { message: 'Highlights: return created_at in ISO 8601', author: 'api', at: ms('2017-02-08T15:00:00Z'), files: [
    { filename: 'readlater/api/highlights.py', patch: '@@ -57,7 +57,7 @@ def serialize_highlight(h):\n-        "created_at": int(h.created_at.timestamp()),\n+        "created_at": h.created_at.isoformat() + "Z",' },
  ] });
  const apiDeploy = I.deploy('readlater/bookmarks-api', { env: 'production', ref: 'api-2017.02.08.2', description: 'bookmarks-api 2017.02.08.2', createdAt: ms('2017-02-08T19:51:00Z'), finishedAt: ms('2017-02-08T19:58:47Z') });
  I.changeEvent({ at: ms('2017-02-08T20:12:00Z'), summary: 'RDS parameter group readlater-prod-56: innodb_io_capacity 200 -> 400 (dynamic, no reboot)', integration: 'aws-config', services: ['bookmarks-db'], custom_details: { parameter_group: 'readlater-prod-56', parameter: 'innodb_io_capacity', value: { from: 200, to: 400 }, apply_method: 'immediate' } });

  // ---- Datadog
  const growth = (t) => Math.min(TWO_TIB, TWO_TIB - 5_200_000_000 + (t - from) * (5_200_000_000 / (onset - 20 * SEC - from)));
  I.series({ metric: 'bookmarks_api.writes.errors', expression: 'sum:bookmarks_api.writes.errors{env:production}.as_count()', scope: 'env:production', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(8, 0.5) + (t >= onset ? I.noise(6400, 0.1) : 0) });
  I.series({ metric: 'mysql.table.file_bytes', expression: 'max:mysql.table.file_bytes{db:readlater,table:bookmarks}', scope: 'db:readlater,table:bookmarks', interval: 60, from, to, unit: 'byte', fn: (t) => Math.round(growth(t)) });
  I.series({ metric: 'aws.rds.free_storage_space', expression: 'avg:aws.rds.free_storage_space{dbinstanceidentifier:readlater-prod}', scope: 'dbinstanceidentifier:readlater-prod', interval: 60, from, to, unit: 'byte', fn: () => I.noise(1_410_000_000_000, 0.001) });
  I.ddEvent({ at: apiDeploy.finishedAt, title: 'Deployed bookmarks-api 2017.02.08.2', source_type_name: 'deploy', tags: ['service:bookmarks-api'] });
  I.ddEvent({ at: ms('2017-02-08T20:33:50Z'), title: '[P1] Triggered: bookmarks-api write errors > 100/min', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:bookmarks-api'] });

  // ---- logs
  const apis = ['api-1', 'api-2', 'api-3', 'api-4'];
  I.log(onset - 5 * SEC, 'mysql', 'error', 'readlater-prod', "[ERROR] /rdsdbbin/mysql/bin/mysqld: The table 'bookmarks' is full");
  I.logsBetween(onset, to, 200, 'bookmarks-api', 'error', apis, () => `POST /api/1/bookmarks/add 500: OperationalError: (1114, "The table 'bookmarks' is full") user_id=${I.int(1e5, 9e6)}`);
  I.logsBetween(from, to, 160, 'bookmarks-api', 'info', apis, () => `${I.pick(['GET /api/1/bookmarks/list', 'GET /api/1/bookmarks/get_text', 'POST /api/1/highlights/create'])} 200 ${I.int(10, 250)}ms`);
  I.log(ms('2017-02-08T21:40:00Z'), 'ops-shell', 'info', 'bastion-1', 'SELECT table_name, data_length+index_length FROM information_schema.tables WHERE table_name=\'bookmarks\' -> 2199023255552 (bookmarks.ibd on /rdsdbdata, ext3, created 2013-04)');
  I.log(ms('2017-02-08T18:02:00Z'), 'bookmarks-api', 'info', 'api-2', `mysql pool connected mysql://readlater_app:${I.secret('rl-App-2017!Kq9w')}@readlater-prod.c4xyz.us-east-1.rds.amazonaws.com/readlater`);

  // ---- Opsgenie
  I.og(page, 'Alert created via Datadog integration: [P1] bookmarks-api write errors > 100/min');
  I.og(page + 360, `Alert notified ${I.p('oncall').realName} via sms`);
  I.og(ack, `Alert acknowledged by ${I.p('oncall').realName}`, 'alertAction', I.p('oncall').email);
  I.og(ms('2017-02-08T22:10:00Z'), "Note added: bookmarks.ibd is exactly 2 TiB: the instance was created in 2013 on ext3, whose per-file limit it is. Volume has 1.4 TB free. Reads work, every insert fails with 1114 'table is full'.", 'note', I.p('ic').email);
  I.og(ms('2017-02-09T20:05:00Z'), 'Note added: new instance (ext4) populated with the last 6 weeks of bookmarks; writes re-enabled. Older archive importing.', 'note', I.p('ic').email);
  I.og(resolve, `Alert closed by ${I.p('ic').realName}`, 'alertAction', I.p('ic').email);

  // ---- Slack
  const at = (t) => ms(`2017-02-${t}Z`);
  I.bot(at('08T20:34:08'), 'Opsgenie', '[P1] bookmarks-api write errors > 100/min (Alert #411)');
  I.say(at('08T20:37:00'), 'oncall', "ack. every save fails: (1114, \"The table 'bookmarks' is full\"). reads fine");
  const th = I.say(at('08T20:38:10'), 'api', 'api-2017.02.08.2 went out 19:58, only the highlights date format. rolling back anyway?');
  I.say(at('08T20:39:00'), 'oncall', 'it does not write to bookmarks at all, and adds worked for 30 min after it', { thread: th });
  I.say(at('08T20:41:20'), 'ops', 'I raised innodb_io_capacity at 20:12, could that fill something?');
  I.say(at('08T20:42:30'), 'oncall', 'that is a flush rate, no size limit. and free storage is 1.4 TB');
  I.say(at('08T21:41:00'), 'ops', 'bookmarks.ibd is 2199023255552 bytes. that is exactly 2 TiB. the instance dates from 2013, RDS put those on ext3: 2 TB max file size');
  I.say(at('08T21:44:00'), 'ic', 'so no setting fixes it in place. new instance on ext4, dump and restore. recent bookmarks first so people can save again');
  I.say(at('09T20:06:00'), 'ic', 'writes back on the new instance with recent data. archive still importing');
  I.say(at('10T04:11:50'), 'ic', 'archive complete. closing. follow-ups: alert on table file size vs fs limit, check the other pre-2014 instances');
  I.bot(at('10T04:12:33'), 'Opsgenie', 'Alert #411 closed');

  const incident = { id: '9a4c7e20-5b13-4f8d-a2e6-0c1d7b3f9e58', source: 'opsgenie', title: '[P1] bookmarks-api write errors > 100/min', service: 'bookmarks-api', severity: 'P1', status: 'closed', created_at: iso(page), acknowledged_at: iso(ack), resolved_at: iso(resolve), url: 'https://readlater.app.opsgenie.com/alert/detail/9a4c7e20-5b13-4f8d-a2e6-0c1d7b3f9e58/details' };
  const bundle = I.bundle({ incident, channel: { id: 'C2RLOPS', name: 'ops' }, opsgenie: true });
  const expected = {
    family: 'capacity-limit',
    trigger: null,
    spike_onset: { metric: 'bookmarks_api.writes.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['2 TB', '2 TiB', 'ext3', 'file size', 'table is full', '1114'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
