// The daemon's configuration: defaults, precedence, validation messages, resolved values.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t, { type Test } from 'tap';
import { ConfigError, configHelp, isScheduledOn, loadConfig, parseSchedule } from '../../src/service/config.js';
import { repoRoot } from '../../src/service/paths.js';

const env = { HOME: '/home/kiosk' };

/** A config file with `options` in a fresh folder; returns its path. */
function configFile(options: unknown, folder = mkdtempSync(join(tmpdir(), 'uprez-config-'))): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, 'config.json');
  writeFileSync(path, JSON.stringify(options));
  return path;
}

/** The ConfigError's problems from loading, or a failed test when it loads. */
function problemsOf(t: Test, args: string[], environment: NodeJS.ProcessEnv = env): string[] {
  try {
    loadConfig(args, environment);
  } catch (error) {
    if (error instanceof ConfigError) {
      t.equal(error.message.split('\n').length, error.problems.length + 1, 'the message is the problems plus a hint line');
      return error.problems;
    }
    throw error;
  }
  t.fail('the configuration was accepted');
  return [];
}

t.test('the defaults load and validate', async (t) => {
  const { config, sources, help } = loadConfig([], env);
  t.same(sources, ['config/default.json']);
  t.equal(help, false);
  t.same(config, {
    backend: 'auto',
    card: null,
    connector: null,
    mode: null,
    size: { width: 1920, height: 1080 },
    folder: join(repoRoot, 'config', 'sample-photos'),
    recursive: false,
    settleMs: 500,
    interval: 10,
    onNew: 'show',
    order: 'name',
    transition: 'crossfade',
    transitionMs: 1000,
    fit: 'contain',
    background: { kind: 'blur' },
    rotate: 0,
    model: { kind: 'file', path: join(repoRoot, 'models', 'uprez-x2.json'), name: 'uprez-x2' },
    schedule: null,
    cacheDir: '/home/kiosk/.cache/uprez',
    cacheBytes: 1000000000,
    stateDir: '/home/kiosk/.local/state/uprez',
    http: { host: '127.0.0.1', port: 8080 },
    token: null,
    maxMessageBytes: 52428800,
    maxClients: 32,
    maxRequestsPerSecond: 50,
    maxPendingPushes: 4,
    idleTimeoutS: 60,
    pushMaxImages: 100,
    pushMaxBytes: 524288000,
    pushWaitS: 30,
    readTimeoutS: 30,
    effort: 1,
    srRetryS: 30,
    maxPixels: 100000000,
    log: 'text',
    explain: false,
  });
});

t.test('directories and log format follow systemd, then XDG', async (t) => {
  const systemd = loadConfig([], { ...env, CACHE_DIRECTORY: '/var/cache/uprez', STATE_DIRECTORY: '/var/lib/uprez', JOURNAL_STREAM: '8:123' });
  t.equal(systemd.config.cacheDir, '/var/cache/uprez');
  t.equal(systemd.config.stateDir, '/var/lib/uprez');
  t.equal(systemd.config.log, 'json', 'json under journald');
  const xdg = loadConfig([], { ...env, XDG_CACHE_HOME: '/x/cache', XDG_STATE_HOME: '/x/state' });
  t.equal(xdg.config.cacheDir, '/x/cache/uprez');
  t.equal(xdg.config.stateDir, '/x/state/uprez');
  t.equal(loadConfig(['--log', 'text'], { ...env, JOURNAL_STREAM: '8:123' }).config.log, 'text', 'an explicit format wins');
});

