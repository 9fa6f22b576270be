// Spike detection in metric series: finds every sustained abnormal regime (a step or a ramp away
// from the normal level) and reports when it started, how far it went and when it recovered.
//
// Pure and dependency-free. The algorithm, in one pass over the cleaned series:
//  - clean: drop nulls and non-finite values, sort by time, average duplicated timestamps;
//    the nominal interval is the median gap.
//  - baseline: a trailing robust window (median + MAD) over the last hour (or 30 intervals) of
//    *normal* points, thinned to at most 40 samples, so it follows slow diurnal drift but not a
//    ramp that multiplies the level within tens of minutes. Points of a confirmed regime never
//    enter it, so it is frozen while the regime lasts; runs too short to be a regime are noise
//    and go in once they end. The threshold is widened while the window holds few samples.
//  - abnormal: |x - median| > max(K * scale, REL_MIN * |median|), where the scale has a noise
//    floor: max(1.4826 * MAD, 1% of |median|, one count for integer series / the data quantum).
//  - a regime needs MIN_RUN consecutive abnormal points in one direction spanning at least two
//    intervals (one-point blips never qualify); nulls are simply absent, so they neither break
//    nor extend a run.
//  - onset: the first point of the run for a step; for a gradual build-up the onset is
//    back-dated along the ramp (soft threshold, then a line fit extrapolated to the baseline).
//  - recovery: the first point of RECOVERY_RUN consecutive points back inside the normal band
//    (or of the rest of the series when it ends sooner).

export interface MetricSeries {
  metric: string;
  scope: string;
  /** [epoch ms, value or null]; may be unsorted, contain nulls, duplicates, mixed intervals, gaps */
  points: Array<[number, number | null]>;
}

export interface Spike {
  metric: string;
  scope: string;
  /** timestamp of the first point of the abnormal regime (an actual point timestamp) */
  onsetMs: number;
  peakMs: number;
  /** most extreme value in the regime (max for upward, min for downward) */
  peak: number;
  /** robust level (median) of the normal regime just before the onset */
  baseline: number;
  /** first point of the sustained return to baseline, null if still abnormal at series end */
  recoveredAtMs: number | null;
  direction: 'up' | 'down';
  /** |median(regime) - baseline| / scale, for ranking */
  magnitude: number;
  shape: 'step' | 'ramp';
}

// ---------------------------------------------------------------------------------------------
// Metric names

// Substrings safe to match anywhere in the name ...
const ERROR_LIKE_SUBSTRINGS = [
  'error', 'fail', 'exception', 'panic', 'timeout', 'timedout', 'latency', 'duration',
  'response_time', 'responsetime', 'memory', 'restart', 'queue', 'connection', 'saturat',
  'throttl', 'backlog', 'evict', 'crash', 'reject', 'dropped', 'unavailable', 'deadlock',
];
// ... and short words that must be whole name tokens ("lag", not "flag"; "oom", not "room")
const ERROR_LIKE_TOKENS = new Set([
  'err', 'errs', '5xx', '4xx', 'p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'p9999', 'oom', 'mem', 'rss',
  'heap', 'gc', 'swap', 'iowait', 'lag', 'depth', 'pool', 'pools', 'conn', 'conns', 'inflight',
  'pending', 'waiting', 'killed', 'slow', 'utilization', 'faults', '95p', '99p', '999p',
]);
const ERROR_LIKE_TOKEN_PREFIXES = /^(5\d\d|5xx|cpu|oom|pool|conn|fault)/;

/** true for names suggesting errors, 5xx, failures, latency, or saturation of a resource */
export function isErrorLikeMetric(metric: string): boolean {
  const name = metric.toLowerCase();
  if (ERROR_LIKE_SUBSTRINGS.some((s) => name.includes(s))) return true;
  return name
    .split(/[^a-z0-9]+/)
    .some((t) => t.length > 0 && (ERROR_LIKE_TOKENS.has(t) || ERROR_LIKE_TOKEN_PREFIXES.test(t)));
}

