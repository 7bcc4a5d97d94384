/**
 * Where the collector's CPU goes, from a V8 profile written by `node --cpu-prof` (the benchmark
 * makes one with --cpu-prof DIR):
 *
 *   npx tsx bench/profile-summary.ts DIR/CPU.*.cpuprofile [--top 25]
 *
 * Prints self time grouped by package or source area (ssh2, kysely, better-sqlite3, zod,
 * fleetstat's own src/…, node internals, garbage collection, idle) and the top functions.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A readable group for a script URL: the npm package, fleetstat's src dir, or node itself. */
export function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(idle)') return '(idle: waiting on I/O)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program: native, not attributed)';
    return `(native) ${functionName}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(?:dist|src)\/([^/]+)\//.exec(url);
  if (own) return `fleetstat ${own[1]}/`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  return url;
}

/** Self milliseconds per area and per function. */
export function summarize(profile: CpuProfile): {
  total: number;
  areas: [string, number][];
  functions: [string, number][];
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byId.get(id)!.callFrame;
    total += ms;
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const fn = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  });
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { total, areas: sorted(areas), functions: sorted(functions) };
}

function main(): void {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  const [path] = positionals;
  if (!path) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N]');
  const { total, areas, functions } = summarize(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile);
  const busy = total - (areas.find(([a]) => a.startsWith('(idle'))?.[1] ?? 0);
  console.log(`profile: ${(total / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy`);
  console.log('\nself time by area (share of busy time):');
  for (const [area, ms] of areas)
    if (!area.startsWith('(idle'))
      console.log(
        `  ${(ms / 1000).toFixed(3).padStart(7)} s  ${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${area}`,
      );
  console.log(`\ntop ${values.top} functions by self time:`);
  for (const [fn, ms] of functions.filter(([f]) => !f.startsWith('(idle)')).slice(0, Number(values.top))) {
    console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${fn}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
