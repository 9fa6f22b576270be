// A throwaway PostgreSQL server for tests: the distribution's binaries (Debian's postgresql package,
// or HINDSIGHT_PG_BIN), a fresh data directory on a free loopback port, trust authentication, and a
// fast shutdown at the end. Postgres refuses to run as root, so as root it runs as the `postgres`
// user (or `nobody`). Without binaries the suites that need it are skipped, unless
// HINDSIGHT_REQUIRE_POSTGRES=1 (CI), where a missing server is an error.
//
//   const pg = postgresAvailability();
//   describe.skipIf(!pg.available)('…', () => {
//     let server: PostgresServer;
//     beforeAll(async () => { server = await startPostgres(); });
//     afterAll(() => server?.stop());
//     it('…', async () => { const url = await server.createDatabase('t1'); … });
//   });
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** Connection URL of the server's `postgres` database. */
  url: string;
  port: number;
  /** Creates an empty database and returns its connection URL. */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown and removal of the data directory; safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server, keeping its data (clients see their connections dropped)... */
  halt(): Promise<void>;
  /** ...and starts it again on the same port. */
  resume(): Promise<void>;
}

export interface PostgresAvailability {
  available: boolean;
  binDir: string | null;
  /** Why the suite is skipped when not available. */
  reason: string;
}

function findBinDir(): string | null {
  const fromEnv = process.env.HINDSIGHT_PG_BIN;
  if (fromEnv) return existsSync(join(fromEnv, 'pg_ctl')) ? fromEnv : null;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(root, versions[0]!, 'bin');
  }
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return join(onPath.stdout.trim(), '..');
  return null;
}

export function postgresAvailability(): PostgresAvailability {
  const binDir = findBinDir();
  if (binDir) return { available: true, binDir, reason: '' };
  const reason = 'no PostgreSQL binaries (install Debian\'s postgresql package or set HINDSIGHT_PG_BIN): suites needing a server are skipped';
  if (process.env.HINDSIGHT_REQUIRE_POSTGRES === '1') throw new Error(`HINDSIGHT_REQUIRE_POSTGRES=1 but ${reason}`);
  console.warn(`[postgres helper] ${reason}`);
  return { available: false, binDir: null, reason };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The unprivileged account that runs the server when we are root. */
function serverUser(): { name: string; uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { name, uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root and no unprivileged user (postgres or nobody) to run PostgreSQL');
}

const running = new Set<() => void>();
process.once('exit', () => {
  for (const stop of running) stop();
});

/** Starts a fresh server; `settings` are extra `-c name=value` server settings. */
export async function startPostgres(settings: Record<string, string | number> = {}): Promise<PostgresServer> {
  const binDir = findBinDir();
  if (!binDir) throw new Error(postgresAvailability().reason);
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'hindsight-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const run = (bin: string, args: string[]) => {
    const cmd = user ? 'runuser' : join(binDir, bin);
    const argv = user ? ['-u', user.name, '--', join(binDir, bin), ...args] : args;
    // a clean environment: PG* variables of the caller must not redirect initdb/pg_ctl
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
    return execFileSync(cmd, argv, { env: { ...env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? String(err)}`);
  }
  const options = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: `'${dir}'`,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 200,
    ...settings,
  };
  let port = 0;
  const startOn = (p: number) => run('pg_ctl', ['start', '-w', '-t', '60', '-D', data, '-l', log, '-o', [`-p ${p}`, ...Object.entries(options).map(([k, v]) => `-c ${k}=${v}`)].join(' ')]);
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      startOn(port);
      break;
    } catch (err) {
      // another process may have taken the port between the probe and the start
      if (attempt >= 2) {
        const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`pg_ctl start failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? String(err)}\n${tail}`);
      }
    }
  }
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    running.delete(stopSync);
    try {
      run('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', data]);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  running.add(stopSync);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name}: lower-case letters, digits and _ only`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      stopSync();
    },
    async halt() {
      run('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', data]);
    },
    async resume() {
      startOn(port);
    },
  };
}
