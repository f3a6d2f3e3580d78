// What a process holds, read from Linux's /proc: its open file descriptors and resident memory.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Open file descriptors of process `pid`. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** What the open descriptors of `pid` point at (socket:[...], /path, anon_inode:...), for a report. */
export function fdTargets(pid: number): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      targets.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return targets.sort();
}

/** Resident memory of process `pid` in bytes (VmRSS). */
export function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Resident memory of `pid` in bytes: all of it, and its anonymous (heaps, pixels) and file-backed (code, libraries) parts. */
export function residentParts(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** Every thread of `pid`: its id, name and nice value (from /proc/PID/task/TID/stat). */
export function threadPriorities(pid: number): { tid: number; name: string; nice: number }[] {
  const threads: { tid: number; name: string; nice: number }[] = [];
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // After the name: state (field 3) ... nice (field 19).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.push({ tid: Number(entry), name, nice: Number(fields[16]) });
    } catch {
      // ended meanwhile
    }
  }
  return threads;
}

/**
 * What one thread has spent so far: CPU time, time it was ready to run but waited for a CPU
 * (/proc/PID/task/TID/schedstat), and minor page faults (its first touches of fresh memory).
 */
export function threadUsage(pid: number, tid = pid): { cpuMs: number; waitMs: number; minorFaults: number } {
  const [runNs, waitNs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number) as [number, number];
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  // After the name: state (field 3) ... minflt (field 10).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { cpuMs: runNs / 1e6, waitMs: waitNs / 1e6, minorFaults: Number(fields[7]) };
}
