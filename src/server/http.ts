// `hindsight serve --http PORT`: the MCP server over Streamable HTTP for a team. Stateless per
// request (MCP 2026-07-28, server/discover) and still serving 2025-11-25 clients (initialize,
// then stateless calls). An OAuth 2.1 resource server: Protected Resource Metadata (RFC 9728)
// at /.well-known/oauth-protected-resource, 401 with `WWW-Authenticate: Bearer resource_metadata=…`
// without a valid token, tokens for another audience refused (RFC 8707), hindsight:read for
// every call and hindsight:write for filing. Origin and Host are checked against DNS rebinding.
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMcpHandler,
  getOAuthProtectedResourceMetadataUrl,
  hostHeaderValidationResponse,
  originValidationResponse,
  requireBearerAuth,
  type AuthInfo,
  type McpHttpHandler,
  type OAuthTokenVerifier,
} from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { InputError } from '../io/files.js';
import { READ_SCOPE, WRITE_SCOPE } from './createServer.js';
import { introspectionVerifier, jwtVerifier, staticTokenVerifier } from './httpAuth.js';

export const MCP_PATH = '/mcp';
const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export type HttpAuth =
  | { mode: 'static'; token: string; scopes: string[] }
  | { mode: 'jwt'; issuer: string; jwksUrl: URL }
  | { mode: 'introspection'; issuer: string; url: URL; clientId: string; clientSecret: string }
  | { mode: 'none' };

export interface HttpConfig {
  host: string;
  port: number;
  /**
   * this server's public URL of the MCP endpoint: the resource identifier tokens must be minted for
   * (HINDSIGHT_HTTP_PUBLIC_URL; default http://HOST:PORT/mcp, with the port actually bound)
   */
  resource: URL;
  resourceExplicit: boolean;
  auth: HttpAuth;
  /** hostnames a browser Origin may have (DNS rebinding and CSRF); requests without Origin pass */
  allowedOrigins: string[];
  /** hostnames the Host header may name */
  allowedHosts: string[];
  maxBodyBytes: number;
  /** the only directory bundle_path may read from (HINDSIGHT_HTTP_BUNDLE_DIR); null: bundle_path is off */
  bundleDir: string | null;
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]', '::1'];

function list(raw: string | undefined): string[] {
  return (raw ?? '').split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);
}

function urlSetting(name: string, raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new InputError(`${name}: not a URL: "${raw.slice(0, 100)}"`);
  }
}

