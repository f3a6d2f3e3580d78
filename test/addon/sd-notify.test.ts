import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { sdNotify } from 'node-drm-gbm-egl';
import { NotifyReceiver } from '../helpers/notify-receiver.js';

t.test('sdNotify is a no-op returning false when NOTIFY_SOCKET is unset', async (t) => {
  delete process.env.NOTIFY_SOCKET;
  t.equal(sdNotify('READY=1'), false);
});

for (const kind of ['path', 'abstract'] as const) {
  t.test(`sdNotify delivers to a ${kind} socket`, async (t) => {
    const name = kind === 'path'
      ? join(mkdtempSync(join(tmpdir(), 'uprez-notify-')), 'notify.sock')
      : `@uprez-test-${process.pid}-${Date.now()}`;
    const receiver = await NotifyReceiver.start(name);
    t.teardown(() => receiver.stop());
    process.env.NOTIFY_SOCKET = name;
    t.teardown(() => delete process.env.NOTIFY_SOCKET);
    t.equal(sdNotify('READY=1\nSTATUS=hello from the test'), true);
    await receiver.waitFor('STATUS=hello from the test');
    t.ok(receiver.messages.includes('READY=1'), 'both lines of the datagram arrived');
  });
}

t.test('sdNotify reports an unreachable socket instead of failing silently', async (t) => {
  process.env.NOTIFY_SOCKET = join(tmpdir(), `uprez-no-such-socket-${process.pid}`);
  t.teardown(() => delete process.env.NOTIFY_SOCKET);
  t.throws(() => sdNotify('READY=1'), /sending to .* failed/);
});
