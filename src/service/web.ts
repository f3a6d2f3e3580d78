// The web page (GET /): three static files shipped in src/service/web/, read once when the routes
// are made. They are public (the page asks for the token itself and sends it on /ws and /screen.png);
// nothing else is served from that folder.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reply, Route } from './http.js';
import { repoRoot } from './paths.js';

/** The page's files: in the source tree, also when the compiled daemon runs from dist/. */
export const webDir = join(repoRoot, 'src', 'service', 'web');

const pageFiles: { path: string; file: string; type: string }[] = [
  { path: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: '/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { path: '/style.css', file: 'style.css', type: 'text/css; charset=utf-8' },
];

// The page loads only its own script and style, shows captures as blob: URLs and talks to /ws.
const securityHeaders: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; "
    + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Routes keyed as HttpService wants them: 'GET /', 'GET /app.js', 'GET /style.css'. */
export function webRoutes(dir = webDir): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const { path, file, type } of pageFiles) {
    let body: Buffer;
    try {
      body = readFileSync(join(dir, file));
    } catch (error) {
      throw new Error(`the web page's ${file} cannot be read in ${dir} (${(error as Error).message}): the installation is incomplete; reinstall uprez or run it from its repository`);
    }
    const reply: Reply = { status: 200, type, body, headers: securityHeaders };
    routes.set(`GET ${path}`, () => reply);
  }
  return routes;
}
