// uprez's web page: one websocket (/ws, docs/protocol.md) for commands, pushes and events;
// the screen view is GET /screen.png, fetched again on `preview-shown` and `shown` events.
// Plain browser JavaScript, no build step: this file is served as it is.

const TOKEN_KEY = 'uprez.token';
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

// --- the token: from ?token= once (then removed from the address bar), else from storage --------

const address = new URL(location.href);
if (address.searchParams.has('token')) {
  localStorage.setItem(TOKEN_KEY, address.searchParams.get('token') ?? '');
  address.searchParams.delete('token');
  history.replaceState(null, '', address);
}
let token = localStorage.getItem(TOKEN_KEY) ?? '';
const authHeaders = () => (token ? { authorization: `Bearer ${token}` } : {});

function askForToken(message) {
  $('token-message').textContent = message;
  $('token-form').hidden = false;
  /** @type {HTMLInputElement} */ ($('token-input')).focus();
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = /** @type {HTMLInputElement} */ ($('token-input')).value.trim();
  localStorage.setItem(TOKEN_KEY, token);
  $('token-form').hidden = true;
  reconnectNow();
});
$('change-token').addEventListener('click', () => askForToken(''));

// --- the connection -----------------------------------------------------------------------------

/** @type {WebSocket | null} */
let ws = null;
let nextId = 1;
/** @type {Map<number, {resolve: (reply: any) => void, reject: (error: Error) => void}>} */
const pending = new Map();
let retryDelayMs = 1000;
let retryTimer = 0;

function setConnection(state, text) {
  const line = $('connection');
  line.dataset.state = state;
  line.textContent = text;
  for (const id of ['prev', 'pause', 'next']) /** @type {HTMLButtonElement} */ ($(id)).disabled = state !== 'connected';
}

function connect() {
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) url.searchParams.set('token', token);
  setConnection('connecting', 'connecting…');
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  let opened = false;
  socket.addEventListener('open', () => {
    opened = true;
    ws = socket;
    retryDelayMs = 1000;
    setConnection('connected', 'connected');
    request('subscribe').catch(showControlError);
    void refresh().then(() => reloadScreen(current));
  });
  socket.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (typeof message.event === 'string') onEvent(message);
    else settle(message);
  });
  socket.addEventListener('close', (event) => {
    if (ws === socket) ws = null;
    const why = event.reason ? `${event.code}: ${event.reason}` : `${event.code}`;
    for (const waiter of pending.values()) waiter.reject(new Error(`the connection closed (${why})`));
    pending.clear();
    if (opened) {
      setConnection('closed', `disconnected (${why}); reconnecting…`);
      scheduleReconnect();
    } else {
      void explainRefusal();
    }
  });
}

// A browser is not told why a websocket upgrade failed (it sees a close with 1006): ask over plain
// HTTP, where the same token rules apply (docs/protocol.md, "Refused upgrades").
async function explainRefusal() {
  let response;
  try {
    response = await fetch('/status', { headers: authHeaders(), cache: 'no-store' });
  } catch {
    setConnection('closed', 'the daemon does not answer; retrying…');
    scheduleReconnect();
    return;
  }
  const why = await errorText(response);
  if (response.status === 401) {
    setConnection('refused', 'refused: wrong or missing token');
    askForToken(token ? `The daemon refused this token: ${why}` : `The daemon needs a token: ${why}`);
  } else if (response.status === 503) {
    setConnection('closed', `the daemon is busy (${why}); retrying…`);
    scheduleReconnect();
  } else {
    setConnection('closed', `the websocket /ws was refused (/status answers ${response.status}); retrying…`);
    scheduleReconnect();
  }
}

/** The daemon's error message in a refused HTTP response ({"error": {"code", "message"}} or text). */
async function errorText(response) {
  const body = (await response.text()).trim();
  try {
    const { error } = JSON.parse(body);
    if (error?.message) return `${error.message} (${response.status} ${error.code})`;
  } catch {
    // not JSON: the text itself
  }
  return `${body || response.statusText} (${response.status})`;
}

