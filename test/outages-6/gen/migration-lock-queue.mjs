// After GoCardless (2015): a schema migration adding a foreign key ran as part of a release. ALTER TABLE
// needs an exclusive lock; it queued behind a long-running reporting query, and every API query on the
// table queued behind the ALTER. The API stopped answering until the migration was cancelled.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'migration-lock-queue';
export const source = 'GoCardless Engineering, "Zero-downtime Postgres migrations - the hard parts" (gocardless.com/blog, 2016-02), about a 2015 API outage';

export function build() {
  const I = new Incident({ seed: 20150915, company: 'Debitly', domain: 'debitly.co' });
  I.person('oncall', 'Nkechi Obi', { login: 'nobi' });
  I.person('ic', 'Sven Aaltonen', { login: 'saaltonen', slack: 'sven', email: 'sven@debitly.co' });
  I.person('dev', 'Rosa Delgado', { login: 'rdelgado' });
  I.person('web', 'Tom Hartley', { login: 'thartley' });
  const at = (t) => ms(`2015-09-15T${t}Z`);
  const from = at('08:00:00'), to = at('12:00:00');
  const dep = at('10:14:02'), onset = at('10:14:30'), page = at('10:16:00'), ack = at('10:16:30'), cancel = at('10:27:40'), resolve = at('10:41:00');

  const A = 'debitly/api';
  I.commit(A, { message: 'Mandates: expose next_possible_charge_date', author: 'dev', at: at('07:00:00'), files: [{ filename: 'app/serializers/mandate_serializer.rb', patch: '@@ -8,1 +8,2 @@\n   attributes :id, :status\n+  attribute :next_possible_charge_date' }] });
  const bad = I.commit(A, { message: 'Add FK payments.mandate_id -> mandates.id', author: 'dev', at: at('08:30:00'), files: [{ filename: 'db/migrate/20150915083000_add_payments_mandate_fk.rb', status: 'added', patch: '@@ -0,0 +1,5 @@\n+class AddPaymentsMandateFk < ActiveRecord::Migration\n+  def change\n+    add_foreign_key :payments, :mandates\n+  end\n+end' }] });
  const trig = I.deploy(A, { env: 'production', ref: 'api-v2015.09.15.1', description: 'api release (runs migrations after rollout)', createdAt: at('10:05:00'), finishedAt: dep, creator: 'rdelgado' });
  I.repo(A).deployment_commits[String(trig.id)] = I.repo(A).commits.slice(-2).map((c) => c.sha);
  I.commit('debitly/dashboard', { message: 'Payouts page: CSV export button', author: 'web', at: at('09:00:00'), files: [{ filename: 'src/payouts/Export.tsx', patch: '@@ -1,1 +1,3 @@\n+export function ExportButton() {\n+  return <a href="/payouts.csv">Export CSV</a>;\n+}' }] });
  I.deploy('debitly/dashboard', { env: 'production', ref: 'dash-441', description: 'dashboard 441', createdAt: at('10:08:00'), finishedAt: at('10:14:16'), creator: 'thartley' });

  const down = (t) => (t < onset ? 0 : t < cancel ? 1 : 0);
  I.series({ metric: 'api.request.timeouts', expression: 'sum:api.request.timeouts{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: (t) => I.noise(2, 0.8) + down(t) * I.noise(2600, 0.1) });
  I.series({ metric: 'postgresql.locks.waiting', expression: 'sum:postgresql.locks{granted:false}', scope: 'granted:false', interval: 30, from, to, fn: (t) => I.noise(0.5, 1) + down(t) * I.noise(480, 0.1) });

  I.log(at('10:14:05'), 'api-release', 'info', 'release-1', '== 20150915083000 AddPaymentsMandateFk: migrating ==\n-- add_foreign_key(:payments, :mandates)');
  I.logsBetween(onset, cancel, 60, 'postgres', 'warn', ['pg-primary'], () => `LOG:  process ${I.int(20000, 29999)} still waiting for ${I.pick(['AccessShareLock', 'RowExclusiveLock'])} on relation 16${I.int(400, 499)} of database 16384 after 1000.${I.int(100, 999)} ms\nDETAIL:  Process holding the lock: 18822. Wait queue: 18830, ${I.int(20000, 29999)}.`);
  I.log(at('10:20:00'), 'postgres', 'info', 'pg-primary', 'pg_stat_activity: pid=18822 state=active age=00:41:12 query="SELECT ... FROM payments JOIN mandates ... (monthly revenue report)"; pid=18830 state=active wait=AccessExclusiveLock query="ALTER TABLE payments ADD CONSTRAINT fk_rails_4e1a FOREIGN KEY (mandate_id) REFERENCES mandates (id)"');
  I.logsBetween(onset, cancel, 70, 'api', 'error', ['api-1', 'api-4'], () => `Rack::Timeout::RequestTimeoutException: Request waited 15000ms (${I.pick(['POST /payments', 'GET /payments', 'GET /mandates/MD' + I.alnum(8)])})\n  activerecord/connection_adapters/postgresql_adapter.rb:592:in 'exec'`);
  I.log(at('10:09:00'), 'reporting', 'info', 'reports-1', `connecting postgres://reporting:${I.secret('rpt_9Xk2fWq7Lm3Vz8Tc')}@pg-primary:5432/debitly`);
  I.logsBetween(from, to, 20, 'dashboard', 'info', ['dash-1'], () => `GET /payouts 200 ${I.int(30, 200)}ms`);

  I.say(at('10:16:50'), 'oncall', 'ack. API requests hanging then timing out, nearly all endpoints touching payments');
  const th = I.say(at('10:17:30'), 'web', 'dashboard 441 finished 10:14:16, right before. it is only a button');
  I.say(at('10:18:20'), 'oncall', 'dashboard calls the api, it is a victim. api-1 and api-4 stuck in postgres exec', { thread: th });
  I.say(at('10:21:00'), 'ic', 'postgres shows 480 waiting locks. who holds them?');
  I.say(at('10:23:30'), 'dev', 'the release ran my migration AddPaymentsMandateFk at 10:14:05: ALTER TABLE payments waits for AccessExclusiveLock behind a 41-minute report query (pid 18822), and every api query on payments queues behind the ALTER. cancelling the ALTER');
  I.say(at('10:28:00'), 'dev', 'pg_cancel_backend(18830) at 10:27:40, queue drained, api answering');
  I.say(at('10:41:00'), 'ic', 'resolving. follow-ups: lock_timeout on migrations, add FKs NOT VALID then VALIDATE, reporting on a replica');

  return finish(I, { page, ack, resolve, monitor: 'api timeouts > 50/min', service: 'api', number: 15915, opsgenie: true, ogId: 'c4d81e77-2a90-4f3b-8e65-71b0a9d2c3e8', oncall: 'oncall', ic: 'ic',
    notes: [[at('10:24:00'), 'FK migration waiting on AccessExclusiveLock blocks all payments queries. Cancelling it.']],
    channel: { id: 'C0DBTLOCK1', name: 'inc-api-timeouts' }, family: 'migration', trigger: { repo: A, sha: bad, deployment_id: trig.id },
    metric: 'api.request.timeouts', scope: 'env:production', onset, deployAt: dep, terms: ['AddPaymentsMandateFk', 'AccessExclusiveLock', 'ALTER TABLE', 'foreign key', 'lock'] });
}