// ---------------------------------------------------------------------------------------------
// Tuning (relative and scale-free; not fitted to any particular incident)

const MIN_POINTS = 8; // fewer points than this: nothing can be said
const MIN_BASE = 8; // baseline samples needed before anything can be called abnormal
const SETTLED_SAMPLES = 20; // below this many baseline samples the threshold is widened
const MAX_SAMPLES = 40; // baseline window size cap (thinned by time beyond this)
const MIN_KEEP = 16; // samples kept even when older than the window span (after long regimes)
const WINDOW_MS = 60 * 60_000; // baseline span: an hour (or 30 intervals for coarse series)
const WINDOW_INTERVALS = 30;
const K = 5; // robust z threshold
const REL_MIN = 0.2; // a change smaller than 20% of the level is never a regime
const REL_SCALE = 0.01; // scale floor: 1% of the level
const SOFT_K = 2; // back-dating: a ramp point has left the baseline when beyond 2 scales
const MIN_TREND_R2 = 0.5; // back-dating extrapolates a build-up only when it is this linear
const MIN_RUN = 3; // consecutive abnormal points to confirm a regime
const MIN_RUN_INTERVALS = 2; // ... spanning at least this many intervals
const RECOVERY_RUN = 3; // consecutive normal points to call a recovery
const MAD_TO_SIGMA = 1.4826;

// ---------------------------------------------------------------------------------------------
// Cleaning

interface Clean {
  t: Float64Array;
  v: Float64Array;
  n: number;
  interval: number;
  absFloor: number;
}

function cleanSeries(points: ReadonlyArray<readonly [number, number | null]>): Clean | null {
  const total = points.length;
  const rawT = new Float64Array(total);
  const rawV = new Float64Array(total);
  let m = 0;
  let sorted = true;
  let allInt = true;
  let prevT = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < total; k++) {
    const p = points[k];
    if (!p) continue;
    const t = p[0];
    const v = p[1];
    if (typeof t !== 'number' || typeof v !== 'number' || !Number.isFinite(t) || !Number.isFinite(v)) continue;
    if (t < prevT) sorted = false;
    prevT = t;
    if (allInt && Math.floor(v) !== v) allInt = false;
    rawT[m] = t;
    rawV[m] = v;
    m++;
  }
  if (m < MIN_POINTS) return null;

  // Order by time, then value, so that averaging duplicates does not depend on input order.
  let st = rawT;
  let sv = rawV;
  if (!sorted) {
    const idx = new Array<number>(m);
    for (let i = 0; i < m; i++) idx[i] = i;
    idx.sort((a, b) => rawT[a]! - rawT[b]! || rawV[a]! - rawV[b]!);
    st = new Float64Array(m);
    sv = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      st[i] = rawT[idx[i]!]!;
      sv[i] = rawV[idx[i]!]!;
    }
  }

  // Average duplicated timestamps, compacting in place.
  const t = st;
  const v = sv;
  let n = 0;
  for (let i = 0; i < m; ) {
    const ti = st[i]!;
    let j = i + 1;
    while (j < m && st[j]! === ti) j++;
    let val = sv[i]!;
    if (j - i > 1) {
      const group = Array.from(sv.subarray(i, j)).sort((a, b) => a - b);
      let sum = 0;
      for (const g of group) sum += g;
      val = sum / group.length;
    }
    t[n] = ti;
    v[n] = val;
    n++;
    i = j;
  }
  if (n < MIN_POINTS) return null;

  const interval = medianGap(t, n);
  if (!(interval > 0)) return null;

  // Noise floor in absolute units: one count for integer series; for real-valued series the data
  // quantum (a low quantile of the non-zero steps) when there are enough of them.
  let maxAbs = 0;
  for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(v[i]!));
  let absFloor: number;
  if (allInt) {
    absFloor = 1;
  } else {
    // (on at most ~2,000 evenly spread steps: a floor need not be exact)
    const every = Math.max(1, Math.ceil((n - 1) / 2048));
    const steps = new Float64Array(Math.ceil((n - 1) / every));
    let ns = 0;
    let seenSteps = 0;
    for (let i = 1; i < n; i += every) {
      seenSteps++;
      const d = Math.abs(v[i]! - v[i - 1]!);
      if (d > 0) steps[ns++] = d;
    }
    const quantum = ns >= Math.max(10, seenSteps / 10) ? quantile(steps.subarray(0, ns), 0.1) : 0;
    absFloor = Math.max(quantum, 1e-9 * maxAbs, Number.MIN_VALUE);
  }
  return { t: t.subarray(0, n), v: v.subarray(0, n), n, interval, absFloor };
}

