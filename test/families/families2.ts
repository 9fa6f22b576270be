// Families 7-11: migration, DNS/network/infra change, partial deploy or stale host, delayed onset,
// cascading failure from an upstream deploy.
import { addDecoys, before, culpritDeploy, type Outcome, revertDeploy } from './common.js';
import { codeFault, place, trace } from './faults.js';
import { hhmm, HOUR, iso, MIN, type Scene } from './scene.js';
import { camel, identifierParts, kebab, pascal, snake, TABLE_NOUNS } from './vocab.js';

export function migration(s: Scene): Outcome {
  const r = s.rng;
  const table = r.pick(TABLE_NOUNS);
  const col = snake(identifierParts(r, s.usedWords));
  const repo = r.chance(0.5) ? s.serviceRepo : `${s.org}/${r.pick(['db-migrations', 'schema', 'migrations', 'database'])}`;
  const kind = r.int(0, 2);
  const desc = ['add_' + col + '_to_' + table, 'index_' + table + '_on_' + col, 'drop_unused_index_' + table + '_' + col][kind]!;
  const ts = iso(s.t0 - r.int(1, 4) * 24 * HOUR).replace(/[-:T]/g, '').slice(0, 14);
  const file = r.pick([`db/migrate/${ts}_${desc}.rb`, `migrations/V${r.int(40, 400)}__${desc}.sql`, `migrations/${ts}_${desc}.up.sql`]);
  const sql = [
    `ALTER TABLE ${table} ADD COLUMN ${col} varchar(64) NOT NULL DEFAULT 'none';`,
    `CREATE INDEX idx_${table}_${col} ON ${table} (${col}, created_at);`,
    `DROP INDEX idx_${table}_${col};`,
  ][kind]!;
  const patch = `@@ -0,0 +1,${r.int(3, 6)} @@\n+-- ${desc.replace(/_/g, ' ')}\n+${sql}`;
  const { deploy, sha } = culpritDeploy(s, repo, { message: r.pick([`Migration: ${desc.replace(/_/g, ' ')}`, `db: ${desc}`]), files: [{ filename: file, patch }] }, before(s, 0.5, 8), { staged: r.chance(0.3) });
  const mysql = r.chance(0.4);
  const query = () => r.pick([`UPDATE ${table} SET status = $1 WHERE id = $2`, `INSERT INTO ${table} (id, account_id, status) VALUES ($1, $2, $3)`, `SELECT * FROM ${table} WHERE ${col} = $1`]);
  const error = () => {
    if (kind === 2) return r.pick([`canceling statement due to statement timeout\nSTATEMENT: SELECT id FROM ${table} WHERE ${col} = $1 ORDER BY created_at DESC LIMIT 50`, `slow query (${r.int(4000, 30000)} ms, seq scan on ${table}): SELECT * FROM ${table} WHERE ${col} = $1`]);
    return mysql ? `ERROR 1205 (HY000): Lock wait timeout exceeded; try restarting transaction (query: ${query()})` : `ERROR: canceling statement due to lock timeout\nSTATEMENT: ${query()}\nwaiting for AccessExclusiveLock on relation ${table}`;
  };
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), error);
  s.addSeries({ metric: mysql ? 'mysql.innodb.row_lock_waits' : 'postgresql.locks', scope: `db:${s.org}-main,env:prod`, interval: 60, value: (ms) => (ms >= s.t0 && ms < s.recoveryMs ? r.int(80, 300) : r.int(0, 4)) });
  if (r.chance(0.6)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`every failing query touches ${table}`, `the ${desc} migration ran at ${hhmm(deploy.finishedMs)}, it is holding a lock on ${table}`]));
  s.say(s.recoveryMs - r.int(30, 120) * 1000, s.responder(), kind === 2 ? `recreated idx_${table}_${col} concurrently` : `cancelled the migration backend, locks on ${table} released`);
  addDecoys(s, r.int(1, 4), deploy.finishedMs);
  return { trigger: { repo, sha, deployment_id: deploy.id }, terms: [table, kind === 2 ? 'index' : 'lock'], timelineDeploys: [deploy.finishedMs] };
}

