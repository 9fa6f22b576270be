// After tsc: make the CLI executable, and drop compiled files whose source is gone (tsc never
// deletes), so a packed or copied dist/ holds only what src/ compiles to.
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
const src = fileURLToPath(new URL('../src', import.meta.url));
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
  const file = join(entry.parentPath ?? entry.path, entry.name);
  const stem = file.slice(dist.length + 1, -'.js'.length);
  if (!['.ts', '.mts', '.js'].some((ext) => existsSync(join(src, stem + ext)))) rmSync(file);
}
chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);
