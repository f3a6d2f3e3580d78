// A websocket client of the daemon's protocol (docs/protocol.md) for tests and benchmarks:
// keeps every message it gets, and waits for a reply by request id or for any message.
import { WebSocket } from 'ws';

export type Message = Record<string, any>;

export class WsClient {
  readonly messages: Message[] = [];
  readonly events: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Whether messages are kept (in `messages` and `events`): a long-running client may only count them. */
  keepMessages = true;
  private waiters: { check: (m: Message) => boolean; resolve: (m: Message) => void; reject: (e: Error) => void }[] = [];
  /** Why the connection closed (then every wait fails at once with it). */
  private closedWith: string | null = null;
  private listeners: ((m: Message) => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString()) as Message;
      if (this.keepMessages) {
        if ('event' in message) this.events.push(message);
        else this.messages.push(message);
      }
      for (const listener of this.listeners) listener(message);
      for (const waiter of [...this.waiters]) {
        if (waiter.check(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      this.closedWith = `the connection closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`;
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(this.closedWith));
      resolve({ code, reason: reason.toString() });
    }));
    ws.on('error', () => {});
  }

  /** Calls `listener` with every message from now on. */
  onMessage(listener: (m: Message) => void): void {
    this.listeners.push(listener);
  }

  /** The first message (kept, or to come) for which `check` is true. */
  wait(check: (m: Message) => boolean, what: string, timeoutMs = 30_000): Promise<Message> {
    const found = this.messages.find(check) ?? this.events.find(check);
    if (found) return Promise.resolve(found);
    if (this.closedWith) return Promise.reject(new Error(`${this.closedWith} before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.check !== check);
        reject(new Error(`timed out waiting for ${what}; last messages: ${JSON.stringify(this.messages.slice(-5))}`));
      }, timeoutMs);
      this.waiters.push({
        check,
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(new Error(`${e.message} before ${what}`)); },
      });
    });
  }

  reply(id: unknown, timeoutMs?: number): Promise<Message> {
    return this.wait((m) => 'ok' in m && m.id === id, `the reply to ${JSON.stringify(id)}`, timeoutMs);
  }

  /** Sends a request and resolves with its reply. */
  request(request: Message, timeoutMs?: number): Promise<Message> {
    this.ws.send(JSON.stringify(request));
    return this.reply(request.id, timeoutMs);
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens `ws://.../ws` with the token (if any) in the Authorization header. */
export function openWs(url: string, token: string | null = null): Promise<WsClient> {
  const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : undefined, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(new WsClient(ws)));
    ws.once('unexpected-response', (_request, response) => reject(new Error(`the upgrade was refused: HTTP ${response.statusCode}`)));
    ws.once('error', reject);
  });
}
