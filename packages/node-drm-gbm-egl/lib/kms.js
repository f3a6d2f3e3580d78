// KMS displays: listCards() describes the DRM cards, openDisplay() picks a card,
// connector and mode (never a hard-coded card number), opens it through the native
// KmsDisplay and turns every failure into a DisplayError that says what to do.
import { readdirSync, readlinkSync, readFileSync } from 'node:fs';
import { native } from './native.js';
import { DisplayError } from './errors.js';
import { createGL } from './gl.js';

const PERMISSION_ERRNOS = new Set([1 /* EPERM */, 13 /* EACCES */]);

function publicCard({ errno, ...card }) {
  return card;
}

/** Describes every DRM primary node (/dev/dri/card*). Never throws for one bad card. */
export function listCards() {
  return native.kmsListCards().map(publicCard);
}

function cardPath(card) {
  return card.startsWith('/') ? card : `/dev/dri/${card}`;
}

function describeCardsFound(cards) {
  if (cards.length === 0) return 'no /dev/dri/card* device exists (no DRM driver is loaded)';
  return cards
    .map((card) => {
      const what = card.error ? `error: ${card.error}` : card.canModeset ? 'can modeset' : 'render only, no KMS';
      return `${card.path} (${card.driver || 'unknown driver'}, ${what})`;
    })
    .join('; ');
}

function describeConnectors(cards) {
  return cards
    .flatMap((card) =>
      card.connectors.map((c) => `${c.name} on ${card.path} (${c.connected ? 'connected' : 'disconnected'})`),
    )
    .join(', ');
}

const PI_KMS_ADVICE =
  'On a Raspberry Pi, enable the KMS driver: put `dtoverlay=vc4-kms-v3d` in /boot/firmware/config.txt ' +
  '(/boot/config.txt on older systems) and reboot.';

const PERMISSION_ADVICE =
  'Add the user to the video and render groups (`sudo usermod -aG video,render $USER`, then log in again), ' +
  'or run as root.';

function noKmsCardError(cards, requested) {
  if (cards.some((card) => PERMISSION_ERRNOS.has(card.errno))) {
    return new DisplayError(
      'permission',
      `Cannot open the DRM cards: ${describeCardsFound(cards)}. ${PERMISSION_ADVICE}`,
    );
  }
  const which = requested ? `${requested} cannot drive a screen` : 'No DRM card can drive a screen';
  return new DisplayError(
    'no-kms-card',
    `${which}. Found: ${describeCardsFound(cards)}. ${PI_KMS_ADVICE} ` +
      'Elsewhere, use the headless display (openHeadless).',
  );
}

// Picks the card and connector: the requested ones, else the first connected connector
// on the first card that can modeset.
function chooseConnector(kmsCards, options) {
  if (options.connector) {
    const named = kmsCards.flatMap((card) =>
      card.connectors.filter((c) => c.name === options.connector).map((connector) => ({ card, connector })),
    );
    if (named.length === 0) {
      throw new DisplayError(
        'no-connected-connector',
        `There is no connector ${options.connector}. Connectors: ${describeConnectors(kmsCards)}.`,
      );
    }
    const connected = named.find(({ connector }) => connector.connected);
    if (!connected) {
      throw new DisplayError(
        'no-connected-connector',
        `Nothing is connected to ${options.connector}: plug in the screen (and switch it on), or choose another ` +
          `connector. Connectors: ${describeConnectors(kmsCards)}.`,
      );
    }
    return connected;
  }
  for (const card of kmsCards) {
    const connector = card.connectors.find((c) => c.connected);
    if (connector) return { card, connector };
  }
  throw new DisplayError(
    'no-connected-connector',
    `No screen is connected. Connectors: ${describeConnectors(kmsCards) || 'none'}. ` +
      'Plug in the screen and switch it on (on a Pi 4/5, use the HDMI port next to the power socket, HDMI-A-1), ' +
      'then start again.',
  );
}