// ---------------------------------------------------------------------------------------------
// Order statistics

/** median of the gaps between consecutive times t[0..n); O(n) */
function medianGap(t: Float64Array, n: number): number {
  // Usually one interval dominates: a Boyer-Moore majority vote finds it without sorting
  // (a value held by more than half of the gaps is their median).
  let cand = 0;
  let votes = 0;
  for (let i = 1; i < n; i++) {
    const g = t[i]! - t[i - 1]!;
    if (votes === 0) {
      cand = g;
      votes = 1;
    } else if (g === cand) votes++;
    else votes--;
  }
  let count = 0;
  for (let i = 1; i < n; i++) if (t[i]! - t[i - 1]! === cand) count++;
  if (count * 2 > n - 1) return cand;
  const gaps = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) gaps[i - 1] = t[i]! - t[i - 1]!;
  return quantile(gaps, 0.5);
}

/** q-quantile (nearest-rank with linear interpolation) of a scratch array; reorders it */
function quantile(a: Float64Array, q: number): number {
  const n = a.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const vlo = select(a, lo);
  if (hi === lo) return vlo;
  // after select, elements above lo are >= a[lo]; the next order statistic is their minimum
  let vhi = Number.POSITIVE_INFINITY;
  for (let i = lo + 1; i < n; i++) if (a[i]! < vhi) vhi = a[i]!;
  return vlo + (vhi - vlo) * (pos - lo);
}

/** k-th smallest (0-based) by quickselect, in place, O(n) expected */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    const mid = (left + right) >> 1;
    // median of three pivot
    const x = a[left]!;
    const y = a[mid]!;
    const z = a[right]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]!;
  }
  return a[k]!;
}

function medianOf(values: ArrayLike<number>): number {
  return quantile(Float64Array.from(values), 0.5);
}

function madOf(values: ArrayLike<number>, med: number): number {
  const d = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) d[i] = Math.abs(values[i]! - med);
  return quantile(d, 0.5);
}

// ---------------------------------------------------------------------------------------------
// Trailing baseline window: sorted values for the median, a ring in time order for eviction.

class BaselineWindow {
  private readonly sorted = new Float64Array(MAX_SAMPLES + 1);
  private readonly ringT = new Float64Array(MAX_SAMPLES + 1);
  private readonly ringV = new Float64Array(MAX_SAMPLES + 1);
  private head = 0;
  size = 0;
  lastAddT = Number.NEGATIVE_INFINITY;
  /** bumped on every change, so callers can cache what they derive from the window */
  version = 0;
  private madCache = 0;
  private changesSinceMad = Number.POSITIVE_INFINITY;

  add(t: number, v: number): void {
    const cap = this.ringT.length;
    const pos = (this.head + this.size) % cap;
    this.ringT[pos] = t;
    this.ringV[pos] = v;
    // insert into the sorted array
    const a = this.sorted;
    let k = this.size;
    while (k > 0 && a[k - 1]! > v) {
      a[k] = a[k - 1]!;
      k--;
    }
    a[k] = v;
    this.size++;
    this.lastAddT = t;
    this.version++;
    this.changesSinceMad++;
  }

