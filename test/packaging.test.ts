// The package as a user gets it from the registry: `npm pack` of the dist/ that `npm test` has just
// built (packed with --ignore-scripts: prepack would rebuild the dist/ other tests are running),
// installed from the tarball into a fresh project, and run from an unrelated directory.
//
// The fresh project installs with `npm ci` from a lockfile holding the tarball plus the
// production entries of this repository's package-lock.json (devDependencies left out, so a
// runtime import of a dev-only package fails here), read from the npm cache that installing this
// repository filled (the registry is asked only for what the cache lacks).
// `--ignore-scripts` skips better-sqlite3's two-minute source build; its compiled addon is copied
// from this repository instead, which is the only file the test puts there itself.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_PATH } from '../src/server/http.js';
import { INCIDENT_ID, TIMEOUT_COMMIT_SHA, makeBundle } from './helpers/bundles.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const INSTALL_TIMEOUT_MS = 240_000;

interface LockEntry {
  name?: string;
  version: string;
  dev?: boolean;
  [key: string]: unknown;
}

let tmp: string;
let tarball: string;
let packedFiles: string[];
let project: string;
let elsewhere: string;
let bin: string;
let env: NodeJS.ProcessEnv;

// npm run by `npm test` exports npm_config_* settings meant for this repository, not the fresh project.
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) out[k] = v;
  return { ...out, ...extra };
}

function run(cmd: string, args: string[], cwd: string, timeout = 60_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
}

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}${r.error ? ` (${r.error.message})` : ''}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function writeProject(dir: string, tgz: string): void {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const spec = `file:${tgz}`;
  const packages: Record<string, unknown> = {
    '': { name: 'fresh-project', version: '1.0.0', dependencies: { [PKG.name]: spec } },
    [`node_modules/${PKG.name}`]: {
      version: PKG.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`,
      license: PKG.license,
      dependencies: PKG.dependencies,
      bin: PKG.bin,
      engines: PKG.engines,
    },
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || entry.dev) continue;
    const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const base = name.slice(name.indexOf('/') + 1);
    // This repository's lockfile omits registry URLs; without one npm would fetch every packument.
    packages[key] = { resolved: `https://registry.npmjs.org/${name}/-/${base}-${entry.version}.tgz`, ...entry };
  }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'fresh-project', version: '1.0.0', private: true, dependencies: { [PKG.name]: spec } }),
  );
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'fresh-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages }),
  );
}