t.test('precedence: flags > environment > file > default', async (t) => {
  const file = configFile({ interval: 20 });
  const all = loadConfig(['--config', file, '--interval', '40'], { ...env, UPREZ_INTERVAL: '30' });
  t.equal(all.config.interval, 40, 'the flag wins');
  t.same(all.sources, ['config/default.json', file, 'environment', 'flags']);
  t.equal(loadConfig(['--config', file], { ...env, UPREZ_INTERVAL: '30' }).config.interval, 30, 'then the environment');
  t.equal(loadConfig(['--config', file], env).config.interval, 20, 'then the file');
  t.equal(loadConfig([], { ...env, UPREZ_CONFIG: file }).config.interval, 20, 'UPREZ_CONFIG names the file too');
  t.equal(loadConfig([], env).config.interval, 10, 'then the default');
  t.equal(loadConfig(['--interval=2.5'], env).config.interval, 2.5, '--flag=value, and a fractional number');
  t.equal(loadConfig([], { ...env, UPREZ_INTERVAL: '' }).config.interval, 10, 'an empty variable counts as unset');
});

t.test('booleans: --flag, --no-flag, and words in the environment', async (t) => {
  const file = configFile({ recursive: true });
  t.equal(loadConfig(['--config', file], env).config.recursive, true);
  t.equal(loadConfig(['--config', file, '--no-recursive'], env).config.recursive, false);
  t.equal(loadConfig(['--explain'], env).config.explain, true);
  for (const [word, value] of [['yes', true], ['1', true], ['TRUE', true], ['no', false], ['0', false], ['false', false]] as const) {
    t.equal(loadConfig(['--config', file], { ...env, UPREZ_RECURSIVE: word }).config.recursive, value, `UPREZ_RECURSIVE=${word}`);
  }
  const [problem] = problemsOf(t, [], { ...env, UPREZ_EXPLAIN: 'maybe' });
  t.match(problem, /^explain: must be true or false, got "maybe" \(from env UPREZ_EXPLAIN\)/);
});

t.test('a relative path resolves against the config file, or the current directory', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'uprez-config-'));
  const file = configFile({ folder: 'photos', cacheDir: '../cache' }, join(folder, 'etc'));
  const { config } = loadConfig(['--config', file], env);
  t.equal(config.folder, join(folder, 'etc', 'photos'));
  t.equal(config.cacheDir, join(folder, 'cache'));
  t.equal(loadConfig(['--config', file, '--folder', 'here'], env).config.folder, resolve('here'), 'from a flag: the current directory');
  t.equal(loadConfig(['--folder', '~/Pictures'], env).config.folder, '/home/kiosk/Pictures', '~/ is the home folder');
});

t.test('an invalid file: every problem, by its path, with its source and a hint', async (t) => {
  const file = configFile({ order: 'random', cacheBytes: -1, intervall: 5, schedule: '7am-10pm', rotate: 45 });
  const problems = problemsOf(t, ['--config', file]);
  t.equal(problems.length, 5, problems.join('\n'));
  const has = (pattern: RegExp) => t.ok(problems.some((p) => pattern.test(p)), `${pattern}`);
  const from = `\\(from ${file.replace(/[.\\/]/g, '\\$&')}\\)`;
  has(new RegExp(`^order: must be one of "name", "mtime", "shuffle", got "random" ${from}`));
  has(new RegExp(`^cacheBytes: must be >= 0, got -1 ${from}; e\\.g\\. 1000000000`));
  has(new RegExp(`^intervall: unknown option ${from}; did you mean "interval"\\?`));
  has(new RegExp(`^schedule: must look like "07:00-22:00", got "7am-10pm" ${from}`));
  has(new RegExp(`^rotate: must be one of 0, 90, 180, 270, got 45 ${from}`));
});

t.test('an unknown key far from every option gets no guess; a snake_case one does', async (t) => {
  const problems = problemsOf(t, ['--config', configFile({ wallpaper: 'x', settle_ms: 3 })]);
  t.match(problems[0], /^wallpaper: unknown option .*; the options are listed by uprez run --help$/);
  t.match(problems[1], /^settle_ms: unknown option .*; did you mean "settleMs"\?$/);
});