/** The HTTP settings from flags (port) and HINDSIGHT_HTTP_* variables; a clear error for anything wrong. */
export function httpConfigFrom(env: NodeJS.ProcessEnv, portFlag?: string): HttpConfig {
  const rawPort = portFlag ?? env.HINDSIGHT_HTTP_PORT ?? '';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) throw new InputError(`--http / HINDSIGHT_HTTP_PORT: not a port number: "${rawPort.slice(0, 20)}"`);
  const host = env.HINDSIGHT_HTTP_HOST?.trim() || '127.0.0.1';
  const publicUrl = env.HINDSIGHT_HTTP_PUBLIC_URL?.trim();
  const resource = publicUrl ? urlSetting('HINDSIGHT_HTTP_PUBLIC_URL', publicUrl) : new URL(`http://${host.includes(':') ? `[${host}]` : host}:${port}${MCP_PATH}`);

  let auth: HttpAuth;
  const issuer = env.HINDSIGHT_HTTP_ISSUER?.trim();
  if (env.HINDSIGHT_HTTP_TOKEN?.trim()) {
    const token = env.HINDSIGHT_HTTP_TOKEN.trim();
    if (token.length < 16) throw new InputError('HINDSIGHT_HTTP_TOKEN: too short (use at least 16 random characters)');
    const scopes = list(env.HINDSIGHT_HTTP_TOKEN_SCOPES ?? `${READ_SCOPE} ${WRITE_SCOPE}`);
    auth = { mode: 'static', token, scopes };
  } else if (env.HINDSIGHT_HTTP_INTROSPECTION_URL?.trim()) {
    if (!issuer) throw new InputError('HINDSIGHT_HTTP_ISSUER: required with HINDSIGHT_HTTP_INTROSPECTION_URL (advertised as the authorization server)');
    const clientId = env.HINDSIGHT_HTTP_CLIENT_ID?.trim();
    const clientSecret = env.HINDSIGHT_HTTP_CLIENT_SECRET?.trim();
    if (!clientId || !clientSecret) throw new InputError('HINDSIGHT_HTTP_CLIENT_ID and HINDSIGHT_HTTP_CLIENT_SECRET: required for token introspection');
    auth = { mode: 'introspection', issuer, url: urlSetting('HINDSIGHT_HTTP_INTROSPECTION_URL', env.HINDSIGHT_HTTP_INTROSPECTION_URL.trim()), clientId, clientSecret };
  } else if (issuer) {
    const jwks = env.HINDSIGHT_HTTP_JWKS_URL?.trim() || `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`;
    auth = { mode: 'jwt', issuer, jwksUrl: urlSetting('HINDSIGHT_HTTP_JWKS_URL', jwks) };
  } else if (env.HINDSIGHT_HTTP_INSECURE_NO_AUTH === '1') {
    auth = { mode: 'none' };
  } else {
    throw new InputError(
      'the HTTP server refuses to run without authentication: set HINDSIGHT_HTTP_TOKEN (a static bearer token), or HINDSIGHT_HTTP_ISSUER ' +
        '(OAuth: JWTs checked against its JWKS, or HINDSIGHT_HTTP_INTROSPECTION_URL), or HINDSIGHT_HTTP_INSECURE_NO_AUTH=1 for a loopback-only test',
    );
  }
  if (auth.mode === 'none' && !LOOPBACK.includes(host)) throw new InputError('HINDSIGHT_HTTP_INSECURE_NO_AUTH=1 is only allowed on a loopback address (HINDSIGHT_HTTP_HOST)');

  const publicHost = resource.hostname.includes(':') ? `[${resource.hostname}]` : resource.hostname;
  const allowedHosts = [...new Set([...LOOPBACK, publicHost, ...list(env.HINDSIGHT_HTTP_ALLOWED_HOSTS), ...(LOOPBACK.includes(host) || host === '0.0.0.0' || host === '::' ? [] : [host])])];
  const allowedOrigins = [...new Set([...LOOPBACK, publicHost, ...list(env.HINDSIGHT_HTTP_ALLOWED_ORIGINS)])];
  const rawMax = env.HINDSIGHT_HTTP_MAX_BODY_BYTES?.trim();
  const maxBodyBytes = rawMax ? Number(rawMax) : DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new InputError(`HINDSIGHT_HTTP_MAX_BODY_BYTES: not a positive integer: "${rawMax}"`);
  const bundleDir = env.HINDSIGHT_HTTP_BUNDLE_DIR?.trim() || null;
  if (bundleDir && !existsSync(bundleDir)) throw new InputError(`HINDSIGHT_HTTP_BUNDLE_DIR: no such directory: "${bundleDir.slice(0, 200)}"`);
  return { host, port, resource, resourceExplicit: Boolean(publicUrl), auth, allowedOrigins, allowedHosts, maxBodyBytes, bundleDir };
}

function verifierFor(config: HttpConfig): OAuthTokenVerifier | null {
  const a = config.auth;
  switch (a.mode) {
    case 'static':
      return staticTokenVerifier({ token: a.token, scopes: a.scopes, resource: config.resource });
    case 'jwt':
      return jwtVerifier({ jwksUrl: a.jwksUrl, issuer: a.issuer, resource: config.resource });
    case 'introspection':
      return introspectionVerifier({ url: a.url, clientId: a.clientId, clientSecret: a.clientSecret, resource: config.resource });
    case 'none':
      return null;
  }
}

