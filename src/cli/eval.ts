// `uprez eval DIR`: how much a model gains over bicubic upscaling on your own photos,
// measured through the real engine (what the screen shows), under the evaluation
// protocols of models/README.md (src/quality/protocols.ts). The measuring is
// src/quality/evaluate.ts; this file parses the arguments and prints (or writes JSON).
import { stderr, stdout } from 'node:process';
import { evaluateFolder, listPhotos, type EvalResult } from '../quality/evaluate.js';
import type { Protocol } from '../quality/protocols.js';
import { defaultModelPath, loadModel, modelMetrics } from '../sr/load-model.js';
import { openEngine } from '../sr/open-engine.js';
import { parseCommandArgs } from './args.js';

const usage = `usage: uprez eval DIR [--model FILE] [--protocol bicubic|realistic|both] [--backend gpu|cpu] [--json]

For every photo in DIR: makes the low-resolution version(s) of the protocol, upscales them
x2 with the model (through the engine) and with bicubic (Pillow's), and prints the Y-PSNR of
both against the photo (BT.601 studio-range luma, 2 border pixels shaved), then the means.
  bicubic    the academic protocol: LR = Pillow's Image.resize((w/2, h/2), Image.BICUBIC)
             of the photo cropped to even size (antialiased; reproduced bit for bit)
  realistic  LR by area, bicubic, bilinear and Lanczos x0.5, each then JPEG q75..95
`;

function formatRow(name: string, label: string, model: number, bicubic: number): string {
  const gain = model - bicubic;
  return `  ${name.padEnd(22)} ${label.padEnd(18)} model ${model.toFixed(3).padStart(7)} dB  ` +
    `bicubic ${bicubic.toFixed(3).padStart(7)} dB  gain ${gain >= 0 ? '+' : ''}${gain.toFixed(3)} dB`;
}

export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('eval', args, {
    model: { type: 'string' },
    protocol: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    stdout.write(usage);
    return 0;
  }
  if (positionals.length !== 1) {
    stderr.write(`uprez eval: expected one folder of photos\n\n${usage}`);
    return 2;
  }
  const protocolOption = values.protocol ?? 'both';
  if (!['bicubic', 'realistic', 'both'].includes(protocolOption)) {
    stderr.write(`uprez eval: --protocol must be bicubic, realistic or both, got '${protocolOption}'\n`);
    return 2;
  }
  const protocols: Protocol[] = protocolOption === 'both' ? ['bicubic', 'realistic'] : [protocolOption as Protocol];
  const backend = values.backend ?? 'gpu';
  if (backend !== 'gpu' && backend !== 'cpu') {
    stderr.write(`uprez eval: --backend must be gpu or cpu, got '${backend}'\n`);
    return 2;
  }

  const dir = positionals[0]!;
  const files = listPhotos(dir);
  if (files.length === 0) {
    stderr.write(`uprez eval: no files in ${dir}\n`);
    return 1;
  }
  const model = loadModel(values.model ?? defaultModelPath());
  const engine = await openEngine(model, { backend });
  const log = (line: string) => (values.json ? stderr : stdout).write(`${line}\n`);
  log(`uprez eval: model ${model.name} (${modelMetrics(model).macsPerInputPixel} MACs per input pixel), ${engine.description}`);

  let result: EvalResult;
  try {
    result = await evaluateFolder(engine.upscaler, dir, files, protocols, (event) => {
      if (event.kind === 'row') {
        const { row } = event;
        log(formatRow(row.image, `${row.protocol}: ${row.case}`, row.model, row.bicubic));
      } else if (event.kind === 'skipped') {
        log(`  ${event.file}: skipped: ${event.message}`);
      } else {
        log(`  ${event.file} (${event.case}): failed: ${event.message}`);
      }
    });
  } finally {
    engine.close();
  }

  const { shave, means, rows, failures } = result;
  for (const m of means) if (m.cases > 0) log(formatRow(`mean (${m.cases} cases)`, m.protocol, m.model, m.bicubic));
  if (values.json) stdout.write(`${JSON.stringify({ model: model.name, shave, means, rows }, null, 2)}\n`);
  return failures > 0 ? 1 : 0;
}
