import { describe, expect, it } from 'vitest';
import { LogClusterer, levelOf, type LogSignature } from '../src/core/logSignatures.js';

const T0 = Date.UTC(2024, 4, 20, 13, 0, 0);

/** Template of a single line clustered on its own (i.e. just the pre-masking). */
function templateOf(line: string): string {
  const c = new LogClusterer();
  c.add(line, T0);
  const sigs = c.signatures();
  expect(sigs).toHaveLength(1);
  return sigs[0]!.template;
}

function byTemplate(sigs: LogSignature[], template: string): LogSignature {
  const s = sigs.find((x) => x.template === template);
  if (!s) throw new Error(`no signature ${template}; have:\n${sigs.map((x) => x.template).join('\n')}`);
  return s;
}

describe('levelOf', () => {
  it('maps status fields to severity buckets', () => {
    for (const s of ['error', 'err', 'critical', 'fatal', 'emerg', 'alert', 'ERROR', ' Fatal ']) {
      expect(levelOf(s)).toBe('error');
    }
    for (const s of ['warn', 'warning', 'WARN']) expect(levelOf(s)).toBe('warn');
    for (const s of ['info', 'notice', 'Info']) expect(levelOf(s)).toBe('info');
    for (const s of ['debug', 'trace']) expect(levelOf(s)).toBe('debug');
    expect(levelOf(undefined)).toBe('other');
    expect(levelOf('')).toBe('other');
    expect(levelOf('ok')).toBe('other');
  });
});

describe('LogClusterer clustering', () => {
  it('separates the two DB_CONNECTION_ERROR messages and counts each', () => {
    const c = new LogClusterer();
    for (let i = 0; i < 52; i++) c.add('DB_CONNECTION_ERROR: pool exhausted (10/10)', T0 + i * 1000, { status: 'error' });
    for (let i = 0; i < 31; i++) {
      c.add(
        `DB_CONNECTION_ERROR: timeout acquiring connection after ${5000 + i}ms (pool ${i % 10}/10, waiting ${37 + i})`,
        T0 + 500 + i * 1000,
        { status: 'error' },
      );
    }
    const sigs = c.signatures();
    expect(sigs).toHaveLength(2);
    expect(byTemplate(sigs, 'DB_CONNECTION_ERROR: pool exhausted (<*>)').count).toBe(52);
    const timeout = byTemplate(
      sigs,
      'DB_CONNECTION_ERROR: timeout acquiring connection after <*> (pool <*> waiting <*>)',
    );
    expect(timeout.count).toBe(31);
    expect(timeout.sample).toBe(
      'DB_CONNECTION_ERROR: timeout acquiring connection after 5000ms (pool 0/10, waiting 37)',
    );
    expect(timeout.firstMs).toBe(T0 + 500);
    expect(timeout.lastMs).toBe(T0 + 500 + 30 * 1000);
    expect(timeout.level).toBe('error');
  });

  it('collapses request lines that only differ in numbers', () => {
    const c = new LogClusterer();
    for (let i = 0; i < 40; i++) c.add(`POST /v1/orders 500 in ${5000 + i * 7}ms: DB_CONNECTION_ERROR`, T0 + i);
    const sigs = c.signatures();
    expect(sigs).toHaveLength(1);
    expect(sigs[0]!.template).toBe('POST /v1/orders <*> in <*>: DB_CONNECTION_ERROR');
    expect(sigs[0]!.count).toBe(40);
  });

  it('keeps different routes apart', () => {
    const c = new LogClusterer();
    for (let i = 0; i < 10; i++) {
      c.add(`GET /v1/cart 200 in ${40 + i}ms`, T0 + i);
      c.add(`POST /v1/orders 201 in ${10 + i}ms`, T0 + i);
    }
    const sigs = c.signatures();
    expect(sigs.map((s) => s.template).sort()).toEqual(['GET /v1/cart <*> in <*>', 'POST /v1/orders <*> in <*>']);
    expect(sigs.every((s) => s.count === 10)).toBe(true);
  });

  it('merges differing word positions into <*> (Drain) and respects the similarity option', () => {
    const lines = ['User alice logged in from web', 'User bob logged in from web', 'User carol logged in from app'];
    const loose = new LogClusterer();
    for (const l of lines) loose.add(l, T0);
    expect(loose.signatures().map((s) => [s.template, s.count])).toEqual([['User <*> logged in from <*>', 3]]);

    const strict = new LogClusterer({ similarity: 0.9 });
    for (const l of lines) strict.add(l, T0);
    expect(strict.signatures()).toHaveLength(3);
  });

  it('keeps interleaved templates of the same prefix group apart', () => {
    const c = new LogClusterer();
    for (let i = 0; i < 30; i++) {
      c.add(`DB_CONNECTION_ERROR: pool exhausted (${i % 10}/10)`, T0 + i);
      if (i % 3 === 0) c.add(`DB_CONNECTION_ERROR: replica lag ${i}s`, T0 + i);
    }
    const sigs = c.signatures();
    expect(sigs.map((s) => [s.template, s.count])).toEqual([
      ['DB_CONNECTION_ERROR: pool exhausted (<*>)', 30],
      ['DB_CONNECTION_ERROR: replica lag <*>', 10],
    ]);
  });

  it('groups lines whose first token is masked (timestamp prefixes)', () => {
    const c = new LogClusterer();
    for (let i = 0; i < 12; i++) {
      c.add(`2024-05-20T13:00:${String(i).padStart(2, '0')}Z ERROR payment declined code=${50 + i}`, T0 + i);
    }
    expect(c.signatures().map((s) => [s.template, s.count])).toEqual([['<*> ERROR payment declined code=<*>', 12]]);
  });

  it('copes with empty messages and non-finite times', () => {
    const c = new LogClusterer();
    c.add('', NaN);
    c.add('   ', T0);
    c.add('\n  at Object.<anonymous> (/app/x.js:1:1)', T0 + 5);
    c.add('disk full', NaN);
    const sigs = c.signatures();
    expect(sigs.map((s) => s.template)).toEqual(['', 'at Object.<anonymous> (/app/x.js:<*>:<*>)', 'disk full']);
    expect(sigs[0]!.count).toBe(2);
    expect(sigs[0]!.firstMs).toBe(T0);
    expect(sigs[2]!.firstMs).toBeNaN();
    expect(sigs[2]!.sample).toBe('disk full');
  });

  it('does not merge lines with a different token count or first token', () => {
    const c = new LogClusterer();
    c.add('cache miss for key users', T0);
    c.add('cache miss for key users again', T0);
    c.add('Cache miss for key users', T0);
    expect(c.signatures()).toHaveLength(3);
  });

  it('generalises a template as more lines join it', () => {
    const c = new LogClusterer();
    c.add('payment failed for card visa reason declined', T0);
    c.add('payment failed for card amex reason declined', T0 + 1); // 6/7 → card <*> reason declined
    c.add('payment failed for wallet paypal reason timeout', T0 + 2); // 5/7 ≥ 0.5 → joins
    const sigs = c.signatures();
    expect(sigs).toHaveLength(1);
    expect(sigs[0]!.template).toBe('payment failed for <*> <*> reason <*>');
    expect(sigs[0]!.count).toBe(3);
  });

  it('on equal similarity prefers the template with more literal matches', () => {
    const c = new LogClusterer();
    c.add('job export started batch', T0); // A
    c.add('job import queued nightly', T0 + 1); // B (1/4 vs A)
    c.add('job export queued weekly', T0 + 2); // 2/4 with both, tie → A becomes "job export <*> <*>"
    c.add('job import queued hourly', T0 + 3); // 3/4 with both; B has 3 literal matches, A only 1
    const sigs = c.signatures();
    expect(sigs.map((s) => [s.template, s.count])).toEqual([
      ['job export <*> <*>', 2],
      ['job import queued <*>', 2],
    ]);
  });
});

