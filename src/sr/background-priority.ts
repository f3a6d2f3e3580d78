// SR is background work: the picture on screen, HTTP and the watchdog come first. With a real
// GPU (a Pi's V3D) the shading runs on the GPU and this changes nothing; with Mesa's software
// rasterizer (llvmpipe) every fragment is shaded by CPU threads ("llvmpipe-N") that the GL
// context starts, and on a 2-core machine they would starve the main and display threads.
// So the SR thread gets a lower CPU priority (nice 19; Linux nice is per thread), and so do the
// rasterizer threads that appeared while the SR context was created. Where Mesa shares one
// rasterizer between the process's contexts (two surfaceless contexts, headless), none appear
// and only the SR thread itself is lowered.
// nice 19, the lowest, is nine steps below the daemon's other threads (nice 10,
// src/service/main-thread-first.ts): a CPU's share goes by the difference (each step about 1.25x;
// SR had ten steps below them when they ran at 0 and at 5).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

const TASKS = '/proc/self/task';

/** The SR thread's and its rasterizers' priority. */
export const SR_NICE = 19;

export function threadIds(): Set<number> {
  try {
    return new Set(readdirSync(TASKS).map(Number));
  } catch {
    return new Set(); // not Linux: nothing to do
  }
}

/** Lowers the priority of the rasterizer threads started since `before`; returns how many. */
export function deprioritiseNewRasterizerThreads(before: Set<number>, nice = SR_NICE): number {
  let count = 0;
  for (const tid of threadIds()) {
    if (before.has(tid)) continue;
    let name = '';
    try {
      name = readFileSync(`${TASKS}/${tid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (!/^llvmpipe/.test(name)) continue;
    try {
      setPriority(tid, nice);
      count++;
    } catch {
      // Not allowed (e.g. a seccomp filter): SR just competes at normal priority.
    }
  }
  return count;
}

/** Lowers the calling thread's priority (Linux: /proc/thread-self names its thread id); false when it cannot. */
export function deprioritiseThisThread(nice = SR_NICE): boolean {
  try {
    const tid = Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    if (!tid) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
