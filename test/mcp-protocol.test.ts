// Protocol behaviour of `hindsight serve` as an independent client sees it: the BUILT server
// (`node dist/cli.js serve`; run `npm run build` first) over stdio, driven by the official SDK
// client, and by raw JSON-RPC lines where the SDK client cannot express the case (a line that is not
// JSON, a client that closes its pipes in the middle of an answer).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INCIDENT_ID, makeBundle } from './helpers/bundles.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const TIMEOUT_MS = 120_000;
const LARGE_ID = 'P-LARGE-1';
/** the limit the first server runs with: the small incident's resources fit, the large bundle does not */
const SMALL_LIMIT = 1_000_000;

let home: string;
let work: string;
let smallBundlePath: string;
let largeBundlePath: string;
let largeBundleText: string;

/** A valid incident whose bundle is a few MB: 8000 log lines. */
function largeBundle() {
  const b = makeBundle({ incident: { id: LARGE_ID, title: 'Large incident for protocol tests' } }) as unknown as {
    sources: { logs: Array<{ timestamp: string; service: string; status: string; host: string; message: string }> };
  };
  const first = b.sources.logs[0]!;
  const start = Date.parse(first.timestamp);
  for (let i = 0; i < 8000; i++) {
    b.sources.logs.push({
      ...first,
      timestamp: new Date(start + i * 250).toISOString(),
      message: `GET /v1/accounts/acct_${100000 + i}/statements?page=${i % 50} completed in ${90 + (i % 400)}ms from edge-${i % 7} region=${['eu', 'us', 'ap'][i % 3]} cache=${i % 2 ? 'hit' : 'miss'} bytes=${20000 + i}`,
    });
  }
  return b;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HINDSIGHT_HOME: home, ...extra };
}