export function infraChange(s: Scene): Outcome {
  const r = s.rng;
  const repo = `${s.org}/${r.pick(['infra', 'terraform', 'dns-zones', 'network', 'k8s-manifests', 'platform-infra'])}`;
  const env = r.pick(['production', 'prod', 'us-east-1', 'eu-west-1', 'global', 'all', 'live']);
  const dep = r.pick(['ledger-db', 'session-cache', 'events-bus', 'search-cluster', 'rates-api', 'media-store', 'queue']);
  let file: string;
  let patch: string;
  let message: string;
  let error: () => string;
  let term: string;
  if (r.chance(0.5)) {
    const host = `${dep}.${r.pick(['internal.', 'svc.', ''])}${s.domain}`;
    const sub = host.slice(0, host.length - s.domain.length - 1);
    const oldT = `${dep}-lb-${r.hex(8)}.elb.amazonaws.com.`;
    const newT = `${dep}-lb-${r.hex(8)}.elb.amazonaws.com.`;
    file = r.pick([`zones/${s.domain}.zone`, 'dns/records.tf', `dns/${s.domain}.yaml`]);
    patch = `@@ -31,3 +31,3 @@\n-${sub} 300 IN CNAME ${oldT}\n+${sub} 300 IN CNAME ${newT}`;
    message = r.pick([`dns: point ${sub} at the new load balancer`, 'Move records to the new LB', `Cut over ${dep} DNS`]);
    error = () => ({
      ts: `Error: getaddrinfo ENOTFOUND ${host}`,
      py: `socket.gaierror: [Errno -2] Name or service not known: '${host}'`,
      go: `dial tcp: lookup ${host} on 10.0.0.2:53: no such host`,
      java: `java.net.UnknownHostException: ${host}: Name or service not known`,
    })[s.lang];
    term = host;
  } else if (r.chance(0.35)) {
    return gitopsPrune(s, repo, env, dep);
  } else {
    const port = r.pick([5432, 6379, 9092, 27017, 3306, 11211, 9200]);
    const ip = `10.${r.int(0, 40)}.${r.int(0, 255)}.${r.int(2, 254)}`;
    file = r.pick([`modules/${dep}/security_groups.tf`, `network/${s.prodEnv}/sg.tf`, 'firewall/rules.tf']);
    patch = `@@ -14,12 +14,6 @@\n   ingress {\n     description = "https"\n     from_port   = 443\n   }\n-  ingress {\n-    description = "${dep} from app subnets"\n-    from_port   = ${port}\n-    to_port     = ${port}\n-    cidr_blocks = ["10.0.0.0/8"]\n-  }`;
    message = r.pick(['Tighten security groups: remove unused ingress', `network: clean up ${dep} rules`, 'Security review follow-up: drop broad CIDRs']);
    error = () => ({
      ts: `Error: connect ETIMEDOUT ${ip}:${port} (${dep}.internal:${port})`,
      py: `TimeoutError: [Errno 110] Connection timed out connecting to ${dep}.internal:${port} (${ip})`,
      go: `dial tcp ${ip}:${port}: i/o timeout (${dep}.internal:${port})`,
      java: `java.net.SocketTimeoutException: connect timed out to ${dep}.internal/${ip}:${port}`,
    })[s.lang];
    term = String(port);
  }
  const { deploy, sha } = culpritDeploy(s, repo, { message, files: [{ filename: file, patch }] }, before(s, 1, 15), { env, staged: false });
  s.touchRepo(s.serviceRepo);
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), error);
  if (r.chance(0.5)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`${s.service} can't reach ${dep} at all`, `${repo.split('/')[1]} applied a change at ${hhmm(deploy.finishedMs)}, touching ${dep}`]));
  if (r.chance(0.6)) revertDeploy(s, deploy, { message: `Revert "${message}"`, files: [{ filename: file, patch: patch.split('\n').map((l) => (l.startsWith('+') ? '-' + l.slice(1) : l.startsWith('-') ? '+' + l.slice(1) : l)).join('\n') }] });
  addDecoys(s, r.int(1, 4), deploy.finishedMs);
  return { trigger: { repo, sha, deployment_id: deploy.id }, terms: [term, dep], timelineDeploys: [deploy.finishedMs] };
}

/**
 * A GitOps template change that drops a path variable: the sync renders nothing and prunes what
 * it no longer sees. The only link is the sync's own log lines, naming the release and the new path.
 */
