// The daemon's configuration (`uprez run`). Layers, the later winning key by key:
//   config/default.json < config file (--config FILE or UPREZ_CONFIG) < UPREZ_* env < flags.
// The merged options are validated against config/schema.json with ajv, so the schema is
// the one place that says each option's type, limits and meaning (help and README too).
// Every problem is reported at once, each with where its value came from.
import { Ajv, type ErrorObject } from 'ajv';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { modelsDir, repoRoot } from './paths.js';

export interface Schedule {
  text: string;
  /** Minutes after local midnight when the screen goes on, and off. */
  onMinute: number;
  offMinute: number;
}

export interface DaemonConfig {
  backend: 'auto' | 'kms' | 'headless';
  card: string | null;
  connector: string | null;
  mode: string | null;
  size: { width: number; height: number };
  folder: string;
  recursive: boolean;
  settleMs: number;
  interval: number;
  onNew: 'show' | 'queue';
  order: 'name' | 'mtime' | 'shuffle';
  transition: 'cut' | 'crossfade';
  transitionMs: number;
  fit: 'contain' | 'cover' | 'fill';
  background: { kind: 'blur' } | { kind: 'colour'; rgb: [number, number, number] };
  rotate: 0 | 90 | 180 | 270;
  model: { kind: 'none' } | { kind: 'file'; path: string; name: string };
  schedule: Schedule | null;
  cacheDir: string;
  cacheBytes: number;
  stateDir: string;
  http: { host: string; port: number } | null;
  /** Remote clients' secret (never logged); null: none, and then http is a loopback address. */
  token: string | null;
  /** Websocket limits (see docs/protocol.md). */
  maxMessageBytes: number;
  maxClients: number;
  maxRequestsPerSecond: number;
  maxPendingPushes: number;
  idleTimeoutS: number;
  /** Pushed images kept in the state directory (oldest evicted beyond these). */
  pushMaxImages: number;
  pushMaxBytes: number;
  /** Seconds a push waits for room while pushed pictures not yet shown fill the store, before it is busy. */
  pushWaitS: number;
  /** Seconds before reading a picture's file is given up. */
  readTimeoutS: number;
  /** Share of the network's work SR spends (1: all of it; see src/sr/adaptive.ts). */
  effort: number;
  /** Seconds before SR is tried again after it failed. */
  srRetryS: number;
  maxPixels: number;
  log: 'text' | 'json';
  explain: boolean;
}

/** The options as the schema describes them, before paths and texts are resolved. */
type RawOptions = Omit<DaemonConfig, 'size' | 'background' | 'model' | 'schedule' | 'cacheDir' | 'stateDir' | 'http' | 'log'> & {
  size: string;
  background: string;
  model: string;
  schedule: string | null;
  cacheDir: string | null;
  stateDir: string | null;
  http: string;
  log: 'auto' | 'text' | 'json';
};

export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    hint = 'See `uprez run --help` (or the README, Configuration) for every option, its default and the values it takes.',
  ) {
    super([...problems, hint].join('\n'));
    this.name = 'ConfigError';
  }
}

interface PropertySchema {
  description: string;
  type: string | string[];
  enum?: unknown[];
  pattern?: string;
  examples?: unknown[];
}

const configDir = join(repoRoot, 'config');
const defaultsLabel = 'config/default.json';
const schema = JSON.parse(readFileSync(join(configDir, 'schema.json'), 'utf8')) as {
  properties: Record<string, PropertySchema>;
};
const keys = Object.keys(schema.properties);
const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);

