// Access tokens for the HTTP server, as an OAuth 2.1 resource server: a JWT checked against the
// authorization server's JWKS, or an opaque token checked by introspection (RFC 7662), or, for a
// small team, one static bearer token. Every verifier reports the token's audience as
// AuthInfo.resource so the SDK's bearer gate refuses a token minted for another server (RFC 8707).
import { timingSafeEqual, createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { OAuthError, OAuthErrorCode, type AuthInfo, type OAuthTokenVerifier } from '@modelcontextprotocol/server';

export interface StaticTokenOptions {
  token: string;
  scopes: string[];
  resource: URL;
}

/** One shared secret; compared in constant time (both sides hashed first so lengths never leak). */
export function staticTokenVerifier(options: StaticTokenOptions): OAuthTokenVerifier {
  const expected = createHash('sha256').update(options.token).digest();
  return {
    async verifyAccessToken(token) {
      const given = createHash('sha256').update(token).digest();
      if (!timingSafeEqual(given, expected)) throw new OAuthError(OAuthErrorCode.InvalidToken, 'invalid token');
      // a static token does not expire; the SDK requires an expiry, so one hour from now
      return { token, clientId: 'static-token', scopes: options.scopes, expiresAt: Math.floor(Date.now() / 1000) + 3600, resource: options.resource };
    },
  };
}

function scopesOf(claims: Record<string, unknown>): string[] {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.filter((s): s is string => typeof s === 'string');
  if (typeof claims.scp === 'string') return claims.scp.split(' ').filter(Boolean);
  return [];
}

/** The audience value that names this server, or undefined when the token is for someone else. */
function matchingAudience(aud: unknown, resource: URL): URL | undefined {
  const wanted = normalize(resource.href);
  const list = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
  return list.some((a) => typeof a === 'string' && normalize(a) === wanted) ? resource : undefined;
}

const normalize = (u: string) => u.replace(/#.*$/, '').replace(/\/$/, '');

export interface JwtOptions {
  jwksUrl: URL;
  issuer: string;
  resource: URL;
  /** signing algorithms accepted (default: the asymmetric ones) */
  algorithms?: string[];
}

export function jwtVerifier(options: JwtOptions): OAuthTokenVerifier {
  const jwks = createRemoteJWKSet(options.jwksUrl, { timeoutDuration: 5000, cooldownDuration: 30_000 });
  return {
    async verifyAccessToken(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          algorithms: options.algorithms ?? ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
          requiredClaims: ['exp'],
        }));
      } catch (err) {
        if (err instanceof joseErrors.JOSEError && !(err instanceof joseErrors.JWKSTimeout)) throw new OAuthError(OAuthErrorCode.InvalidToken, `invalid token: ${err.code}`);
        throw new OAuthError(OAuthErrorCode.ServerError, `could not check the token: ${(err as Error).message}`);
      }
      const claims = payload as Record<string, unknown>;
      const resource = matchingAudience(payload.aud, options.resource);
      return {
        token,
        clientId: String(claims.client_id ?? claims.azp ?? payload.sub ?? 'unknown'),
        scopes: scopesOf(claims),
        expiresAt: payload.exp,
        // no matching audience: left unset, and the gate refuses the token as minted for another resource
        ...(resource ? { resource } : {}),
      };
    },
  };
}

export interface IntrospectionOptions {
  url: URL;
  clientId: string;
  clientSecret: string;
  resource: URL;
  timeoutMs?: number;
}

/** RFC 7662: the authorization server says whether an opaque token is active, for whom and with which scopes. */
export function introspectionVerifier(options: IntrospectionOptions): OAuthTokenVerifier {
  const basic = Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64');
  return {
    async verifyAccessToken(token) {
      let answer: Record<string, unknown>;
      try {
        const res = await fetch(options.url, {
          method: 'POST',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        });
        if (!res.ok) throw new Error(`introspection answered HTTP ${res.status}`);
        answer = (await res.json()) as Record<string, unknown>;
      } catch (err) {
        throw new OAuthError(OAuthErrorCode.ServerError, `could not check the token: ${(err as Error).message}`);
      }
      if (answer.active !== true) throw new OAuthError(OAuthErrorCode.InvalidToken, 'token is not active');
      const resource = matchingAudience(answer.aud, options.resource);
      const info: AuthInfo = {
        token,
        clientId: String(answer.client_id ?? answer.sub ?? 'unknown'),
        scopes: scopesOf(answer),
        ...(typeof answer.exp === 'number' ? { expiresAt: answer.exp } : {}),
        ...(resource ? { resource } : {}),
      };
      return info;
    },
  };
}
