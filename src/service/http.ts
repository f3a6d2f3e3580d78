// The daemon's HTTP server (node:http): a small table of routes. The websocket and the web
// page (next) add routes and an upgrade handler here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Reply {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export type Route = (request: IncomingMessage, url: URL) => Promise<Reply> | Reply;

export function json(value: unknown, status = 200): Reply {
  return { status, type: 'application/json', body: `${JSON.stringify(value, null, 2)}\n` };
}

export function text(body: string, status = 200): Reply {
  return { status, type: 'text/plain; charset=utf-8', body: body.endsWith('\n') ? body : `${body}\n` };
}

export class HttpService {
  private readonly server: Server;

  constructor(private readonly routes: Map<string, Route>, private readonly onError: (message: string) => void) {
    this.server = createServer((request, response) => void this.handle(request, response));
    // A client that never finishes its request must not hold a socket for ever.
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
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

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const key = `${request.method ?? 'GET'} ${url.pathname}`;
      const route = this.routes.get(key) ?? (request.method === 'HEAD' ? this.routes.get(`GET ${url.pathname}`) : undefined);
      if (route) reply = await route(request, url);
      else if ([...this.routes.keys()].some((k) => k.endsWith(` ${url.pathname}`))) reply = text('method not allowed', 405);
      else reply = text(`not found: ${url.pathname} (try /status, /screen.png, /healthz)`, 404);
    } catch (error) {
      this.onError((error as Error).message);
      reply = text(`internal error: ${(error as Error).message}`, 500);
    }
    response.writeHead(reply.status, { 'content-type': reply.type, 'cache-control': 'no-store', ...reply.headers });
    response.end(request.method === 'HEAD' ? undefined : reply.body);
  }
}
