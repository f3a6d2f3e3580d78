// Opens the screen uprez draws on: a KMS display when this machine has one with a
// connected screen, otherwise a headless (offscreen) display.
import { DisplayError, openDisplay, openHeadless, type Display } from 'node-drm-gbm-egl';

export interface ScreenOptions {
  /** 'auto' (KMS if possible, else headless), 'kms' (fail without KMS) or 'headless'. */
  backend: 'auto' | 'kms' | 'headless';
  card?: string;
  connector?: string;
  /** 'WxH' or 'WxH@Hz' for KMS. */
  mode?: string;
  /** Size of the headless display. */
  headlessSize: { width: number; height: number };
}

export interface OpenedScreen {
  display: Display;
  /** Why KMS was not used, when the display is headless in 'auto'. */
  headlessReason?: string;
}

/** KMS errors after which 'auto' falls back to headless: there is no screen to drive. */
const noScreenCodes = new Set(['no-kms-card', 'no-connected-connector']);

export function openScreen(options: ScreenOptions): OpenedScreen {
  if (options.backend === 'headless') {
    return { display: openHeadless(options.headlessSize), headlessReason: 'headless requested' };
  }
  try {
    return { display: openDisplay({ card: options.card, connector: options.connector, mode: options.mode }) };
  } catch (error) {
    if (options.backend === 'auto' && error instanceof DisplayError && noScreenCodes.has(error.code)) {
      return { display: openHeadless(options.headlessSize), headlessReason: error.message };
    }
    throw error;
  }
}

export function parseSize(text: string, what: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match) throw new Error(`${what}: expected WIDTHxHEIGHT like 1920x1080, got '${text}'`);
  const size = { width: Number(match[1]), height: Number(match[2]) };
  if (size.width < 1 || size.height < 1) throw new Error(`${what}: width and height must be at least 1, got '${text}'`);
  return size;
}
