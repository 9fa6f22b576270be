// After Cloudflare, 2025-12-05: while raising the WAF request-body buffer to protect against a disclosed
// vulnerability, an internal WAF test rule stopped working and was switched off through the global
// configuration system, which reaches the whole fleet in seconds. On the older proxy, applying a
// killswitch to a rule whose action is "execute" had never happened before; the rules module then read a
// field of an object that did not exist and every request through it failed with HTTP 500 until the
// killswitch was reverted 25 minutes later.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'killswitch-lua-nil';
export const source = 'Cloudflare, "Cloudflare outage on December 5, 2025" (blog.cloudflare.com, 2025-12-05)';

export function build() {
  const I = new Incident({ seed: 20251205, company: 'Brightgate', domain: 'brightgate.net' });
  I.person('oncall', 'Tomasz Zielinski', { login: 'tzielinski' });
  I.person('ic', 'Naledi Dlamini', { login: 'ndlamini' });
  I.person('waf', 'Kenji Mori', { login: 'kmori' });
  I.person('proxy', 'Aoife Gallagher', { login: 'agallagher' });
  I.person('dns', 'Pedro Alves', { login: 'palves' });
  const at = (t) => ms(t.length <= 8 ? `2025-12-05T${t}Z` : t);
  const from = at('06:00:00'), to = at('11:00:00');
  const ks = at('08:47:02'), onset = at('08:47:30'), page = at('08:49:10'), ack = at('08:49:45'), revert = at('09:11:40'), resolve = at('09:24:20');

  const FL = 'brightgate/edge-proxy-legacy';
  const latent = I.commit(FL, { message: 'rulesets: honour killswitch per rule (skip evaluation, keep result shape)', author: 'proxy', at: ms('2023-03-14T10:00:00Z'), files: [
    { filename: 'lua/rulesets/evaluate.lua', patch: '@@ -201,10 +201,17 @@ function M.run_rule(ctx, rule)\n+  if killswitch.is_killed(rule.id) then\n+    -- killed rules produce no result; callers only look at result.action\n+    return { action = rule.action }\n+  end\n   local res = rule.fn(ctx)\n   return res\n end\n@@ -260,6 +267,9 @@ function M.apply(ctx, res)\n+  if res.action == "execute" then\n+    return M.run_ruleset(ctx, res.execute.ruleset_id, res.execute.results)\n+  end' },
  ] });
  I.deploy(FL, { env: 'edge-global', ref: 'fl1-2023.03.21', description: 'edge-proxy-legacy 2023.03.21', createdAt: ms('2023-03-21T07:00:00Z'), finishedAt: ms('2023-03-21T15:42:10Z') });

  const WC = 'brightgate/waf-config';
  I.commit(WC, { message: 'WAF: raise request body inspection buffer 128KB -> 1MB (RSC deserialization CVE coverage)', author: 'waf', at: at('07:10:00'), files: [{ filename: 'waf/body_limits.yaml', patch: '@@ -3,2 +3,2 @@\n body_inspection:\n-  max_buffer_bytes: 131072\n+  max_buffer_bytes: 1048576' }] });
  I.deploy(WC, { env: 'edge-global', ref: 'wafc-7718', description: 'waf-config 7718 (gradual rollout)', createdAt: at('07:40:00'), finishedAt: at('08:29:41'), creator: 'kmori' });
  const ce = I.changeEvent({ at: ks, summary: 'global-config: killswitch ON for rule waf-test-harness (id 7f3e21, action=execute) on all edge nodes', integration: 'global-config', services: ['waf'], custom_details: { killswitch: 'rule:7f3e21', rule_name: 'waf-test-harness', rule_action: 'execute', from: 'off', to: 'on', propagation: 'global, seconds' } });
  I.changeEvent({ at: at('08:47:14'), summary: 'Authoritative DNS: default SOA minimum TTL 3600 -> 1800', integration: 'dns-admin', services: ['dns'], custom_details: { setting: 'soa.minimum', from: 3600, to: 1800 } });
  I.changeEvent({ at: revert, summary: 'global-config: killswitch OFF for rule waf-test-harness (id 7f3e21)', integration: 'global-config', services: ['waf'], custom_details: { killswitch: 'rule:7f3e21', from: 'on', to: 'off' } });

  const bad = (t) => (t < onset ? 0 : t < revert + 30 * SEC ? 1 : Math.max(0, 1 - (t - revert - 30 * SEC) / (3 * MIN)));
  I.series({ metric: 'edge.http.500', expression: 'sum:edge.http.500{proxy:legacy}.as_count()', scope: 'proxy:legacy', interval: 20, from, to, unit: 'response', fn: (t) => I.noise(800, 0.1) + bad(t) * I.noise(2_900_000, 0.04) });
  I.series({ metric: 'edge.http.500', expression: 'sum:edge.http.500{proxy:next}.as_count()', scope: 'proxy:next', interval: 20, from, to, unit: 'response', fn: () => I.noise(600, 0.1) });
  I.ddEvent({ at: at('08:29:41'), title: 'waf-config 7718 rollout complete (100%)', source_type_name: 'deploy', tags: ['service:waf'] });

  const hosts = ['fl1-lhr-112', 'fl1-iad-047', 'fl1-nrt-009', 'fl1-gru-021'];
  I.logsBetween(onset, revert + 30 * SEC, 120, 'edge-proxy-legacy', 'error', hosts, () => `[lua] rulesets/evaluate.lua:270: attempt to index field 'execute' (a nil value)\nstack traceback:\n  rulesets/evaluate.lua:270: in function 'apply'\n  rulesets/init.lua:88: in function 'run_phase' (phase=http_request_firewall_managed, rule=7f3e21)\n-> 500 zone=${I.int(10000, 99999)}`);
  I.logsBetween(from, to, 60, 'edge-proxy-next', 'info', ['fl2-lhr-301', 'fl2-iad-118'], () => `GET / 200 ${I.int(3, 40)}ms managed_rules=on`);
  I.logsBetween(at('08:05:00'), at('08:44:00'), 15, 'waf-test-harness', 'warn', ['wafth-1'], () => 'harness request rejected: body 1048576 bytes exceeds harness max 131072; test results unavailable');
  I.log(at('08:40:00'), 'global-config', 'info', 'gcfg-1', `client auth x-gcfg-token=${I.secret('gcfg_live_8fQ2mZr7Xw1Lp0aN')}`);

  I.say(at('08:50:00'), 'oncall', 'ack. HTTP 500 for a large share of zones, only on the legacy proxy fleet');
  const th = I.say(at('08:50:30'), 'waf', 'the 1MB body buffer (waf-config 7718) finished rolling out 08:29. revert it?');
  I.say(at('08:52:00'), 'proxy', 'it was at 100% for 18 min with no errors, and the next-gen proxy runs the same buffer and is fine. the 500s start 08:47:30', { thread: th });
  I.say(at('08:52:40'), 'dns', 'I lowered the SOA minimum TTL at 08:47:14, but DNS answers are fine and this is HTTP');
  I.say(at('08:54:10'), 'proxy', 'every 500 is evaluate.lua:270 "attempt to index field execute (a nil value)" on rule 7f3e21. that is waf-test-harness, killswitched via global config at 08:47:02 because the harness could not take 1MB bodies. a killed rule returns {action=...} with no execute table, and apply() indexes res.execute for action=execute. first killswitch ever on an execute rule; code from March 2023');
  I.say(at('08:58:00'), 'ic', 'IC. revert the killswitch. nobody touches global config until this is closed');
  I.say(at('09:13:00'), 'proxy', 'killswitch off 09:11:40, 500s gone by 09:12:10');
  I.say(at('09:24:00'), 'ic', 'resolving. follow-ups: killswitch of execute rules returns an empty execute table, global config changes go through staged rollout, fail open in the legacy rules module');

  return finish(I, { page, ack, resolve, monitor: '[SEV1] edge HTTP 500 rate > 2%', service: 'edge-proxy-legacy', number: 251205, oncall: 'oncall', ic: 'ic',
    notes: [[at('09:00:00'), 'Killswitch on rule 7f3e21 (action=execute) hits a nil index in the legacy rules module; 500s on FL1 fleet. Reverting killswitch.']],
    channel: { id: 'C0BRGTWAF5', name: 'inc-edge-500' }, family: 'latent-defect', trigger: { kind: 'change_event', change_event_id: ce },
    latent: { repo: FL, sha: latent }, metric: 'edge.http.500', scope: 'proxy:legacy', onset, terms: ['killswitch', '7f3e21', 'execute', 'nil', 'evaluate.lua'] });
}