  /** add (t, v) and evict the oldest sample in one pass (the window stays the same size) */
  replaceOldest(t: number, v: number): void {
    const cap = this.ringT.length;
    const old = this.ringV[this.head]!;
    this.head = (this.head + 1) % cap;
    const pos = (this.head + this.size - 1) % cap;
    this.ringT[pos] = t;
    this.ringV[pos] = v;
    const a = this.sorted;
    const n = this.size;
    let k = this.lowerBound(old);
    if (v > old) {
      while (k + 1 < n && a[k + 1]! < v) {
        a[k] = a[k + 1]!;
        k++;
      }
    } else {
      while (k > 0 && a[k - 1]! > v) {
        a[k] = a[k - 1]!;
        k--;
      }
    }
    a[k] = v;
    this.lastAddT = t;
    this.version++;
    this.changesSinceMad++;
  }

  oldestT(): number {
    return this.ringT[this.head]!;
  }

  evictOldest(): void {
    const v = this.ringV[this.head]!;
    this.head = (this.head + 1) % this.ringT.length;
    const a = this.sorted;
    const n = this.size;
    for (let k = this.lowerBound(v) + 1; k < n; k++) a[k - 1] = a[k]!;
    this.size--;
    this.version++;
    this.changesSinceMad++;
  }

  median(): number {
    const n = this.size;
    const h = n >> 1;
    return n % 2 === 1 ? this.sorted[h]! : (this.sorted[h - 1]! + this.sorted[h]!) / 2;
  }

  /**
   * Median absolute deviation, O(size) by merging the two sorted halves around the median.
   * A noise estimate moves slowly: it is refreshed once an eighth of the window has changed.
   */
  mad(): number {
    if (this.changesSinceMad < Math.max(1, this.size >> 3)) return this.madCache;
    const n = this.size;
    const a = this.sorted;
    const m = this.median();
    let j = this.lowerBound(m);
    let i = j - 1;
    const k1 = (n - 1) >> 1;
    const k2 = n >> 1;
    let d1 = 0;
    let d2 = 0;
    for (let r = 0; r <= k2; r++) {
      let d: number;
      if (i < 0) d = a[j++]! - m;
      else if (j >= n) d = m - a[i--]!;
      else {
        const dl = m - a[i]!;
        const dr = a[j]! - m;
        if (dl <= dr) {
          d = dl;
          i--;
        } else {
          d = dr;
          j++;
        }
      }
      if (r === k1) d1 = d;
      if (r === k2) d2 = d;
    }
    this.madCache = (d1 + d2) / 2;
    this.changesSinceMad = 0;
    return this.madCache;
  }

  /** values of the samples taken strictly before time t */
  valuesBefore(t: number): number[] {
    const out: number[] = [];
    const cap = this.ringT.length;
    for (let k = 0; k < this.size; k++) {
      const pos = (this.head + k) % cap;
      if (this.ringT[pos]! < t) out.push(this.ringV[pos]!);
    }
    return out;
  }

