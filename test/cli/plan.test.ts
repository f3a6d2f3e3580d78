// `uprez plan` end to end: the real bin/uprez in a child process, on files sharp makes here.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { repoRoot } from '../../src/service/paths.js';

const uprez = join(repoRoot, 'bin', 'uprez');
const dir = mkdtempSync(join(tmpdir(), 'uprez-plan-'));
const defaults = JSON.parse(readFileSync(join(repoRoot, 'config', 'default.json'), 'utf8')) as { size: string; fit: string; rotate: number };

interface Run { code: number; stdout: string; stderr: string }

interface Rect { x: number; y: number; width: number; height: number }
/** One element of the --json array (a planned file, or a file that could not be read). */
interface Entry {
  file: string;
  error?: string;
  width: number;
  height: number;
  stored: { width: number; height: number };
  orientation: number;
  screen: { width: number; height: number };
  fit: string;
  rotate: number;
  model: string;
  srAvailable: boolean;
  placement: { canvas: { width: number; height: number }; crop: Rect; target: Rect; srSteps: number; reason: string };
}

/** The exit-code assertion's message carries stderr when the code is not the expected one. */
function exitMessage(result: Run, expected: number): string {
  return result.code === expected ? `exit code ${expected}` : `exit code ${expected}, got ${result.code}: ${result.stderr}`;
}

function run(args: string[]): Promise<Run> {
  // The defaults under test are config/default.json's: no UPREZ_* variable of the caller's leaks in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('UPREZ_')));
  return new Promise((done) => {
    execFile(process.execPath, [uprez, 'plan', ...args], { cwd: dir, env }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The block of text output for one file: from its name to the next blank line. */
function blockOf(stdout: string, file: string): string {
  return stdout.split('\n\n').find((block) => block.startsWith(`${file}\n`)) ?? '';
}

const small = join(dir, 'small.jpg');
const turned = join(dir, 'turned.jpg');
const corrupt = join(dir, 'corrupt.png');
const solid = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } });
const inputs = (async () => {
  await solid(960, 540).jpeg().toFile(small);
  // Stored 400x300, EXIF orientation 6 (turn 90 degrees clockwise to view): 300x400 upright.
  await solid(400, 300).jpeg().withMetadata({ orientation: 6 }).toFile(turned);
  // A PNG signature followed by garbage: looks like a PNG, has no readable header.
  writeFileSync(corrupt, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]));
})();