export const flagOf = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
export const envOf = (key: string) => `UPREZ_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
const typeOf = (key: string) => [schema.properties[key].type].flat().filter((t) => t !== 'null')[0];

/** A check beyond the schema failed: what is wrong, and what to do instead. */
class CheckFailed extends Error {
  constructor(
    message: string,
    readonly hint = '',
  ) {
    super(message);
  }
}

/** Where a value came from: named in error messages, and the base of a relative path. */
interface Origin {
  label: string;
  baseDir: string;
}

interface Layer {
  values: Record<string, unknown>;
  origin: (key: string) => Origin;
}

// Flags and env vars are text: converted by the schema's type. Text that does not convert
// is kept as is, so that the schema's check reports it with the rest.
const booleanWords: Record<string, boolean> = { true: true, false: false, yes: true, no: false, 1: true, 0: false };

function fromText(key: string, text: string): unknown {
  const type = typeOf(key);
  const trimmed = text.trim();
  if (type === 'integer' && /^[+-]?\d+$/.test(trimmed)) return Number(trimmed);
  if (type === 'number' && trimmed !== '' && Number.isFinite(Number(trimmed))) return Number(trimmed);
  if (type === 'boolean' && trimmed.toLowerCase() in booleanWords) return booleanWords[trimmed.toLowerCase()];
  return text;
}

/** The closest of `names` to `name` when it is near enough to be a typo. */
function didYouMean(name: string, names: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  let best: { name: string; distance: number } | undefined;
  for (const candidate of names) {
    const distance = editDistance(norm(name), norm(candidate));
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

interface ParsedFlags {
  values: Record<string, unknown>;
  configFile?: string;
  help: boolean;
  problems: string[];
}

function parseFlags(args: string[]): ParsedFlags {
  const parsed: ParsedFlags = { values: {}, help: false, problems: [] };
  const keyOfFlag = new Map(keys.map((key) => [flagOf(key), key]));
  const validFlags = ['--config', '--help', ...keys.map(flagOf)];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-h' || arg === '--help') {
      parsed.help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      parsed.problems.push(`unexpected argument "${arg}": uprez run takes only --flags`);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    // A value is the text after '=' or the next argument (which may be negative: "-5").
    const value = () => inline ?? (i + 1 < args.length && !args[i + 1].startsWith('--') ? args[++i] : undefined);
    const negated = flag.startsWith('--no-') ? keyOfFlag.get(`--${flag.slice(5)}`) : undefined;
    const key = keyOfFlag.get(flag);

    if (flag === '--config') {
      parsed.configFile = value();
      if (parsed.configFile === undefined) parsed.problems.push('flag --config needs a file, e.g. --config /etc/uprez/config.json');
    } else if (negated !== undefined && typeOf(negated) === 'boolean' && inline === undefined) {
      parsed.values[negated] = false;
    } else if (key !== undefined && typeOf(key) === 'boolean') {
      parsed.values[key] = inline === undefined ? true : fromText(key, inline);
    } else if (key !== undefined) {
      const text = value();
      if (text === undefined) {
        const example = schema.properties[key].examples?.[0];
        parsed.problems.push(`flag ${flag} needs a value${example === undefined ? '' : `, e.g. ${flag} ${String(example)}`}`);
      } else {
        parsed.values[key] = fromText(key, text);
      }
    } else {
      if (inline === undefined && i + 1 < args.length && !args[i + 1].startsWith('-')) i++; // its value, most likely
      const near = didYouMean(flag.slice(2), validFlags.map((f) => f.slice(2)));
      parsed.problems.push(
        `unknown flag ${flag}${near ? ` (did you mean --${near}?)` : ''}; the flags are ${validFlags.join(', ')} ` +
          '(and --no-NAME for the true/false ones)',
      );
    }
  }
  return parsed;
}

function readConfigFile(path: string, label: string, from: string): Layer | string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return `config file ${path}: cannot read it (${code}) (from ${from})`;
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (error) {
    return `config file ${path}: not valid JSON: ${(error as Error).message}`;
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    return `config file ${path}: must be a JSON object of options, e.g. {"interval": 10}`;
  }
  const origin = { label, baseDir: dirname(path) };
  return { values: values as Record<string, unknown>, origin: () => origin };
}

/** Options whose values are never printed. */
const secretKeys = new Set(['token']);

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** One line per problem the schema finds, worded for a person, with a hint. */
function schemaProblems(errors: ErrorObject[], values: Record<string, unknown>, origins: Map<string, Origin>): Map<string, string> {
  const problems = new Map<string, string>();
  for (const error of errors) {
    if (error.keyword === 'additionalProperties') {
      const unknown = String(error.params.additionalProperty);
      const near = didYouMean(unknown, keys);
      const hint = near ? `did you mean "${near}"?` : 'the options are listed by uprez run --help';
      problems.set(unknown, `${unknown}: unknown option (from ${origins.get(unknown)?.label}); ${hint}`);
      continue;
    }
    const key = error.instancePath.slice(1);
    if (problems.has(key)) continue; // the first error of a key says enough (type before enum)
    const property = schema.properties[key] as PropertySchema & { minLength?: number };
    const examples = property.examples ?? [];
    let message = error.message ?? 'is not valid';
    let hint = examples.length > 0 ? `; e.g. ${show(examples[0])}` : '';
    if (error.keyword === 'enum') {
      message = `must be one of ${(property.enum ?? []).map(show).join(', ')}`;
      hint = '';
    } else if (error.keyword === 'pattern') {
      message = `must look like ${examples.map(show).join(' or ')}`;
      hint = '';
    } else if (error.keyword === 'type') {
      const types = [property.type].flat().map((t) => ({ integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', null: 'null' })[t] ?? t);
      message = `must be ${types.join(' or ')}`;
      if (types.includes('true or false')) hint = '; flags and env vars also take yes/no and 1/0';
    } else if (error.keyword === 'minLength') {
      message = (property.minLength ?? 1) > 1 ? `must be at least ${property.minLength} characters` : 'must not be empty';
    }
    if (secretKeys.has(key) && error.keyword === 'pattern') message = 'must be visible ASCII characters only (no spaces)';
    if (secretKeys.has(key)) hint = '; `uprez token` prints a good one';
    // A secret is never printed, not even a wrong one (it may be a real token with a typo).
    const got = secretKeys.has(key) && typeof values[key] === 'string' ? `${(values[key] as string).length} characters (not shown)` : show(values[key]);
    problems.set(key, `${key}: ${message}, got ${got} (from ${origins.get(key)?.label})${hint}`);
  }
  return problems;
}

/**
 * The options for `uprez run` from its arguments and environment. Throws ConfigError
 * listing every problem. With --help, no validation: the defaults come back.
 */
export function loadConfig(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { config: DaemonConfig; sources: string[]; help: boolean } {
  const flags = parseFlags(args);
  const defaults = readConfigFile(join(configDir, 'default.json'), defaultsLabel, 'uprez');
  if (typeof defaults === 'string') throw new ConfigError([defaults]);
  if (flags.help) return { config: resolveConfig([defaults], env), sources: [defaultsLabel], help: true };

  const layers: Layer[] = [defaults];
  const sources = [defaultsLabel];
  const problems = [...flags.problems];

  const file = flags.configFile ?? (env.UPREZ_CONFIG || undefined);
  if (file !== undefined) {
    const path = resolve(file);
    const layer = readConfigFile(path, path, flags.configFile !== undefined ? 'flag --config' : 'env UPREZ_CONFIG');
    if (typeof layer === 'string') problems.push(layer);
    else layers.push(layer);
    sources.push(path);
  }

  // An empty UPREZ_* variable counts as unset (systemd environment files keep blank lines).
  const fromEnv = Object.fromEntries(keys.filter((key) => env[envOf(key)]).map((key) => [key, fromText(key, env[envOf(key)] ?? '')]));
  if (Object.keys(fromEnv).length > 0) {
    layers.push({ values: fromEnv, origin: (key) => ({ label: `env ${envOf(key)}`, baseDir: process.cwd() }) });
    sources.push('environment');
  }
  if (Object.keys(flags.values).length > 0) {
    layers.push({ values: flags.values, origin: (key) => ({ label: `flag ${flagOf(key)}`, baseDir: process.cwd() }) });
    sources.push('flags');
  }

  return { config: resolveConfig(layers, env, problems), sources, help: false };
}

/** Merges the layers, validates the result and resolves paths and texts into typed values. */
function resolveConfig(layers: Layer[], env: NodeJS.ProcessEnv, earlier: string[] = []): DaemonConfig {
  const values: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      values[key] = value;
      origins.set(key, layer.origin(key));
    }
  }

  const bad = validate(values) ? new Map<string, string>() : schemaProblems(validate.errors ?? [], values, origins);
  const problems = [...earlier, ...bad.values()];
  // Checks the schema cannot make, on the keys it passed: a failure is one more problem.
  const check = <T>(key: string, resolveValue: () => T): T | undefined => {
    if (bad.has(key)) return undefined;
    try {
      return resolveValue();
    } catch (error) {
      const hint = error instanceof CheckFailed && error.hint ? `; ${error.hint}` : '';
      problems.push(`${key}: ${(error as Error).message} (from ${origins.get(key)?.label})${hint}`);
      return undefined;
    }
  };
  const raw = values as RawOptions;
  const origin = (key: string) => origins.get(key) ?? { label: defaultsLabel, baseDir: configDir };
  const home = env.HOME || homedir();
  const path = (text: string, key: string) => (text.startsWith('~/') ? join(home, text.slice(2)) : resolve(origin(key).baseDir, text));

  const model = check('model', () => resolveModel(raw.model, (text) => path(text, 'model')));
  const schedule = check('schedule', () => (raw.schedule === null ? null : parseSchedule(raw.schedule)));
  const http = check('http', () => parseHttp(raw.http));
  // Remote control without a token is for this machine only.
  if (http && raw.token === null && !bad.has('token') && !isLoopback(http.host)) {
    problems.push(
      `http: ${raw.http} can be reached from other machines, but no token is set (from ${origins.get('http')?.label ?? defaultsLabel}); ` +
        'set a token (--token, UPREZ_TOKEN or "token" in the config file; `uprez token` prints a new one), ' +
        `or listen on a loopback address only, e.g. 127.0.0.1:${http.port}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const [width, height] = raw.size.split('x').map(Number);
  const colour = raw.background.match(/^#(..)(..)(..)$/);
  // systemd's CACHE_DIRECTORY/STATE_DIRECTORY may list several folders, ':'-separated.
  const systemdDir = (name: string) => env[name]?.split(':')[0] || undefined;
  const xdgDir = (name: string) => (env[name]?.startsWith('/') ? join(env[name], 'uprez') : undefined);
  return {
    ...raw,
    size: { width, height },
    folder: path(raw.folder, 'folder'),
    background: colour ? { kind: 'colour', rgb: [1, 2, 3].map((i) => parseInt(colour[i], 16)) as [number, number, number] } : { kind: 'blur' },
    model: model!,
    schedule: schedule!,
    cacheDir: raw.cacheDir !== null ? path(raw.cacheDir, 'cacheDir') : (systemdDir('CACHE_DIRECTORY') ?? xdgDir('XDG_CACHE_HOME') ?? join(home, '.cache', 'uprez')),
    stateDir: raw.stateDir !== null ? path(raw.stateDir, 'stateDir') : (systemdDir('STATE_DIRECTORY') ?? xdgDir('XDG_STATE_HOME') ?? join(home, '.local', 'state', 'uprez')),
    http: http!,
    log: raw.log === 'auto' ? (env.JOURNAL_STREAM ? 'json' : 'text') : raw.log,
  };
}