function gitopsPrune(s: Scene, repo: string, env: string, dep: string): Outcome {
  const r = s.rng;
  const variable = r.pick(['Region', 'Cluster', 'Env', 'Cell']);
  const base = r.pick(['regions', 'clusters', 'fleet', 'overlays']);
  const leaf = r.pick(['services', 'apps', 'workloads']);
  const newPath = `${base}/${leaf}`;
  const file = `root/${r.pick(['apps', 'services', 'workloads'])}.yaml.tmpl`;
  const patch = `@@ -14,7 +14,7 @@ spec:\n   source:\n-    path: ${base}/{{ .${variable} }}/${leaf}\n+    path: ${newPath}\n   syncPolicy:\n     automated:\n       prune: true`;
  const message = r.pick(['Templates: tidy root app path', `root apps: ${variable.toLowerCase()} comes from the overlay`, 'Simplify root application source path']);
  const { deploy, sha } = culpritDeploy(s, repo, { message, files: [{ filename: file, patch }] }, before(s, 1, 12), { env, staged: false });
  s.touchRepo(s.serviceRepo);
  const tool = r.pick(['argocd-application-controller', 'flux-kustomize-controller', 'fleet-agent']);
  const rev = deploy.ref === 'main' ? deploy.sha.slice(0, 7) : deploy.ref;
  const app = r.pick(['root-services', 'root', 'apps-of-apps']);
  const victims = [dep, s.otherService().name, s.otherService().name, r.pick(['geo-lookup', 'carts-api', 'promo-engine', 'fx-rates'])];
  s.log(deploy.finishedMs + r.int(5, 40) * 1000, 'info', `app=${app} rev=${rev} path=${newPath}: 0 resources rendered`, { service: tool });
  for (let ms = deploy.finishedMs + r.int(20, 60) * 1000, i = 0; ms < s.t0 + 20 * 60_000; ms += r.int(30, 200) * 1000, i++) {
    const kind = r.pick(['Namespace', 'Deployment', 'Service']);
    s.log(ms, 'info', `app=${app} rev=${rev} path=${newPath}: ${r.pick(['pruning', 'deleted', 'deleting'])} ${kind}/${victims[i % victims.length]} (not in rendered manifests)`, { service: tool });
  }
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => `503 upstream ${dep}: no healthy endpoints (service not found)`);
  if (r.chance(0.5)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`${dep} is gone from the cluster, not failing`, `the sync is pruning namespaces under ${newPath}`]));
  if (r.chance(0.6)) revertDeploy(s, deploy, { message: `Revert "${message}"`, files: [{ filename: file, patch: patch.replace(`-    path: ${base}/{{ .${variable} }}/${leaf}\n+    path: ${newPath}`, `-    path: ${newPath}\n+    path: ${base}/{{ .${variable} }}/${leaf}`) }] });
  addDecoys(s, r.int(1, 4), deploy.finishedMs);
  return { trigger: { repo, sha, deployment_id: deploy.id }, terms: [newPath, 'prune', dep], timelineDeploys: [deploy.finishedMs] };
}

export function partialDeploy(s: Scene): Outcome {
  const r = s.rng;
  s.customErrorSeries = true;
  const hosts = s.hosts;
  let failing: string[];
  let out: Outcome;
  if (r.chance(0.5)) {
    failing = r.sample(hosts, r.int(1, Math.max(1, hosts.length - 2)));
    const f = codeFault(s);
    const { deploy, sha } = culpritDeploy(s, s.serviceRepo, f.commit, before(s, 1, 15), {
      description: `wave 1 of 3: ${failing.join(', ')}`, payload: { hosts: failing, strategy: 'rolling-waves' }, staged: false,
    });
    s.errors(s.t0, s.recoveryMs, r.int(3, 8), f.error, { hosts: failing });
    if (r.chance(0.6)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), `only ${failing.join(' and ')} are throwing, those are the hosts in wave 1 of ${deploy.ref}`);
    revertDeploy(s, deploy, null);
    out = { trigger: { repo: deploy.repo, sha, deployment_id: deploy.id }, terms: f.terms, timelineDeploys: [deploy.finishedMs] };
  } else {
    const stale = r.pick(hosts);
    failing = [stale];
    const table = r.pick(TABLE_NOUNS);
    const oldCol = snake(identifierParts(r, s.usedWords));
    const newCol = `${oldCol}_v2`;
    const pl = place(s, [table.replace(/_/g, ''), 'repository']);
    const commit = {
      message: `Rename ${table}.${oldCol} to ${newCol}`,
      files: [
        { filename: `migrations/V${r.int(40, 400)}__rename_${oldCol}.sql`, patch: `@@ -0,0 +1,2 @@\n+ALTER TABLE ${table} RENAME COLUMN ${oldCol} TO ${newCol};` },
        { filename: pl.file, patch: `@@ -20,3 +20,3 @@\n-  SELECT id, ${oldCol} FROM ${table} WHERE id = $1\n+  SELECT id, ${newCol} FROM ${table} WHERE id = $1` },
      ],
    };
    const { deploy, sha } = culpritDeploy(s, s.serviceRepo, commit, before(s, 1, 15), { description: `rolled out to ${hosts.length - 1}/${hosts.length} hosts; ${stale} skipped (unreachable)`, staged: false });
    s.log(deploy.finishedMs - r.int(20, 60) * 1000, 'warn', `deploy agent: ${stale} did not receive ${deploy.ref}, still running the previous release`, { host: stale, service: 'deploy-agent' });
    s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => trace(s, `ERROR: column "${oldCol}" of relation "${table}" does not exist`, [pl.frame(r.int(20, 30))]), { hosts: failing });
    if (r.chance(0.6)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), `all errors come from ${stale}; it never got ${deploy.ref} but the rename migration ran`);
    s.say(s.recoveryMs - r.int(20, 90) * 1000, s.responder(), `drained ${stale} from the load balancer`);
    out = { trigger: { repo: deploy.repo, sha, deployment_id: deploy.id }, terms: [oldCol, table, stale], timelineDeploys: [deploy.finishedMs] };
  }
  const lvl = s.level;
  for (const h of hosts) {
    const bad = failing.includes(h);
    s.addSeries({ metric: s.errorMetric.metric, scope: `host:${h},service:${s.service}`, interval: s.interval, value: (ms) => (bad && ms >= s.t0 && ms < s.recoveryMs ? Math.round((lvl / failing.length) * (1 + 0.25 * r.jitter())) : r.chance(0.8) ? 0 : 1) });
  }
  addDecoys(s, r.int(1, 3), (out.timelineDeploys ?? [s.t0 - 10 * MIN])[0]!);
  out.onset = { metric: s.errorMetric.metric, scope: `host:${failing[0]},service:${s.service}` };
  return out;
}