const MODE_PATTERN = /^(\d+)x(\d+)(i?)(?:@(\d+(?:\.\d+)?))?$/;

// 'WxH' takes the preferred (else the fastest) mode of that size; 'WxH@Hz' the
// closest refresh rate within half a hertz (so @60 also finds 59.94).
function chooseMode(card, connector, requested) {
  const available = connector.modes.map((m) => m.name).join(', ') || 'none';
  if (connector.modes.length === 0) {
    throw new DisplayError(
      'mode-not-available',
      `${connector.name} on ${card.path} reports no modes (the screen's EDID could not be read): check the cable.`,
    );
  }
  if (!requested) return connector.modes.find((m) => m.preferred) ?? connector.modes[0];
  const parsed = MODE_PATTERN.exec(requested);
  if (!parsed) {
    throw new DisplayError(
      'mode-not-available',
      `Mode "${requested}" is not of the form WIDTHxHEIGHT or WIDTHxHEIGHT@HZ (e.g. 3840x2160@60). ` +
        `Modes of ${connector.name}: ${available}.`,
    );
  }
  const [, width, height, interlaced, hz] = parsed;
  const candidates = connector.modes.filter(
    (m) => m.width === Number(width) && m.height === Number(height) && m.interlaced === (interlaced === 'i'),
  );
  const byPreference = (a, b) =>
    hz !== undefined
      ? Math.abs(a.refreshHz - Number(hz)) - Math.abs(b.refreshHz - Number(hz)) || b.preferred - a.preferred
      : b.preferred - a.preferred || b.refreshHz - a.refreshHz;
  const matching = candidates
    .filter((m) => hz === undefined || Math.abs(m.refreshHz - Number(hz)) < 0.5)
    .sort(byPreference);
  if (matching.length === 0) {
    throw new DisplayError(
      'mode-not-available',
      `${connector.name} on ${card.path} has no mode ${requested}. Available: ${available}.`,
    );
  }
  return matching[0];
}

// Best effort: which processes have the card open (all of them as root, own ones otherwise).
function processesUsingCard(path) {
  const users = [];
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    return users;
  }
  for (const pid of pids) {
    try {
      const fds = readdirSync(`/proc/${pid}/fd`);
      if (fds.some((fd) => safeReadlink(`/proc/${pid}/fd/${fd}`) === path)) {
        users.push(`${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()} (pid ${pid})`);
      }
    } catch {
      // not ours to inspect, or gone
    }
  }
  return users;
}