async function connectClient(extraEnv: Record<string, string> = {}): Promise<{ client: Client; stderr: () => string }> {
  let stderr = '';
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve'], cwd: work, env: env(extraEnv), stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'hindsight-protocol-test', version: '0.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

function textOf(result: CallToolResult): string {
  return result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
}

/** The JSON-RPC error a request was answered with (fails if it was answered with a result). */
async function rpcError(promise: Promise<unknown>): Promise<McpError> {
  const outcome = await promise.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  if ('result' in outcome) throw new Error(`expected a JSON-RPC error, got a result: ${JSON.stringify(outcome.result).slice(0, 300)}`);
  expect(outcome.error).toBeInstanceOf(McpError);
  return outcome.error as McpError;
}

/** A server spoken to in raw JSON-RPC lines. */
class RawServer {
  readonly child: ChildProcessWithoutNullStreams;
  stderr = '';
  private pending = '';
  private readonly messages: Array<Record<string, unknown>> = [];
  get received(): ReadonlyArray<Record<string, unknown>> {
    return this.messages;
  }
  private waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(extraEnv: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [CLI, 'serve'], { cwd: work, env: env(extraEnv), stdio: 'pipe' });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.pending += chunk.toString();
      let nl: number;
      while ((nl = this.pending.indexOf('\n')) !== -1) {
        this.messages.push(JSON.parse(this.pending.slice(0, nl)) as Record<string, unknown>);
        this.pending = this.pending.slice(nl + 1);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    // writing to a server that is gone is what these tests provoke; the exit status tells the story
    this.child.stdin.on('error', () => undefined);
  }

  sendLine(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  send(message: Record<string, unknown>): void {
    this.sendLine(JSON.stringify({ jsonrpc: '2.0', ...message }));
  }

  /** The first message matching; fails (rather than hangs) when the server stops without sending it. */
  async next(match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    let ended = false;
    void this.exited.then(() => {
      ended = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (ended) throw new Error(`server exited without the expected message; got ${JSON.stringify(this.messages).slice(0, 500)}\n${this.stderr}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async initialize(): Promise<void> {
    this.send({ id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
    await this.next((m) => m.id === 'init');
    this.send({ method: 'notifications/initialized' });
  }
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: run \`npm run build\` before this test`);
  home = mkdtempSync(join(tmpdir(), 'hindsight-protocol-home-'));
  work = mkdtempSync(join(tmpdir(), 'hindsight-protocol-work-'));
  smallBundlePath = join(work, 'bundle.json');
  writeFileSync(smallBundlePath, JSON.stringify(makeBundle(), null, 2));
  largeBundlePath = join(work, 'large-bundle.json');
  largeBundleText = JSON.stringify(largeBundle());
  writeFileSync(largeBundlePath, largeBundleText);
  // both incidents stored once, by a server of their own
  const { client } = await connectClient();
  try {
    for (const path of [smallBundlePath, largeBundlePath]) {
      const result = (await client.callTool({ name: 'get_incident_context', arguments: { bundle_path: path } })) as CallToolResult;
      expect(result.isError ?? false, textOf(result)).toBe(false);
    }
    expect(((await client.callTool({ name: 'draft_postmortem', arguments: { incident_id: INCIDENT_ID } })) as CallToolResult).isError ?? false).toBe(false);
  } finally {
    await client.close();
  }
}, TIMEOUT_MS);

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('MCP protocol over stdio: SDK client', { timeout: TIMEOUT_MS }, () => {
  let client: Client;
  let stderr: () => string;

  beforeAll(async () => {
    ({ client, stderr } = await connectClient({ HINDSIGHT_MAX_RESOURCE_BYTES: String(SMALL_LIMIT) }));
  }, TIMEOUT_MS);

  afterAll(async () => {
    await client?.close();
  });

  it('an unknown tool is a JSON-RPC error (-32602), not a tool result', async () => {
    const error = await rpcError(client.callTool({ name: 'no_such_tool', arguments: {} }));
    expect(error.code).toBe(-32602);
    expect(error.message).toContain('no_such_tool');
    // a known tool still answers with a result afterwards
    const ok = (await client.callTool({ name: 'get_incident_context', arguments: { incident_id: INCIDENT_ID } })) as CallToolResult;
    expect(ok.isError ?? false, textOf(ok)).toBe(false);
  });

  it('quotes at most a short prefix of a 1 MB argument in any error, never the whole of it', async () => {
    const big = 'q'.repeat(1_000_000);
    const errors = [
      (await rpcError(client.callTool({ name: big, arguments: {} }))).message,
      (await rpcError(client.getPrompt({ name: big }))).message,
      textOf((await client.callTool({ name: 'get_incident_context', arguments: { bundle_path: big } })) as CallToolResult),
      textOf((await client.callTool({ name: 'get_incident_context', arguments: { incident_id: big } })) as CallToolResult),
    ];
    for (const message of errors) {
      expect(message).toContain('qqqq');
      expect(message.length).toBeLessThan(2000);
    }
  });

  it('publishes tool schemas as JSON Schema 2020-12, exactly the reviewed snapshot', async () => {
    const { tools } = await client.listTools();
    const reviewed = JSON.parse(readFileSync(join(ROOT, 'test', '__snapshots__', 'tool-schemas.json'), 'utf8')) as Array<{ name: string; inputSchema: unknown; outputSchema: unknown }>;
    expect(tools.map((t) => t.name).sort()).toEqual(reviewed.map((t) => t.name).sort());
    for (const tool of tools) {
      expect(tool.inputSchema.$schema, tool.name).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(tool.outputSchema?.$schema, tool.name).toBe('https://json-schema.org/draft/2020-12/schema');
      const snapshot = reviewed.find((t) => t.name === tool.name)!;
      expect(tool.inputSchema, tool.name).toEqual(snapshot.inputSchema);
      expect(tool.outputSchema, tool.name).toEqual(snapshot.outputSchema);
    }
  });

  // MCP 2026-07-28: a resources/read miss is -32602 whose data is exactly { uri } (the SDK v2 answers
  // so on every revision; clients still accept the older -32002)
  it('a missing resource is "Resource not found": -32602 with exactly the URI in data', async () => {
    for (const uri of [
      'hindsight://incidents/NO-SUCH-INCIDENT/report.md',
      'hindsight://incidents/NO-SUCH-INCIDENT/bundle.json',
      'hindsight://incidents/NO-SUCH-INCIDENT/timeline.json',
      'hindsight://nothing/here',
    ]) {
      const error = await rpcError(client.readResource({ uri }));
      expect(error.code, uri).toBe(-32602);
      expect(error.data, uri).toEqual({ uri });
    }
  });

  it('lists resources with their exact size and refuses one above the limit, naming its size and the limit', async () => {
    const { resources } = await client.listResources();
    const mine = resources.filter((r) => r.uri.startsWith(`hindsight://incidents/${INCIDENT_ID}/`));
    expect(mine.map((r) => r.uri.split('/').pop()).sort()).toEqual(['bundle.json', 'report.html', 'report.md', 'timeline.json']);
    for (const r of mine) {
      const { contents } = await client.readResource({ uri: r.uri });
      const text = (contents[0] as { text: string }).text;
      expect(r.size, r.uri).toBe(Buffer.byteLength(text, 'utf8'));
      expect(r.size!, r.uri).toBeLessThanOrEqual(SMALL_LIMIT);
    }

    const large = resources.find((r) => r.uri === `hindsight://incidents/${LARGE_ID}/bundle.json`);
    expect(large, 'large bundle listed').toBeDefined();
    expect(large!.size!).toBeGreaterThan(SMALL_LIMIT);
    expect(large!.size!).toBeGreaterThanOrEqual(Buffer.byteLength(largeBundleText));
    expect(large!.description).toContain(`limit of ${SMALL_LIMIT} bytes`);
    const error = await rpcError(client.readResource({ uri: large!.uri }));
    expect(error.code).toBe(-32602);
    expect(error.message).toContain(`limit of ${SMALL_LIMIT} bytes`);
    expect(error.message).toContain('HINDSIGHT_MAX_RESOURCE_BYTES');
    expect(error.data).toEqual({ uri: large!.uri, size: large!.size, limit: SMALL_LIMIT });
  });

  it('draft_postmortem answers with a summary and links to the full report, which reads back whole', async () => {
    const result = (await client.callTool({ name: 'draft_postmortem', arguments: { incident_id: INCIDENT_ID } })) as CallToolResult;
    expect(result.isError ?? false, textOf(result)).toBe(false);
    const summary = textOf(result);
    expect(summary).toMatch(/^# /m);
    expect(summary).toContain('## Root cause');
    expect(summary).toContain('## Action items');
    expect(summary).not.toContain('## Timeline');
    const links = result.content.filter((c) => c.type === 'resource_link') as Array<{ uri: string }>;
    expect(links.map((l) => l.uri)).toContain(`hindsight://incidents/${INCIDENT_ID}/report.md`);
    const full = await client.readResource({ uri: links[0]!.uri });
    const markdown = (full.contents[0] as { text: string }).text;
    expect(markdown).toContain('## Timeline');
    // the summary result is a fraction of the full one, text and structured content together
    const whole = await client.callTool({ name: 'draft_postmortem', arguments: { incident_id: INCIDENT_ID, detail: 'full' } });
    expect(JSON.stringify(result).length).toBeLessThan(JSON.stringify(whole).length * 0.6);
    const report = (result.structuredContent as { report: { incident: { id: string }; omitted: { timeline: number } } }).report;
    expect(report.incident.id).toBe(INCIDENT_ID);
    expect(report.omitted.timeline).toBeGreaterThan(0);
  });

  it('draft_postmortem with detail full sends the whole report, its Markdown once', async () => {
    const result = (await client.callTool({ name: 'draft_postmortem', arguments: { incident_id: INCIDENT_ID, detail: 'full' } })) as CallToolResult;
    const markdown = textOf(result);
    expect(markdown).toContain('## Timeline');
    const wire = JSON.stringify(result);
    const escaped = JSON.stringify(markdown).slice(1, -1);
    expect(wire.split(escaped).length - 1).toBe(1);
  });

  it('the action_items prompt defaults ticket_system to github', async () => {
    const render = async (args: Record<string, string>) => {
      const prompt = await client.getPrompt({ name: 'action_items', arguments: args });
      return prompt.messages.map((m) => (m.content.type === 'text' ? m.content.text : '')).join('\n');
    };
    expect(await render({ incident_id: INCIDENT_ID })).toContain('target "github"');
    expect(await render({ incident_id: INCIDENT_ID, ticket_system: 'jira' })).toContain('target "jira"');
    expect(await render({ incident_id: INCIDENT_ID })).not.toContain('target ""');
  });

  it('refresh without vendor credentials says refreshing needs them and which are missing', async () => {
    const result = (await client.callTool({ name: 'get_incident_context', arguments: { incident_id: INCIDENT_ID, refresh: true } })) as CallToolResult;
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text).not.toMatch(/unknown incident/);
    expect(text).toMatch(/refresh/);
    expect(text).toMatch(/credentials/);
    expect(text).toContain('PAGERDUTY_TOKEN');
    expect(text).toContain('OPSGENIE_API_KEY');
    expect(stderr()).not.toMatch(/\n\s+at /);
  });
});

describe('MCP protocol over stdio: load', { timeout: TIMEOUT_MS }, () => {
  it('answers 20 concurrent large results without a MaxListenersExceededWarning', async () => {
    const { client, stderr } = await connectClient({ HINDSIGHT_MAX_RESOURCE_BYTES: String(64 * 1024 * 1024) });
    try {
      const uri = `hindsight://incidents/${LARGE_ID}/bundle.json`;
      const results = await Promise.all(Array.from({ length: 20 }, () => client.readResource({ uri })));
      for (const { contents } of results) {
        const text = (contents[0] as { text: string }).text;
        expect(text.length).toBeGreaterThan(1_000_000);
        expect((JSON.parse(text) as { incident: { id: string } }).incident.id).toBe(LARGE_ID);
      }
    } finally {
      await client.close();
    }
    expect(stderr()).not.toMatch(/MaxListenersExceeded/);
  });
});

describe('MCP protocol over stdio: raw lines', { timeout: TIMEOUT_MS }, () => {
  it('answers a line that is not JSON with -32700 and one that is not JSON-RPC with -32600, and keeps serving', async () => {
    const server = new RawServer();
    try {
      await server.initialize();
      server.sendLine('this is not json');
      server.sendLine(JSON.stringify({ hello: 'world', id: 41 }));
      server.send({ id: 42, method: 'ping' });
      // the ping's answer comes after the answers to the lines before it, and shows the server still serves
      expect(await server.next((m) => m.id === 42)).toMatchObject({ result: {} });
      expect(server.received).toContainEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringContaining('Parse error') } });
      expect(server.received).toContainEqual({ jsonrpc: '2.0', id: 41, error: { code: -32600, message: expect.any(String) } });
    } finally {
      server.child.stdin.end();
      expect(await server.exited).toEqual({ code: 0, signal: null });
    }
  });

  it('answers everything piped in before stdin closed, then exits 0', async () => {
    const server = new RawServer();
    await server.initialize();
    server.send({ id: 'ctx', method: 'tools/call', params: { name: 'get_incident_context', arguments: { incident_id: INCIDENT_ID } } });
    server.send({ id: 'read', method: 'resources/read', params: { uri: `hindsight://incidents/${INCIDENT_ID}/bundle.json` } });
    server.child.stdin.end();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(await server.next((m) => m.id === 'ctx')).toHaveProperty('result');
    expect(await server.next((m) => m.id === 'read')).toHaveProperty('result');
  });

  it('survives a client that goes away mid-answer 20 times in a row: exit 0, no stack trace, the store intact', async () => {
    const uri = `hindsight://incidents/${LARGE_ID}/bundle.json`;
    const halfSentId = 'P-HALF-SENT-1';
    for (let round = 0; round < 20; round++) {
      const server = new RawServer({ HINDSIGHT_MAX_RESOURCE_BYTES: String(64 * 1024 * 1024) });
      await server.initialize();
      if (round % 2 === 0) {
        // gone while the large answer is being written: stop reading after its first bytes, then close
        const firstBytes = new Promise<void>((resolve) => server.child.stdout.once('data', () => resolve()));
        server.send({ id: 'big', method: 'resources/read', params: { uri } });
        await firstBytes;
        server.child.stdout.pause();
      } else {
        // gone while sending a large request: half a line of a bundle that must not be stored
        const line = JSON.stringify({ jsonrpc: '2.0', id: 'half', method: 'tools/call', params: { name: 'get_incident_context', arguments: { bundle: { ...JSON.parse(largeBundleText), incident: { ...JSON.parse(largeBundleText).incident, id: halfSentId } } } } });
        await new Promise<void>((resolve) => server.child.stdin.write(line.slice(0, line.length >> 1), () => resolve()));
      }
      server.child.stdout.destroy();
      server.child.stdin.destroy();
      const exit = await server.exited;
      expect(exit, `round ${round}: ${server.stderr}`).toEqual({ code: 0, signal: null });
      expect(server.stderr, `round ${round}`).not.toMatch(/EPIPE|Error:|\n\s+at /);
    }

    const db = new Database(join(home, 'hindsight.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const ids = (db.prepare('SELECT id FROM incidents').all() as Array<{ id: string }>).map((r) => r.id);
      expect(ids).toContain(LARGE_ID);
      expect(ids).not.toContain(halfSentId);
      const stored = db.prepare('SELECT bundle_json FROM incidents WHERE id = ?').get(LARGE_ID) as { bundle_json: string };
      expect((JSON.parse(stored.bundle_json) as { incident: { id: string } }).incident.id).toBe(LARGE_ID);
    } finally {
      db.close();
    }
  });
});

describe('MCP protocol over stdio: harvest network errors name the cause and the host', { timeout: TIMEOUT_MS }, () => {
  let silent: Server;
  let plain: Server;
  const sockets = new Set<Socket>();
  let closedPort: number;

  beforeAll(async () => {
    // accepts connections and never answers
    silent = createHttpServer(() => undefined);
    // plain HTTP, spoken to as https: the TLS handshake fails
    plain = createHttpServer((_req, res) => res.end('{}'));
    for (const s of [silent, plain]) {
      s.on('connection', (socket) => sockets.add(socket));
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    }
    const probe = createHttpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    writeFileSync(join(work, 'hindsight.config.json'), JSON.stringify({ http: { timeout_ms: 1500, retries: 0 } }));
  }, TIMEOUT_MS);

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([silent, plain].map((s) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()))));
    rmSync(join(work, 'hindsight.config.json'), { force: true });
  });

  async function harvestError(apiUrl: string): Promise<string> {
    const { client } = await connectClient({ PAGERDUTY_TOKEN: 'pd-test-token', PAGERDUTY_API_URL: apiUrl });
    try {
      const result = (await client.callTool({ name: 'get_incident_context', arguments: { incident_id: 'Q1NETWORK' } })) as CallToolResult;
      expect(result.isError).toBe(true);
      return textOf(result);
    } finally {
      await client.close();
    }
  }

  it('connection refused', async () => {
    const text = await harvestError(`http://127.0.0.1:${closedPort}`);
    expect(text).toContain(`connection refused by 127.0.0.1:${closedPort}`);
    expect(text).not.toContain('fetch failed');
  });

  it('DNS', async () => {
    const text = await harvestError('http://pagerduty.hindsight-test.invalid');
    expect(text).toMatch(/DNS lookup failed for pagerduty\.hindsight-test\.invalid/);
  });

  it('TLS', async () => {
    const port = (plain.address() as AddressInfo).port;
    const text = await harvestError(`https://127.0.0.1:${port}`);
    expect(text).toContain(`TLS failed with 127.0.0.1:${port}`);
  });

  it('timeout', async () => {
    const port = (silent.address() as AddressInfo).port;
    const text = await harvestError(`http://127.0.0.1:${port}`);
    expect(text).toMatch(new RegExp(`timed out after 1500 ms waiting for 127\\.0\\.0\\.1:${port}`));
  });
});
