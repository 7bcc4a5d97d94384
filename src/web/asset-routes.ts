/**
 * Static files of the dashboard: our own CSS and page scripts (src/web/assets, copied to
 * dist/web/assets by the build) and uPlot's from its package. A fixed list read once at start:
 * no path from a request ever reaches the file system.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const OWN_ASSETS = ['style.css', 'host-charts.js'];
const UPLOT_ASSETS = ['uPlot.iife.min.js', 'uPlot.min.css'];

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

function uplotDistDir(): string {
  // uPlot has no "exports" map, so its package.json resolves and dist/ sits next to it.
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('uplot/package.json')), 'dist');
}

/** Reads every asset and serves each at /assets/<name>. Throws at start if one is missing. */
export async function registerAssetRoutes(app: FastifyInstance): Promise<void> {
  const ownDir = join(dirname(fileURLToPath(import.meta.url)), 'assets');
  const files = [
    ...OWN_ASSETS.map((name) => ({ name, path: join(ownDir, name) })),
    ...UPLOT_ASSETS.map((name) => ({ name, path: join(uplotDistDir(), name) })),
  ];
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const file of files) {
    const type = CONTENT_TYPES[file.name.slice(file.name.lastIndexOf('.'))]!;
    assets.set(file.name, { body: await readFile(file.path), type });
  }
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const asset = assets.get(request.params.name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('no such asset\n');
    return reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(asset.body);
  });
}

/** True for paths of static assets (served without credentials: they hold no data). */
export function isAssetPath(path: string): boolean {
  return path.startsWith('/assets/');
}