t.test('a file that cannot be read, or is not a JSON object', async (t) => {
  t.match(problemsOf(t, ['--config', '/nonexistent/uprez.json']), [/^config file \/nonexistent\/uprez\.json: cannot read it \(ENOENT\) \(from flag --config\)/]);
  const broken = join(mkdtempSync(join(tmpdir(), 'uprez-config-')), 'broken.json');
  writeFileSync(broken, '{"interval": 10,');
  t.match(problemsOf(t, [], { ...env, UPREZ_CONFIG: broken }), [/: not valid JSON: /]);
  t.match(problemsOf(t, ['--config', configFile([1, 2])]), [/must be a JSON object of options/]);
});

t.test('a bad flag or env value names the flag or the variable', async (t) => {
  t.same(problemsOf(t, ['--interval', 'ten']), ['interval: must be a number, got "ten" (from flag --interval); e.g. 10']);
  t.same(problemsOf(t, ['--transition-ms', '20000']), ['transitionMs: must be <= 10000, got 20000 (from flag --transition-ms); e.g. 1000']);
  t.same(problemsOf(t, ['--settle-ms', '1.5']), ['settleMs: must be an integer, got "1.5" (from flag --settle-ms); e.g. 500']);
  t.same(problemsOf(t, [], { ...env, UPREZ_ON_NEW: 'later' }), ['onNew: must be one of "show", "queue", got "later" (from env UPREZ_ON_NEW)']);
  t.match(problemsOf(t, ['--mode', '4k']), [/^mode: must look like "3840x2160@60" or "1920x1080", got "4k" \(from flag --mode\)/]);
  t.match(problemsOf(t, ['--mode']), [/^flag --mode needs a value, e.g. --mode 3840x2160@60/]);
  t.equal(loadConfig(['--mode', '3840x2160@59.94'], env).config.mode, '3840x2160@59.94');
});

t.test('an unknown flag is refused, listing the valid ones', async (t) => {
  const problems = problemsOf(t, ['--intervall', '5']);
  t.equal(problems.length, 1, 'its value is not taken for a stray argument');
  t.match(problems[0], /^unknown flag --intervall \(did you mean --interval\?\); the flags are --config, --help, --backend, .*--explain/);
  t.match(problemsOf(t, ['photos']), [/^unexpected argument "photos"/]);
});

t.test('--help needs no valid configuration', async (t) => {
  const { help, config } = loadConfig(['--interval', '0', '-h'], env);
  t.equal(help, true);
  t.equal(config.interval, 10, 'the defaults come back');
  const text = configHelp();
  t.match(text, /^usage: uprez run/);
  t.match(text, /--recursive, --no-recursive/);
  t.match(text, /--on-new show\|queue\n\s+\(UPREZ_ON_NEW, "onNew"; default show\)/);
});

t.test('schedule: parsed to minutes, on between them, over midnight when it wraps', async (t) => {
  const day = parseSchedule('07:00-22:00');
  t.same(day, { text: '07:00-22:00', onMinute: 420, offMinute: 1320 });
  const at = (h: number, m: number) => new Date(2026, 0, 15, h, m);
  t.equal(isScheduledOn(day, at(6, 59)), false);
  t.equal(isScheduledOn(day, at(7, 0)), true);
  t.equal(isScheduledOn(day, at(21, 59)), true);
  t.equal(isScheduledOn(day, at(22, 0)), false);
  const night = parseSchedule('22:00-7:30');
  t.same([night.onMinute, night.offMinute], [1320, 450]);
  t.equal(isScheduledOn(night, at(23, 0)), true);
  t.equal(isScheduledOn(night, at(3, 0)), true);
  t.equal(isScheduledOn(night, at(7, 30)), false);
  t.equal(isScheduledOn(night, at(12, 0)), false);
  t.equal(isScheduledOn(null, at(3, 0)), true, 'no schedule: always on');
  t.throws(() => parseSchedule('24:00-07:00'), /not HH:MM-HH:MM/);
  t.throws(() => parseSchedule('07:00'), /not HH:MM-HH:MM/);
  t.same(loadConfig(['--schedule', '22:00-07:00'], env).config.schedule, { text: '22:00-07:00', onMinute: 1320, offMinute: 420 });
  t.match(problemsOf(t, ['--schedule', '08:00-08:00']), [/^schedule: "08:00-08:00" starts and ends at the same time \(from flag --schedule\)/]);
});

