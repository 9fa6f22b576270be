// Renders every outage under gen/ into <slug>/bundle.json and <slug>/expected.json (deterministic).
// Usage: node test/outages-tools/build.mjs SET_DIR   (e.g. test/outages-2)
import { mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const here = process.argv[2] ? join(process.cwd(), process.argv[2]) : (console.error('usage: build.mjs SET_DIR'), process.exit(2));
const mods = readdirSync(join(here, 'gen')).filter((f) => f.endsWith('.mjs') && f !== 'lib.mjs').sort();
for (const f of mods) {
  const m = await import(pathToFileURL(join(here, 'gen', f)).href);
  const { bundle, expected } = m.build();
  const dir = join(here, m.slug);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify(bundle, null, 1).replace(/\[\n\s*(-?[\d.e+]+),\n\s*(-?[\d.e+]+|null)\n\s*\]/g, '[$1, $2]') + '\n');
  writeFileSync(join(dir, 'expected.json'), JSON.stringify(expected, null, 2) + '\n');
  console.log(`${m.slug}: ${JSON.stringify(expected.trigger)}`);
}
