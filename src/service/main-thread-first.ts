// The main thread first: it answers HTTP, the websocket clients and systemd's watchdog, and its
// tasks are short; every other thread of the daemon does bulk work (decoding in libuv's and
// libvips' threads, composing frames, SR, V8's own helpers). On a 2-core machine with Mesa's
// software rasterizer those kept the main thread waiting for a CPU: the 4K soak's event loop
// had a p99 of 52-61 ms while pushes were first accepted, with the main thread busy only
// 10-23 % of the time. So every other thread runs at a lower priority (nice 10; Linux nice is
// per thread); SR runs nine steps below them, at 19 (src/sr/background-priority.ts). In the
// soak (scripts/bench-soak.ts), with the main thread level with the others, it waited for a CPU
// nearly twice as long as it ran, up to 10 ms at a time, with a dozen bulk threads runnable
// (libvips', llvmpipe's); the first window's event-loop p99 was 41-54 ms in five short runs. Five
// steps ahead of them: about as long as it ran, 37 ms in two short runs. At nice 0 against 10, as
// the daemon runs, three quarters as long, and the 10-minute 4K soak's worst window was 24.8 ms.
// New threads inherit their creator's priority; the few the main thread starts later (a worker thread,
// libuv's pool on first use) are lowered at the next sweep.
import { getPriority, setPriority } from 'node:os';
import { threadIds } from '../sr/background-priority.js';

/** How much lower than the main thread the others run. */
export const OTHER_THREADS_NICE = 10;

/** Lowers every thread but the main one that runs above `nice` to `nice`; returns how many it lowered. */
export function lowerOtherThreads(nice = OTHER_THREADS_NICE): number {
  let lowered = 0;
  for (const tid of threadIds()) {
    if (tid === process.pid) continue; // the main thread's id is the process's
    try {
      if (getPriority(tid) >= nice) continue; // already as low (the SR thread runs at 15)
      setPriority(tid, nice);
      lowered++;
    } catch {
      // Ended meanwhile, or not allowed (a seccomp filter): it keeps its priority.
    }
  }
  return lowered;
}
