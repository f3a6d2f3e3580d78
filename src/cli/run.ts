// `uprez run`: opens the display (KMS when there is a screen, else headless) and shows
// the test card with the display and GPU facts until SIGTERM. Headless, it also writes
// the frame as a PNG and says where.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { sdNotify, type Display } from 'node-drm-gbm-egl';
import { readGlFacts } from '../display/gl-facts.js';
import { openScreen, parseSize, type ScreenOptions } from '../display/open-screen.js';
import { ImageQuad } from '../show/image-quad.js';
import { renderTestCard } from '../show/test-card.js';
import { log } from '../service/log.js';
import { parseCommandArgs } from './args.js';

const help = `usage: uprez run [--backend auto|kms|headless] [--card PATH] [--connector NAME] [--mode WxH[@Hz]]
                 [--size WxH] [--png FILE]

  --backend    auto (default): KMS when a screen is connected, else headless
  --size       size of the headless display (default 1920x1080)
  --png        where the headless frame is written (default: $XDG_RUNTIME_DIR or the temp dir, uprez-test-card.png)
`;

function describe(display: Display): string {
  const { info } = display;
  if (info.backend === 'kms') return `KMS ${info.card} (${info.driver}) ${info.connector} ${info.mode}`;
  return `headless ${info.mode}`;
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('run', args, {
    backend: { type: 'string' },
    card: { type: 'string' },
    connector: { type: 'string' },
    mode: { type: 'string' },
    size: { type: 'string' },
    png: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const backend = values.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'kms' && backend !== 'headless') {
    throw new Error(`uprez run: --backend must be auto, kms or headless, got '${backend}'`);
  }
  const options: ScreenOptions = {
    backend,
    card: values.card,
    connector: values.connector,
    mode: values.mode,
    headlessSize: parseSize(values.size ?? '1920x1080', '--size'),
  };

  const { display, headlessReason } = openScreen(options);
  log.info('display.opened', { backend: display.info.backend, mode: display.info.mode, card: display.info.card, connector: display.info.connector, reason: headlessReason });
  const facts = readGlFacts(display.gl);
  log.info('gpu', { renderer: facts.renderer, version: facts.version, maxTexture: facts.limits.MAX_TEXTURE_SIZE as number });

  const lines = [
    'uprez test card',
    `display   ${describe(display)}`,
    `GPU       ${facts.renderer}`,
    `GL        ${facts.version}`,
    `GLSL      ${facts.shadingLanguage}`,
    `limits    texture ${facts.limits.MAX_TEXTURE_SIZE}, viewport ${String(facts.limits.MAX_VIEWPORT_DIMS)}, ` +
      `samplers ${facts.limits.MAX_TEXTURE_IMAGE_UNITS}, fragment highp ${facts.fragmentHighp ? 'yes' : 'no'}`,
    `binaries  ${facts.programBinaryFormats} program binary format(s), ${facts.extensions.length} extensions`,
    `started   ${new Date().toISOString()}  node ${process.versions.node}`,
  ];
  if (headlessReason) lines.push(`headless  ${headlessReason.split('\n')[0]}`);

  const { width, height } = display;
  const card = await renderTestCard(width, height, lines);
  const quad = new ImageQuad(display.gl);
  display.gl.bindFramebuffer(display.gl.FRAMEBUFFER, null);
  display.gl.viewport(0, 0, width, height);
  quad.draw(card, width, height);
  await display.present();
  log.info('frame.shown', { what: 'test card', width, height });

  if (display.info.backend === 'headless') {
    const pngPath = values.png ?? join(process.env.XDG_RUNTIME_DIR ?? tmpdir(), 'uprez-test-card.png');
    await sharp(display.readPixels(), { raw: { width, height, channels: 4 } }).png().toFile(pngPath);
    log.info('frame.written', { path: pngPath });
  }

  sdNotify('READY=1');
  sdNotify(`STATUS=showing the test card on ${describe(display)}`);
  return waitForTermination(display, quad);
}

/** Stays up (feeding the systemd watchdog when it is on) until SIGTERM or SIGINT. */
function waitForTermination(display: Display, quad: ImageQuad): Promise<number> {
  const watchdogMicros = Number(process.env.WATCHDOG_USEC ?? 0);
  const watchdog = watchdogMicros > 0 ? setInterval(() => sdNotify('WATCHDOG=1'), watchdogMicros / 2000) : undefined;
  const keepAlive = setInterval(() => {}, 1 << 30);
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      clearInterval(keepAlive);
      if (watchdog) clearInterval(watchdog);
      sdNotify('STOPPING=1');
      quad.dispose();
      display.close();
      log.info('stopped', { signal });
      resolve(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
