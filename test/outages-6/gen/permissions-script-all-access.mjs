// After Salesforce (Pardot), 2019-05-17: a database script deployment meant to touch permissions for one
// product instead granted every user of affected organisations read and write access to all of their
// organisation's data. Salesforce cut off access for all affected organisations, then restored
// administrators, then other users as profiles were repaired.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'permissions-script-all-access';
export const source = 'Salesforce, "Salesforce Service Disruption, May 17, 2019" (status.salesforce.com / trust.salesforce.com knowledge article and RCA, 2019-05)';

export function build() {
  const I = new Incident({ seed: 20190517, company: 'Leadwise', domain: 'leadwise.com' });
  I.person('oncall', 'Farah Siddiqui', { login: 'fsiddiqui' });
  I.person('ic', 'Benedikt Kraus', { login: 'bkraus', slack: 'ben.kraus', email: 'ben.kraus@leadwise.com' });
  I.person('dba', 'Camille Laurent', { login: 'claurent' });
  I.person('sec', 'Duc Nguyen', { login: 'dnguyen' });
  I.person('app', 'Isabela Rocha', { login: 'irocha' });
  const at = (t) => ms(`2019-05-17T${t}Z`);
  const from = at('12:00:00'), to = at('23:59:00');
  const dep = at('15:39:40'), onset = at('15:41:00'), page = at('15:58:30'), ack = at('15:59:10'), cutoff = at('16:52:00'), admins = at('19:10:00'), resolve = at('23:30:00');

  const S = 'leadwise/crm-db-scripts';
  const bad = I.commit(S, { message: 'DSC-8841: backfill marketing-automation permission for legacy profiles', author: 'dba', at: at('09:10:00'), files: [{ filename: 'scripts/2019/05/dsc_8841_ma_permissions.sql', status: 'added', patch: "@@ -0,0 +1,7 @@\n+-- grant marketing automation object access to legacy profiles\n+UPDATE profile_permissions pp\n+   SET modify_all_data = true,\n+       view_all_data = true\n+  FROM org_features f\n+ WHERE f.org_id = pp.org_id\n+   AND f.feature = 'marketing_automation';" }] });
  I.commit(S, { message: 'DSC-8850: add index on activity_history(org_id, created_at)', author: 'dba', at: at('10:00:00'), files: [{ filename: 'scripts/2019/05/dsc_8850_activity_idx.sql', status: 'added', patch: '@@ -0,0 +1,1 @@\n+CREATE INDEX CONCURRENTLY IF NOT EXISTS activity_history_org_created ON activity_history (org_id, created_at);' }] });
  const trig = I.deploy(S, { env: 'prod-na', ref: 'dbs-0517-1', description: 'db scripts batch 0517-1', createdAt: at('15:20:00'), finishedAt: dep, creator: 'claurent' });
  I.repo(S).deployment_commits[String(trig.id)] = I.repo(S).commits.slice(-2).map((c) => c.sha);
  I.commit('leadwise/crm-app', { message: 'Reports: cache folder tree for 60s', author: 'app', at: at('11:00:00'), files: [{ filename: 'src/reports/FolderTree.java', patch: '@@ -22,1 +22,1 @@\n-    private static final Duration TTL = Duration.ZERO;\n+    private static final Duration TTL = Duration.ofSeconds(60);' }] });
  I.deploy('leadwise/crm-app', { env: 'prod-na', ref: 'crm-232.14', description: 'crm-app 232.14', createdAt: at('15:30:00'), finishedAt: at('15:40:20'), creator: 'irocha' });
  I.changeEvent({ at: cutoff, summary: 'access: login blocked for all orgs with marketing_automation (DSC-8841 exposure)', integration: 'org-admin', services: ['crm-app'], custom_details: { orgs: 'feature=marketing_automation', action: 'block-login' } });
  I.changeEvent({ at: admins, summary: 'access: admin logins restored for blocked orgs; profiles repaired from 2019-05-17T15:30 snapshot', integration: 'org-admin', services: ['crm-app'], custom_details: { action: 'restore-admins' } });

  const exposed = (t) => (t < onset ? 0 : t < cutoff ? 1 : 0);
  I.series({ metric: 'crm.authz.restricted_access.non_admin', expression: 'sum:crm.authz.restricted_access{role:non_admin}.as_count()', scope: 'role:non_admin', interval: 60, from, to, fn: (t) => I.noise(8, 0.5) + exposed(t) * I.noise(61000, 0.1) });
  I.series({ metric: 'crm.logins.success', expression: 'sum:crm.logins.success{pod:na}.as_count()', scope: 'pod:na', interval: 60, from, to, fn: (t) => I.noise(9000, 0.1) * (t < cutoff ? 1 : t < admins ? 0.35 : t < resolve ? 0.6 : 1) });

  I.logsBetween(onset, cutoff, 80, 'crm-app', 'warn', ['na44-app-3', 'na44-app-9'], () => `authz: user 005${I.alnum(12)} (profile=Standard User, org=00D${I.alnum(12)}) ${I.pick(['edited', 'viewed', 'deleted'])} ${I.pick(['Opportunity', 'Account', 'Salary__c', 'Case'])} owned by another user via modify_all_data=true`);
  I.log(at('15:39:31'), 'db-scripts', 'info', 'dbrunner-2', 'dsc_8841_ma_permissions.sql: UPDATE 3418772 (expected ~12000 legacy profiles)');
  I.log(at('15:39:38'), 'db-scripts', 'info', 'dbrunner-2', 'dsc_8850_activity_idx.sql: CREATE INDEX ok');
  I.log(at('15:21:00'), 'db-scripts', 'info', 'dbrunner-2', `connect jdbc:postgresql://na44-db:5432/crm?user=dbrunner&password=${I.secret('Lw!dbrun-2019-Xq7pZ4')}`);
  I.logsBetween(from, to, 20, 'crm-app', 'info', ['na44-app-1'], () => `reports folder tree cache hit ratio ${I.int(60, 95)}%`);

  I.say(at('15:59:30'), 'oncall', 'ack. authz anomaly: non-admin users reading and editing records they do not own, thousands per minute, NA pod');
  const th = I.say(at('16:00:20'), 'app', 'crm-app 232.14 finished 15:40:20, the reports folder cache. could it serve another user\'s folder tree?');
  I.say(at('16:02:00'), 'sec', 'the logs say the access goes through modify_all_data=true on Standard User profiles, not through reports. profiles changed, not the cache', { thread: th });
  I.say(at('16:05:00'), 'dba', 'db scripts batch 0517-1 finished 15:39:40. the index script is harmless, but dsc_8841 updated 3.4M profile rows instead of ~12k: the WHERE joins org_features only, it is missing the legacy-profile filter. it set modify_all_data and view_all_data on every profile of every org with marketing automation');
  I.say(at('16:10:00'), 'ic', 'IC. this is a data exposure. block login for every affected org now, then restore profiles from the pre-script snapshot');
  I.say(at('16:53:00'), 'sec', 'logins blocked 16:52 for all marketing_automation orgs');
  I.say(at('19:12:00'), 'dba', 'profiles restored from the 15:30 snapshot for orgs that had not edited them; admin logins back 19:10');
  I.say(at('23:30:00'), 'ic', 'resolving; remaining orgs have admin access to repair custom profiles. follow-ups: scripts report expected row counts and abort on mismatch, permission scripts reviewed by security');

  return finish(I, { page, ack, resolve, monitor: 'authz anomaly: non-admin restricted access', service: 'crm-app', number: 19517, oncall: 'oncall', ic: 'ic',
    notes: [[at('16:12:00'), 'DSC-8841 script granted modify_all_data to all profiles in MA orgs. Blocking logins, restoring profiles.']],
    channel: { id: 'C0LDWPERM1', name: 'inc-permissions-exposure' }, family: 'cross-repo-data', trigger: { repo: S, sha: bad, deployment_id: trig.id },
    metric: 'crm.authz.restricted_access.non_admin', scope: 'role:non_admin', onset, deployAt: dep, terms: ['DSC-8841', 'modify_all_data', 'profile', 'permission', 'script'] });
}
