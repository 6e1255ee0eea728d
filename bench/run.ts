/**
 * `npm run bench -- NAME [args]` runs `bench/NAME.ts`, which prints one JSON object per line:
 * `{"bench","case","value","unit","baseline","baselineValue","ratio"}` (see bench/report.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'report.ts'].includes(f) && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3));

if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME   (one of: ${available.join(', ')})`);
  process.exit(name ? 1 : 0);
}
const file = join(here, `${name}.ts`);
if (!existsSync(file)) throw new Error(`no benchmark ${file}`);
process.argv.splice(2, 1);
const mod = await import(pathToFileURL(file).href);
if (typeof mod.main === 'function') await mod.main(process.argv.slice(2));