function scheduleReconnect() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, retryDelayMs);
  retryDelayMs = Math.min(retryDelayMs * 2, 10_000);
}

function reconnectNow() {
  clearTimeout(retryTimer);
  retryDelayMs = 1000;
  if (ws) ws.close(1000, 'new token');
  else connect();
}

/** Sends a request; resolves with the reply when ok, rejects with the daemon's error otherwise. */
function request(cmd, params = {}) {
  return new Promise((resolve, reject) => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return reject(new Error('not connected to the daemon'));
    const id = nextId++;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ ...params, id, cmd }));
  });
}

function settle(reply) {
  const waiter = pending.get(reply.id);
  if (!waiter) return; // e.g. the reply to a bare binary push (id null)
  pending.delete(reply.id);
  if (reply.ok) waiter.resolve(reply);
  else {
    const error = new Error(reply.error?.message ?? 'refused');
    error.code = reply.error?.code ?? 'error';
    waiter.reject(error);
  }
}

// --- events: the screen view follows the wall ------------------------------------------------------

/** @type {Map<string, any>} ImageInfo by id, from the last `list`. */
let images = new Map();
/** @type {{id: string, state: string} | null} */
let current = null;

function onEvent(event) {
  switch (event.event) {
    case 'preview-shown':
      current = { id: event.id, state: 'preview' };
      reloadScreen(current);
      break;
    case 'shown':
      current = { id: event.id, state: event.state };
      reloadScreen(current);
      break;
    case 'rejected':
      if (!uploading) say(`Refused ${event.name}: ${event.message}`, true);
      break;
  }
  refreshSoon();
}

const STATE_TEXT = {
  preview: 'preview (super-resolution on the way)',
  'super-resolved': 'super-resolved',
  resampled: 'resampled (no super-resolution needed or no model)',
  'sr-failed': 'super-resolution failed; the preview stays',
};

function caption(shown) {
  if (!shown) return 'nothing yet';
  const name = images.get(shown.id)?.name ?? shown.id;
  return `${name} — ${STATE_TEXT[shown.state] ?? shown.state}`;
}

// One capture at a time; an event during a capture asks for one more after it.
let screenLoading = false;
let screenWanted = false;
/** @type {{id: string, state: string} | null} */
let screenFor = null;
let screenUrl = '';
let screenLoads = 0;

function reloadScreen(shown) {
  screenFor = shown ?? screenFor;
  screenWanted = true;
  if (!screenLoading) void loadScreen();
}

async function loadScreen() {
  screenLoading = true;
  while (screenWanted) {
    screenWanted = false;
    const shown = screenFor;
    try {
      const response = await fetch('/screen.png', { headers: authHeaders(), cache: 'no-store' });
      if (!response.ok) throw new Error(await errorText(response));
      const url = URL.createObjectURL(await response.blob());
      const img = /** @type {HTMLImageElement} */ ($('screen-img'));
      await new Promise((resolve) => {
        img.addEventListener('load', resolve, { once: true });
        img.addEventListener('error', resolve, { once: true });
        img.src = url;
      });
      if (screenUrl) URL.revokeObjectURL(screenUrl);
      screenUrl = url;
      img.dataset.id = shown?.id ?? '';
      img.dataset.state = shown?.state ?? 'unknown';
      img.dataset.loads = String(++screenLoads);
      $('screen-caption').textContent = caption(shown);
    } catch (error) {
      $('screen-caption').textContent = `the screen capture failed: ${error.message}`;
    }
  }
  screenLoading = false;
}

// --- list and status -------------------------------------------------------------------------------

let refreshTimer = 0;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 150);
}

async function refresh() {
  if (!ws) return;
  try {
    const [list, status] = await Promise.all([request('list'), request('status')]);
    images = new Map(list.images.map((image) => [image.id, image]));
    renderImages(list.images);
    renderStatus(status.status);
  } catch (error) {
    showControlError(error);
  }
}
setInterval(() => document.visibilityState === 'visible' && refresh(), 15_000);

