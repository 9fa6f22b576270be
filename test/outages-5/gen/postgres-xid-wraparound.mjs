// After Sentry, 2015-07-20: write volume on the primary Postgres database consumed transaction IDs faster
// than autovacuum could freeze the largest tables; Postgres reached its wraparound safety limit and
// refused every write. Ingestion stopped until a long manual VACUUM in single-user mode finished.
// Nothing was changed: a limit inherent to the database was reached by steady growth.
import { Incident, ms, MIN, SEC, HOUR } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'postgres-xid-wraparound';
export const source = 'Sentry, "Transaction ID Wraparound in Postgres" (blog.sentry.io, 2015-07-23), about the outage of 2015-07-20';

export function build() {
  const I = new Incident({ seed: 20150720, company: 'Faultline', domain: 'faultline.dev' });
  I.person('oncall', 'Jonas Weber', { login: 'jweber' });
  I.person('ic', 'Amara Obi', { login: 'aobi' });
  I.person('dba', 'Thiago Ramos', { login: 'tramos' });
  I.person('web', 'Elin Sandberg', { login: 'esandberg' });
  I.person('infra', 'Rohan Mehta', { login: 'rmehta' });
  const at = (t) => ms(`2015-07-20T${t}Z`);
  const from = at('14:00:00'), to = at('23:59:00');
  const onset = at('18:21:40'), page = at('18:23:30'), ack = at('18:24:12'), vacuumDone = at('22:36:00'), resolve = at('23:20:50');

  I.commit('faultline/web', { message: 'Issue stream: lazy-load event tags', author: 'web', at: at('11:00:00'), files: [{ filename: 'src/faultline/static/app/views/stream.jsx', patch: '@@ -140,1 +140,1 @@\n-    this.fetchTags();\n+    if (this.state.expanded) this.fetchTags();' }] });
  I.deploy('faultline/web', { env: 'production', ref: 'web-8a1f', description: 'web 8a1f', createdAt: at('17:08:00'), finishedAt: at('17:19:47'), creator: 'esandberg' });
  I.changeEvent({ at: at('18:09:30'), summary: 'pgbouncer: default_pool_size 200 -> 250 on pg-main', integration: 'chef', services: ['pgbouncer'], custom_details: { setting: 'default_pool_size', from: 200, to: 250, host: 'pgb-1' } });
  I.changeEvent({ at: at('19:02:00'), summary: 'pgbouncer: default_pool_size 250 -> 200 on pg-main (revert)', integration: 'chef', services: ['pgbouncer'], custom_details: { setting: 'default_pool_size', from: 250, to: 200, host: 'pgb-1' } });

  const down = (t) => (t < onset ? 0 : t < vacuumDone ? 1 : Math.max(0, 1 - (t - vacuumDone) / (30 * MIN)));
  I.series({ metric: 'ingest.events.rejected', expression: 'sum:ingest.events.rejected{*}.as_count()', scope: '*', interval: 20, from, to, unit: 'event', fn: (t) => I.noise(40, 0.3) + down(t) * I.noise(61000, 0.05) });
  I.series({ metric: 'postgresql.transactions.oldest_xid_age', expression: 'max:postgresql.transactions.oldest_xid_age{db:faultline}', scope: 'db:faultline', interval: 60, from, to, fn: (t) => (t < onset ? 2_136_000_000 + (t - from) / HOUR * 2_400_000 : t < at('22:10:00') ? 2_146_483_647 : Math.max(150_000_000, 2_146_483_647 - (t - at('22:10:00')) / MIN * 80_000_000)) });
  I.ddEvent({ at: at('17:19:47'), title: 'web 8a1f deployed', source_type_name: 'deploy', tags: ['service:web'] });

  for (const [t, left] of [['14:05:00', 11_200_000], ['16:05:00', 6_400_000], ['17:50:00', 2_950_000], ['18:12:00', 1_000_000]]) I.log(at(t), 'postgresql', 'warn', 'pg-main-1', `WARNING:  database "faultline" must be vacuumed within ${left} transactions\nHINT:  To avoid a database shutdown, execute a database-wide VACUUM in that database.`);
  I.logsBetween(from, onset, 12, 'postgresql', 'info', ['pg-main-1'], () => `automatic vacuum of table "faultline.public.event_blob": index scans: 1 (to prevent wraparound), running ${I.int(8, 9)} days, pages removed ${I.int(0, 4000)}`);
  I.logsBetween(onset, vacuumDone, 120, 'ingest-worker', 'error', ['ingest-04', 'ingest-11', 'ingest-17'], () => 'psycopg2.OperationalError: database is not accepting commands to avoid wraparound data loss in database "faultline"\nHINT:  Stop the postmaster and vacuum that database in single-user mode.\n  File "faultline/ingest/store.py", line 88, in save_event');
  I.logsBetween(onset, vacuumDone, 40, 'web', 'error', ['web-02', 'web-06'], () => 'POST /api/0/issues/ 500 OperationalError: database is not accepting commands to avoid wraparound data loss');
  I.logsBetween(from, to, 60, 'web', 'info', ['web-02', 'web-06'], () => `GET /api/0/projects/ 200 ${I.int(20, 160)}ms`);
  I.log(at('15:30:00'), 'ingest-worker', 'info', 'ingest-04', `connecting postgres://ingest:${I.secret('fl-ingest-pg-T7wq9Lz2')}@pgb-1:6432/faultline`);

  I.say(at('18:24:40'), 'oncall', 'ack. every write to pg-main failing, ingestion rejecting all events');
  const th = I.say(at('18:25:10'), 'infra', 'I bumped the pgbouncer pool 200 -> 250 at 18:09. reverting to be safe');
  I.say(at('18:26:30'), 'dba', 'the error is from postgres itself: "database is not accepting commands to avoid wraparound data loss". the pool has nothing to do with xid age', { thread: th });
  I.say(at('18:27:00'), 'web', 'web 8a1f went out 17:19, only frontend tag loading');
  I.say(at('18:29:30'), 'dba', 'oldest xid age hit the 2^31 minus safety margin. we have been warning "must be vacuumed within N transactions" since this morning; the anti-wraparound autovacuum on event_blob has run 9 days and never caught up with our write rate');
  I.say(at('18:35:00'), 'ic', 'IC. stop writers, restart postgres single-user, VACUUM FREEZE. buffer incoming events upstream so we do not lose them');
  I.say(at('19:05:00'), 'infra', 'pool revert done 19:02, no change, as expected');
  I.say(at('22:38:00'), 'dba', 'vacuum finished 22:36, xid age back to 150M, postgres accepting writes');
  I.say(at('23:20:00'), 'ic', 'ingest drained. resolving. follow-ups: alert on xid age at 50%, partition event_blob, tune autovacuum cost limits');

  return finish(I, { page, ack, resolve, monitor: 'ingest rejected events > 1%', service: 'ingest', number: 15720, oncall: 'oncall', ic: 'ic',
    notes: [[at('18:40:00'), 'pg-main refusing writes: transaction ID wraparound protection. Single-user VACUUM required, ETA hours.']],
    channel: { id: 'C0FLTPGXW', name: 'inc-ingest' }, family: 'capacity-limit', trigger: null,
    metric: 'ingest.events.rejected', onset, terms: ['wraparound', 'transaction ID', 'VACUUM', 'autovacuum', 'event_blob'] });
}
