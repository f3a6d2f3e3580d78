// The `uprez` command line: dispatches to one module per subcommand.
import { argv, exit, stderr } from 'node:process';

interface Command {
  summary: string;
  /** Loaded lazily so `uprez info` does not pay for the SR engine, and so on. */
  load: () => Promise<{ main(args: string[]): Promise<number> }>;
}

const commands: Record<string, Command> = {
  run: { summary: 'the daemon: show the pictures of a folder, super-resolved, on the screen (KMS, else headless)', load: () => import('./run.js') },
  info: { summary: 'print DRM cards, connectors, modes and GL facts (--json for JSON)', load: () => import('./info.js') },
  eval: { summary: 'measure a model against bicubic (Y-PSNR) on the photos in a folder', load: () => import('./eval.js') },
  upscale: { summary: 'super-resolve image files x2 or x4 (and resample to --size) into PNGs', load: () => import('./upscale.js') },
  plan: { summary: 'print what uprez run would do with image files: fit, crop, CPU shrink, target, SR steps', load: () => import('./plan.js') },
  push: { summary: 'send image files to a running daemon (websocket), or --next/--prev/--pause/--resume/--list', load: () => import('./push.js') },
  token: { summary: 'print a new random token for the daemon\'s remote control (--token, UPREZ_TOKEN, config)', load: () => import('./token.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: uprez <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    stderr.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    stderr.write(`uprez: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.main(rest);
}

main(argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    stderr.write(`uprez: ${error instanceof Error ? error.message : String(error)}\n`);
    exit(1);
  },
);