/** Shipped model names: the files models/NAME.json. */
function shippedModels(): string[] {
  return readdirSync(modelsDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => basename(name, '.json'))
    .sort();
}

function resolveModel(text: string, path: (text: string) => string): DaemonConfig['model'] {
  if (text === 'none') return { kind: 'none' };
  // A name has no folder and no extension; anything else is a path to a model file.
  const isPath = /[\\/]/.test(text) || text.endsWith('.json');
  const file = isPath ? path(text) : join(modelsDir, `${text}.json`);
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) {
    const what = isPath ? `no model file ${file}` : `no shipped model "${text}" (no ${file})`;
    throw new CheckFailed(what, `shipped models: ${shippedModels().join(', ')}; or "none" (plain resampling), or a path to a model file`);
  }
  return { kind: 'file', path: file, name: isPath ? basename(file, '.json') : text };
}

/** Whether `host` can only be reached from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function parseHttp(text: string): DaemonConfig['http'] {
  if (text === 'off') return null;
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (port > 65535) throw new CheckFailed(`port ${port} is out of range`, 'ports go from 1 to 65535 (0 picks a free one); "off" turns HTTP off');
  return { host: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

/** "07:00-22:00" → minutes of the day; "22:00-07:00" is on over midnight. */
export function parseSchedule(text: string): Schedule {
  const match = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(text);
  const minute = (h: string, m: string) => (Number(h) < 24 && Number(m) < 60 ? Number(h) * 60 + Number(m) : NaN);
  const onMinute = match ? minute(match[1], match[2]) : NaN;
  const offMinute = match ? minute(match[3], match[4]) : NaN;
  if (Number.isNaN(onMinute) || Number.isNaN(offMinute)) {
    throw new CheckFailed(`"${text}" is not HH:MM-HH:MM`, 'e.g. "07:00-22:00" (local time; "22:00-07:00" is on over midnight)');
  }
  if (onMinute === offMinute) throw new CheckFailed(`"${text}" starts and ends at the same time`, 'use null to stay on all day');
  return { text, onMinute, offMinute };
}

