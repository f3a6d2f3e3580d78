// Splits an image into tiles that fit the GPU's limits. Each tile computes its `core` from a
// `region` grown by a halo (the network's receptive radius): values near a region edge that
// is not an image edge are wrong (clamping pads them), but no more than `halo` pixels deep,
// so the core is exact and tiled output equals untiled output byte for byte.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Tile {
  /** The pixels this tile produces. */
  core: Rect;
  /** The pixels it reads: core grown by the halo, clipped to the image. */
  region: Rect;
}

/** Splits `length` into near-equal spans of at most `maxSpan` (no sliver at the end). */
export function splitSpan(length: number, maxSpan: number): Array<{ start: number; size: number }> {
  if (!(maxSpan >= 1)) throw new RangeError(`tile span must be at least 1, got ${maxSpan}`);
  const count = Math.ceil(length / maxSpan);
  const spans: Array<{ start: number; size: number }> = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * length) / count);
    const end = Math.floor(((i + 1) * length) / count);
    spans.push({ start, size: end - start });
  }
  return spans;
}

export function planTiles(width: number, height: number, maxCore: number, halo: number): Tile[] {
  const tiles: Tile[] = [];
  for (const ys of splitSpan(height, maxCore)) {
    for (const xs of splitSpan(width, maxCore)) {
      const x0 = Math.max(0, xs.start - halo);
      const y0 = Math.max(0, ys.start - halo);
      const x1 = Math.min(width, xs.start + xs.size + halo);
      const y1 = Math.min(height, ys.start + ys.size + halo);
      tiles.push({
        core: { x: xs.start, y: ys.start, width: xs.size, height: ys.size },
        region: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
      });
    }
  }
  return tiles;
}

/** Copies a rectangle of an interleaved image into a new RGBA buffer (alpha 255 when absent). */
export function cropToRgba(data: Uint8Array, imageWidth: number, channels: number, rect: Rect): Uint8Array {
  const out = new Uint8Array(rect.width * rect.height * 4);
  for (let y = 0; y < rect.height; y++) {
    let from = ((rect.y + y) * imageWidth + rect.x) * channels;
    let to = y * rect.width * 4;
    if (channels === 4) {
      out.set(data.subarray(from, from + rect.width * 4), to);
      continue;
    }
    for (let x = 0; x < rect.width; x++, from += channels, to += 4) {
      out[to] = data[from]!;
      out[to + 1] = data[from + 1]!;
      out[to + 2] = data[from + 2]!;
      out[to + 3] = 255;
    }
  }
  return out;
}

/** Writes RGBA bytes (a rect-sized block) into an interleaved image with `channels` channels. */
export function pasteFromRgba(rgba: Uint8Array, data: Uint8Array, imageWidth: number, channels: number, rect: Rect): void {
  for (let y = 0; y < rect.height; y++) {
    let from = y * rect.width * 4;
    let to = ((rect.y + y) * imageWidth + rect.x) * channels;
    if (channels === 4) {
      data.set(rgba.subarray(from, from + rect.width * 4), to);
      continue;
    }
    for (let x = 0; x < rect.width; x++, from += 4, to += channels) {
      data[to] = rgba[from]!;
      data[to + 1] = rgba[from + 1]!;
      data[to + 2] = rgba[from + 2]!;
    }
  }
}
