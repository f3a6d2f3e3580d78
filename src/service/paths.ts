// Where the repository's own files are, found from this module's location, so it
// works the same from src/ (tests, dev) and from dist/src/ (compiled).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'shaders'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`uprez: cannot find the repository root above ${start}`);
    dir = parent;
  }
}

export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
export const shadersDir = join(repoRoot, 'shaders');
export const modelsDir = join(repoRoot, 'models');
