// After Knight Capital, 2012-08-01: new retail-liquidity (RLP) code reused a flag bit that once
// activated the retired "Power Peg" algorithm. The manual rollout missed one of eight order-router
// hosts, which kept the old code. When RLP tagging was switched on for the NYSE go-live, that host
// ran Power Peg on every tagged order at the open; rolling the other seven back made it worse.
import { Incident, ms, iso, SEC, MIN } from './lib.mjs';

export const slug = 'order-router-repurposed-flag';
export const source = 'U.S. SEC, Administrative Proceeding File No. 3-15570, "In the Matter of Knight Capital Americas LLC" (Release No. 70694, 2013-10-16)';

export function build() {
  const I = new Incident({ seed: 120801, company: 'Ridgeline', domain: 'ridgeline-trading.com' });
  I.person('oncall', 'Graham Pike', { login: 'gpike' });
  I.person('ic', 'Renata Costa', { login: 'rcosta-ops' });
  I.person('dev', 'Ian Falkner', { login: 'ifalkner' });
  I.person('dev2', 'Yusuf Demir', { login: 'ydemir' });
  I.person('trader', 'Meredith Stone', { login: 'mstone-mm' });
  I.person('risk', 'Paolo Ricci', { login: 'pricci' });

  const from = ms('2012-08-01T10:00:00Z');
  const to = ms('2012-08-01T15:30:00Z');
  const open = ms('2012-08-01T13:30:00Z');
  const rollbackDone = ms('2012-08-01T13:57:21Z');
  const kill = ms('2012-08-01T14:15:00Z');
  const page = ms('2012-08-01T13:34:02.519Z');
  const ack = ms('2012-08-01T13:35:10.003Z');
  const resolve = ms('2012-08-01T14:40:27.884Z');
  const hosts = Array.from({ length: 8 }, (_, i) => `ordrouter-0${i + 1}`);

  // ---- GitHub: ordrouter (flag reuse, deployed by hand over several days), trading-config (RLP enable), decoys
  const OR = 'ridgeline/ordrouter';
  I.commit(OR, { message: 'SOD: log release and build sha on start of day', author: 'dev2', at: ms('2012-07-10T14:00:00Z'), files: [
    { filename: 'src/router/main.cpp', patch: '@@ -40,6 +40,7 @@ int main(int argc, char** argv) {\n   InitLogging(cfg);\n+  LOG_INFO("ordrouter starting release=%s sha=%s", kRelease, kBuildSha);\n   Router r(cfg);' },
  ] });
  const prevRelease = I.repo(OR).commits[0].sha;
  I.deploy(OR, { env: 'prod-nyse', ref: 'rl-4.9.12', description: 'ordrouter rl-4.9.12 to ordrouter-01..08', createdAt: ms('2012-07-12T21:30:00Z'), finishedAt: ms('2012-07-12T22:10:40Z'), creator: 'gpike' });
  const latent = I.commit(OR, { message: 'RLP: route Retail Liquidity Program orders\n\nReuses order flag bit 0x40 for RLP. The bit was FLAG_POWER_PEG, retired in 2003;\nits dispatch is replaced by the RLP router.', author: 'dev', at: ms('2012-07-20T16:00:00Z'), files: [
    { filename: 'src/router/flags.h', patch: '@@ -18,7 +18,7 @@\n #define FLAG_ISO          0x10\n #define FLAG_DNR          0x20\n-#define FLAG_POWER_PEG    0x40  /* retired 2003, do not reuse */\n+#define FLAG_RLP          0x40  /* Retail Liquidity Program (was POWER_PEG) */\n #define FLAG_ODD_LOT      0x80' },
    { filename: 'src/router/dispatch.cpp', patch: '@@ -112,8 +112,8 @@ Route Dispatcher::route(ParentOrder& o) {\n   if (o.flags & FLAG_ISO) return iso::Route(o);\n-  // dead: PowerPeg retired 2003; cumulative-qty tracking moved to ParentOrder::fill() in 2005\n-  if (o.flags & FLAG_POWER_PEG) return powerpeg::Run(o);\n+  if (o.flags & FLAG_RLP) return rlp::Route(o);\n   return sor::Route(o);\n }' },
    { filename: 'src/router/rlp/rlp_router.cpp', status: 'added', patch: '@@ -0,0 +1,9 @@\n+#include "router/rlp/rlp_router.h"\n+\n+namespace rlp {\n+Route Route(ParentOrder& o) {\n+  // RLP orders go to the NYSE RLP book only\n+  return Route::To(Venue::NYSE_RLP, o.qty);\n+}\n+}  // namespace rlp' },
  ] });
  const rlpDeploy = I.deploy(OR, { env: 'prod-nyse', ref: 'rlp-1.0', description: 'ordrouter rlp-1.0 manual rollout to ordrouter-01..08 (copy + restart per host)', createdAt: ms('2012-07-27T21:00:00Z'), finishedAt: ms('2012-07-31T22:41:09Z'), creator: 'gpike' });
  const TC = 'ridgeline/trading-config';
  I.commit(TC, { message: 'Tick size table for August', author: 'risk', at: ms('2012-07-30T15:00:00Z'), files: [
    { filename: 'nyse/ticks.yaml', patch: '@@ -2,4 +2,4 @@ effective:\n-  from: 2012-07-01\n+  from: 2012-08-01' },
  ] });
  I.deploy(TC, { env: 'prod-nyse', ref: 'tc-0731', description: 'trading-config tc-0731', createdAt: ms('2012-07-31T21:00:00Z'), finishedAt: ms('2012-07-31T21:01:31Z') });
  const trigger = I.commit(TC, { message: 'NYSE RLP go-live Aug 1: enable RLP tagging in order-gateway\n\norder-gateway sets flag bit 0x40 on orders from RLP-eligible retail brokers;\nordrouter rlp-1.0 routes them to the RLP book.', author: 'dev', at: ms('2012-07-31T23:00:00Z'), files: [
    { filename: 'nyse/rlp.yaml', patch: '@@ -1,6 +1,6 @@\n rlp:\n-  enabled: false\n+  enabled: true\n   flag_bit: 0x40\n   eligible_brokers: [RB01, RB07, RB12, RB19]\n   venues: [NYSE]' },
  ] });
  const tDeploy = I.deploy(TC, { env: 'prod-nyse', ref: 'tc-0801-rlp', description: 'trading-config tc-0801-rlp (RLP go-live)', createdAt: ms('2012-08-01T11:53:00Z'), finishedAt: ms('2012-08-01T11:55:12Z'), creator: 'gpike' });
  I.commit('ridgeline/order-gateway', { message: 'FIX: accept tag 1138 (DisplayQty) on inbound orders', author: 'dev2', at: ms('2012-07-30T10:00:00Z'), files: [
    { filename: 'src/fix/inbound.cpp', patch: '@@ -201,6 +201,9 @@ void Inbound::parse(const FixMessage& m, Order& o) {\n   o.qty = m.getInt(38);\n+  if (m.has(1138)) {\n+    o.display_qty = m.getInt(1138);\n+  }' },
  ] });
  I.deploy('ridgeline/order-gateway', { env: 'prod-nyse', ref: 'gw-3.2.7', description: 'order-gateway gw-3.2.7', createdAt: ms('2012-08-01T12:40:00Z'), finishedAt: ms('2012-08-01T12:52:44Z'), creator: 'gpike' });
  I.commit('ridgeline/md-feed', { message: 'CTS feed: widen sequence gap tolerance to 3 during the open', author: 'dev2', at: ms('2012-07-31T18:00:00Z'), files: [
    { filename: 'feed/cts.conf', patch: '@@ -7,3 +7,3 @@\n-gap_tolerance = 1\n+gap_tolerance = 3' },
  ] });
  I.deploy('ridgeline/md-feed', { env: 'prod-nyse', ref: 'mdf-118', description: 'md-feed mdf-118', createdAt: ms('2012-08-01T13:20:00Z'), finishedAt: ms('2012-08-01T13:25:38Z'), creator: 'gpike' });
  I.deploy(OR, { env: 'prod-nyse', ref: 'rl-4.9.12', description: 'rollback ordrouter to rl-4.9.12 on ordrouter-01..07', createdAt: ms('2012-08-01T13:51:00Z'), finishedAt: rollbackDone, sha: prevRelease, commits: [], creator: 'gpike' });

  // ---- Datadog (10 s, per host)
  const runsPowerPeg = (h, t) => t >= open && t < kill && (h === 'ordrouter-08' || t >= rollbackDone);
  for (const h of hosts) {
    I.series({ metric: 'ordrouter.parent_overfill', expression: `sum:ordrouter.parent_overfill{host:${h}}.as_count()`, scope: `host:${h}`, interval: 10, from, to, unit: 'order', fn: (t) => runsPowerPeg(h, t) ? I.noise(420, 0.1) : 0 });
    I.series({ metric: 'ordrouter.child_orders.sent', expression: `sum:ordrouter.child_orders.sent{host:${h}}.as_count()`, scope: `host:${h}`, interval: 10, from, to, unit: 'order', fn: (t) => runsPowerPeg(h, t) ? I.noise(4100, 0.08) : t >= open && t < kill ? I.noise(55, 0.3) : t < open && t > ms('2012-08-01T12:00:00Z') ? I.noise(3, 0.8) : 0 });
  }
  I.series({ metric: 'risk.gross_position.usd', expression: 'sum:risk.gross_position.usd{desk:mm}', scope: 'desk:mm', interval: 10, from, to, unit: 'dollar', fn: (t) => t < open ? I.noise(1.1e8, 0.01) : t < rollbackDone ? 1.1e8 + (t - open) / 1000 * 1.2e6 : t < kill ? 1.1e8 + (rollbackDone - open) / 1000 * 1.2e6 + (t - rollbackDone) / 1000 * 6.5e6 : 6.9e9 });
  I.ddEvent({ at: ms('2012-08-01T13:33:50Z'), title: '[P1] Triggered: desk MM gross position > $500M', alert_type: 'error', source_type_name: 'monitor alert', tags: ['desk:mm'] });
  I.ddEvent({ at: ms('2012-08-01T13:25:38Z'), title: 'Deployed md-feed mdf-118', source_type_name: 'deploy', tags: ['service:md-feed', 'env:prod-nyse'] });

  // ---- logs
  for (const h of hosts) {
    const rel = h === 'ordrouter-08' ? `release=rl-4.9.12 sha=${prevRelease}` : `release=rlp-1.0 sha=${rlpDeploy.sha}`;
    I.log(ms('2012-08-01T11:40:00Z') + hosts.indexOf(h) * 7 * SEC, 'ordrouter', 'info', h, `ordrouter starting ${rel}`);
  }
  I.log(ms('2012-08-01T11:41:10Z'), 'order-gateway', 'info', 'gw-nyse-1', `FIX logon SenderCompID=RDGLMM TargetCompID=NYSE HeartBtInt=30 Password=${I.secret('Rdg!FixNyse#2012')}`);
  I.logsBetween(ms('2012-08-01T12:01:00Z'), open, 97, 'bnet', 'warn', ['ordrouter-08'], () => `BNET reject: SMARS ordrouter-08 Power Peg disabled (parent=${I.alnum(10)} flags=0x40 broker=${I.pick(['RB01', 'RB07', 'RB12', 'RB19'])})`);
  I.logsBetween(open, kill, 160, 'ordrouter', 'error', ['ordrouter-08'], () => `powerpeg::Run parent=${I.alnum(10)} sym=${I.pick(['EXC', 'BAC', 'RSH', 'NOK', 'FCF'])} qty=${I.pick([100, 200, 500])} sent child #${I.int(40, 9000)}; cum_qty tracking: none (parent fill not observed) flags=0x40`);
  I.logsBetween(rollbackDone, kill, 120, 'ordrouter', 'error', hosts.slice(0, 7), () => `powerpeg::Run parent=${I.alnum(10)} sym=${I.pick(['EXC', 'BAC', 'RSH', 'NOK'])} sent child #${I.int(40, 9000)}; cum_qty tracking: none flags=0x40`);
  I.logsBetween(open, kill, 120, 'ordrouter', 'info', hosts.slice(0, 7), () => `rlp::Route parent=${I.alnum(10)} -> NYSE_RLP qty=${I.pick([100, 300, 1000])} flags=0x40`);
  I.log(kill, 'ordrouter', 'warn', 'ordrouter-01', 'SMARS halted by operator: all child order generation stopped');

  // ---- Opsgenie
  I.og(page, 'Alert created via Datadog integration: [P1] desk MM gross position > $500M');
  I.og(page + 210, `Alert notified ${I.p('oncall').realName} via voice`);
  I.og(ack, `Alert acknowledged by ${I.p('oncall').realName}`, 'alertAction', I.p('oncall').email);
  I.og(ms('2012-08-01T13:58:40.100Z'), 'Note added: rolled ordrouter-01..07 back to rl-4.9.12 at 13:57, overfills now on ALL hosts', 'note', I.p('ic').email);
  I.og(ms('2012-08-01T14:16:02.771Z'), 'Note added: SMARS halted 14:15. Flag 0x40 orders were executing retired Power Peg code.', 'note', I.p('ic').email);
  I.og(resolve, `Alert closed by ${I.p('ic').realName}`, 'alertAction', I.p('ic').email);

  // ---- Slack
  const at = (hms) => ms(`2012-08-01T${hms}Z`);
  I.bot(at('13:34:05'), 'Opsgenie', ':red_circle: [P1] desk MM gross position > $500M (Ridgeline Trading Ops)');
  I.say(at('13:33:10'), 'trader', 'we are buying EXC and BAC at the ask and selling at the bid over and over. millions of shares since the open. not us');
  I.say(at('13:35:30'), 'oncall', 'ack. huge child order volume from ordrouter-08 only since 13:30. 01..07 look normal');
  I.say(at('13:36:40'), 'dev2', 'md-feed mdf-118 went out 13:25, bad quotes?');
  I.say(at('13:37:20'), 'oncall', 'quotes look sane, and the other routers use the same feed without this');
  I.say(at('13:38:50'), 'risk', 'position grows ~$1M a second. we need to stop it');
  I.say(at('13:40:10'), 'ic', 'IC. what changed? rlp-1.0 went live today');
  I.say(at('13:42:00'), 'dev', 'RLP tagging was enabled at 11:55 (tc-0801-rlp), order-gateway sets 0x40 on RLP orders. 01..07 route them to rlp::Route. 08 logs say powerpeg::Run');
  I.say(at('13:44:30'), 'oncall', 'there were 97 BNET emails this morning from 08:01 ET: "Power Peg disabled". nobody looked');
  I.say(at('13:46:00'), 'dev2', 'suspect the new RLP code is the problem, roll ordrouter back to rl-4.9.12?');
  I.say(at('13:47:20'), 'ic', 'ok, roll back 01..07 to rl-4.9.12');
  I.say(at('13:58:10'), 'oncall', 'rollback done 13:57 and now ALL eight are running powerpeg on 0x40 orders. it got much worse');
  I.say(at('14:01:30'), 'dev', 'because rl-4.9.12 still has the old POWER_PEG dispatch for 0x40. 08 never got rlp-1.0: SOD log says ordrouter-08 started release=rl-4.9.12. the manual copy skipped it');
  I.say(at('14:03:00'), 'risk', 'gross position past $3B');
  I.say(at('14:05:00'), 'ic', 'halt SMARS now. and set rlp enabled false');
  I.say(at('14:15:20'), 'oncall', 'SMARS halted 14:15, child order generation stopped');
  I.say(at('14:40:00'), 'ic', 'closing the alert. position ~$6.9B to unwind. follow-ups: automated deploy with per-host version check, remove dead code before reusing flags, act on BNET rejects, kill switch');

  const incident = { id: '6f1d2c9e-5a1b-4e0f-8c3d-7b2a9e4f1c60', source: 'opsgenie', title: '[P1] desk MM gross position > $500M', service: 'ordrouter', severity: 'P1', status: 'closed', created_at: iso(page), acknowledged_at: iso(ack), resolved_at: iso(resolve), url: 'https://ridgeline.app.opsgenie.com/alert/detail/6f1d2c9e-5a1b-4e0f-8c3d-7b2a9e4f1c60/details' };
  const bundle = I.bundle({ incident, channel: { id: 'C0RLP0801', name: 'inc-2012-08-01-smars' }, opsgenie: true });
  const expected = {
    family: 'partial-deploy',
    trigger: { repo: TC, sha: trigger, deployment_id: tDeploy.id },
    latent_defect: { repo: OR, sha: latent },
    spike_onset: { metric: 'ordrouter.parent_overfill', scope: 'host:ordrouter-08', at: iso(open), tolerance_ms: 30000 },
    root_cause_terms: ['Power Peg', 'powerpeg', '0x40', 'FLAG_POWER_PEG', 'ordrouter-08'],
    timeline_must_include: [
      { at: iso(tDeploy.finishedAt), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  void MIN;
  return { bundle, expected };
}
