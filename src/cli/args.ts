// A small, strict option parser for the subcommands: `--name value`, `--name=value`,
// boolean flags, and positional arguments. Unknown options are errors.
import { parseArgs } from 'node:util';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

export function parseCommandArgs<T extends OptionSpec>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new Error(`uprez ${command}: ${error instanceof Error ? error.message : String(error)} (see uprez ${command} --help)`);
  }
}