/** Thumbnails by image id (object URLs): from the daemon's /thumb.jpg, fetched with the token header. */
const localThumbs = new Map();
const thumbsLoading = new Set();

async function loadThumb(id) {
  if (thumbsLoading.has(id)) return;
  thumbsLoading.add(id);
  try {
    const response = await fetch(`/thumb.jpg?image=${encodeURIComponent(id)}`, { headers: authHeaders() });
    if (!response.ok) return;
    localThumbs.set(id, URL.createObjectURL(await response.blob()));
    const img = el('img', { className: 'thumb', src: localThumbs.get(id), alt: '' });
    document.querySelector(`[data-image-id="${CSS.escape(id)}"] .thumb`)?.replaceWith(img);
  } catch {
    // No thumbnail: the letter stays.
  }
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function megabytes(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

function renderImages(list) {
  $('images-count').textContent = `(${list.length})`;
  const items = list.map((image) => {
    const thumb = localThumbs.has(image.id)
      ? el('img', { className: 'thumb', src: localThumbs.get(image.id), alt: '' })
      : el('span', { className: 'thumb none', title: 'no thumbnail' }, (image.name || '?').slice(0, 1).toUpperCase());
    if (!localThumbs.has(image.id) && !image.rejected) loadThumb(image.id);
    const size = image.width ? `${image.width}×${image.height}` : 'size unknown';
    const show = el('button', { type: 'button', textContent: 'Show', className: 'quiet' });
    show.addEventListener('click', () => command('show', { image: image.id }));
    const remove = image.source === 'push' ? el('button', { type: 'button', textContent: 'Delete', className: 'quiet' }) : null;
    remove?.addEventListener('click', () => confirm(`Delete ${image.name}?`) && command('delete', { image: image.id }));
    const item = el('li', { className: image.onScreen ? 'on-screen' : '' },
      thumb,
      el('div', { className: 'about' },
        el('strong', { textContent: image.name, title: image.id }),
        el('span', { className: 'meta', textContent: `${image.source} · ${size} · ${megabytes(image.bytes)}` }),
        el('span', { className: `state ${image.state}`, textContent: image.rejected ? `rejected: ${image.rejected}` : image.state })),
      el('div', { className: 'actions' }, show, remove));
    item.dataset.imageId = image.id;
    return item;
  });
  $('images').replaceChildren(...items);
}

let paused = false;

function renderStatus(status) {
  const d = status.display ?? {};
  const rows = [
    ['Display', `${d.backend ?? '?'} ${d.width}×${d.height}${d.refreshHz ? ` @ ${d.refreshHz} Hz` : ''}, rotated ${d.rotate ?? 0}°${d.on === false ? ', off (schedule)' : ''}`],
    ['GPU', status.gpu ? `${status.gpu.renderer} (${status.gpu.version})` : 'unknown'],
    ['Model', status.model ? `${status.model.name} (${status.model.engine})` : 'none: pictures are resampled'],
    ['SR', status.sr?.problem ?? (status.sr?.pending ? `${status.sr.pending} job(s) pending` : 'idle')],
  ];
  const queue = status.queue ?? {};
  paused = Boolean(status.paused ?? queue.paused ?? paused);
  rows.push(['Slideshow', `${queue.images ?? 0} picture${queue.images === 1 ? '' : 's'}, ${queue.order ?? '?'} order, every ${queue.intervalS ?? '?'} s${paused ? ', paused' : ''}`]);
  const recent = (status.recent ?? []).slice(0, 5).map((r) => {
    const parts = [`decode ${r.decodeMs ?? '–'} ms`, `preview ${r.previewMs ?? '–'} ms`, `SR ${r.srMs ?? '–'} ms`, `SR shown ${r.srShownMs ?? '–'} ms`, `cache ${r.cache}`];
    return `${images.get(r.id)?.name ?? r.id}: ${parts.join(', ')}`;
  });
  rows.push(['Last SR times', recent.length ? recent : ['none yet']]);
  const cache = status.cache;
  rows.push(['Cache', cache ? `${cache.entries} entries, ${megabytes(cache.bytes)}${cache.maxBytes ? ` of ${megabytes(cache.maxBytes)}` : ''}, ${cache.hits} hits, ${cache.misses} misses` : 'off']);
  if (status.memory) rows.push(['Memory', `${status.memory.rssMB} MB`]);
  $('status').replaceChildren(...rows.flatMap(([name, value]) => [
    el('dt', { textContent: name }),
    Array.isArray(value) ? el('dd', {}, el('ul', {}, ...value.map((line) => el('li', { textContent: line })))) : el('dd', { textContent: value }),
  ]));
  $('pause').textContent = paused ? 'Resume' : 'Pause';
  if (status.current && !current) {
    current = { id: status.current.id, state: status.current.state };
    $('screen-caption').textContent = caption(current);
  } else if (current) {
    $('screen-caption').textContent = caption(current);
  }
}

// --- controls ------------------------------------------------------------------------------------

/** The page's one message line (under the drop zone). */
function say(text, isError = false) {
  $('push-message').textContent = text;
  $('push-message').classList.toggle('error', isError);
}

function showControlError(error) {
  say(error.code ? `${error.message} (${error.code})` : error.message, true);
}

async function command(cmd, params) {
  try {
    await request(cmd, params);
  } catch (error) {
    showControlError(error);
  }
  refreshSoon();
}

$('prev').addEventListener('click', () => command('prev'));
$('next').addEventListener('click', () => command('next'));
$('pause').addEventListener('click', async () => {
  try {
    const reply = await request(paused ? 'resume' : 'pause');
    paused = reply.paused ?? !paused;
    $('pause').textContent = paused ? 'Resume' : 'Pause';
  } catch (error) {
    showControlError(error);
  }
  refreshSoon();
});

// --- pushing: a push request, then the file as one binary message ------------------------------------

/** @type {File[]} */
const queue = [];
let uploading = false;

function pushFiles(files) {
  queue.push(...[...files].filter((file) => file.size > 0));
  if (!uploading) void drainQueue();
}

async function drainQueue() {
  uploading = true;
  const bar = /** @type {HTMLProgressElement} */ ($('upload-progress'));
  while (queue.length > 0) {
    const file = /** @type {File} */ (queue.shift());
    const socket = ws;
    if (!socket) {
      say(`Not connected: ${file.name} was not sent.`, true);
      continue;
    }
    bar.hidden = false;
    bar.value = 0;
    say(`Sending ${file.name} (${megabytes(file.size)})…`);
    try {
      const bytes = await file.arrayBuffer();
      // The protocol takes names of 1 to 200 characters; the daemon names nameless ones.
      const reply = request('push', file.name ? { name: file.name.slice(0, 200) } : {});
      reply.catch(() => {}); // awaited below, after the upload
      socket.send(bytes);
      while (socket.readyState === WebSocket.OPEN && socket.bufferedAmount > 0) {
        bar.value = Math.max(0, 1 - socket.bufferedAmount / bytes.byteLength);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      bar.value = 1;
      say(`Sent ${file.name}; the daemon is decoding it…`);
      const { image, ms } = await reply;
      localThumbs.set(image.id, URL.createObjectURL(file));
      say(`Accepted ${image.name} (${image.width}×${image.height}, decoded in ${Math.round(ms)} ms).`);
    } catch (error) {
      say(`Refused ${file.name}: ${error.message}${error.code ? ` (${error.code})` : ''}`, true);
      bar.hidden = true;
      refreshSoon();
      continue;
    }
    refreshSoon();
  }
  bar.hidden = true;
  uploading = false;
}

const drop = $('drop');
const input = /** @type {HTMLInputElement} */ ($('file-input'));
input.addEventListener('change', () => {
  pushFiles(input.files ?? []);
  input.value = '';
});
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  pushFiles(event.dataTransfer?.files ?? []);
});
// A picture dropped beside the drop zone must not make the browser navigate away to it.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

connect();
