// `uprez info`: the first command a Pi user runs. DRM cards, connectors and modes, and
// what the GPU can do (renderer, version, limits, extensions), as text or --json.
// The GPU facts come from a headless context, so this never touches a running screen.
import { listCards, openHeadless, type CardInfo } from 'node-drm-gbm-egl';
import { readGlFacts, type GlFacts } from '../display/gl-facts.js';
import { parseCommandArgs } from './args.js';

interface Info {
  cards: CardInfo[];
  gl: GlFacts | { error: string };
}

export function gatherInfo(): Info {
  const cards = listCards();
  let gl: Info['gl'];
  try {
    const display = openHeadless({ width: 16, height: 16 });
    try {
      gl = readGlFacts(display.gl);
    } finally {
      display.close();
    }
  } catch (error) {
    gl = { error: error instanceof Error ? error.message : String(error) };
  }
  return { cards, gl };
}

function cardsText(cards: CardInfo[]): string[] {
  if (cards.length === 0) return ['DRM cards: none (no /dev/dri/card*): uprez will run headless'];
  const lines = ['DRM cards:'];
  for (const card of cards) {
    if (card.error) {
      lines.push(`  ${card.path}: ${card.error}`);
      continue;
    }
    lines.push(`  ${card.path}  driver ${card.driver}  ${card.canModeset ? 'KMS (can drive a screen)' : 'render only (no KMS)'}`);
    for (const connector of card.connectors) {
      lines.push(`    ${connector.name}: ${connector.connected ? 'connected' : 'not connected'}`);
      for (const mode of connector.modes) lines.push(`      ${mode.name}${mode.preferred ? '  (preferred)' : ''}`);
    }
  }
  return lines;
}

function glText(gl: Info['gl']): string[] {
  if ('error' in gl) return [`GL: unavailable: ${gl.error}`];
  const lines = [
    `GL renderer: ${gl.renderer}`,
    `GL version:  ${gl.version}`,
    `GL vendor:   ${gl.vendor}`,
    `GLSL:        ${gl.shadingLanguage}`,
    `fragment highp: ${gl.fragmentHighp ? 'yes' : 'no'}`,
    `program binary formats: ${gl.programBinaryFormats}`,
    'limits:',
  ];
  for (const [name, value] of Object.entries(gl.limits)) lines.push(`  ${name.padEnd(34)} ${String(value)}`);
  lines.push(`extensions (${gl.extensions.length}):`);
  for (const extension of gl.extensions) lines.push(`  ${extension}`);
  return lines;
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('info', args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write('usage: uprez info [--json]\n');
    return 0;
  }
  const info = gatherInfo();
  if (values.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  else process.stdout.write(`${[...cardsText(info.cards), '', ...glText(info.gl)].join('\n')}\n`);
  return 'error' in info.gl ? 1 : 0;
}
