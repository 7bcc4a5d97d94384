// Copies the probe scripts and web assets next to the compiled JavaScript: tsc ships only .ts output.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const assets = [/\.sh$/, /\.ps1$/, /\.css$/, /\.js$/, /\.html$/];
for (const dir of ['probe', 'web/assets']) {
  const from = join(root, 'src', dir);
  let names;
  try {
    names = readdirSync(from);
  } catch {
    continue;
  }
  mkdirSync(join(root, 'dist', dir), { recursive: true });
  for (const name of names) {
    if (assets.some((re) => re.test(name)) && !name.endsWith('.d.ts'))
      cpSync(join(from, name), join(root, 'dist', dir, name));
  }
}
