// The README's picture of the demo incident: the HTML report of examples/sample-incident as
// headless Chromium (Debian's package) renders it, from the top of the page to the end of its
// first metric chart.
//
//   npm run build && node scripts/screenshot-demo.mjs [OUT.png]     (default docs/img/demo-report.png)
//
// HINDSIGHT_CHROMIUM overrides the browser path (default /usr/bin/chromium).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.HINDSIGHT_CHROMIUM ?? '/usr/bin/chromium';
const OUT = resolve(process.argv[2] ?? join(ROOT, 'docs', 'img', 'demo-report.png'));
const WIDTH = 1000;
const CLI = join(ROOT, 'dist', 'cli.js');

if (!existsSync(CLI)) fail('dist/cli.js is missing: run `npm run build` first');
if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium, or set HINDSIGHT_CHROMIUM)`);

const work = mkdtempSync(join(tmpdir(), 'hindsight-shot-'));
try {
  execFileSync(process.execPath, [CLI, 'demo', '--out-dir', work], { stdio: 'ignore', env: { ...process.env, HINDSIGHT_HOME: join(work, 'home') } });
  const page = join(work, 'postmortem.html');
  // The window is cut where the first chart's caption ends: a first, tall shot finds it.
  const tall = shoot(page, 2400, 'tall.png');
  const height = Math.min(2400, firstChartBottom(tall) + 28);
  const shot = shoot(page, height, 'shot.png');
  mkdirSync(dirname(OUT), { recursive: true });
  copyFileSync(shot, OUT);
  process.stdout.write(`wrote ${OUT} (${WIDTH}×${height})\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function shoot(page, height, name) {
  const png = join(work, name);
  execFileSync(
    CHROMIUM,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--force-device-scale-factor=1',
      `--user-data-dir=${join(work, `profile-${name}`)}`, `--window-size=${WIDTH},${height}`, `--screenshot=${png}`, `file://${page}`,
    ],
    { stdio: 'ignore', timeout: 60_000 },
  );
  return png;
}

/** The last row of the first chart's figure: below the frame's bottom edge (a long horizontal run), its axis labels and caption. */
function firstChartBottom(path) {
  const img = readPng(readFileSync(path));
  // grey-blue, possibly lightened by anti-aliasing; the grid (#edf0f4) is lighter still
  const isFrame = ([r, g, b]) => Math.max(r, g, b) < 225 && b >= r && b - r < 40 && Math.abs(r - g) < 20;
  const rows = [];
  for (let y = 0; y < img.height; y++) {
    let run = 0;
    let best = 0;
    for (let x = 0; x < img.width; x++) {
      run = isFrame(img.pixel(x, y)) ? run + 1 : 0;
      if (run > best) best = run;
    }
    if (best > img.width / 2) rows.push(y);
  }
  if (rows.length < 2) fail('no chart found on the page');
  // top and bottom edges of the first frame; the caption sits about 70 px under the bottom edge
  const top = rows[0];
  const bottom = rows.find((y) => y - top > 100) ?? rows[rows.length - 1];
  let end = bottom + 20;
  // extend through the caption: stop at the first 24 blank rows
  let blank = 0;
  for (let y = bottom + 1; y < img.height && blank < 24; y++) {
    let ink = false;
    for (let x = 0; x < img.width && !ink; x++) {
      const [r, g, b] = img.pixel(x, y);
      ink = r + g + b < 600;
    }
    blank = ink ? 0 : blank + 1;
    if (ink) end = y;
  }
  return end;
}

/** 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes) -> pixel reader. */
function readPng(buf) {
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0 || (data[9] !== 2 && data[9] !== 6)) fail('unsupported PNG from the browser');
      channels = data[9] === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[row + i - channels] : 0;
      const b = y > 0 ? out[row - stride + i] : 0;
      const c = i >= channels && y > 0 ? out[row - stride + i - channels] : 0;
      const x = raw[src + i];
      let v;
      if (filter === 0) v = x;
      else if (filter === 1) v = x + a;
      else if (filter === 2) v = x + b;
      else if (filter === 3) v = x + ((a + b) >> 1);
      else {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      out[row + i] = v & 0xff;
    }
  }
  return { width, height, pixel: (x, y) => [...out.subarray(y * stride + x * channels, y * stride + x * channels + 3)] };
}

function fail(message) {
  process.stderr.write(`screenshot-demo: ${message}\n`);
  process.exit(1);
}
