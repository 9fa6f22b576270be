// The MCP server over Streamable HTTP, as a team runs it: `hindsight serve --http` in its own
// process, reached by the SDK v2 client (MCP 2026-07-28) and by the v1 client (2025-11-25), with a
// static bearer token or OAuth tokens from a loopback authorization server (JWKS, introspection).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const sample = join(root, 'examples', 'sample-incident', 'bundle.json');
const TOKEN = 'test-token-0123456789abcdef';

interface Running {
  child: ChildProcess;
  url: URL;
  stderr: () => string;
  home: string;
}

async function startServer(env: Record<string, string>, bundleDir: string | null = join(root, 'examples')): Promise<Running> {
  const home = mkdtempSync(join(tmpdir(), 'hs-http-'));
  const child = spawn(process.execPath, [cli, 'serve', '--http', '0'], {
    env: { PATH: process.env.PATH, HINDSIGHT_HOME: home, ...(bundleDir ? { HINDSIGHT_HTTP_BUNDLE_DIR: bundleDir } : {}), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<URL>((resolve, reject) => {
    const onData = () => {
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(new URL(m[1]!));
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  return { child, url, stderr: () => err, home };
}

async function stop(r: Running | undefined): Promise<void> {
  if (!r) return;
  if (r.child.exitCode === null) {
    const exited = new Promise((resolve) => r.child.once('exit', resolve));
    r.child.kill('SIGTERM');
    await exited;
  }
  rmSync(r.home, { recursive: true, force: true });
}

function clientV2(url: URL, token?: string) {
  const client = new Client({ name: 'http-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  const transport = new StreamableHTTPClientTransport(url, token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {});
  return { client, connect: () => client.connect(transport) };
}

async function rawPost(url: URL, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };

describe('MCP over HTTP with a static bearer token', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer({ HINDSIGHT_HTTP_TOKEN: TOKEN });
  }, 30_000);
  afterAll(() => stop(server));

  it('runs the whole pipeline for a client with the token (SDK v2 client, MCP 2026-07-28)', async () => {
    const { client, connect } = clientV2(server.url, TOKEN);
    await connect();
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['get_incident_context', 'build_timeline', 'find_triggering_commit', 'search_past_rcas', 'file_tickets', 'draft_postmortem']));
    const ctx = await client.callTool({ name: 'get_incident_context', arguments: { bundle_path: sample } });
    expect(ctx.isError).toBeFalsy();
    const id = (ctx.structuredContent as { incident_id: string }).incident_id;
    const timeline = await client.callTool({ name: 'build_timeline', arguments: { incident_id: id } });
    expect(timeline.isError).toBeFalsy();
    const trigger = await client.callTool({ name: 'find_triggering_commit', arguments: { incident_id: id } });
    expect(trigger.isError).toBeFalsy();
    const expected = JSON.parse(readFileSync(join(root, 'examples', 'sample-incident', 'expected.json'), 'utf8')) as { trigger: { sha: string } };
    expect((trigger.structuredContent as { trigger: { sha: string } | null }).trigger?.sha).toBe(expected.trigger.sha);
    const past = await client.callTool({ name: 'search_past_rcas', arguments: { incident_id: id } });
    expect(past.isError).toBeFalsy();
    const tickets = await client.callTool({ name: 'file_tickets', arguments: { incident_id: id } });
    expect(tickets.isError).toBeFalsy();
    expect((tickets.structuredContent as { dry_run: boolean }).dry_run).toBe(true);
    const draft = await client.callTool({ name: 'draft_postmortem', arguments: { incident_id: id } });
    expect(draft.isError).toBeFalsy();
    expect(JSON.stringify(draft.content)).toContain('Root cause');
    // stateless: a second client sees what the first stored
    const other = clientV2(server.url, TOKEN);
    await other.connect();
    const again = await other.client.callTool({ name: 'get_incident_context', arguments: { incident_id: id } });
    expect(again.isError).toBeFalsy();
    await client.close();
    await other.client.close();
  });

  it('serves a 2025-11-25 client (SDK v1, initialize handshake)', async () => {
    const client = new ClientV1({ name: 'old-client', version: '1.0.0' });
    const transport = new TransportV1(server.url, { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } });
    await client.connect(transport);
    expect(transport.protocolVersion).toBe('2025-11-25');
    const tools = await client.listTools();
    expect(tools.tools.length).toBeGreaterThanOrEqual(6);
    const ctx = await client.callTool({ name: 'get_incident_context', arguments: { bundle_path: sample } });
    expect(ctx.isError).toBeFalsy();
    await client.close();
  });

  it('refuses a call without a token: 401 with a WWW-Authenticate challenge naming the resource metadata', async () => {
    const res = await rawPost(server.url, initialize);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBeDefined();
    const metadata = (await (await fetch(metadataUrl!)).json()) as Record<string, unknown>;
    expect(metadata.resource).toBe(server.url.href);
    expect(metadata.scopes_supported).toEqual(['hindsight:read', 'hindsight:write']);
  });

  it('refuses a wrong token with 401 invalid_token, and the SDK client fails to connect', async () => {
    const res = await rawPost(server.url, initialize, { authorization: 'Bearer not-the-token-at-all-000' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    const { connect } = clientV2(server.url, 'not-the-token-at-all-000');
    await expect(connect()).rejects.toThrow();
  });

  it('refuses a browser Origin that is not allowed, and a Host header from DNS rebinding', async () => {
    const res = await rawPost(server.url, initialize, { authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(server.url, { method: 'POST', headers: { host: 'rebound.evil.example', 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } }, (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      req.on('error', reject);
      req.end(JSON.stringify(initialize));
    });
    expect(status).toBe(403);
  });

  it('reads bundle files only inside HINDSIGHT_HTTP_BUNDLE_DIR: an absolute path elsewhere or a ../ escape is refused', async () => {
    const { client, connect } = clientV2(server.url, TOKEN);
    await connect();
    for (const path of [join(root, 'package.json'), '../package.json', 'sample-incident/../../package.json', '/etc/passwd']) {
      const result = await client.callTool({ name: 'get_incident_context', arguments: { bundle_path: path } });
      expect(result.isError, path).toBe(true);
      expect(JSON.stringify(result.content), path).toMatch(/outside the server's bundle directory|no such file under/);
      expect(JSON.stringify(result.content), path).not.toContain('root:');
    }
    const inside = await client.callTool({ name: 'get_incident_context', arguments: { bundle_path: 'sample-incident/bundle.json' } });
    expect(inside.isError).toBeFalsy();
    await client.close();
  });

  it('answers /healthz without a token and leaks nothing there', async () => {
    const res = await fetch(new URL('/healthz', server.url));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('wrote no process warning (e.g. MaxListenersExceededWarning) to stderr through all of the above', async () => {
    const calls = Array.from({ length: 20 }, () => rawPost(server.url, { jsonrpc: '2.0', id: 9, method: 'tools/list', params: {} }, { authorization: `Bearer ${TOKEN}`, 'mcp-protocol-version': '2025-11-25' }));
    expect((await Promise.all(calls)).every((r) => r.status === 200)).toBe(true);
    expect(server.stderr()).not.toMatch(/Warning|\n\s+at /);
  });
});

describe('MCP over HTTP as an OAuth resource server (JWT via JWKS)', () => {
  let as: Server;
  let issuer: string;
  let server: Running;
  let sign: (claims: Record<string, unknown>, expiresIn?: string) => Promise<string>;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    as = createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => as.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(as.address() as AddressInfo).port}`;
    sign = (claims, expiresIn = '5m') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setIssuedAt().setExpirationTime(expiresIn).setSubject('client-1').sign(privateKey);
    server = await startServer({ HINDSIGHT_HTTP_ISSUER: issuer, HINDSIGHT_WRITE: '1' });
  }, 30_000);
  afterAll(async () => {
    await stop(server);
    await new Promise((r) => as.close(r));
  });

  it('advertises the authorization server in the protected resource metadata', async () => {
    const res = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', server.url));
    const metadata = (await res.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ resource: server.url.href, authorization_servers: [issuer] });
  });

  it('accepts a token for this server with hindsight:read and runs a tool', async () => {
    const token = await sign({ aud: server.url.href, scope: 'hindsight:read' });
    const { client, connect } = clientV2(server.url, token);
    await connect();
    const ctx = await client.callTool({ name: 'get_incident_context', arguments: { bundle_path: sample } });
    expect(ctx.isError).toBeFalsy();
    await client.close();
  });

  it('refuses a token minted for another resource (RFC 8707 audience) with 401', async () => {
    const token = await sign({ aud: 'https://other-server.example/mcp', scope: 'hindsight:read hindsight:write' });
    const res = await rawPost(server.url, initialize, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('refuses an expired token and one signed by another key with 401', async () => {
    const expired = await sign({ aud: server.url.href, scope: 'hindsight:read' }, '-1m');
    expect((await rawPost(server.url, initialize, { authorization: `Bearer ${expired}` })).status).toBe(401);
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ aud: server.url.href, scope: 'hindsight:read' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setExpirationTime('5m').sign(privateKey);
    expect((await rawPost(server.url, initialize, { authorization: `Bearer ${forged}` })).status).toBe(401);
  });

  it('refuses a token without hindsight:read with 403 insufficient_scope', async () => {
    const token = await sign({ aud: server.url.href, scope: 'openid' });
    const res = await rawPost(server.url, initialize, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
  });

  it('filing tickets needs hindsight:write: 403 insufficient_scope with read only, allowed with write', async () => {
    const readOnly = await sign({ aud: server.url.href, scope: 'hindsight:read' });
    const seed = clientV2(server.url, readOnly);
    await seed.connect();
    const ctx = await seed.client.callTool({ name: 'get_incident_context', arguments: { bundle_path: sample } });
    const id = (ctx.structuredContent as { incident_id: string }).incident_id;
    await seed.client.close();

    const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'file_tickets', arguments: { incident_id: id } } };
    const refused = await rawPost(server.url, initialize, { authorization: `Bearer ${readOnly}` }).then(async (init) => {
      expect(init.status).toBe(200);
      return rawPost(server.url, call, { authorization: `Bearer ${readOnly}`, 'mcp-protocol-version': '2025-11-25' });
    });
    expect(refused.status).toBe(403);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('insufficient_scope');
    expect(challenge).toContain('hindsight:write');

    const writer = await sign({ aud: server.url.href, scope: 'hindsight:read hindsight:write' });
    const allowed = await rawPost(server.url, call, { authorization: `Bearer ${writer}`, 'mcp-protocol-version': '2025-11-25' });
    expect(allowed.status).toBe(200);
  });
});

describe('hindsight serve --http: settings', () => {
  it('without HINDSIGHT_HTTP_BUNDLE_DIR, bundle_path is off (it would read the server\'s own files); an inline bundle works', async () => {
    const server = await startServer({ HINDSIGHT_HTTP_TOKEN: TOKEN }, null);
    try {
      const { client, connect } = clientV2(server.url, TOKEN);
      await connect();
      const refused = await client.callTool({ name: 'get_incident_context', arguments: { bundle_path: sample } });
      expect(refused.isError).toBe(true);
      expect(JSON.stringify(refused.content)).toContain('bundle_path is off on this shared server');
      const inline = await client.callTool({ name: 'get_incident_context', arguments: { bundle: JSON.parse(readFileSync(sample, 'utf8')) } });
      expect(inline.isError).toBeFalsy();
      await client.close();
    } finally {
      await stop(server);
    }
  });

  it('refuses to start without any authentication setting: one line, exit 2, no stack trace', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hs-http-'));
    const child = spawn(process.execPath, [cli, 'serve', '--http', '0'], { env: { PATH: process.env.PATH, HINDSIGHT_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    rmSync(home, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toContain('HINDSIGHT_HTTP_TOKEN');
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('refuses the no-auth test mode on a non-loopback address', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hs-http-'));
    const child = spawn(process.execPath, [cli, 'serve', '--http', '0'], {
      env: { PATH: process.env.PATH, HINDSIGHT_HOME: home, HINDSIGHT_HTTP_INSECURE_NO_AUTH: '1', HINDSIGHT_HTTP_HOST: '0.0.0.0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    rmSync(home, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(err).toContain('loopback');
  });
});

describe('MCP 2026-07-28 over stdio', () => {
  it('the SDK v2 client pinned to 2026-07-28 discovers the server over stdio and runs a tool', async () => {
    const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
    const home = mkdtempSync(join(tmpdir(), 'hs-stdio-'));
    const client = new Client({ name: 'stdio-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [cli, 'serve'], env: { PATH: process.env.PATH!, HINDSIGHT_HOME: home }, stderr: 'ignore' }));
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const ctx = await client.callTool({ name: 'get_incident_context', arguments: { bundle_path: sample } });
      expect(ctx.isError).toBeFalsy();
      expect((ctx.structuredContent as { stored: boolean }).stored).toBe(true);
    } finally {
      await client.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
