// The model card's figures are what `uprez eval` prints: on the small committed set
// test/models/fixtures/card-check/, every shipped model's mean Y-PSNR under both protocols,
// through the GPU engine, equals the card's "Check set" table within 0.01 dB (as does the
// bicubic reference). The same command measured the card's Set5 and Set14 tables
// (models/training/engine_scores.py).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { modelsDir, repoRoot } from '../../src/service/paths.js';

const run = promisify(execFile);
const checkSet = join(repoRoot, 'test', 'models', 'fixtures', 'card-check');

/** The card's "Check set" table: model name -> [bicubic protocol, realistic protocol] in dB. */
function cardTable(): Map<string, [number, number]> {
  const card = readFileSync(join(modelsDir, 'README.md'), 'utf8');
  const section = card.split(/^### Check set/m)[1]?.split(/^#/m)[0];
  if (!section) throw new Error('models/README.md has no "### Check set" section');
  const table = new Map<string, [number, number]>();
  for (const match of section.matchAll(/^\| (\S+) \| ([\d.]+) \| ([\d.]+) \|$/gm)) {
    table.set(match[1]!, [Number(match[2]), Number(match[3])]);
  }
  return table;
}

interface EvalJson { means: { protocol: string; model: number; bicubic: number }[] }

const card = cardTable();
const models = readdirSync(modelsDir).filter((name) => name.endsWith('.json')).sort();

t.test('the card lists every shipped model and bicubic', async (t) => {
  t.same([...card.keys()].sort(), ['bicubic', ...models.map((file) => file.replace(/\.json$/, ''))].sort());
});

for (const file of models) {
  const name = file.replace(/\.json$/, '');
  t.test(`${name}: uprez eval on the check set gives the card's figures`, async (t) => {
    const { stdout } = await run(process.execPath, [join(repoRoot, 'bin', 'uprez'), 'eval', checkSet,
      '--model', join(modelsDir, file), '--protocol', 'both', '--backend', 'gpu', '--json'], { maxBuffer: 1 << 24 });
    const result = JSON.parse(stdout) as EvalJson;
    const expected = card.get(name);
    if (!expected) {
      t.fail(`models/README.md's check-set table has no row for ${name}`);
      return;
    }
    const [bicubicProtocol, realisticProtocol] = result.means;
    t.same(result.means.map((m) => m.protocol), ['bicubic', 'realistic']);
    const within = (got: number, want: number, what: string) =>
      t.ok(Math.abs(got - want) <= 0.01, `${what}: ${got.toFixed(3)} dB, the card says ${want.toFixed(3)} dB`);
    within(bicubicProtocol!.model, expected[0], `${name}, bicubic protocol`);
    within(realisticProtocol!.model, expected[1], `${name}, realistic protocol`);
    const bicubic = card.get('bicubic')!;
    within(bicubicProtocol!.bicubic, bicubic[0], 'bicubic upscaling, bicubic protocol');
    within(realisticProtocol!.bicubic, bicubic[1], 'bicubic upscaling, realistic protocol');
  });
}
