// The test patterns the VM guest draws and the host expects on the virtual screen.
// Blocks of pure colours (every channel 0 or 255, exact in any 8-bit path) with
// sharp edges at odd positions, asymmetric in x and y, so a flipped, shifted or
// scaled image cannot match. No imports: the guest loads this under slow emulation.

export type RGB = readonly [number, number, number];

/** A rectangle in screen coordinates: (x, y) is its top-left pixel. */
export interface Block {
  x: number;
  y: number;
  width: number;
  height: number;
  color: RGB;
}

const BLACK: RGB = [0, 0, 0];
const RED: RGB = [255, 0, 0];
const GREEN: RGB = [0, 255, 0];
const BLUE: RGB = [0, 0, 255];
const CYAN: RGB = [0, 255, 255];
const MAGENTA: RGB = [255, 0, 255];
const YELLOW: RGB = [255, 255, 0];
const WHITE: RGB = [255, 255, 255];

/** First frame: a 4x2 grid of colours, with a small white marker in the top-left corner. */
export function gridPattern(width: number, height: number): Block[] {
  const colors: RGB[] = [RED, GREEN, BLUE, WHITE, CYAN, MAGENTA, YELLOW, BLACK];
  const blocks: Block[] = [];
  for (let row = 0; row < 2; row++) {
    for (let column = 0; column < 4; column++) {
      const x = Math.floor((column * width) / 4);
      const y = Math.floor((row * height) / 2);
      blocks.push({
        x,
        y,
        width: Math.floor(((column + 1) * width) / 4) - x,
        height: Math.floor(((row + 1) * height) / 2) - y,
        color: colors[row * 4 + column],
      });
    }
  }
  blocks.push({ x: 1, y: 3, width: 37, height: 23, color: BLACK }, { x: 5, y: 7, width: 11, height: 9, color: WHITE });
  return blocks;
}

/** Second frame: different everywhere from the first, with one-pixel lines. */
export function overlapPattern(width: number, height: number): Block[] {
  return [
    { x: 0, y: 0, width, height, color: BLUE },
    { x: 101, y: 77, width: Math.floor(width / 2) - 59, height: Math.floor(height / 2) - 37, color: YELLOW },
    { x: Math.floor(width / 2) + 41, y: Math.floor(height / 2) + 61, width: 401, height: 199, color: MAGENTA },
    { x: Math.floor(width / 2), y: 0, width: 1, height, color: RED },
    { x: 0, y: height - 2, width, height: 1, color: WHITE },
  ];
}

/** The RGB bytes (top row first) the blocks paint, each over the ones before it. */
export function renderBlocks(blocks: Block[], width: number, height: number): Uint8Array {
  const pixels = new Uint8Array(width * height * 3);
  for (const block of blocks) {
    for (let y = block.y; y < block.y + block.height; y++) {
      for (let x = block.x; x < block.x + block.width; x++) {
        pixels.set(block.color, (y * width + x) * 3);
      }
    }
  }
  return pixels;
}