describe('LogClusterer counters', () => {
  it('computes firstMs/lastMs regardless of add order, sample = earliest line', () => {
    const c = new LogClusterer();
    c.add('worker crashed with exit code 137', T0 + 5000);
    c.add('worker crashed with exit code 139', T0 + 1000);
    c.add('worker crashed with exit code 1', T0 + 9000);
    c.add('worker crashed with exit code 2', T0 + 3000);
    const [s] = c.signatures();
    expect(s!.count).toBe(4);
    expect(s!.firstMs).toBe(T0 + 1000);
    expect(s!.lastMs).toBe(T0 + 9000);
    expect(s!.sample).toBe('worker crashed with exit code 139');
  });

  it('reports the most severe level seen', () => {
    const c = new LogClusterer();
    c.add('retrying request 1', T0, { status: 'info' });
    c.add('retrying request 2', T0, { status: 'warning' });
    c.add('retrying request 3', T0, { status: 'debug' });
    c.add('retrying request 4', T0);
    c.add('other thing 1', T0, { status: 'notice' });
    c.add('other thing 2', T0, { status: 'CRITICAL' });
    c.add('other thing 3', T0, { status: 'info' });
    c.add('no level at all', T0);
    c.add('trace only', T0, { status: 'trace' });
    const sigs = c.signatures();
    expect(byTemplate(sigs, 'retrying request <*>').level).toBe('warn');
    expect(byTemplate(sigs, 'other thing <*>').level).toBe('error');
    expect(byTemplate(sigs, 'no level at all').level).toBe('other');
    expect(byTemplate(sigs, 'trace only').level).toBe('debug');
  });

  it('clusters multi-line stack traces on the first line and keeps it as sample', () => {
    const c = new LogClusterer();
    c.add(
      "TypeError: Cannot read properties of undefined (reading 'id')\n    at OrderSerializer.toJSON (/app/src/serializers/order.ts:41:17)\n    at Array.map (<anonymous>)",
      T0 + 10,
    );
    c.add(
      "TypeError: Cannot read properties of undefined (reading 'id')\r\n    at CartService.load (/app/src/cart.ts:9:3)",
      T0 + 20,
    );
    c.add("TypeError: Cannot read properties of undefined (reading 'id')", T0 + 30);
    const sigs = c.signatures();
    expect(sigs).toHaveLength(1);
    expect(sigs[0]!.template).toBe("TypeError: Cannot read properties of undefined (reading 'id')");
    expect(sigs[0]!.sample).toBe("TypeError: Cannot read properties of undefined (reading 'id')");
    expect(sigs[0]!.count).toBe(3);
    expect(sigs[0]!.template).not.toContain('OrderSerializer');
  });

  it('tracks distinct services (cap 10) and hosts', () => {
    const c = new LogClusterer();
    for (let i = 0; i < 30; i++) {
      c.add(`upstream reset after ${i}ms`, T0 + i, { service: i < 20 ? 'checkout' : 'cart', host: `ip-10-0-0-${i % 4}` });
    }
    for (let i = 0; i < 15; i++) c.add('fanout failed', T0, { service: `svc-${i}`, host: 'h1' });
    const sigs = c.signatures();
    const reset = byTemplate(sigs, 'upstream reset after <*>');
    expect(reset.services).toEqual(['checkout', 'cart']);
    expect(reset.hosts).toBe(4);
    const fanout = byTemplate(sigs, 'fanout failed');
    expect(fanout.services).toHaveLength(10);
    expect(fanout.services[0]).toBe('svc-0');
    expect(fanout.hosts).toBe(1);
    expect(byTemplate(sigs, 'fanout failed').count).toBe(15);
  });

  it('stops counting hosts at 10000', () => {
    const c = new LogClusterer();
    for (let i = 0; i < 10_050; i++) c.add('disk full', T0, { host: `host-${i}` });
    expect(c.signatures()[0]!.hosts).toBe(10_000);
  });

  it('sorts by firstMs, then by count desc', () => {
    const c = new LogClusterer();
    c.add('late error', T0 + 100);
    c.add('smaller burst', T0 + 50);
    for (let i = 0; i < 3; i++) c.add('bigger burst', T0 + 50);
    c.add('early error', T0);
    expect(c.signatures().map((s) => s.template)).toEqual(['early error', 'bigger burst', 'smaller burst', 'late error']);
  });

  it('truncates very long first lines to 500 chars', () => {
    const c = new LogClusterer();
    const long = 'payload rejected ' + 'x'.repeat(2000);
    c.add(long, T0);
    c.add('payload rejected ' + 'x'.repeat(600) + ' different tail', T0 + 1);
    const sigs = c.signatures();
    expect(sigs).toHaveLength(1);
    expect(sigs[0]!.count).toBe(2);
    expect(sigs[0]!.sample.length).toBe(500);
    expect(sigs[0]!.template.length).toBeLessThanOrEqual(500);
  });
});