  private lowerBound(v: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// ---------------------------------------------------------------------------------------------
// Detection

interface Level {
  base: number;
  scale: number;
  thr: number;
}

function levelOf(base: number, mad: number, absFloor: number, samples: number): Level {
  const scale = Math.max(MAD_TO_SIGMA * mad, REL_SCALE * Math.abs(base), absFloor);
  // few samples give a shaky median and MAD: widen the band until the window has filled up
  const k = K * Math.sqrt(Math.max(1, SETTLED_SAMPLES / samples));
  return { base, scale, thr: Math.max(k * scale, REL_MIN * Math.abs(base)) };
}

/** median gap around index i: the local sampling interval (series may mix intervals) */
function localInterval(c: Clean, i: number): number {
  const gaps: number[] = [];
  for (let k = Math.max(1, i - 4); k <= Math.min(c.n - 1, i + 4); k++) gaps.push(c.t[k]! - c.t[k - 1]!);
  return gaps.length ? medianOf(gaps) : c.interval;
}

/**
 * Onset of a regime whose first abnormal point is s: s itself for a step; for a gradual build-up
 * the point where the ramp left the baseline (never before `lower`).
 */
function backDate(c: Clean, s: number, dir: number, lvl: Level, lower: number): number {
  const { t, v } = c;
  if (s <= lower) return s;
  const dev = dir * (v[s]! - lvl.base);
  const jump = dir * (v[s]! - v[s - 1]!);
  if (jump >= 0.5 * dev) return s; // the regime arrived in one step
  const soft = SOFT_K * lvl.scale;
  // Walk back along the build-up while it stays beyond the soft threshold (a single noisy
  // point back inside does not stop the walk; two in a row do).
  let j0 = s;
  for (let j = s - 1, misses = 0; j >= lower && misses < 2; j--) {
    if (dir * (v[j]! - lvl.base) > soft) {
      j0 = j;
      misses = 0;
    } else misses++;
  }
  if (j0 === s) return s;
  // Line fit over the build-up (j0..s), extrapolated back to the baseline.
  const cnt = s - j0 + 1;
  let mt = 0;
  let mv = 0;
  for (let k = j0; k <= s; k++) {
    mt += t[k]! - t[j0]!;
    mv += v[k]!;
  }
  mt /= cnt;
  mv /= cnt;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = j0; k <= s; k++) {
    const dt = t[k]! - t[j0]! - mt;
    const dv = v[k]! - mv;
    sxy += dt * dv;
    sxx += dt * dt;
    syy += dv * dv;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  // Extrapolate only along a clear trend (a noisy plateau is not a ramp).
  if (!(dir * slope > 0) || sxy * sxy < MIN_TREND_R2 * sxx * syy) return j0;
  const tStar = t[j0]! + mt + (lvl.base - mv) / slope; // where the line meets the baseline
  const half = 0.5 * localInterval(c, j0);
  const lo = Math.max(lower, j0 - Math.max(3, s - j0));
  let o = j0;
  while (o - 1 >= lo && t[o - 1]! > tStar + half) o--;
  return o;
}

function detect(c: Clean, series: MetricSeries): Spike[] {
  const { t, v, n, absFloor } = c;
  const spanMs = Math.max(WINDOW_MS, WINDOW_INTERVALS * c.interval);
  // samples in the window: one per interval, thinned to one per stride when that is too many
  const cap = Math.min(MAX_SAMPLES, Math.max(2 * MIN_BASE, Math.round(spanMs / c.interval)));
  const stride = spanMs / cap;
  const win = new BaselineWindow();
  const spikes: Spike[] = [];

  /** offer a normal point to the baseline window */
  const sample = (ts: number, x: number): void => {
    // The window rolls by count (thinned to one sample per stride); after a long regime or a
    // hole in the data, samples far older than its span are dropped as well.
    if (win.size < cap) win.add(ts, x);
    else if (ts - win.lastAddT >= stride) win.replaceOldest(ts, x);
    while (win.size > MIN_KEEP && win.oldestT() < ts - 2 * spanMs) win.evictOldest();
  };

  let lower = 0; // onsets are never back-dated before the previous recovery
  let runStart = -1;
  let runDir = 0;
  let runMinSpan = 0;
  // what the current window implies, refreshed when the window changes
  let seen = -1;
  let base = 0;
  let floorThr = 0; // lower bound of the threshold, known without the MAD
  let thr = -1; // the threshold itself, once needed (-1: not computed for this window yet)
  let i = 0;
  while (i < n) {
    const x = v[i]!;
    const ti = t[i]!;
    let dir = 0;
    if (win.size >= MIN_BASE) {
      if (win.version !== seen) {
        seen = win.version;
        base = win.median();
        floorThr = Math.max(REL_MIN * Math.abs(base), K * Math.max(REL_SCALE * Math.abs(base), absFloor));
        thr = -1;
      }
      const dev = x - base;
      if (dev > floorThr || -dev > floorThr) {
        if (thr < 0) thr = levelOf(base, win.mad(), absFloor, win.size).thr;
        if (Math.abs(dev) > thr) dir = dev > 0 ? 1 : -1;
      }
    }

    if (dir === 0) {
      // A run too short to be a regime was noise after all: it belongs to the baseline
      // (leaving it out would bias the window towards the middle of its own noise).
      if (runStart >= 0) for (let k = runStart; k < i; k++) sample(t[k]!, v[k]!);
      runStart = -1;
      runDir = 0;
      sample(ti, x);
      i++;
      continue;
    }

    if (runStart < 0 || dir !== runDir) {
      if (runStart >= 0) for (let k = runStart; k < i; k++) sample(t[k]!, v[k]!);
      runStart = i;
      runDir = dir;
      runMinSpan = MIN_RUN_INTERVALS * localInterval(c, runStart) * 0.9;
    }
    if (i - runStart + 1 < MIN_RUN || ti - t[runStart]! < runMinSpan) {
      i++;
      continue;
    }

    // Confirmed regime starting (at the latest) at runStart.
    const s = runStart;
    const d = runDir;
    let level = levelOf(win.median(), win.mad(), absFloor, win.size);
    let onset = backDate(c, s, d, level, lower);
    // Ramp points before the threshold crossing may have entered the baseline: re-estimate it
    // from the samples before the onset and back-date again.
    for (let iter = 0; iter < 2 && onset < s; iter++) {
      const before = win.valuesBefore(t[onset]!);
      if (before.length < Math.min(MIN_BASE, win.size)) break;
      const base = medianOf(before);
      const refined = levelOf(base, madOf(before, base), absFloor, before.length);
      if (refined.base === level.base && refined.scale === level.scale) break;
      level = refined;
      const next = backDate(c, s, d, level, lower);
      if (next >= onset) break;
      onset = next;
    }

    // Forward: the regime lasts while points stay abnormal in direction d; it ends with
    // RECOVERY_RUN consecutive points that are not (or with the end of the series).
    let lastAbn = s;
    let normalRun = 0;
    let recovery = -1;
    for (let j = s + 1; j < n; j++) {
      if (d * (v[j]! - level.base) > level.thr) {
        lastAbn = j;
        normalRun = 0;
      } else if (++normalRun >= RECOVERY_RUN) {
        recovery = lastAbn + 1;
        break;
      }
    }
    if (recovery < 0 && lastAbn < n - 1) recovery = lastAbn + 1;

    let peakIdx = onset;
    for (let j = onset; j <= lastAbn; j++) if (d * (v[j]! - v[peakIdx]!) > 0) peakIdx = j;
    const regime = v.slice(onset, lastAbn + 1);
    const regimeMedian = quantile(Float64Array.from(regime), 0.5);

    // Shape: a ramp takes several points to get halfway to the regime's typical extreme.
    const devs = new Float64Array(regime.length);
    for (let k = 0; k < regime.length; k++) devs[k] = d * (regime[k]! - level.base);
    const high = quantile(devs, 0.9);
    let rise = onset;
    while (rise < lastAbn && d * (v[rise]! - level.base) < 0.5 * high) rise++;
    const ramp = rise - onset >= 4 && t[rise]! - t[onset]! >= 3 * localInterval(c, onset);

    spikes.push({
      metric: series.metric,
      scope: series.scope,
      onsetMs: t[onset]!,
      peakMs: t[peakIdx]!,
      peak: v[peakIdx]!,
      baseline: level.base,
      recoveredAtMs: recovery >= 0 ? t[recovery]! : null,
      direction: d > 0 ? 'up' : 'down',
      magnitude: Math.abs(regimeMedian - level.base) / level.scale,
      shape: ramp ? 'ramp' : 'step',
    });

    if (recovery < 0) break;
    i = recovery;
    lower = recovery;
    runStart = -1;
    runDir = 0;
  }
  return spikes;
}

/** every sustained abnormal regime in the series, chronological */
export function detectSpikes(series: MetricSeries): Spike[] {
  const c = cleanSeries(series.points ?? []);
  if (!c) return [];
  return detect(c, series);
}
