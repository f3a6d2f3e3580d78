// `uprez token`: a new random token for the daemon's remote control (websocket, HTTP, web page).
// 32 random bytes, base64url (43 characters, no padding): safe in a URL, a header and JSON.
import { randomBytes } from 'node:crypto';
import { stderr, stdout } from 'node:process';
import { parseCommandArgs } from './args.js';

const USAGE = `usage: uprez token

Prints a new random token (32 bytes, base64url) on stdout, and on stderr where to put it.
Give the daemon the token with --token T, the UPREZ_TOKEN environment variable, or
"token": "T" in its config file (/etc/uprez/config.json under systemd); clients (uprez push,
the web page, scripts) then send it: uprez push --token T, or UPREZ_TOKEN.
`;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function main(args: string[]): Promise<number> {
  let values: { help?: boolean };
  try {
    const parsed = parseCommandArgs('token', args, { help: { type: 'boolean', short: 'h' } });
    if (parsed.positionals.length > 0) throw new Error(`uprez token: takes no arguments, not '${parsed.positionals[0]}' (see uprez token --help)`);
    values = parsed.values;
  } catch (error) {
    stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    stdout.write(USAGE);
    return 0;
  }
  stdout.write(`${newToken()}\n`);
  stderr.write('put it in the daemon\'s config as "token" (/etc/uprez/config.json), or pass it with --token or UPREZ_TOKEN; clients need the same token (uprez push --token, UPREZ_TOKEN)\n');
  return 0;
}