function safeReadlink(path) {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function masterBusyAdvice(path) {
  const users = processesUsingCard(path);
  const who = users.length > 0 ? ` Processes that have ${path} open: ${users.join(', ')}.` : '';
  return (
    `Another program drives the screen (it is the DRM master of ${path}): most likely a desktop session ` +
    '(gdm, lightdm, sddm, an X server or a Wayland compositor) or another uprez instance.' +
    who +
    ' Stop it, e.g. `sudo systemctl stop display-manager` (and `sudo systemctl set-default multi-user.target` ' +
    'to keep it off after a reboot), or `sudo systemctl stop uprez` for another instance, then start again.'
  );
}

// Turns an error of the native KmsDisplay into a DisplayError with advice.
function toDisplayError(error, path) {
  if (error instanceof DisplayError || typeof error?.kmsCode !== 'string') return error;
  const code = error.kmsCode;
  switch (code) {
    case 'permission':
      return new DisplayError(code, `${error.message}. ${PERMISSION_ADVICE}`);
    case 'drm-master-busy':
      return new DisplayError(code, `${error.message}. ${masterBusyAdvice(path)}`);
    case 'egl':
    case 'gbm':
      return new DisplayError(
        code,
        `${error.message}. The Mesa drivers may be missing: install libegl-mesa0, libgbm1 and libgl1-mesa-dri ` +
          '(the packages in scripts/debian-packages.txt); the process also needs access to /dev/dri/renderD* ' +
          '(the render group).',
      );
    default:
      return new DisplayError(code, error.message);
  }
}

class KmsDisplay {
  #native;
  #closed = false;

  constructor(handle) {
    this.#native = handle;
    this.#describe();
    // The screen is the EGL window surface: framebuffer 0.
    this.gl = createGL({ defaultFramebuffer: 0 });
  }

  #describe() {
    const facts = this.#native.describe();
    this.width = facts.width;
    this.height = facts.height;
    this.refreshHz = facts.refreshHz;
    this.info = Object.freeze({
      backend: 'kms',
      card: facts.card,
      driver: facts.driver,
      connector: facts.connector,
      mode: facts.mode,
      glRenderer: facts.glRenderer,
      glVersion: facts.glVersion,
      glVendor: facts.glVendor,
      eglVersion: facts.eglVersion,
    });
  }

  /** Frames since the back buffer was last presented (1: the previous frame); 0 when unknown. */
  bufferAge() {
    return this.#native.bufferAge();
  }

  /** Whether the screen is connected now, and its modes (as the kernel last probed them: setMode probes again). */
  connectorState() {
    return this.#native.connectorState();
  }

  /** The screen went away: stop scanning out; the next present() sets the mode again. */
  suspend() {
    const error = this.#native.suspend();
    if (error) process.emitWarning(`node-drm-gbm-egl: ${error}`);
  }

  /** While suspended: the next present() uses this mode ('WxH' or 'WxH@Hz', as openDisplay takes). */
  setMode(requested) {
    // Probed: after an unplug the kernel's list is still the last screen's (a status poll does not
    // read the EDID again), and a mode the new screen lacks would leave it dark.
    const state = this.#native.connectorState(true);
    const connector = { name: this.info.connector, modes: state.modes };
    const mode = chooseMode({ path: this.info.card }, connector, requested || undefined);
    try {
      this.#native.setMode(mode.name);
    } catch (error) {
      throw toDisplayError(error, this.info.card);
    }
    this.#describe();
  }

  async present() {
    try {
      await this.#native.present();
    } catch (error) {
      throw toDisplayError(error, this.info.card);
    }
  }

  readPixels() {
    throw new DisplayError(
      'not-supported',
      'readPixels() is only available on the headless display; a KMS frame is on the screen (read the default ' +
        'framebuffer with gl.readPixels before present() instead).',
    );
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    const result = this.#native.close();
    if (!result.restored) {
      process.emitWarning(`node-drm-gbm-egl: the previous screen contents were not restored: ${result.error}`);
    }
  }
}

/** Opens a screen through DRM/KMS + GBM + EGL + GLES2. Throws DisplayError with advice. */
export function openDisplay(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError('openDisplay(options): options must be an object');
  for (const key of ['card', 'connector', 'mode']) {
    if (options[key] !== undefined && typeof options[key] !== 'string') {
      throw new TypeError(`openDisplay(options): options.${key} must be a string`);
    }
  }
  let cards = native.kmsListCards();
  if (options.card) {
    const path = cardPath(options.card);
    cards = cards.filter((card) => card.path === path);
    if (cards.length === 0) {
      throw new DisplayError(
        'no-kms-card',
        `${path} does not exist. DRM cards here: ${describeCardsFound(native.kmsListCards())}.`,
      );
    }
  }
  const kmsCards = cards.filter((card) => card.canModeset);
  if (kmsCards.length === 0) throw noKmsCardError(cards, options.card && cardPath(options.card));
  const { card, connector } = chooseConnector(kmsCards, options);
  const mode = chooseMode(card, connector, options.mode);
  let handle;
  try {
    handle = new native.KmsDisplay(card.path, connector.id, mode.name);
  } catch (error) {
    throw toDisplayError(error, card.path);
  }
  try {
    return new KmsDisplay(handle);
  } catch (error) {
    handle.close();
    throw error;
  }
}
