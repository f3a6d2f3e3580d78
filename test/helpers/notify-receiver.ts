// A real sd_notify receiver for tests: a unix datagram socket (Node has none, so a
// few lines of Python's standard library) that collects every message it gets.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const receiverScript = `
import socket, sys
name = sys.argv[1]
address = "\\0" + name[1:] if name.startswith("@") else name
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(address)
print("LISTENING", flush=True)
while True:
    data = s.recv(4096)
    for line in data.decode().split("\\n"):
        print(line, flush=True)
`;

export class NotifyReceiver {
  readonly messages: string[] = [];
  private readonly waiters: { message: string; resolve: () => void }[] = [];

  private constructor(readonly socketName: string, private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.messages.push(line);
      for (const waiter of this.waiters.filter((w) => w.message === line)) waiter.resolve();
    });
  }

  /** `socketName`: a path, or '@name' for the abstract namespace. */
  static async start(socketName: string): Promise<NotifyReceiver> {
    const child = spawn('python3', ['-c', receiverScript, socketName], { stdio: ['ignore', 'pipe', 'inherit'] });
    const receiver = new NotifyReceiver(socketName, child);
    await receiver.waitFor('LISTENING');
    return receiver;
  }

  waitFor(message: string): Promise<void> {
    if (this.messages.includes(message)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ message, resolve }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill();
    await once(this.child, 'exit');
  }
}