t.test('a 960x540 JPEG on a 3840x2160 screen gets two x2 steps', async (t) => {
  await inputs;
  const result = await run(['--size', '3840x2160', small]);
  t.equal(result.code, 0, exitMessage(result, 0));
  t.match(result.stdout, /^screen 3840x2160 \(--size\)/);
  const block = blockOf(result.stdout, small);
  t.match(block, /image +960x540 jpeg\n/);
  t.match(block, /canvas +3840x2160\n/);
  t.match(block, /target +3840x2160\+0\+0 /);
  t.match(block, /SR +2 x2 steps/);
  t.match(block, /reason +contain 960x540, -> 3840x2160\+0\+0 on a 3840x2160 canvas \(grows 4\.00x/);
  t.equal(result.stderr, '', 'nothing on stderr');
});

t.test('the defaults are uprez run\'s: config/default.json', async (t) => {
  await inputs;
  const result = await run([small]);
  t.equal(result.code, 0, exitMessage(result, 0));
  t.match(result.stdout, new RegExp(`^screen ${defaults.size} \\(the headless size; on a real screen .*--size WxH\\)\\n`));
  t.match(result.stdout, new RegExp(`\\nfit ${defaults.fit}, rotate ${defaults.rotate}, model `));
  const [width, height] = defaults.size.split('x');
  const canvas = defaults.rotate === 90 || defaults.rotate === 270 ? `${height}x${width}` : defaults.size;
  t.match(blockOf(result.stdout, small), new RegExp(`canvas +${canvas}\\n`));
});

t.test('an EXIF-rotated JPEG counts as its upright size', async (t) => {
  await inputs;
  const result = await run(['--size', '1920x1080', turned]);
  t.equal(result.code, 0, exitMessage(result, 0));
  const block = blockOf(result.stdout, turned);
  t.match(block, /image +300x400 jpeg \(stored 400x300, EXIF orientation 6\)/);
  // 300x400 contain on 1920x1080: 810x1080, centred: (1920 - 810) / 2 = 555.
  t.match(block, /target +810x1080\+555\+0 /);
});

t.test('a corrupt file: its error, exit 1, the other files still planned', async (t) => {
  await inputs;
  const result = await run(['--size', '3840x2160', small, corrupt, turned]);
  t.equal(result.code, 1, exitMessage(result, 1));
  const errors = result.stderr.trim().split('\n');
  t.equal(errors.length, 1, 'one line for the one bad file');
  t.match(errors[0], new RegExp(`^uprez plan: ${corrupt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a readable image \\(.+\\)$`));
  t.match(blockOf(result.stdout, small), /SR +2 x2 steps/, 'the file before it');
  t.match(blockOf(result.stdout, turned), /image +300x400/, 'the file after it');
  t.notMatch(result.stdout, /corrupt\.png/, 'no plan for the corrupt one');
});

t.test('--json: an array, one object per file, errors included', async (t) => {
  await inputs;
  const result = await run(['--json', '--size', '3840x2160', '--rotate', '90', '--fit', 'cover', small, corrupt, turned]);
  t.equal(result.code, 1, exitMessage(result, 1));
  const entries = JSON.parse(result.stdout) as Entry[];
  t.equal(entries.length, 3);
  const [first, bad, third] = entries;
  t.equal(first!.file, small);
  t.same([first!.width, first!.height], [960, 540]);
  t.same(first!.screen, { width: 3840, height: 2160 });
  t.equal(first!.fit, 'cover');
  t.equal(first!.rotate, 90);
  t.same(first!.placement.canvas, { width: 2160, height: 3840 }, 'rotate 90 turns the canvas');
  t.same(first!.placement.target, { x: 0, y: 0, width: 2160, height: 3840 }, 'cover fills it');
  // 960x540 covering 2160x3840: scale 3840 / 540, so round(2160 * 540 / 3840) = 304 columns, centred.
  t.same(first!.placement.crop, { x: 328, y: 0, width: 304, height: 540 });
  t.equal(first!.placement.srSteps, 2);
  t.type(first!.placement.reason, 'string');
  t.equal(bad!.file, corrupt);
  t.match(bad!.error, /not a readable image/);
  t.same([third!.width, third!.height, third!.orientation], [300, 400, 6]);
  t.same(third!.stored, { width: 400, height: 300 });
});

t.test('--model none: no SR steps', async (t) => {
  await inputs;
  const result = await run(['--json', '--model', 'none', '--size', '3840x2160', small]);
  t.equal(result.code, 0, exitMessage(result, 0));
  const [entry] = JSON.parse(result.stdout) as Entry[];
  t.equal(entry!.model, 'none');
  t.equal(entry!.srAvailable, false);
  t.equal(entry!.placement.srSteps, 0);
  t.match(entry!.placement.reason, /no model/);
});

t.test('--config: its maxPixels refuses a file as uprez run would', async (t) => {
  await inputs;
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ maxPixels: 200000, size: '1280x720' }));
  const result = await run(['--config', config, small, turned]);
  t.equal(result.code, 1, exitMessage(result, 1));
  t.match(result.stdout, /^screen 1280x720 /, 'the size from the file');
  t.match(result.stderr, /small\.jpg: 960x540 is 518,400 pixels, over the limit of 200,000 pixels/);
  t.match(blockOf(result.stdout, turned), /image +300x400/, '120,000 pixels pass');
});

t.test('bad arguments: exit 2 and a message that says what', async (t) => {
  await inputs;
  const cases: [string[], RegExp][] = [
    [['--fit', 'stretch', small], /fit: must be one of "contain", "cover", "fill", got "stretch"/],
    [['--rotate', '45', small], /rotate: must be one of 0, 90, 180, 270/],
    [['--size', '1920', small], /size: must look like "1920x1080"/],
    [['--model', 'no-such-model', small], /model: no shipped model "no-such-model"/],
    [['--frobnicate', small], /Unknown option '--frobnicate'/],
    [['--size'], /argument missing/],
    [[], /no image files given[\s\S]*usage: uprez plan FILE/],
  ];
  for (const [args, message] of cases) {
    const result = await run(args);
    t.equal(result.code, 2, `${args.join(' ') || '(nothing)'}: ${exitMessage(result, 2)}`);
    t.match(result.stderr, message, `${args.join(' ') || '(nothing)'}: says what is wrong`);
    t.equal(result.stdout, '', `${args.join(' ') || '(nothing)'}: no plan printed`);
  }
  const help = await run(['--help']);
  t.equal(help.code, 0, exitMessage(help, 0));
  t.match(help.stdout, /^usage: uprez plan FILE\.\.\./);
});
