import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { detectSpikes, isErrorLikeMetric, type MetricSeries, type Spike } from '../src/core/spikes.js';

// ---------------------------------------------------------------------------------------------
// Helpers: deterministic synthetic series

const T0 = Date.UTC(2024, 4, 14, 6, 0, 0);
const S10 = 10_000;
const M1 = 60_000;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

function series(values: Array<number | null>, opts: { start?: number; step?: number; metric?: string } = {}): MetricSeries {
  const start = opts.start ?? T0;
  const step = opts.step ?? S10;
  return {
    metric: opts.metric ?? 'trace.http.request.errors',
    scope: 'env:prod,service:checkout-api',
    points: values.map((v, i) => [start + i * step, v] as [number, number | null]),
  };
}

function ts(i: number, step = S10, start = T0): number {
  return start + i * step;
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const r = rng(seed);
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** error counts per 10 s: 0-1 baseline, 30-70 from `from` for `len` points, then 0-1 again */
function errorBurst(seed = 1, n = 720, from = 300, len = 180): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => (i >= from && i < from + len ? 30 + Math.floor(r() * 41) : r() < 0.3 ? 1 : 0));
}

/** memory in MB per 10 s: flat 430, linear ramp to 1400 over 40 min, OOM saw-tooth, back to 430 */
function memoryLeak(seed = 7, step = S10) {
  const r = rng(seed);
  const perMin = M1 / step;
  const flat = 60 * perMin;
  const rampLen = 40 * perMin;
  const sawLen = 24 * perMin;
  const tail = 40 * perMin;
  const values: number[] = [];
  for (let i = 0; i < flat; i++) values.push(430 + (r() - 0.5) * 6);
  for (let i = 1; i <= rampLen; i++) values.push(430 + (970 * i) / rampLen + (r() - 0.5) * 6);
  // saw-tooth: restart drops to ~650, climbs back to 1400 every 6 minutes
  const tooth = 6 * perMin;
  for (let i = 0; i < sawLen; i++) values.push(650 + (750 * (i % tooth)) / (tooth - 1) + (r() - 0.5) * 6);
  for (let i = 0; i < tail; i++) values.push(430 + (r() - 0.5) * 6);
  return { values, rampStart: flat, recoverAt: flat + rampLen + sawLen };
}

function only(spikes: Spike[]): Spike {
  expect(spikes).toHaveLength(1);
  return spikes[0]!;
}

// ---------------------------------------------------------------------------------------------

describe('detectSpikes: nothing to report', () => {
  it('returns nothing for flat, constant, all-null and too-short series', () => {
    expect(detectSpikes(series(Array.from({ length: 500 }, () => 42)))).toEqual([]);
    expect(detectSpikes(series(Array.from({ length: 500 }, () => 0)))).toEqual([]);
    expect(detectSpikes(series(Array.from({ length: 500 }, () => null)))).toEqual([]);
    expect(detectSpikes(series([]))).toEqual([]);
    // five points, three of them far above the first two: too little to call anything
    expect(detectSpikes(series([1, 1, 90, 95, 99]))).toEqual([]);
  });

  it('ignores noisy 0/1 counts (tiny integer baseline)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed);
      const p = 0.2 + 0.15 * seed; // from mostly zeros to mostly ones
      const values = Array.from({ length: 2000 }, () => (r() < p ? 1 : 0));
      expect(detectSpikes(series(values))).toEqual([]);
    }
  });

  it('ignores one-point blips, even 100x the baseline', () => {
    const r = rng(11);
    const values = Array.from({ length: 400 }, () => 100 + (r() - 0.5) * 10);
    values[150] = 10_000;
    values[300] = 280; // 2.8x
    expect(detectSpikes(series(values, { metric: 'trace.http.request.duration' }))).toEqual([]);

    const counts = errorBurst(3, 400, 0, 0);
    counts[200] = 100;
    expect(detectSpikes(series(counts))).toEqual([]);
  });

  it('ignores two adjacent outliers (a regime needs a sustained run)', () => {
    const values = Array.from({ length: 300 }, () => 50);
    values[100] = 500;
    values[101] = 520;
    expect(detectSpikes(series(values))).toEqual([]);
  });

  it('ignores wide noise such as queue depth 35 +- 12', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const r = rng(seed * 31);
      const values = Array.from({ length: 1500 }, () => 35 + Math.round((r() - 0.5) * 24));
      expect(detectSpikes(series(values, { metric: 'queue.depth' }))).toEqual([]);
    }
  });

  it('ignores a diurnal sinusoid with noise over two days', () => {
    const r = rng(21);
    const day = 24 * 60;
    const values = Array.from({ length: 2 * day }, (_, i) => 1000 * (1 + 0.4 * Math.sin((2 * Math.PI * i) / day)) + (r() - 0.5) * 60);
    expect(detectSpikes(series(values, { step: M1, metric: 'trace.http.request.hits' }))).toEqual([]);
  });

  it('ignores a slow +30% drift over three hours at 10 s resolution', () => {
    const r = rng(22);
    const n = 3 * 360;
    const values = Array.from({ length: n }, (_, i) => 0.25 * (1 + (0.3 * i) / n) + (r() - 0.5) * 0.02);
    expect(detectSpikes(series(values, { metric: 'latency.p99' }))).toEqual([]);
  });
});