export function delayedOnset(s: Scene): Outcome {
  const r = s.rng;
  const parts = identifierParts(r, s.usedWords);
  s.usedWords.add(parts.join(' '));
  const finished = s.t0 - r.int(60, 360) * MIN - r.int(0, 59) * 1000;
  s.windowStart = Math.min(s.windowStart, finished - HOUR);
  const leak = r.chance(0.55);
  let out: Outcome;
  if (leak) {
    const cache = `${camel(parts)}Cache`;
    const pl = place(s, parts);
    const commit = { message: r.pick([`Cache ${parts.join(' ')} lookups per tenant`, `Memoize ${parts.join(' ')} resolution`]), files: [{ filename: pl.file, patch: `@@ -1,3 +1,14 @@\n+const ${cache} = new Map();\n+export function ${pl.fn}(tenantId, key) {\n+  const k = tenantId + ':' + key;\n+  if (!${cache}.has(k)) ${cache}.set(k, load(k));\n+  return ${cache}.get(k);\n+}` }] };
    const { deploy, sha } = culpritDeploy(s, s.serviceRepo, commit, finished);
    const limit = r.pick([1, 2, 4]) * 1024 ** 3;
    const base = limit * (0.3 + 0.1 * r.next());
    const mem = r.pick(['kubernetes.memory.usage', 'container.memory.usage', 'jvm.heap_memory', 'process.runtime.heap.used']);
    const slope = (limit - base) / (s.t0 - deploy.finishedMs);
    s.addSeries({
      metric: mem, scope: `kube_deployment:${s.service}`, interval: 60,
      value: (ms) => {
        if (ms < deploy.finishedMs || ms >= s.recoveryMs) return Math.round(base * (1 + 0.02 * r.jitter()));
        if (ms < s.t0) return Math.round(base + slope * (ms - deploy.finishedMs));
        return Math.round(base + (limit - base) * (0.6 + 0.4 * ((ms - s.t0) % (6 * MIN)) / (6 * MIN)));
      },
    });
    s.addSeries({ metric: 'kubernetes_state.container.restarts', scope: `kube_deployment:${s.service}`, interval: 60, value: (ms) => (ms >= s.t0 && ms < s.recoveryMs ? r.int(1, 4) : 0) });
    const oom = { ts: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory', py: 'MemoryError', go: 'fatal error: runtime: out of memory', java: 'java.lang.OutOfMemoryError: Java heap space' }[s.lang];
    s.errors(s.t0, s.recoveryMs, r.int(3, 8), (i) => (i % 3 === 0 ? `${oom} (container restarted, OOMKilled)` : `502 upstream ${s.service} closed the connection`));
    if (r.chance(0.7)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`memory has climbed linearly since ${hhmm(deploy.finishedMs)}, right after ${deploy.ref}`, `heap dump: most of the heap is retained by ${cache}`]));
    out = { trigger: { repo: deploy.repo, sha, deployment_id: deploy.id }, terms: [cache, 'memory'], timelineDeploys: [deploy.finishedMs] };
    if (r.chance(0.6)) revertDeploy(s, deploy, null);
  } else {
    const job = kebab([...parts, r.pick(['rebuild', 'backfill', 'reconcile', 'sync'])]);
    const table = r.pick(TABLE_NOUNS);
    const fire = new Date(s.t0);
    const schedule = `${fire.getUTCMinutes()} ${fire.getUTCHours()} * * *`;
    const file = r.pick(['deploy/cronjobs.yaml', 'config/schedule.yml', 'k8s/cron.yaml']);
    const commit = { message: r.pick([`Schedule nightly ${job}`, `Add ${job} job`]), files: [{ filename: file, patch: `@@ -10,3 +10,8 @@\n+- name: ${job}\n+  schedule: "${schedule}"\n+  command: ["bin/${job}", "--table", "${table}", "--full"]` }] };
    const { deploy, sha } = culpritDeploy(s, s.serviceRepo, commit, finished);
    s.log(s.t0 - r.int(1, 20) * 1000, 'info', `${job}: starting full pass over ${table}`, { service: `${s.service}-cron` });
    s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => r.pick([`canceling statement due to statement timeout\nSTATEMENT: SELECT * FROM ${table} WHERE account_id = $1`, `timed out acquiring a database connection while ${job} holds ${r.int(40, 90)} connections`]));
    if (r.chance(0.7)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`the new ${job} cron fired at ${hhmm(s.t0)} and is scanning ${table}`, `db connections are all held by ${job}`]));
    s.say(s.recoveryMs - r.int(20, 90) * 1000, s.responder(), `killed the ${job} run and suspended the cronjob`);
    out = { trigger: { repo: deploy.repo, sha, deployment_id: deploy.id }, terms: [job, table], timelineDeploys: [deploy.finishedMs] };
  }
  addDecoys(s, r.int(2, 4), s.t0 - r.int(10, 40) * MIN);
  return out;
}

