// The package as a user gets it from the registry: `npm pack` of the dist/ that `npm test` has just
// built, installed from the tarball into a fresh project, and run from an unrelated directory.
//
// The fresh project installs with `npm ci` from a lockfile holding the tarball plus the
// production entries of this repository's package-lock.json (devDependencies left out, so a
// runtime import of a dev-only package fails here), fetched through the npm cache.
// `--ignore-scripts` skips better-sqlite3's two-minute source build; its compiled addon is copied
// from this repository instead, which is the only file the test puts there itself.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMEOUT_COMMIT_SHA, makeBundle } from './helpers/bundles.js';

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
    } finally {
      await client.close();
    }
  });
});
