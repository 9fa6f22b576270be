// The server stays responsive while a large bundle loads (the load runs on a worker thread):
// pings sent during the load are answered before it finishes, progress is reported to a client
// that asked for it, and a cancelled load stores nothing. Timing targets live in
// scripts/bench-mcp.mjs; here only the order of events is asserted.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');

/** The sample incident padded with ordinary log lines to about `megabytes` MB, under a new id. */
function largeBundle(dir: string, id: string, megabytes: number): string {
  const bundle = JSON.parse(readFileSync(join(root, 'examples', 'sample-incident', 'bundle.json'), 'utf8'));
  bundle.incident.id = id;
  const logs = bundle.sources.logs as Array<Record<string, string>>;
  const template = logs[0]!;
  const start = Date.parse(template.timestamp!);
  const padded: Array<Record<string, string>> = [];
  const perLine = JSON.stringify(template).length + 2;
  for (let i = 0; padded.length * perLine < megabytes * 1_000_000; i++) {
    padded.push({ ...template, timestamp: new Date(start + i).toISOString(), message: `GET /v2/stock/item-${i % 9973} 200 in ${i % 50}ms` });
  }
  bundle.sources.logs = [...logs, ...padded];
  const path = join(dir, `${id}.json`);
  writeFileSync(path, JSON.stringify(bundle));
  return path;
}

describe('MCP server responsiveness over stdio (2025-11-25 client)', () => {
  let home: string;
  let client: Client;
  let bundlePath: string;
  let cancelledPath: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'hs-resp-'));
    bundlePath = largeBundle(home, 'LARGE-LOAD', 40);
    cancelledPath = largeBundle(home, 'CANCELLED-LOAD', 40);
    client = new Client({ name: 'responsive-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [cli, 'serve'], env: { PATH: process.env.PATH!, HINDSIGHT_HOME: home }, stderr: 'ignore' }));
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('answers pings sent during a large load before the load finishes, and reports progress', async () => {
    const events: string[] = [];
    const progress: Array<{ progress: number; total?: number; message?: string }> = [];
    const load = client
      .callTool({ name: 'get_incident_context', arguments: { bundle_path: bundlePath } }, undefined, { onprogress: (p) => progress.push(p), timeout: 120_000 })
      .then((r) => {
        events.push('load');
        return r;
      });
    // wait until the server is inside the load (its first progress step), then ping three times
    while (!progress.length) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 3; i++) {
      await client.ping();
      events.push('ping');
    }
    const result = await load;
    expect(result.isError).toBeFalsy();
    expect(events).toEqual(['ping', 'ping', 'ping', 'load']);
    expect(progress.map((p) => p.progress)).toEqual([0, 1, 2, 3]);
    expect(progress.every((p) => p.total === 3 && typeof p.message === 'string')).toBe(true);
  }, 120_000);

  it('a cancelled load stores nothing, and the server keeps serving', async () => {
    const controller = new AbortController();
    let started = false;
    const load = client.callTool({ name: 'get_incident_context', arguments: { bundle_path: cancelledPath } }, undefined, {
      signal: controller.signal,
      onprogress: () => (started = true),
      timeout: 120_000,
    });
    while (!started) await new Promise((r) => setTimeout(r, 5));
    controller.abort('user pressed stop');
    await expect(load).rejects.toThrow();
    // give a worker that would still store the bundle every chance to do so
    await new Promise((r) => setTimeout(r, 3000));
    const lookup = await client.callTool({ name: 'get_incident_context', arguments: { incident_id: 'CANCELLED-LOAD' } });
    expect(lookup.isError).toBe(true);
    expect(JSON.stringify(lookup.content)).toContain('unknown incident');
    const other = await client.callTool({ name: 'get_incident_context', arguments: { incident_id: 'LARGE-LOAD' } });
    expect(other.isError).toBeFalsy();
  }, 120_000);
});