describe('the package from the registry tarball', () => {
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'hindsight-pack-'));
    project = join(tmp, 'project');
    elsewhere = join(tmp, 'elsewhere');
    mkdirSync(project);
    mkdirSync(elsewhere);
    env = cleanEnv({ HINDSIGHT_HOME: join(tmp, 'home'), NO_UPDATE_NOTIFIER: '1' });

    const packed = JSON.parse(
      ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT)),
    ) as { filename: string; files: { path: string }[] }[];
    tarball = join(tmp, packed[0]!.filename);
    packedFiles = packed[0]!.files.map((f) => f.path);

    writeProject(project, tarball);
    ok(run('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], project, INSTALL_TIMEOUT_MS));
    const addon = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    mkdirSync(dirname(join(project, addon)), { recursive: true });
    copyFileSync(join(ROOT, addon), join(project, addon));
    bin = join(project, 'node_modules', '.bin', 'hindsight');
  }, INSTALL_TIMEOUT_MS + 60_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('the packed tarball', () => {
    it('builds before packing', () => {
      expect(PKG.scripts.prepack).toMatch(/\bnpm run build\b/);
    });

    it('holds the CLI, its prompts, the sample incident and the licences', () => {
      expect(packedFiles).toEqual(
        expect.arrayContaining([
          'package.json',
          'README.md',
          'dist/cli.js',
          'examples/sample-incident/bundle.json',
          'prompts/five-whys.md',
          'prompts/agent/system.md',
          'third_party/gitleaks/LICENSE',
        ]),
      );
    });

    it('ships nothing test-only and no sources', () => {
      const unwanted = packedFiles.filter(
        (p) => /^(src|test|scripts|bench-data|coverage|node_modules)\//.test(p) || /\.test\.|\.ts$/.test(p),
      );
      expect(unwanted).toEqual([]);
    });
  });

  describe('the installed CLI, run from another directory', () => {
    it('is linked as a bin and reports the package version', () => {
      expect(run(bin, ['--version'], elsewhere).stdout.trim()).toBe(PKG.version);
      expect(ok(run('npx', ['--offline', '--no-install', 'hindsight', '--version'], project)).trim()).toBe(PKG.version);
    });

    it('runs the demo on the sample incident shipped in the package', () => {
      const r = run(bin, ['demo'], elsewhere);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const report = JSON.parse(readFileSync(join(elsewhere, 'hindsight-demo', 'postmortem.json'), 'utf8'));
      const expected = JSON.parse(readFileSync(join(ROOT, 'examples', 'sample-incident', 'expected.json'), 'utf8'));
      expect(report.trigger.sha).toBe(expected.trigger.sha);
      expect(readFileSync(join(elsewhere, 'hindsight-demo', 'postmortem.html'), 'utf8')).toContain('<svg');
      // rendered by @resvg/resvg-js's native package, installed as a dependency of the tarball
      expect(readFileSync(join(elsewhere, 'hindsight-demo', 'chart.png')).subarray(1, 4).toString()).toBe('PNG');
    });

    it('writes a JSON post-mortem of a bundle given by a relative path', () => {
      writeFileSync(join(elsewhere, 'incident.json'), JSON.stringify(makeBundle()));
      const r = run(bin, ['postmortem', '--bundle', 'incident.json', '--format', 'json', '--no-store'], elsewhere);
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.report_version).toBe(1);
      expect(report.trigger.sha).toBe(TIMEOUT_COMMIT_SHA);
    });

    it('rejects a bad bundle with one line naming the JSON path', () => {
      writeFileSync(join(elsewhere, 'bad.json'), JSON.stringify({ bundle_version: 1, incident: { id: 'X' } }));
      const r = run(bin, ['postmortem', '--bundle', 'bad.json'], elsewhere);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('incident.created_at');
    });

    it('serves its MCP prompts over stdio', async () => {
      const client = new Client({ name: 'packaging-test', version: '1.0.0' });
      const transport = new StdioClientTransport({
        command: bin,
        args: ['serve'],
        cwd: elsewhere,
        env: env as Record<string, string>,
        stderr: 'pipe',
      });
      await client.connect(transport);
      try {
        const { prompts } = await client.listPrompts();
        expect(prompts.map((p) => p.name).sort()).toEqual(
          ['action_items', 'five_whys', 'review_summary', 'timeline_reconstruction'],
        );
        const prompt = await client.getPrompt({ name: 'five_whys', arguments: { incident_id: 'P1' } });
        const text = prompt.messages.map((m) => (m.content.type === 'text' ? m.content.text : '')).join('\n');
        expect(text).toContain('five-whys analysis for incident P1');
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toContain('draft_postmortem');
        // bundle loading runs in the server's worker threads, a separate script in the package
        writeFileSync(join(elsewhere, 'served.json'), JSON.stringify(makeBundle()));
        const loaded = await client.callTool({
          name: 'get_incident_context',
          arguments: { bundle_path: join(elsewhere, 'served.json') },
        });
        expect(loaded.isError).not.toBe(true);
        expect((loaded.structuredContent as { incident_id?: string } | undefined)?.incident_id).toBe(INCIDENT_ID);
      } finally {
        await client.close();
      }
    });
  });
});

describe('the client configurations in the README and docs/clients.md', () => {
  interface ServerEntry {
    type?: string;
    command?: string;
    args?: string[];
    url?: string;
    headers?: Record<string, string>;
  }
  const configs = ['README.md', 'docs/clients.md'].flatMap((doc) =>
    [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/```json\n([\s\S]*?)```/g)]
      .map((m) => JSON.parse(m[1]!) as { mcpServers?: Record<string, ServerEntry>; servers?: Record<string, ServerEntry>; inputs?: { id: string }[] })
      .filter((c) => c.mcpServers || c.servers),
  );

  it('start this package\'s MCP server or reach its HTTP endpoint with a token that is not written in them', () => {
    expect(configs.length).toBeGreaterThanOrEqual(5);
    // `npx -y NAME` installs the package NAME and runs its bin of the same name
    expect(Object.keys(PKG.bin)).toContain(PKG.name);
    for (const config of configs) {
      for (const entry of Object.values(config.mcpServers ?? config.servers ?? {})) {
        if (entry.command) {
          expect(entry.command).toBe('npx');
          expect(entry.args).toEqual(['-y', PKG.name, 'serve']);
        } else {
          expect(new URL(entry.url!).pathname).toBe(MCP_PATH);
          expect(entry.headers?.Authorization).toMatch(/^Bearer \$\{[\w:-]+\}$/);
        }
        if (config.servers) expect(['stdio', 'http']).toContain(entry.type);
      }
      const inputs = new Set((config.inputs ?? []).map((i) => i.id));
      const used = [...JSON.stringify(config).matchAll(/\$\{input:([\w-]+)\}/g)].map((m) => m[1]);
      expect(used.filter((id) => !inputs.has(id!))).toEqual([]);
    }
  });
});