export function cascade(s: Scene): Outcome {
  const r = s.rng;
  const up = s.otherService();
  const upRes = `/v1/${kebab([r.pick(['rates', 'profiles', 'quotes', 'availability', 'tokens', 'eligibility'])])}`;
  const kind = r.int(0, 2);
  let commit;
  let error: () => string;
  let term: string;
  let upstreamLog: ((i: number) => string) | null = null;
  if (kind === 0) {
    commit = { message: `Remove deprecated ${upRes} endpoint`, files: [{ filename: `src/routes/${upRes.split('/').pop()}.ts`, status: 'removed', patch: `@@ -1,12 +0,0 @@\n-router.get('${upRes}', async (req, res) => {\n-  res.json(await legacyLookup(req.query));\n-});` }] };
    error = () => r.pick([`GET http://${up.name}.internal${upRes} returned 404 Not Found`, `${pascal(up.name.split('-'))}ClientError: 404 from ${up.name} ${upRes}`]);
    term = upRes;
  } else if (kind === 1) {
    const f = codeFault(s);
    commit = f.commit;
    upstreamLog = f.error;
    error = () => r.pick([`upstream ${up.name} responded 500 on POST ${upRes}`, `call to ${up.name}${upRes} failed: 500 Internal Server Error`]);
    term = up.name;
  } else {
    const field = snake(identifierParts(r, s.usedWords));
    commit = { message: `Rename ${field} in ${upRes} responses`, files: [{ filename: `api/schema/${upRes.split('/').pop()}.json`, patch: `@@ -8,3 +8,3 @@\n-    "${field}": { "type": "string" },\n+    "${field}_id": { "type": "string" },` }] };
    error = () => `failed to decode ${up.name} response from ${upRes}: missing required field "${field}"`;
    term = field;
  }
  const { deploy, sha } = culpritDeploy(s, up.repo, commit, before(s, 1, 15), { staged: r.chance(0.3) });
  s.touchRepo(s.serviceRepo);
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), error);
  if (upstreamLog && r.chance(0.6)) s.errors(s.t0, s.recoveryMs, r.int(1, 3), upstreamLog, { service: up.name });
  if (r.chance(0.6)) s.say(s.ackMs + r.int(120, 600) * 1000, s.responder(), r.pick([`all our errors are calls to ${up.name}`, `${up.name} shipped ${deploy.ref} at ${hhmm(deploy.finishedMs)}, asking them to roll back`]));
  if (r.chance(0.7)) revertDeploy(s, deploy, null);
  addDecoys(s, r.int(2, 4), deploy.finishedMs);
  return { trigger: { repo: up.repo, sha, deployment_id: deploy.id }, terms: [term, up.name], timelineDeploys: [deploy.finishedMs] };
}
