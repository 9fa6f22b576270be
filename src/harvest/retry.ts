// One retry policy for every vendor call: 429 honours Retry-After, 5xx and network errors get
// jittered exponential backoff, every attempt has a timeout, other 4xx fail at once.
import type { HttpPolicy } from './types.js';
import { networkErrorMessage } from './networkError.js';

export { describeNetworkError, networkErrorMessage } from './networkError.js';

export class VendorError extends Error {
  constructor(
    readonly source: string,
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'VendorError';
  }
}

export interface Classified {
  status: number | null;
  retryable: boolean;
  retryAfterMs: number | null;
  message: string;
}

/** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}

export function classifyStatus(status: number | null): boolean {
  return status === null || status === 408 || status === 425 || status === 429 || status >= 500;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });

export interface RetryOptions {
  source: string;
  policy: HttpPolicy;
  /** turns whatever the SDK threw into status / retryability / Retry-After */
  classify: (err: unknown) => Classified;
  random?: () => number;
  onRetry?: (attempt: number, delayMs: number, why: string) => void;
  /** the host the calls go to, named when an attempt times out */
  host?: string;
}

/**
 * Runs `op` with a per-attempt timeout (the AbortSignal is passed to the operation; the attempt
 * is abandoned either way) and retries what is worth retrying.
 */
export async function withRetries<T>(op: (signal: AbortSignal) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { policy } = opts;
  const random = opts.random ?? Math.random;
  let last: Classified | null = null;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new VendorError(opts.source, `timed out after ${policy.timeoutMs} ms${opts.host ? ` waiting for ${opts.host}` : ''}`, null, true));
      }, policy.timeoutMs);
    });
    try {
      return await Promise.race([op(controller.signal), timeout]);
    } catch (err) {
      last = err instanceof VendorError ? { status: err.status, retryable: err.retryable, retryAfterMs: err.retryAfterMs, message: err.message } : opts.classify(err);
      if (!last.retryable || attempt === policy.retries) break;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
      const delay = last.retryAfterMs !== null ? Math.min(last.retryAfterMs, 60_000) : Math.round(backoff / 2 + (random() * backoff) / 2);
      opts.onRetry?.(attempt + 1, delay, last.message);
      await sleep(delay);
    } finally {
      clearTimeout(timer);
    }
  }
  throw new VendorError(opts.source, last?.message ?? 'failed', last?.status ?? null, last?.retryable ?? false, last?.retryAfterMs ?? null);
}

/** Classifier for plain fetch Responses wrapped by `fetchJson`. */
export async function fetchJson<T>(
  source: string,
  url: string,
  init: RequestInit & { signal: AbortSignal },
): Promise<{ body: T; headers: Headers }> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if (init.signal.aborted) throw new VendorError(source, 'request aborted (timeout)', null, true);
    throw new VendorError(source, `network error: ${networkErrorMessage(err, url)}`, null, true);
  }
  const text = await res.text();
  if (!res.ok) {
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
    const detail = text.slice(0, 200).replace(/\s+/g, ' ');
    throw new VendorError(source, `${res.status} ${res.statusText}${detail ? `: ${detail}` : ''}`, res.status, classifyStatus(res.status), retryAfter);
  }
  try {
    return { body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
  } catch {
    throw new VendorError(source, `invalid JSON from ${new URL(url).host}`, res.status, false);
  }
}

export function defaultClassify(err: unknown): Classified {
  const e = err as { status?: number; statusCode?: number; code?: number | string; response?: { status?: number; headers?: Record<string, string> }; headers?: Record<string, string>; message?: string };
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : e?.response?.status ?? null;
  const headers = e?.response?.headers ?? e?.headers ?? {};
  const retryAfter = parseRetryAfter(headers['retry-after'] ?? headers['Retry-After']);
  return { status, retryable: classifyStatus(status), retryAfterMs: retryAfter, message: status === null ? networkErrorMessage(err) : e?.message ?? String(err) };
}
