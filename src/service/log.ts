// Structured logs: one line per event on stdout (journald keeps them). Two formats:
//   text (a terminal; logfmt):  level=info event=display.opened backend=kms mode=3840x2160@60
//   json (under systemd, JOURNAL_STREAM set, or --log json): {"level":"info","event":"display.opened",...}
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;
export type LogFormat = 'text' | 'json';

let format: LogFormat = process.env.JOURNAL_STREAM ? 'json' : 'text';

export function setLogFormat(value: LogFormat): void {
  format = value;
}

function textValue(value: LogValue): string {
  const text = String(value);
  return /^[\w.:/@+-]+$/.test(text) ? text : JSON.stringify(text);
}

function write(level: 'info' | 'warn' | 'error', event: string, fields: LogFields): void {
  if (format === 'json') {
    const record: Record<string, LogValue> = { time: new Date().toISOString(), level, event };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) record[key] = value;
    process.stdout.write(`${JSON.stringify(record)}\n`);
    return;
  }
  const parts = [`level=${level}`, `event=${event}`];
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) parts.push(`${key}=${textValue(value)}`);
  }
  process.stdout.write(`${parts.join(' ')}\n`);
}

export const log = {
  info: (event: string, fields: LogFields = {}) => write('info', event, fields),
  warn: (event: string, fields: LogFields = {}) => write('warn', event, fields),
  error: (event: string, fields: LogFields = {}) => write('error', event, fields),
};
