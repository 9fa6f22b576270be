// Turns a failed request ("fetch failed", "connect ECONNREFUSED …") into what went wrong and with
// which host: connection refused, DNS, TLS, timeout, reset, unreachable.

interface ErrorLike {
  message?: string;
  code?: unknown;
  cause?: unknown;
  errors?: unknown[];
  hostname?: string;
  host?: string;
  address?: string;
  port?: number;
}

/** The error and its causes (fetch nests them in `cause`, sometimes in an AggregateError). */
function chainOf(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let e = err as ErrorLike | undefined;
  while (e && typeof e === 'object' && chain.length < 6) {
    chain.push(e);
    e = (e.cause as ErrorLike | undefined) ?? (Array.isArray(e.errors) ? (e.errors[0] as ErrorLike) : undefined);
  }
  return chain;
}

/** The innermost error that carries a code (undici's generic UND_ERR_SOCKET only when nothing deeper has one). */
function rootCause(err: unknown): ErrorLike {
  const coded = chainOf(err).filter((e) => typeof e.code === 'string');
  return coded.reverse().find((e) => e.code !== 'UND_ERR_SOCKET') ?? coded[0] ?? (err as ErrorLike) ?? {};
}

function hostOf(url: string | undefined, err: unknown): string | null {
  if (url) {
    try {
      return new URL(url).host;
    } catch {
      // not a URL: fall back to what the error says
    }
  }
  for (const e of chainOf(err).reverse()) {
    if (e.hostname) return e.hostname;
    if (e.address) return e.port ? `${e.address}:${e.port}` : e.address;
    if (typeof e.host === 'string') return e.host;
  }
  return null;
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|EPROTO$|HOSTNAME_MISMATCH$)/;

/**
 * "connection refused by api.example.com:443 (ECONNREFUSED)" and the like, or null when the error
 * is not a network failure this recognises.
 */
export function describeNetworkError(err: unknown, url?: string): string | null {
  const cause = rootCause(err);
  const code = typeof cause.code === 'string' ? cause.code : null;
  if (!code) return null;
  const host = hostOf(url, err) ?? 'the server';
  const detail = (cause.message ?? '').trim();
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host} (${code})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
      return `DNS lookup failed for ${host} (${code})`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_SOCKET':
      return `connection to ${host} was reset (${code})`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `timed out connecting to ${host} (${code})`;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `timed out waiting for ${host} to answer (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return `${host} is unreachable (${code})`;
    default:
      if (TLS_CODE.test(code)) return `TLS failed with ${host}: ${detail || code}${detail.includes(code) ? '' : ` (${code})`}`;
      return null;
  }
}

/** describeNetworkError, or the error's own message (and code) when it is not a recognised network failure. */
export function networkErrorMessage(err: unknown, url?: string): string {
  const described = describeNetworkError(err, url);
  if (described) return described;
  const message = (err as Error)?.message ?? String(err);
  const code = rootCause(err).code;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
