// Renders every outage under gen/ into <slug>/bundle.json and <slug>/expected.json (deterministic).
// Usage: node test/outages-3/build.mjs
import { mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
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