describe('masking', () => {
  it('masks numbers with units, ratios and quoted numbers', () => {
    expect(templateOf('took 5004ms, read 2.5MB, 10s idle, exit 137, cpu 99.9%, 1h30m left')).toBe(
      'took <*> read <*> <*> idle, exit <*> cpu <*> <*> left',
    );
    expect(templateOf('pool 10/10 used')).toBe('pool <*> used');
    expect(templateOf(`retry "3" of '5'`)).toBe(`retry "<*>" of '<*>'`);
  });

  it('masks ids, addresses, timestamps and query strings', () => {
    expect(templateOf('request 550e8400-e29b-41d4-a716-446655440000 done')).toBe('request <*> done');
    expect(templateOf('deploy 3f9a2c1d8e7b rolled back')).toBe('deploy <*> rolled back');
    expect(templateOf('connect 10.0.3.7:5432 refused')).toBe('connect <*> refused');
    expect(templateOf('connect [fe80::1]:8080 refused')).toBe('connect <*> refused');
    expect(templateOf('connect 2001:db8::ff00:42:8329 refused')).toBe('connect <*> refused');
    expect(templateOf('at 2024-05-20T13:22:31.123Z retry')).toBe('at <*> retry');
    expect(templateOf('GET https://api.example.com/v1/search?q=shoes&page=2 slow')).toBe(
      'GET https://api.example.com/v1/search?<*> slow',
    );
    expect(templateOf('GET /v1/orders/12345/items 404')).toBe('GET /v1/orders/<*>/items <*>');
    expect(templateOf('latency=5004ms user_id=42 ok')).toBe('latency=<*> user_id=<*> ok');
  });

  it('keeps words, identifiers, quoted words, error codes and paths', () => {
    const line =
      "ValidationError: status 'partially_shipped' rejected by OrderSerializer.toJSON in /app/src/orders.ts code ORA-00942 E1234 ERR_HTTP2_STREAM";
    expect(templateOf(line)).toBe(line);
    expect(templateOf('GET /v1/cart 200 in 47ms')).toBe('GET /v1/cart <*> in <*>');
  });
});