// Docker is not run here (no daemon on the test machines): these check what can go wrong in the
// Dockerfile without building it, and run the image's own command and health check on this checkout.
describe('the Dockerfile', () => {
  interface Instruction {
    op: string;
    args: string;
  }
  const instructions: Instruction[] = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^(\w+)\s+(.*)$/.exec(line)!;
      return { op: m[1]!.toUpperCase(), args: m[2]! };
    });
  const stages: { name: string | undefined; body: Instruction[] }[] = [];
  for (const i of instructions) {
    if (i.op === 'FROM') stages.push({ name: /\bAS\s+(\S+)/i.exec(i.args)?.[1], body: [] });
    stages.at(-1)?.body.push(i);
  }
  const runtime = stages.at(-1)!.body;
  const only = (op: string) => runtime.filter((i) => i.op === op);
  const copies = (stage: Instruction[]) =>
    stage
      .filter((i) => i.op === 'COPY')
      .map((i) => {
        const words = i.args.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
      });
  const ignoreRules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  // .dockerignore semantics for the two forms the file uses: `**` and literal paths (a rule on a
  // directory covers everything under it); the last matching rule wins.
  function sentToBuild(path: string): boolean {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let sent = true;
    for (const rule of ignoreRules) {
      const pattern = rule.replace(/^!/, '').replace(/\/$/, '');
      if (pattern === '**' || prefixes.includes(pattern)) sent = rule.startsWith('!');
    }
    return sent;
  }

  it('runs the HTTP server as a non-root user on node:20 slim', () => {
    expect(runtime[0]!.args).toMatch(/^node:20[\w.-]*-slim\b/);
    const user = only('USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(only('ENV').map((i) => i.args).join(' ')).toMatch(/\bHINDSIGHT_HTTP_HOST=0\.0\.0\.0\b/);
    const cmd = JSON.parse(only('CMD').at(-1)!.args) as string[];
    expect(cmd.slice(0, 4)).toEqual(['node', 'dist/cli.js', 'serve', '--http']);
    expect(only('EXPOSE').flatMap((i) => i.args.split(/\s+/))).toContain(cmd[4]);
  });

  it('installs production dependencies only into the runtime image', () => {
    const copiedFrom = copies(runtime).find((c) => c.dest.replace(/\/$/, '') === 'node_modules')?.from;
    const deps = copiedFrom ? stages.find((s) => s.name === copiedFrom)?.body : runtime;
    expect(deps).toBeDefined();
    const installs = deps!.filter((i) => i.op === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args)).map((i) => i.args);
    expect(installs).toEqual([expect.stringMatching(/^npm ci --omit=dev\b/)]);
  });

  it('copies only files that exist and that .dockerignore sends to the build', () => {
    expect(ignoreRules.every((r) => r === '**' || /^!?[\w./-]+$/.test(r))).toBe(true);
    const sources = copies(instructions).filter((c) => !c.from).flatMap((c) => c.sources);
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((s) => !existsSync(join(ROOT, s)))).toEqual([]);
    expect(sources.filter((s) => !sentToBuild(s))).toEqual([]);
    expect(['node_modules', 'dist', 'test', '.git', 'bench-data'].filter(sentToBuild)).toEqual([]);
  });

  it('puts everything the npm package ships to run into the runtime image', () => {
    const files = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
    // `COPY a b/` and `COPY a .` land at b/a and ./a; WORKDIR is the package root
    const destinations = copies(runtime).flatMap((c) =>
      c.sources.map((src) => (/(^\.|\/)$/.test(c.dest) ? posix.join(c.dest, posix.basename(src)) : posix.normalize(c.dest))),
    );
    expect(files.filter((f) => f !== 'docs' && !destinations.includes(f))).toEqual([]);
    expect(destinations).toContain('package.json');
  });

  it('its command answers its health check, which fails once the server is gone', async () => {
    const cmd = JSON.parse(only('CMD').at(-1)!.args) as string[];
    const check = JSON.parse(only('HEALTHCHECK').at(-1)!.args.replace(/^.*?\bCMD\s+/, '')) as string[];
    const port = await freePort();
    const imageEnv = Object.fromEntries(
      only('ENV')
        .flatMap((i) => i.args.split(/\s+/))
        .map((kv) => kv.split('=') as [string, string]),
    );
    const home = mkdtempSync(join(tmpdir(), 'hindsight-docker-'));
    const serverEnv = {
      ...process.env,
      ...imageEnv,
      HINDSIGHT_HOME: home,
      HINDSIGHT_HTTP_HOST: '127.0.0.1',
      HINDSIGHT_HTTP_TOKEN: 'packaging-test-token-0123456789',
    };
    const withPort = (args: string[]) => args.map((a) => a.replaceAll(cmd[4]!, String(port)));
    const server = spawn(cmd[0]!, withPort(cmd.slice(1)), { cwd: ROOT, env: serverEnv, stdio: 'ignore' });
    const exited = new Promise((done) => server.once('exit', done));
    const healthy = () => spawnSync(check[0]!, withPort(check.slice(1)), { env: serverEnv, timeout: 10_000 }).status === 0;
    try {
      let up = false;
      for (let attempt = 0; attempt < 100 && !up && server.exitCode === null; attempt++) {
        up = healthy();
        if (!up) await new Promise((r) => setTimeout(r, 200));
      }
      expect(up).toBe(true);
    } finally {
      server.kill('SIGTERM');
      await exited;
      rmSync(home, { recursive: true, force: true });
    }
    expect(healthy()).toBe(false);
  });
});

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createNetServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => done(port));
    });
  });
}