describe('detectSpikes: regimes', () => {
  it('finds an upward step in error counts with exact onset, peak, baseline and recovery', () => {
    const values = errorBurst(1);
    const s = only(detectSpikes(series(values)));
    expect(s.direction).toBe('up');
    expect(s.shape).toBe('step');
    expect(s.onsetMs).toBe(ts(300));
    expect(s.recoveredAtMs).toBe(ts(480));
    const regime = values.slice(300, 480);
    const max = Math.max(...regime);
    expect(s.peak).toBe(max);
    expect(s.peakMs).toBe(ts(300 + regime.indexOf(max)));
    expect(s.baseline).toBeGreaterThanOrEqual(0);
    expect(s.baseline).toBeLessThanOrEqual(1);
    expect(s.magnitude).toBeGreaterThan(10);
    expect(s.metric).toBe('trace.http.request.errors');
    expect(s.scope).toBe('env:prod,service:checkout-api');
  });

  it('finds a p99 latency step from ~0.25 s to ~5 s', () => {
    const r = rng(5);
    const values = Array.from({ length: 600 }, (_, i) => (i >= 250 && i < 340 ? 4.5 + r() : 0.2 + r() * 0.1));
    const s = only(detectSpikes(series(values, { metric: 'latency.p99' })));
    expect(s.direction).toBe('up');
    expect(s.onsetMs).toBe(ts(250));
    expect(s.recoveredAtMs).toBe(ts(340));
    expect(s.baseline).toBeGreaterThan(0.2);
    expect(s.baseline).toBeLessThan(0.3);
    expect(s.peak).toBeGreaterThan(4.5);
  });

  it('finds a downward step (postgres connections ~80 -> ~22)', () => {
    const r = rng(9);
    const values = Array.from({ length: 500 }, (_, i) => (i >= 200 && i < 290 ? 20 + Math.round(r() * 4) : 78 + Math.round(r() * 4)));
    const s = only(detectSpikes(series(values, { metric: 'postgresql.connections' })));
    expect(s.direction).toBe('down');
    expect(s.shape).toBe('step');
    expect(s.onsetMs).toBe(ts(200));
    expect(s.recoveredAtMs).toBe(ts(290));
    expect(s.peak).toBe(Math.min(...values.slice(200, 290)));
    expect(s.baseline).toBeGreaterThanOrEqual(78);
    expect(s.baseline).toBeLessThanOrEqual(82);
  });

  it('finds a short real spike: queue depth 35 +- 12 rising to ~190 for 4 points', () => {
    const r = rng(13);
    const values = Array.from({ length: 300 }, () => 35 + Math.round((r() - 0.5) * 24));
    for (let i = 180; i < 184; i++) values[i] = 185 + Math.round(r() * 10);
    const s = only(detectSpikes(series(values, { metric: 'queue.depth' })));
    expect(s.onsetMs).toBe(ts(180));
    expect(s.recoveredAtMs).toBe(ts(184));
    expect(s.peak).toBeGreaterThanOrEqual(185);
  });

  it('back-dates a memory-leak ramp to where it left the baseline (10 s and 60 s data)', () => {
    for (const step of [S10, M1]) {
      const { values, rampStart, recoverAt } = memoryLeak(7, step);
      const s = only(detectSpikes(series(values, { step, metric: 'kubernetes.memory.usage' })));
      expect(s.direction).toBe('up');
      expect(s.shape).toBe('ramp');
      expect(Math.abs(s.onsetMs - ts(rampStart, step))).toBeLessThanOrEqual(2 * step);
      expect(s.baseline).toBeGreaterThan(420);
      expect(s.baseline).toBeLessThan(440);
      expect(s.peak).toBeGreaterThan(1390);
      expect(s.recoveredAtMs).toBe(ts(recoverAt, step));
    }
  });

  it('back-dates a downward ramp (connections draining over ten minutes)', () => {
    const r = rng(31);
    const values: number[] = [];
    for (let i = 0; i < 60; i++) values.push(80 + Math.round((r() - 0.5) * 4));
    for (let i = 1; i <= 10; i++) values.push(Math.round(80 - 6 * i + (r() - 0.5) * 4));
    for (let i = 0; i < 20; i++) values.push(20 + Math.round((r() - 0.5) * 4));
    for (let i = 0; i < 30; i++) values.push(80 + Math.round((r() - 0.5) * 4));
    const s = only(detectSpikes(series(values, { step: M1, metric: 'postgresql.connections' })));
    expect(s.direction).toBe('down');
    expect(Math.abs(s.onsetMs - ts(60, M1))).toBeLessThanOrEqual(2 * M1);
    expect(s.recoveredAtMs).toBe(ts(90, M1));
  });

  it('handles nulls, a gap and a null in the middle of the regime', () => {
    const values: Array<number | null> = errorBurst(4);
    const r = rng(17);
    for (let i = 0; i < values.length; i++) if (r() < 0.08 && i !== 300) values[i] = null;
    for (let i = 100; i < 130; i++) values[i] = null; // a five-minute hole in the data
    values[390] = null;
    values[391] = null;
    const s = only(detectSpikes(series(values)));
    expect(s.onsetMs).toBe(ts(300));
    const firstBack = values.findIndex((v, i) => i >= 480 && v !== null);
    expect(s.recoveredAtMs).toBe(ts(firstBack));
  });

  it('handles mixed intervals (10 s, then 60 s) with a step in the coarse part', () => {
    const r = rng(23);
    const points: Array<[number, number | null]> = [];
    for (let i = 0; i < 360; i++) points.push([T0 + i * S10, 0.25 + r() * 0.05]);
    const coarseStart = T0 + 360 * S10;
    for (let i = 0; i < 120; i++) points.push([coarseStart + i * M1, i >= 60 && i < 80 ? 3 + r() : 0.25 + r() * 0.05]);
    const s = only(detectSpikes({ metric: 'latency.p95', scope: '', points }));
    expect(s.onsetMs).toBe(coarseStart + 60 * M1);
    expect(s.recoveredAtMs).toBe(coarseStart + 80 * M1);
  });

  it('handles mixed intervals (mostly 60 s, then 10 s) with a step in the fine part', () => {
    const r = rng(24);
    const points: Array<[number, number | null]> = [];
    for (let i = 0; i < 360; i++) points.push([T0 + i * M1, 80 + Math.round((r() - 0.5) * 4)]);
    const fineStart = T0 + 360 * M1;
    for (let i = 0; i < 120; i++) points.push([fineStart + i * S10, i >= 40 && i < 70 ? 20 + Math.round(r() * 4) : 80 + Math.round((r() - 0.5) * 4)]);
    const s = only(detectSpikes({ metric: 'postgresql.connections', scope: '', points: shuffle(points, 3) }));
    expect(s.direction).toBe('down');
    expect(s.onsetMs).toBe(fineStart + 40 * S10);
    expect(s.recoveredAtMs).toBe(fineStart + 70 * S10);
  });

  it('reports several regimes in chronological order', () => {
    const values = errorBurst(6, 900, 200, 60);
    const r = rng(8);
    for (let i = 600; i < 660; i++) values[i] = 20 + Math.floor(r() * 10);
    const spikes = detectSpikes(series(values));
    expect(spikes.map((s) => s.onsetMs)).toEqual([ts(200), ts(600)]);
    expect(spikes.map((s) => s.recoveredAtMs)).toEqual([ts(260), ts(660)]);
  });

  it('reports a regime still under way at the end of the series with no recovery', () => {
    const values = errorBurst(2, 400, 350, 50);
    const s = only(detectSpikes(series(values)));
    expect(s.onsetMs).toBe(ts(350));
    expect(s.recoveredAtMs).toBeNull();
  });

  it('gives the same result for shuffled input, with duplicated timestamps', () => {
    const { values } = memoryLeak(3);
    const base = series(values, { metric: 'kubernetes.memory.usage' });
    const points = [...base.points, base.points[10]!, base.points[400]!, [ts(50), null] as [number, number | null]];
    const sorted = detectSpikes({ ...base, points });
    expect(sorted).toHaveLength(1);
    expect(detectSpikes({ ...base, points: shuffle(points, 99) })).toEqual(sorted);

    const burst = series(errorBurst(5));
    expect(detectSpikes({ ...burst, points: shuffle(burst.points, 5) })).toEqual(detectSpikes(burst));
  });

  it('finds every regime in 100 diurnal series x 10,000 points', () => {
    const all: MetricSeries[] = [];
    for (let k = 0; k < 100; k++) {
      const r = rng(k + 100);
      const values = Array.from({ length: 10_000 }, (_, i) => {
        const level = 200 * (1 + 0.3 * Math.sin((2 * Math.PI * i) / 8640));
        const inc = i % 2500 >= 2000 && i % 2500 < 2100 ? 5 : 1;
        return level * inc + (r() - 0.5) * (k % 3 === 0 ? 80 : 10);
      });
      all.push(series(values, { metric: `m${k}` }));
    }
    // Speed is measured by `npm run bench`; here only the result on a large input is checked.
    let found = 0;
    for (const s of all) found += detectSpikes(s).length;
    expect(found).toBe(400);
  });
});

describe('detectSpikes: properties', () => {
  it('never reports a regime in bounded noise around a constant', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 0, maxLength: 400 }),
        fc.constantFrom(S10, M1),
        (base, amp, noise, step) => {
          const values = noise.map((u) => base * (1 + amp * u));
          expect(detectSpikes(series(values, { step }))).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never reports a regime in small integer counts (0..2)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 500 }), (values) => {
        expect(detectSpikes(series(values))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('isErrorLikeMetric', () => {
  it('recognises errors, 5xx, latency and saturation metrics', () => {
    for (const name of [
      'trace.http.request.errors',
      'http.5xx',
      'latency.p99',
      'kubernetes.memory.usage',
      'postgresql.connections',
      'kubernetes_state.container.restarts',
      'trace.http.request.duration',
      'system.cpu.user',
      'rabbitmq.queue.messages',
    ]) {
      expect(isErrorLikeMetric(name), name).toBe(true);
    }
  });

  it('does not flag traffic or business metrics', () => {
    for (const name of ['trace.http.request.hits', 'orders.created', 'checkout.flag.enabled']) {
      expect(isErrorLikeMetric(name), name).toBe(false);
    }
  });
});
