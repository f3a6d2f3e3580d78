// The daemon's HTTP server (node:http): a small table of routes, the token check in front of
// them (except the public ones), one log line per request, and upgrade handlers (the websocket).
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { authProblem, describeClient } from './auth.js';
import { log as defaultLog, type LogFields } from './log.js';

export interface Reply {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export type Route = (request: IncomingMessage, url: URL) => Promise<Reply> | Reply;

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpLog {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
}

export interface HttpOptions {
  /** The token clients must send (Authorization: Bearer, or ?token=); null: none asked. */
  token: string | null;
  /** Route keys ('GET /healthz', 'GET /') that need no token (HEAD goes with GET). */
  publicRoutes: Set<string>;
  log?: HttpLog;
}

export function json(value: unknown, status = 200): Reply {
  return { status, type: 'application/json', body: `${JSON.stringify(value, null, 2)}\n` };
}

export function text(body: string, status = 200): Reply {
  return { status, type: 'text/plain; charset=utf-8', body: body.endsWith('\n') ? body : `${body}\n` };
}

/** The JSON error body of refused requests: {"error": {"code", "message"}}. */
export function errorReply(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return { ...json({ error: { code, message } }, status), headers };
}

const unauthorizedMessages = {
  missing: 'this uprez needs a token: send the header "Authorization: Bearer TOKEN" (or ?token=TOKEN in the URL); the token is in its configuration (--token, UPREZ_TOKEN)',
  wrong: 'wrong token: send the token of this uprez\'s configuration (--token, UPREZ_TOKEN)',
};

function unauthorized(problem: 'missing' | 'wrong'): Reply {
  return errorReply(401, 'unauthorized', unauthorizedMessages[problem], { 'www-authenticate': 'Bearer realm="uprez"' });
}

/**
 * Answers an upgrade request with a plain HTTP response (no websocket) and closes the socket.
 * For refusals before or instead of the websocket handshake (401, 404, 503).
 */
export function refuseUpgrade(socket: Duplex, reply: Reply): void {
  socket.on('error', () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  const headers: Record<string, string> = {
    connection: 'close',
    'content-type': reply.type,
    'content-length': String(body.length),
    'cache-control': 'no-store',
    ...reply.headers,
  };
  const head = [`HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  socket.once('finish', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`), body]));
  // A client that does not read its refusal does not keep the socket.
  setTimeout(() => socket.destroy(), 2000).unref();
}

export class HttpService {
  private readonly server: Server;
  private readonly upgrades = new Map<string, UpgradeHandler>();
  private readonly token: string | null;
  private readonly publicRoutes: Set<string>;
  private readonly log: HttpLog;

  constructor(
    private readonly routes: Map<string, Route>,
    private readonly onError: (message: string) => void,
    options: HttpOptions = { token: null, publicRoutes: new Set() },
  ) {
    this.token = options.token;
    this.publicRoutes = options.publicRoutes;
    this.log = options.log ?? defaultLog;
    this.server = createServer((request, response) => void this.handle(request, response));
    // A client that never finishes its request must not hold a socket for ever.
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head));
  }

  /** Upgrade requests on `path` (e.g. '/ws') go to `handler` once their token checks out. */
  onUpgrade(path: string, handler: UpgradeHandler): void {
    this.upgrades.set(path, handler);
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? { host: address.address, port: address.port } : { host, port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private isPublic(method: string, path: string): boolean {
    return this.publicRoutes.has(`${method} ${path}`) || (method === 'HEAD' && this.publicRoutes.has(`GET ${path}`));
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = performance.now();
    const client = describeClient(request);
    let path = '?';
    const refuse = (reply: Reply, reason: string) => {
      refuseUpgrade(socket, reply);
      this.log.warn('http.upgrade-refused', { client, path, status: reply.status, reason, ms: Math.round(performance.now() - started) });
    };
    try {
      path = new URL(request.url ?? '/', 'http://localhost').pathname;
    } catch {
      refuse(errorReply(400, 'bad-request', 'the request URL is not valid'), 'bad-url');
      return;
    }
    const handler = this.upgrades.get(path);
    if (!handler) {
      refuse(errorReply(404, 'not-found', `no websocket at ${path} (it is at /ws)`), 'no-such-path');
      return;
    }
    const problem = authProblem(request, this.token);
    if (problem) {
      refuse(unauthorized(problem), `${problem}-token`);
      return;
    }
    try {
      handler(request, socket, head);
    } catch (error) {
      this.onError((error as Error).message);
      refuse(errorReply(500, 'internal', (error as Error).message), 'internal');
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = request.method ?? 'GET';
    let path = '?';
    let reply: Reply;
    let reason: string | undefined;
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      path = url.pathname;
      const problem = this.isPublic(method, path) ? null : authProblem(request, this.token);
      const key = `${method} ${path}`;
      const route = this.routes.get(key) ?? (method === 'HEAD' ? this.routes.get(`GET ${path}`) : undefined);
      if (problem) {
        reply = unauthorized(problem);
        reason = `${problem}-token`;
      } else if (route) reply = await route(request, url);
      else if ([...this.routes.keys()].some((k) => k.endsWith(` ${path}`))) reply = text('method not allowed', 405);
      else reply = text(`not found: ${path} (try /status, /screen.png, /healthz)`, 404);
    } catch (error) {
      this.onError((error as Error).message);
      reply = text(`internal error: ${(error as Error).message}`, 500);
    }
    // The query string is never logged: it may hold the token.
    const fields = { client: describeClient(request), method, path, status: reply.status, ms: Math.round(performance.now() - started), reason };
    if (reply.status === 401) this.log.warn('http.request', fields);
    else this.log.info('http.request', fields);
    if (response.destroyed) return;
    response.writeHead(reply.status, { 'content-type': reply.type, 'cache-control': 'no-store', ...reply.headers });
    response.end(method === 'HEAD' ? undefined : reply.body);
  }
}