describe('limits and ids', () => {
  it('sends clusters beyond maxClusters to a single <other> bucket', () => {
    const c = new LogClusterer({ maxClusters: 3 });
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'];
    for (let i = 0; i < words.length; i++) {
      c.add(`${words[i]} failed`, T0 + i);
      c.add(`${words[i]} failed`, T0 + i + 100);
    }
    const sigs = c.signatures();
    expect(sigs).toHaveLength(4);
    const other = byTemplate(sigs, '<other>');
    expect(other.count).toBe(8);
    expect(other.firstMs).toBe(T0 + 3);
    expect(other.sample).toBe('delta failed');
    expect(byTemplate(sigs, 'alpha failed').count).toBe(2);
    // Lines that still match an existing cluster keep going there.
    c.add('alpha failed', T0 + 1000);
    expect(byTemplate(c.signatures(), 'alpha failed').count).toBe(3);
  });

  it('derives short ids from the template, stable across runs', () => {
    const run = (lines: string[]) => {
      const c = new LogClusterer();
      lines.forEach((l, i) => c.add(l, T0 + i));
      return c.signatures();
    };
    const a = run(['DB_CONNECTION_ERROR: pool exhausted (10/10)', 'disk full on /var']);
    const b = run(['disk full on /var', 'DB_CONNECTION_ERROR: pool exhausted (3/10)']);
    const idA = byTemplate(a, 'DB_CONNECTION_ERROR: pool exhausted (<*>)').id;
    expect(idA).toMatch(/^[0-9a-f]{8}$/);
    expect(byTemplate(b, 'DB_CONNECTION_ERROR: pool exhausted (<*>)').id).toBe(idA);
    expect(byTemplate(a, 'disk full on /var').id).not.toBe(idA);
    // FNV-1a of the template: pinned so ids stay stable across releases.
    expect(byTemplate(a, 'disk full on /var').id).toBe(fnv1a('disk full on /var'));
  });
});

describe('volume', () => {
  it('200,000 lines from 5 templates give exactly 5 signatures with the right counts', () => {
    const c = new LogClusterer();
    const makers: ((i: number) => string)[] = [
      (i) => `POST /v1/orders 500 in ${i % 9000}ms: DB_CONNECTION_ERROR`,
      (i) => `DB_CONNECTION_ERROR: timeout acquiring connection after ${i % 6000}ms (pool ${i % 11}/10, waiting ${i % 97})`,
      (i) => `GET /v1/cart 200 in ${i % 300}ms`,
      (i) => `cache hit ratio ${(i % 100) / 100} for shard ${i % 16}`,
      (i) => `request ${(0x10000000 + i).toString(16)}abc from 10.0.${i % 255}.${i % 7}:${1024 + (i % 5000)} rejected`,
    ];
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 200_000; i++) {
      const k = (i * 7919) % 5;
      counts[k]!++;
      c.add(makers[k]!(i), T0 + i, { status: k < 2 ? 'error' : 'info', service: 'api', host: `h${Math.floor(i / 5) % 50}` });
    }
    const sigs = c.signatures();
    expect(sigs).toHaveLength(5);
    const expected: [string, number][] = [
      ['POST /v1/orders <*> in <*>: DB_CONNECTION_ERROR', counts[0]!],
      ['DB_CONNECTION_ERROR: timeout acquiring connection after <*> (pool <*> waiting <*>)', counts[1]!],
      ['GET /v1/cart <*> in <*>', counts[2]!],
      ['cache hit ratio <*> for shard <*>', counts[3]!],
      ['request <*> from <*> rejected', counts[4]!],
    ];
    for (const [template, count] of expected) expect(byTemplate(sigs, template).count).toBe(count);
    expect(sigs.reduce((n, s) => n + s.count, 0)).toBe(200_000);
    expect(byTemplate(sigs, 'GET /v1/cart <*> in <*>').hosts).toBe(50);
  });
});

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
