// Remote clients' token: where a request carries it, and a comparison that does not leak it.
// The token itself is never logged; describeClient says who asked, for the logs.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The token a request carries: `Authorization: Bearer TOKEN`, else the query `?token=TOKEN`
 * (browsers cannot set headers on a websocket). null when it has none.
 */
export function tokenFrom(request: IncomingMessage): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const url = request.url ?? '';
  const query = url.indexOf('?');
  if (query >= 0) {
    let token: string | null = null;
    try {
      token = new URLSearchParams(url.slice(query + 1)).get('token');
    } catch {
      token = null;
    }
    if (token !== null && token !== '') return token;
  }
  return null;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether `given` is `expected`, in time that depends on neither (both are hashed first, so
 * even their lengths do not show in the timing).
 */
export function checkToken(given: string | null, expected: string): boolean {
  // A missing token is compared too, so that "missing" and "wrong" take the same time.
  return timingSafeEqual(digest(given ?? ''), digest(expected)) && given !== null;
}

/** Who a request came from, for logs: the remote address and port (never a header value). */
export function describeClient(request: IncomingMessage): string {
  const socket = request.socket;
  const address = socket?.remoteAddress ?? 'unknown';
  const host = address.startsWith('::ffff:') ? address.slice(7) : address;
  const port = socket?.remotePort;
  if (port === undefined) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Why a request is refused, for the log and the reply (null: it may pass). */
export function authProblem(request: IncomingMessage, expected: string | null): 'missing' | 'wrong' | null {
  if (expected === null) return null;
  const given = tokenFrom(request);
  if (checkToken(given, expected)) return null;
  return given === null ? 'missing' : 'wrong';
}