t.test('model: none, a shipped name, a path, or a problem listing the shipped ones', async (t) => {
  t.same(loadConfig(['--model', 'none'], env).config.model, { kind: 'none' });
  t.same(loadConfig(['--model', 'baseline'], env).config.model, { kind: 'file', path: join(repoRoot, 'models', 'baseline.json'), name: 'baseline' });
  const folder = mkdtempSync(join(tmpdir(), 'uprez-config-'));
  writeFileSync(join(folder, 'mine.json'), '{}');
  t.same(loadConfig(['--config', configFile({ model: './mine.json' }, folder)], env).config.model, { kind: 'file', path: join(folder, 'mine.json'), name: 'mine' });
  const [missing] = problemsOf(t, ['--model', 'uprez-x3']);
  t.match(missing, /^model: no shipped model "uprez-x3" .*\(from flag --model\); shipped models: .*\bbaseline\b/);
  t.match(missing, /\buprez-x2\b/);
  t.match(problemsOf(t, ['--model', '/nonexistent/model.json']), [/^model: no model file \/nonexistent\/model\.json /]);
});

t.test('http: HOST:PORT, IPv6 in brackets, or off', async (t) => {
  t.equal(loadConfig(['--http', 'off'], env).config.http, null);
  t.same(loadConfig(['--http', '[::1]:8080'], env).config.http, { host: '::1', port: 8080 });
  t.same(loadConfig([], { ...env, UPREZ_HTTP: '0.0.0.0:80', UPREZ_TOKEN: 'k3y-0123456789abcdef' }).config.http, { host: '0.0.0.0', port: 80 });
  t.match(problemsOf(t, ['--http', '8080']), [/^http: must look like "127\.0\.0\.1:8080" or .*"\[::1\]:8080" or "off", got "8080"/]);
  t.match(problemsOf(t, ['--http', 'localhost:70000']), [/^http: port 70000 is out of range \(from flag --http\)/]);
});

t.test('token: flag, UPREZ_TOKEN or file; at least 16 visible characters; never printed', async (t) => {
  const token = 'k3y-0123456789abcdef';
  t.equal(loadConfig(['--token', token], env).config.token, token);
  t.equal(loadConfig([], { ...env, UPREZ_TOKEN: token }).config.token, token, 'UPREZ_TOKEN');
  t.equal(loadConfig(['--config', configFile({ token })], env).config.token, token, 'the config file');
  t.equal(loadConfig([], { ...env, UPREZ_TOKEN: '' }).config.token, null, 'an empty UPREZ_TOKEN is no token');
  t.equal(loadConfig(['--token', 'sixteen-chars-ok'], env).config.token, 'sixteen-chars-ok', '16 characters are enough');
  const [tooShort] = problemsOf(t, ['--token', 'hunter2-secret'], env);
  t.match(tooShort, /^token: must be at least 16 characters, got 14 characters \(not shown\) \(from flag --token\); `uprez token` prints a good one$/);
  t.notMatch(tooShort, /hunter2/, 'the value is not in the message');
  const [spaced] = problemsOf(t, [], { ...env, UPREZ_TOKEN: 'correct horse battery staple' });
  t.match(spaced, /^token: must be visible ASCII characters only \(no spaces\), got 28 characters \(not shown\) \(from env UPREZ_TOKEN\)/);
  t.notMatch(spaced, /horse/);
});

