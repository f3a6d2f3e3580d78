// `uprez run`: the daemon. Parses the options (flags, UPREZ_* variables, a config file, the
// defaults: src/service/config.ts) and runs src/service/daemon.ts until SIGTERM or SIGINT.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stderr, stdout } from 'node:process';
import { ConfigError, configHelp, loadConfig } from '../service/config.js';
import { Daemon } from '../service/daemon.js';
import { log, setLogFormat } from '../service/log.js';
import { repoRoot } from '../service/paths.js';

/**
 * After SIGTERM or SIGINT the process ends once Daemon.stop() is done: at once when nothing is in
 * flight; otherwise once the work in flight is finished or ended (a frame, which the display
 * thread finishes before it restores the CRTC: a 4K composition takes seconds on a loaded Pi;
 * a decode, an SR job; all of it many times longer under emulation). Whatever hangs, a timer
 * ends the process after this long: after SCREEN_CLOSE_TIMEOUT_MS (13 s), the display thread's
 * limit, and below the unit's TimeoutStopSec (20 s), after which systemd would SIGKILL it.
 */
const STOP_DEADLINE_MS = 15_000;
// After a clean stop, how long the process may take to end by itself.
const EXIT_GRACE_MS = 500;

function version(): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** An error's stack (its message and where it was thrown), or whatever else was thrown. */
function describeError(thrown: unknown): string {
  return thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
}

export async function main(args: string[]): Promise<number> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(args);
  } catch (error) {
    if (error instanceof ConfigError) {
      stderr.write(`uprez run: the configuration is not valid:\n${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (loaded.help) {
    stdout.write(configHelp());
    return 0;
  }
  const { config } = loaded;
  setLogFormat(config.log);
  log.info('starting', { version: version(), config: loaded.sources.join(' < '), node: process.versions.node });

  const daemon = new Daemon(config, version());
  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => {
    stopping ??= daemon.stop(signal);
    return stopping;
  };
  // A bug that escapes every handler goes to the log, with its stack, not only to stderr.
  // A promise rejected with nobody waiting for it lost one operation: the daemon goes on, and
  // the picture stays. An exception thrown out of a callback may have left anything half done:
  // the daemon stops as on SIGTERM (the screen is given back) and exits 1, for systemd to
  // restart it.
  process.on('unhandledRejection', (reason) => {
    log.error('bug.unhandled-rejection', { message: describeError(reason), action: 'going on' });
  });
  process.on('uncaughtException', (error) => {
    log.error('bug.uncaught-exception', { message: describeError(error), action: 'stopping; exit 1 (systemd restarts uprez)' });
    setTimeout(() => process.exit(1), STOP_DEADLINE_MS).unref();
    void stop('uncaught-exception').finally(() => process.exit(1));
  });
  const stopped = new Promise<number>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        // Whatever hangs, a timer forces the exit. (It was 1.9 s: under load a frame in flight
        // outlasted it, and the process exited with the screen not given back.)
        setTimeout(() => process.exit(0), STOP_DEADLINE_MS).unref();
        void stop(signal).then(() => resolve(0));
      });
    }
  });
  try {
    await daemon.start();
  } catch (error) {
    await stop('start-failed');
    stderr.write(`uprez run: ${(error as Error).message}\n`);
    return 1;
  }
  const code = await stopped;
  // Stopped: the screen is given back and everything is closed. Should a handle still keep the
  // process alive (a thread slow to end), exit anyway after a moment, and say what held it.
  setTimeout(() => {
    log.warn('exit.held', { resources: process.getActiveResourcesInfo().join(',') });
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
  return code;
}
