// Byte-by-byte comparison of two images or planes, for assertions like "within 1/255 everywhere".
export interface Difference {
  /** Largest absolute difference of any byte. */
  worst: number;
  /** How many bytes differ at all. */
  differing: number;
  /** Index of the first byte that differs by `worst` (-1 when equal). */
  at: number;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): Difference {
  if (a.length !== b.length) throw new RangeError(`cannot compare ${a.length} bytes with ${b.length}`);
  let worst = 0;
  let differing = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d === 0) continue;
    differing++;
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  return { worst, differing, at };
}

/** "worst 1, 12 of 4096 bytes differ" (for assertion messages). */
export function describeDifference(d: Difference, total: number): string {
  return d.worst === 0 ? `all ${total} bytes equal` : `worst ${d.worst} (byte ${d.at}), ${d.differing} of ${total} bytes differ`;
}
