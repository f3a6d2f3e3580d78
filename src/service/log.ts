// Structured logs: one line per event on stdout (journald keeps them), in logfmt:
//   level=info event=display.opened backend=kms mode=3840x2160@60
type Value = string | number | boolean | null | undefined;

function format(value: Value): string {
  const text = String(value);
  return /^[\w.:/@+-]+$/.test(text) ? text : JSON.stringify(text);
}

function write(level: 'info' | 'warn' | 'error', event: string, fields: Record<string, Value>): void {
  const parts = [`level=${level}`, `event=${event}`];
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) parts.push(`${key}=${format(value)}`);
  }
  process.stdout.write(`${parts.join(' ')}\n`);
}

export const log = {
  info: (event: string, fields: Record<string, Value> = {}) => write('info', event, fields),
  warn: (event: string, fields: Record<string, Value> = {}) => write('warn', event, fields),
  error: (event: string, fields: Record<string, Value> = {}) => write('error', event, fields),
};