/** Whether the screen should be on at `date` (local time); no schedule means always. */
export function isScheduledOn(schedule: Schedule | null, date: Date): boolean {
  if (schedule === null) return true;
  const minute = date.getHours() * 60 + date.getMinutes();
  const { onMinute, offMinute } = schedule;
  return onMinute < offMinute ? minute >= onMinute && minute < offMinute : minute >= onMinute || minute < offMinute;
}

/** One option of the schema, for help text and the README's table. */
export interface OptionDoc {
  key: string;
  flag: string;
  env: string;
  /** What the flag takes: its values, an example, or nothing for true/false. */
  value: string;
  default: unknown;
  description: string;
}

export function optionDocs(): OptionDoc[] {
  const defaults = JSON.parse(readFileSync(join(configDir, 'default.json'), 'utf8')) as Record<string, unknown>;
  return keys.map((key) => {
    const property = schema.properties[key];
    const type = typeOf(key);
    const value =
      type === 'boolean' ? '' : property.enum ? property.enum.join('|') : String(property.examples?.[0] ?? (type === 'string' ? 'TEXT' : 'N'));
    return { key, flag: flagOf(key), env: envOf(key), value, default: defaults[key], description: property.description };
  });
}

function wrap(text: string, indent: string, width = 88): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > width && line.trim() !== '') {
      lines.push(line);
      line = indent;
    }
    line += line.trim() === '' ? word : ` ${word}`;
  }
  return [...lines, line].join('\n');
}

/** `uprez run --help`, generated from the schema. */
export function configHelp(): string {
  const parts = [
    'usage: uprez run [--config FILE] [--OPTION VALUE]...',
    '',
    wrap(
      'Each option comes from, in this order of precedence: a flag, an environment variable ' +
        'UPREZ_NAME, the JSON config file (--config FILE or UPREZ_CONFIG; under systemd ' +
        '/etc/uprez/config.json), then config/default.json. In the file the option is its ' +
        'camelCase key, e.g. {"interval": 20}. True/false flags also have a --no- form.',
      '',
    ),
    '',
  ];
  for (const option of optionDocs()) {
    const flag = option.value === '' ? `${option.flag}, --no-${option.flag.slice(2)}` : `${option.flag} ${option.value}`;
    const fallback = typeof option.default === 'string' ? option.default : JSON.stringify(option.default);
    parts.push(`  ${flag}`, `      (${option.env}, "${option.key}"; default ${fallback})`, wrap(option.description, '      '));
  }
  parts.push('  -h, --help', '      this text');
  return `${parts.join('\n')}\n`;
}
