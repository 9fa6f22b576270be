// After Cloudflare R2, 2025-03-21: during a routine rotation of the credentials the object-storage gateway
// uses to reach its storage backend, the new credentials were uploaded to the gateway's development
// environment instead of production (the upload command omitted the environment). The old credentials
// were then deleted from the backend; the production gateway, still presenting them, was refused on
// every write and most reads for an hour until the new credentials were uploaded to production.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'credential-rotation-wrong-env';
export const source = 'Cloudflare, "Cloudflare incident on March 21, 2025" (R2 write and read failures after a credential rotation; blog.cloudflare.com, 2025-03-25)';

export function build() {
  const I = new Incident({ seed: 20250321, company: 'Quarrybox', domain: 'quarrybox.io' });
  I.person('oncall', 'Fatima Zahra Benali', { login: 'fbenali', slack: 'fatima.benali', email: 'fatima.benali@quarrybox.io' });
  I.person('ic', 'Oskar Nyström', { login: 'onystrom' });
  I.person('sec', 'Daniela Costa', { login: 'dcosta' });
  I.person('gw', 'Liam Gallagher-Reid', { login: 'lgreid', slack: 'liam.reid', email: 'liam.reid@quarrybox.io' });
  I.person('ui', 'Mei Lin Tan', { login: 'mltan', slack: 'meilin.tan', email: 'meilin.tan@quarrybox.io' });
  const at = (t) => ms(`2025-03-21T${t}Z`);
  const from = at('18:00:00'), to = at('23:59:00');
  const put = at('19:55:12'), revoke = at('21:38:05'), onset = at('21:38:30'), page = at('21:41:50'), ack = at('21:42:40'), fix = at('22:36:20'), resolve = at('22:58:10');

  I.commit('quarrybox/objgate', { message: 'HeadObject: return x-amz-checksum-crc32 when stored', author: 'gw', at: ms('2025-03-18T14:00:00Z'), files: [{ filename: 'src/head.ts', patch: '@@ -40,1 +40,2 @@\n+  if (meta.crc32) res.setHeader("x-amz-checksum-crc32", meta.crc32);' }] });
  const prev = I.deploy('quarrybox/objgate', { env: 'production', ref: 'og-3300', description: 'objgate 3300', createdAt: ms('2025-03-19T10:00:00Z'), finishedAt: ms('2025-03-19T10:13:05Z'), creator: 'lgreid' });
  I.commit('quarrybox/objgate', { message: 'ListObjectsV2: honour start-after with continuation token', author: 'gw', at: at('15:00:00'), files: [{ filename: 'src/list.ts', patch: '@@ -61,2 +61,3 @@\n   const cursor = req.continuationToken ?? null;\n+  const after = cursor ? undefined : req.startAfter;' }] });
  I.deploy('quarrybox/objgate', { env: 'production', ref: 'og-3301', description: 'objgate 3301', createdAt: at('20:58:00'), finishedAt: at('21:10:44'), creator: 'lgreid' });
  I.commit('quarrybox/console', { message: 'Buckets page: show object lock status', author: 'ui', at: at('16:00:00'), files: [{ filename: 'app/buckets/BucketRow.tsx', patch: '@@ -22,1 +22,2 @@\n+      <LockBadge mode={b.objectLock} />' }] });
  I.deploy('quarrybox/console', { env: 'production', ref: 'console-912', description: 'console 912', createdAt: at('21:30:00'), finishedAt: at('21:38:19'), creator: 'mltan' });
  I.changeEvent({ at: put, summary: 'secrets: OBJSTORE_ACCESS_KEY_ID / OBJSTORE_SECRET rotated on worker objgate (env: default)', integration: 'edge-secrets-cli', services: ['objgate'], custom_details: { ticket: 'SEC-4410', worker: 'objgate', env: 'default', resolved_script: 'objgate-dev', new_key_id: 'AKQB7V2' } });
  const ce = I.changeEvent({ at: revoke, summary: 'storage-iam: access key AKQB6N1 deleted (rotation SEC-4410, step 3 of 3)', integration: 'storage-iam', services: ['blob-backend'], custom_details: { ticket: 'SEC-4410', key_id: 'AKQB6N1', principal: 'svc-objgate', from: 'active', to: 'deleted' } });
  I.deploy('quarrybox/objgate', { env: 'production', ref: 'og-3300', description: 'objgate rollback to 3300', createdAt: at('21:50:00'), finishedAt: at('21:56:30'), creator: 'lgreid', sha: prev.sha, commits: [] });
  I.changeEvent({ at: fix, summary: 'secrets: OBJSTORE_ACCESS_KEY_ID / OBJSTORE_SECRET set on worker objgate (env: production)', integration: 'edge-secrets-cli', services: ['objgate'], custom_details: { ticket: 'SEC-4410', worker: 'objgate', env: 'production', new_key_id: 'AKQB7V2' } });

  const bad = (t) => (t < onset ? 0 : t < fix ? 1 : Math.max(0, 1 - (t - fix) / (8 * MIN)));
  I.series({ metric: 'objgate.requests.5xx', expression: 'sum:objgate.requests.5xx{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'response', fn: (t) => I.noise(25, 0.4) + bad(t) * I.noise(184000, 0.05) });
  I.series({ metric: 'objgate.cache.hit_ratio', expression: 'avg:objgate.cache.hit_ratio{env:production}', scope: 'env:production', interval: 60, from, to, fn: () => I.noise(0.42, 0.05) });
  I.ddEvent({ at: at('21:10:44'), title: 'objgate 3301 deployed', source_type_name: 'deploy', tags: ['service:objgate'] });
  I.ddEvent({ at: at('21:38:19'), title: 'console 912 deployed', source_type_name: 'deploy', tags: ['service:console'] });

  const gw = ['objgate-ams', 'objgate-iad', 'objgate-sin'];
  I.logsBetween(onset, fix + 2 * MIN, 120, 'objgate', 'error', gw, () => I.pick([
    `PutObject ${I.hex(6)}/${I.hex(10)} -> 500: backend PUT /v1/blob denied: 403 InvalidAccessKeyId (key AKQB6N1 does not exist)`,
    `GetObject ${I.hex(6)}/${I.hex(10)} cache miss -> 500: backend GET denied: 403 InvalidAccessKeyId (key AKQB6N1 does not exist)`]));
  I.logsBetween(onset, fix, 30, 'storage-iam', 'warn', ['iam-1'], () => `auth rejected principal=unknown key=AKQB6N1 src=objgate-prod (${I.int(2000, 9000)}/s)`);
  I.logsBetween(put, to, 8, 'objgate-dev', 'info', ['objgate-dev-1'], () => `backend auth ok key=AKQB7V2 (dev traffic ${I.int(1, 4)} rps)`);
  I.logsBetween(from, to, 50, 'console', 'info', ['console-1'], () => `GET /buckets 200 ${I.int(30, 200)}ms`);
  I.log(put - 2000, 'edge-secrets-cli', 'info', 'ci-runner-4', `$ secrets put OBJSTORE_SECRET --worker objgate  (value ${I.secret('qbx5Ue8Rk2LhM0vZ3pWn7aTy9cF1dGs4')}) -> no --env given, using "default" (objgate-dev)`);

  I.say(at('21:43:00'), 'oncall', 'ack. objgate 5xx on nearly all writes and uncached reads, all regions');
  const th = I.say(at('21:43:40'), 'gw', 'og-3301 went out 21:10, ListObjects change. rolling back to 3300');
  I.say(at('21:45:00'), 'oncall', 'errors are PutObject and GetObject, not List, and 3301 ran 28 min clean', { thread: th });
  I.say(at('21:46:00'), 'ui', 'console 912 finished 21:38:19, right at the start. but console only reads bucket metadata');
  I.say(at('21:58:00'), 'gw', 'rollback to 3300 done 21:56, no change. backend is answering 403 InvalidAccessKeyId for AKQB6N1');
  I.say(at('22:20:00'), 'sec', 'AKQB6N1 is the old key; I deleted it 21:38:05 as step 3 of SEC-4410. step 1 put the new key AKQB7V2 at 19:55 but the CLI had no --env, so it went to "default" = objgate-dev. production never got the new key and kept using the one I deleted');
  I.say(at('22:24:00'), 'ic', 'IC. put the new key on objgate production. do not recreate AKQB6N1');
  I.say(at('22:38:00'), 'sec', 'new key set on production 22:36:20, 5xx falling');
  I.say(at('22:58:00'), 'ic', 'resolving. follow-ups: rotation tool verifies the new key is in use in production before deleting the old one; CLI requires --env; log key id on backend auth failure');

  return finish(I, { page, ack, resolve, monitor: 'objgate 5xx > 1% (production)', service: 'objgate', number: 25321, opsgenie: true, ogId: '9a7c55e0-1f3d-4b6e-a2c8-0d4e7b91f6a2', oncall: 'oncall', ic: 'ic',
    notes: [[at('22:25:00'), 'Old backend key AKQB6N1 deleted while production objgate still used it (new key went to dev env). Setting new key on production.']],
    channel: { id: 'C0QBXOBJ25', name: 'inc-objgate' }, family: 'credential-rotation', trigger: { kind: 'change_event', change_event_id: ce },
    metric: 'objgate.requests.5xx', scope: 'env:production', onset, terms: ['AKQB6N1', 'credential', 'rotation', 'InvalidAccessKeyId', 'SEC-4410'] });
}