t.test('without a token, http must be a loopback address', async (t) => {
  for (const address of ['127.0.0.1:8080', '127.0.1.1:80', 'localhost:8080', '[::1]:8080', 'off']) {
    t.doesNotThrow(() => loadConfig(['--http', address], env), `${address} needs no token`);
  }
  for (const address of ['0.0.0.0:8080', '192.168.1.20:8080', '[::]:8080', 'kiosk.local:8080']) {
    const [problem] = problemsOf(t, ['--http', address]);
    t.match(problem, new RegExp(`^http: ${address.replace(/[.[\]]/g, '\\$&')} can be reached from other machines, but no token is set \\(from flag --http\\); set a token \\(--token, UPREZ_TOKEN or "token" in the config file; \`uprez token\` prints a new one\\)`), address);
  }
  t.match(problemsOf(t, [], { ...env, UPREZ_HTTP: '0.0.0.0:80' }), [/^http: 0\.0\.0\.0:80 .*\(from env UPREZ_HTTP\).*e\.g\. 127\.0\.0\.1:80$/]);
  const { config } = loadConfig(['--http', '0.0.0.0:8080', '--token', 'k3y-0123456789abcdef'], env);
  t.same(config.http, { host: '0.0.0.0', port: 8080 }, 'with a token, any address');
  const problems = problemsOf(t, ['--http', '0.0.0.0:8080', '--token', 'short']);
  t.equal(problems.length, 1, 'a bad token is one problem, not two');
  t.match(problems[0], /^token: /);
});

t.test('websocket and push limits: flags, env, bounds', async (t) => {
  const { config } = loadConfig(['--max-message-bytes', '100000', '--max-clients', '256', '--max-requests-per-second', '500',
    '--max-pending-pushes', '2', '--idle-timeout-s', '4', '--push-max-images', '10', '--push-max-bytes', '1000000'], env);
  t.same([config.maxMessageBytes, config.maxClients, config.maxRequestsPerSecond, config.maxPendingPushes, config.idleTimeoutS, config.pushMaxImages, config.pushMaxBytes],
    [100000, 256, 500, 2, 4, 10, 1000000]);
  t.equal(loadConfig([], { ...env, UPREZ_MAX_CLIENTS: '8' }).config.maxClients, 8, 'UPREZ_MAX_CLIENTS');
  t.same(problemsOf(t, ['--max-clients', '0']), ['maxClients: must be >= 1, got 0 (from flag --max-clients); e.g. 32']);
  t.same(problemsOf(t, ['--idle-timeout-s', '1']), ['idleTimeoutS: must be >= 2, got 1 (from flag --idle-timeout-s); e.g. 60']);
  t.same(problemsOf(t, ['--max-message-bytes', '10']), ['maxMessageBytes: must be >= 1024, got 10 (from flag --max-message-bytes); e.g. 52428800']);
  t.match(problemsOf(t, ['--max-requests-per-second', 'lots']), [/^maxRequestsPerSecond: must be an integer, got "lots"/]);
  t.match(configHelp(), /--token OUTPUT-OF-uprez-token\n\s+\(UPREZ_TOKEN, "token"; default null\)/);
  t.match(configHelp(), /--max-pending-pushes 4\n\s+\(UPREZ_MAX_PENDING_PUSHES, "maxPendingPushes"; default 4\)/);
});

t.test('size and background are parsed', async (t) => {
  const { config } = loadConfig(['--size', '3840x2160', '--background', '#ff8000'], env);
  t.same(config.size, { width: 3840, height: 2160 });
  t.same(config.background, { kind: 'colour', rgb: [255, 128, 0] });
  t.match(problemsOf(t, ['--background', 'red']), [/^background: must look like "blur" or "#000000", got "red"/]);
});

t.test('every option has a default and a description (the docs stay complete)', async (t) => {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'config', 'schema.json'), 'utf8'));
  const defaults = JSON.parse(readFileSync(join(repoRoot, 'config', 'default.json'), 'utf8'));
  t.equal(schema.additionalProperties, false);
  t.same(Object.keys(defaults).sort(), Object.keys(schema.properties).sort(), 'default.json sets exactly the schema\'s options');
  const help = configHelp();
  for (const [key, property] of Object.entries<{ description?: string }>(schema.properties)) {
    t.ok(typeof property.description === 'string' && property.description.length > 10, `${key} has a description`);
    t.ok(help.includes(`"${key}"`), `${key} is in --help`);
  }
});
