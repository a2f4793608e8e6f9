import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

// The web console: a few static files (no build step), read once at start and served from memory.
const publicDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'public');
const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
// Scripts and styles only from here; data only from this API; no framing.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export const consoleRoutes: FastifyPluginAsync = async (app) => {
  const files = new Map(
    readdirSync(publicDir)
      .filter((name) => contentTypes[path.extname(name)] !== undefined)
      .map((name) => [name, readFileSync(path.join(publicDir, name))]),
  );
  const serve = (name: string, reply: FastifyReply) => {
    const body = files.get(name);
    if (!body) return reply.callNotFound();
    return reply
      .type(contentTypes[path.extname(name)]!)
      .header('cache-control', name === 'index.html' ? 'no-cache' : 'public, max-age=300')
      .header('content-security-policy', contentSecurityPolicy)
      .send(body);
  };
  const options = { config: { access: 'public' as const }, schema: { hide: true } };
  app.get('/', options, async (_request, reply) => serve('index.html', reply));
  app.get<{ Params: { file: string } }>('/console/:file', options, async (request, reply) => serve(request.params.file, reply));
};
