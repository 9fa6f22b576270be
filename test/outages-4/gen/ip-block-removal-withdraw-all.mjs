// After Google Compute Engine, 2016-04-11: engineers removed an unused IP block from the network
// configuration. A timing quirk left the block in one file but not another; the configuration manager
// saw the inconsistency and, through a bug in its fallback path, produced a configuration without any
// of the IP blocks. The canary site flagged it, but a second bug ignored the canary failure, and the
// announcements were withdrawn everywhere; external connectivity was lost until the previous
// configuration was restored.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'ip-block-removal-withdraw-all';
export const source = 'Google Cloud Status Dashboard, "Google Compute Engine Incident #16007" (status.cloud.google.com, incident report of 2016-04-13)';

export function build() {
  const I = new Incident({ seed: 20160411, company: 'Vantacloud', domain: 'vantacloud.net' });
  I.person('oncall', 'Ravi Chandrasekhar', { login: 'rchandrasekhar' });
  I.person('ic', 'Elena Kowalczyk', { login: 'ekowalczyk' });
  I.person('net', 'Ben Achterberg', { login: 'bachterberg' });
  I.person('net2', 'Aisha Balogun', { login: 'abalogun' });
  I.person('vm', 'Patrick Doyle', { login: 'pdoyle' });
  const at = (t) => ms(t.length <= 8 ? `2016-04-12T${t}Z` : t);
  const from = ms('2016-04-11T20:00:00Z'), to = at('04:00:00');
  const change = ms('2016-04-11T21:50:20Z');
  const onset = at('02:09:00'), page = at('02:10:40'), ack = at('02:11:30'), revert = at('02:25:30'), resolve = at('02:51:00');

  const NM = 'vantacloud/netcfg-manager';
  const latent = I.commit(NM, { message: 'Propagation: on config inconsistency, rebuild from the last consistent snapshot\n\nAvoids pausing propagation when two source files disagree.', author: 'net2', at: ms('2015-11-03T14:00:00Z'), files: [
    { filename: 'propagate/fallback.go', patch: '@@ -40,9 +40,8 @@ func (p *Propagator) onInconsistent(cur, prev *Config) *Config {\n-\tp.pause("inconsistent config")\n-\treturn prev\n+\tsnap := p.lastConsistent()\n+\t// snapshot holds the blocks that changed; unchanged blocks are implied\n+\treturn snap.Materialize()' },
    { filename: 'propagate/canary.go', patch: '@@ -71,6 +71,7 @@ func (p *Propagator) canaryDone(res CanaryResult) {\n \tif res.Failed {\n \t\tlog.Warnf("canary %s failed: %s", res.Site, res.Reason)\n+\t\tif p.fallbackActive { return } // fallback configs are already known good\n \t\tp.abort()' },
  ] });
  I.deploy(NM, { env: 'production', ref: 'ncm-2015.11.10', description: 'netcfg-manager 2015.11.10', createdAt: ms('2015-11-10T10:00:00Z'), finishedAt: ms('2015-11-10T12:14:51Z') });
  I.commit('vantacloud/vm-scheduler', { message: 'Scheduler: prefer zones with free local SSD for n1-highmem', author: 'vm', at: ms('2016-04-11T18:00:00Z'), files: [{ filename: 'sched/score.go', patch: '@@ -33,3 +33,4 @@\n+\tif req.LocalSSD > 0 { score += z.FreeSSD * 0.2 }' }] });
  I.deploy('vantacloud/vm-scheduler', { env: 'production', ref: 'vms-0411-1', description: 'vm-scheduler vms-0411-1', createdAt: at('01:40:00'), finishedAt: at('01:58:33'), creator: 'pdoyle' });

  const ce = I.changeEvent({ at: change, summary: 'netcfg: remove unused external IP block 198.18.144.0/20 (asia-east1 legacy), propagate', integration: 'netcfg-pipeline', services: ['external-network'], custom_details: { ticket: 'NET-20931', blocks_removed: ['198.18.144.0/20'], files: ['blocks/external.yaml', 'blocks/announce-map.yaml'], propagation: 'canary site then all sites' } });
  I.changeEvent({ at: at('02:05:30'), summary: 'DNS: TTL for metadata.internal lowered 300 -> 60', integration: 'dns-console', services: ['internal-dns'], custom_details: { record: 'metadata.internal', ttl: { from: 300, to: 60 } } });
  I.changeEvent({ at: revert, summary: 'netcfg: manual rollback to config 2016-04-11.3 (pre NET-20931), propagation forced', integration: 'netcfg-pipeline', services: ['external-network'], custom_details: { revision: '2016-04-11.3' } });

  const lost = (t) => (t < onset ? 0 : t < revert ? 1 : Math.max(0, 1 - (t - revert) / (4 * MIN)));
  I.series({ metric: 'network.external.probe_failures', expression: 'sum:network.external.probe_failures{probe:vm-ingress}.as_count()', scope: 'probe:vm-ingress', interval: 30, from, to, unit: 'probe', fn: (t) => I.noise(6, 0.5) + lost(t) * I.noise(4800, 0.04) });
  I.series({ metric: 'network.bgp.announced_prefixes', expression: 'sum:network.bgp.announced_prefixes{scope:external}', scope: 'scope:external', interval: 60, from, to, fn: (t) => (t < at('02:07:00') ? 212 : t < onset ? 120 : t < revert ? 0 : t < revert + 3 * MIN ? 140 : 211) });
  I.ddEvent({ at: at('01:58:33'), title: 'vm-scheduler vms-0411-1 deployed', source_type_name: 'deploy', tags: ['service:vm-scheduler'] });

  I.log(change + 40 * SEC, 'netcfg-manager', 'info', 'ncm-1', 'NET-20931: new config 2016-04-11.4 built; blocks/external.yaml has 211 blocks, blocks/announce-map.yaml still references 198.18.144.0/20');
  I.log(at('02:04:10'), 'netcfg-manager', 'warn', 'ncm-1', 'config 2016-04-11.4 inconsistent (announce-map references a removed block); fallback: rebuilding from last consistent snapshot');
  I.log(at('02:04:12'), 'netcfg-manager', 'info', 'ncm-1', 'fallback config 2016-04-11.4f materialized: 0 external blocks');
  I.log(at('02:05:40'), 'netcfg-manager', 'warn', 'ncm-1', 'canary site tpe-c failed: fallback config withdraws 212/212 external prefixes');
  I.log(at('02:05:41'), 'netcfg-manager', 'info', 'ncm-1', 'canary failure ignored (fallback active); propagating 2016-04-11.4f to 31 sites');
  I.logsBetween(at('02:07:00'), revert, 40, 'edge-router', 'warn', ['er-iad-2', 'er-tpe-1', 'er-fra-4', 'er-gru-1'], () => `BGP: withdrawing ${I.int(2, 12)} prefixes to peers (source: netcfg 2016-04-11.4f)`);
  I.logsBetween(from, to, 60, 'external-network', 'info', ['probe-1', 'probe-2'], () => `vm-ingress probe ok rtt=${I.int(8, 90)}ms`);
  I.log(ms('2016-04-11T22:10:00Z'), 'netcfg-manager', 'info', 'ncm-2', `pulled router credentials from vault token=${I.secret('s.Vc7nHq2LmWp0TgK9xNETCFG')}`);

  I.say(at('02:11:50'), 'oncall', 'ack. external probes to VMs failing in every region at once');
  const th = I.say(at('02:12:30'), 'vm', 'vm-scheduler shipped at 01:58. only scoring though');
  I.say(at('02:13:00'), 'oncall', 'the scheduler does not touch existing VMs, and internal traffic between VMs is fine. it is external reachability', { thread: th });
  I.say(at('02:13:40'), 'net', 'we lowered the metadata.internal TTL at 02:05, could DNS be it?');
  I.say(at('02:14:20'), 'net2', 'no, the edge routers are withdrawing our prefixes: "source: netcfg 2016-04-11.4f". announced prefixes went 212 -> 0');
  I.say(at('02:16:00'), 'net2', 'ncm log: NET-20931 left 198.18.144.0/20 in announce-map, manager called it inconsistent and fell back to a snapshot with 0 blocks. canary in tpe-c caught it and the failure was ignored because fallback was active. that is my fallback code from November');
  I.say(at('02:18:00'), 'ic', 'IC. roll back to 2016-04-11.3, force propagation, freeze netcfg');
  I.say(at('02:30:00'), 'net', 'rollback propagated 02:25, prefixes re-announced, probes recovering');
  I.say(at('02:50:00'), 'ic', 'all regions reachable. resolving. follow-ups: fallback must pause, canary failure must always abort');

  return finish(I, { page, ack, resolve, monitor: '[P1] external VM reachability probes failing', service: 'external-network', number: 16007, oncall: 'oncall', ic: 'ic',
    notes: [[at('02:20:00'), 'NET-20931 (remove unused IP block) -> manager fallback materialized 0 blocks; canary failure ignored; all prefixes withdrawn. Rolling back.']],
    channel: { id: 'C0VCNET16', name: 'inc-external-network' }, family: 'latent-defect', trigger: { kind: 'change_event', change_event_id: ce },
    latent: { repo: NM, sha: latent }, metric: 'network.external.probe_failures', scope: 'probe:vm-ingress', onset, terms: ['NET-20931', 'IP block', 'fallback', 'canary', 'withdraw'] });
}