/** RFC 9728: who issues tokens for this server and which scopes it understands. */
function protectedResourceMetadata(config: HttpConfig): Record<string, unknown> {
  const servers = config.auth.mode === 'jwt' || config.auth.mode === 'introspection' ? [config.auth.issuer] : [];
  return {
    resource: config.resource.href,
    ...(servers.length ? { authorization_servers: servers } : {}),
    scopes_supported: [READ_SCOPE, WRITE_SCOPE],
    bearer_methods_supported: ['header'],
    resource_name: 'Hindsight incident post-mortems',
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });

export interface HttpFrontOptions {
  config: HttpConfig;
  mcp: Pick<McpHttpHandler, 'fetch'>;
}

/**
 * The whole HTTP surface as one fetch handler: health, the metadata document, and the MCP
 * endpoint behind Host/Origin checks and the bearer gate.
 */
export function httpFront({ config, mcp }: HttpFrontOptions): (request: Request) => Promise<Response> {
  const verifier = verifierFor(config);
  const metadataUrl = getOAuthProtectedResourceMetadataUrl(config.resource);
  const metadataPath = new URL(metadataUrl).pathname;
  const gate = verifier
    ? requireBearerAuth({ verifier, requiredScopes: [READ_SCOPE], resourceMetadataUrl: metadataUrl, expectedResource: config.resource })
    : null;
  const mcpPath = config.resource.pathname.replace(/\/$/, '') || MCP_PATH;

  return async (request) => {
    const url = new URL(request.url);
    const rejectedHost = hostHeaderValidationResponse(request, config.allowedHosts);
    if (rejectedHost) return rejectedHost;
    if (url.pathname === '/healthz') return json(200, { status: 'ok' });
    if (url.pathname === metadataPath || url.pathname === '/.well-known/oauth-protected-resource') {
      if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { error: 'method not allowed' }, { allow: 'GET' });
      return json(200, protectedResourceMetadata(config), { 'access-control-allow-origin': '*' });
    }
    if (url.pathname !== mcpPath) return json(404, { error: `not found: the MCP endpoint is ${mcpPath}` });
    const rejectedOrigin = originValidationResponse(request, config.allowedOrigins);
    if (rejectedOrigin) return rejectedOrigin;
    let authInfo: AuthInfo | undefined;
    if (gate) {
      const verdict = await gate(request);
      if (verdict instanceof Response) return verdict;
      authInfo = verdict;
    }
    return mcp.fetch(request, authInfo ? { authInfo } : {});
  };
}

export interface RunningHttpServer {
  server: Server;
  url: URL;
  /** the settings in force (the resource URL names the port actually bound) */
  config: HttpConfig;
  close(): Promise<void>;
}

/** Listens on config.host:config.port (0 picks a free port) and serves MCP built by `factory`. */
export async function startHttpServer(given: HttpConfig, factory: Parameters<typeof createMcpHandler>[0], onerror: (err: Error) => void): Promise<RunningHttpServer> {
  const mcp = createMcpHandler(factory, { legacy: 'stateless', maxRequestBodySize: given.maxBodyBytes, onerror });
  let front: ((request: Request) => Promise<Response>) | null = null;
  const node = toNodeHandler({ fetch: (request) => front!(request) }, { onerror, maxRequestBodySize: given.maxBodyBytes });
  const server = createHttpServer((req, res) => void node(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(given.port, given.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = new URL(`http://${host}:${address.port}${MCP_PATH}`);
  const config = given.resourceExplicit ? given : { ...given, resource: new URL(`http://${given.resource.hostname.includes(':') ? `[${given.resource.hostname}]` : given.resource.hostname}:${address.port}${MCP_PATH}`) };
  front = httpFront({ config, mcp });
  return {
    server,
    url,
    config,
    close: async () => {
      await mcp.close().catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
