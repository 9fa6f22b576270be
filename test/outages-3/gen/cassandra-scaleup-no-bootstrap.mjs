// After Monzo, 2019-07-29: a planned scale-up of the main Cassandra cluster added six nodes whose
// configuration made them join the ring and take ownership of token ranges without streaming any data
// first. Reads routed to them returned nothing, so customers saw missing transactions and wrong
// balances until the new nodes were removed.
import { Incident, ms, iso, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'cassandra-scaleup-no-bootstrap';
export const source = 'Monzo, "We had an incident with Cassandra on 29th July" (monzo.com/blog, 2019) and the linked incident report';

export function build() {
  const I = new Incident({ seed: 190729, company: 'Pennyroyal', domain: 'pennyroyal.co.uk' });
  I.person('oncall', 'Callum Fraser', { login: 'cfraser' });
  I.person('ic', 'Zainab Hussain', { login: 'zhussain' });
  I.person('db', 'Oskar Nilsson', { login: 'onilsson-db' });
  I.person('db2', 'Bethany Cole', { login: 'bcole' });
  I.person('tx', 'Marcus Adeyemi', { login: 'madeyemi' });
  I.person('cs', 'Lauren Fitzgerald', { login: 'lfitzgerald' });

  const from = ms('2019-07-29T10:00:00Z');
  const to = ms('2019-07-29T17:30:00Z');
  const joined = ms('2019-07-29T12:58:10Z');
  const onset = ms('2019-07-29T12:58:40Z');
  const page = ms('2019-07-29T13:04:12Z');
  const ack = ms('2019-07-29T13:05:40Z');
  const decomStart = ms('2019-07-29T13:41:00Z');
  const decomDone = ms('2019-07-29T16:05:00Z');
  const resolve = ms('2019-07-29T16:32:10Z');

  // ---- cassandra-infra: six new nodes from a template meant for restores
  const CI = 'pennyroyal/cassandra-infra';
  I.commit(CI, { message: 'prod-main: raise compaction throughput to 96MB/s', author: 'db2', at: ms('2019-07-15T10:00:00Z'), files: [
    { filename: 'clusters/prod-main/cassandra.yaml.j2', patch: '@@ -140,7 +140,7 @@\n-compaction_throughput_mb_per_sec: 64\n+compaction_throughput_mb_per_sec: 96' },
  ] });
  I.deploy(CI, { env: 'prod-main', ref: 'ci-0715', description: 'cassandra-infra ci-0715 (rolling restart)', createdAt: ms('2019-07-16T09:00:00Z'), finishedAt: ms('2019-07-16T11:48:30Z') });
  const culprit = I.commit(CI, { message: 'prod-main: scale up 21 -> 27 nodes (CAP-212)\n\nNew nodes use the node template from clusters/templates/restore-node.', author: 'db', at: ms('2019-07-29T09:30:00Z'), files: [
    { filename: 'clusters/prod-main/nodes.tf', patch: '@@ -3,7 +3,7 @@ module "prod_main" {\n   source     = "../../modules/cassandra-node"\n-  node_count = 21\n+  node_count = 27\n   template   = var.node_template' },
    { filename: 'clusters/prod-main/new-nodes.auto.tfvars', status: 'added', patch: '@@ -0,0 +1,4 @@\n+# nodes 22-27\n+node_template = "restore-node"\n+extra_cassandra_yaml = {\n+  auto_bootstrap = false\n+}' },
  ] });
  const scale = I.deploy(CI, { env: 'prod-main', ref: 'ci-0729-scaleup', description: 'cassandra-infra ci-0729-scaleup: add cass-prod-22..27 (provision, configure, start)', createdAt: ms('2019-07-29T12:31:00Z'), finishedAt: joined });

  // ---- innocent: a transactions service deploy and a flag ramp just after the nodes started
  I.commit('pennyroyal/transactions', { message: 'feed: show merchant logo fallback for pending card payments', author: 'tx', at: ms('2019-07-26T14:00:00Z'), files: [
    { filename: 'service.transactions/feed/logo.go', patch: '@@ -31,6 +31,9 @@ func merchantLogo(tx *Transaction) string {\n+\tif tx.Merchant == nil && tx.Status == StatusPending {\n+\t\treturn defaultLogoURL\n+\t}' },
  ] });
  const txDeploy = I.deploy('pennyroyal/transactions', { env: 'production', ref: 'tx-3391', description: 'service.transactions tx-3391', createdAt: ms('2019-07-29T12:40:00Z'), finishedAt: ms('2019-07-29T12:51:09Z') });
  I.changeEvent({ at: ms('2019-07-29T12:58:25Z'), summary: 'Feature flag card_freeze_v2 ramped to 50% of customers', integration: 'flagd', services: ['service.cards'], custom_details: { flag: 'card_freeze_v2', rollout: { from: 20, to: 50 } } });

  // ---- Datadog
  const bad = (t) => (t < onset ? 0 : t < decomStart ? 1 : Math.max(0, 1 - (t - decomStart) / (decomDone - decomStart)));
  I.series({ metric: 'transactions.read.not_found', expression: 'sum:transactions.read.not_found{env:production}.as_count()', scope: 'env:production', interval: 20, from, to, unit: 'read', fn: (t) => I.noise(40, 0.3) + bad(t) * I.noise(21000, 0.08) });
  I.series({ metric: 'cassandra.ring.nodes', expression: 'max:cassandra.ring.nodes{cluster:prod-main,status:up_normal}', scope: 'cluster:prod-main,status:up_normal', interval: 60, from, to, unit: 'node', fn: (t) => (t < joined ? 21 : t < decomStart ? 27 : 21 + Math.round(6 * (1 - (t - decomStart) / (decomDone - decomStart)))) });
  I.series({ metric: 'cassandra.load.bytes', expression: 'avg:cassandra.load.bytes{cluster:prod-main,node_group:new}', scope: 'cluster:prod-main,node_group:new', interval: 60, from: joined, to: decomDone, unit: 'byte', fn: () => I.noise(180_000, 0.2) });
  I.ddEvent({ at: txDeploy.finishedAt, title: 'Deployed service.transactions tx-3391', source_type_name: 'deploy', tags: ['service:transactions'] });
  I.ddEvent({ at: ms('2019-07-29T13:04:00Z'), title: '[P1] Triggered: transactions not-found reads > 500/min', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:transactions'] });

  // ---- logs
  for (let n = 22; n <= 27; n++) {
    const h = `cass-prod-${n}`;
    const t0 = ms('2019-07-29T12:57:20Z') + (n - 22) * 8 * SEC;
    I.log(t0, 'cassandra', 'info', h, 'INFO  [main] StorageService.java:694 - Cassandra version: 3.11.4; cluster prod-main; auto_bootstrap=false');
    I.log(t0 + 6 * SEC, 'cassandra', 'warn', h, 'INFO  [main] StorageService.java:1047 - Not bootstrapping (auto_bootstrap is false); joining ring with 256 new tokens and no streamed data');
    I.log(t0 + 9 * SEC, 'cassandra', 'info', h, 'INFO  [main] StorageService.java:2289 - Node /10.12.7.' + (100 + n) + ' state jump to NORMAL');
  }
  I.logsBetween(onset, decomDone, 170, 'transactions', 'warn', ['transactions-6d9f-2kq', 'transactions-6d9f-x8p', 'balance-5c7d-ml2'], () => `read ${I.pick(['transactions_by_account', 'balance_by_account', 'feed_items'])} account=acc_00009${I.alnum(11)} returned 0 rows (consistency ONE, replica cass-prod-${I.int(22, 27)})`);
  I.logsBetween(from, to, 150, 'transactions', 'info', ['transactions-6d9f-2kq', 'transactions-6d9f-x8p'], () => `GET /transactions?account_id=acc_00009${I.alnum(11)} 200 ${I.int(8, 120)}ms`);
  I.log(ms('2019-07-29T12:35:10Z'), 'terraform', 'info', 'ci-runner-4', `cassandra-node module: jmx_password=${I.secret('Cass-Jmx-7Yq!ProdMain')} (rendered into /etc/cassandra/jmxremote.password)`);

  // ---- Opsgenie
  I.og(page, 'Alert created via Datadog integration: [P1] transactions not-found reads > 500/min');
  I.og(page + 420, `Alert notified ${I.p('oncall').realName} via voice`);
  I.og(ack, `Alert acknowledged by ${I.p('oncall').realName}`, 'alertAction', I.p('oncall').email);
  I.og(ms('2019-07-29T13:35:00Z'), 'Note added: the six nodes added by ci-0729-scaleup joined with auto_bootstrap=false and own token ranges with no data. Decommissioning them one at a time.', 'note', I.p('ic').email);
  I.og(ms('2019-07-29T16:10:00Z'), 'Note added: all six new nodes decommissioned, reads back to normal. Repair and data reconciliation tracked separately.', 'note', I.p('ic').email);
  I.og(resolve, `Alert closed by ${I.p('ic').realName}`, 'alertAction', I.p('ic').email);

  // ---- Slack
  const at = (t) => ms(`2019-07-29T${t}Z`);
  I.bot(at('13:04:15'), 'Opsgenie', '[P1] transactions not-found reads > 500/min (Alert #7716)');
  I.say(at('13:05:20'), 'cs', 'customer support: people saying their feed is empty and balances look wrong');
  I.say(at('13:06:10'), 'oncall', 'ack. reads return zero rows for accounts that definitely have data');
  const th = I.say(at('13:07:00'), 'tx', 'tx-3391 went out 12:51, logo fallback only. roll back?');
  I.say(at('13:08:00'), 'oncall', 'balance reads are failing too and tx-3391 does not touch them. the empty reads all come from replicas cass-prod-22..27', { thread: th });
  I.say(at('13:09:30'), 'ic', 'IC here. card_freeze_v2 ramp at 12:58?');
  I.say(at('13:10:10'), 'oncall', 'cards are not in the error path at all');
  I.say(at('13:12:40'), 'db2', 'the new nodes own 6/27 of the ring and hold 180 KB each. their logs say "Not bootstrapping (auto_bootstrap is false)"');
  I.say(at('13:14:30'), 'db', 'I ran the scale-up, ci-0729-scaleup. I used the restore-node template, which sets auto_bootstrap false because restores bring their own data. they joined empty');
  I.say(at('13:20:00'), 'ic', 'stop them from serving reads, then decommission one at a time. anything written to them since 12:58 must be kept');
  I.say(at('13:41:30'), 'db2', 'decommission of cass-prod-27 started (streams its writes back)');
  I.say(at('16:05:40'), 'db2', 'all six decommissioned, ring back to 21');
  I.say(at('16:31:00'), 'ic', 'closing. follow-ups: no restore template for scale-ups, check the ring load before a node takes reads, reconcile the 12:58-16:05 writes');
  I.bot(at('16:32:12'), 'Opsgenie', 'Alert #7716 closed');

  const incident = { id: '3f8b2c71-9d4e-4a1b-8c60-7e2f5d9a0b14', source: 'opsgenie', title: '[P1] transactions not-found reads > 500/min', service: 'transactions', severity: 'P1', status: 'closed', created_at: iso(page), acknowledged_at: iso(ack), resolved_at: iso(resolve), url: 'https://pennyroyal.app.opsgenie.com/alert/detail/3f8b2c71-9d4e-4a1b-8c60-7e2f5d9a0b14/details' };
  const bundle = I.bundle({ incident, channel: { id: 'C5CASSINC', name: 'inc-missing-transactions' }, opsgenie: true });
  const expected = {
    family: 'cross-repo-infra',
    trigger: { repo: CI, sha: culprit, deployment_id: scale.id },
    spike_onset: { metric: 'transactions.read.not_found', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['auto_bootstrap', 'bootstrap', 'scale-up', 'new nodes', 'token ranges'],
    timeline_must_include: [
      { at: iso(joined), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
