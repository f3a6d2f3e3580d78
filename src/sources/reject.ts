// Refused files of the watched folder: moved to `rejected/` inside it (which the folder source
// never watches), beside a `NAME.reason` text file that says why and when. Never deleted: when
// the move is not possible (a read-only folder or share, no permission), the file stays where
// it is and the caller lists it in /status instead.
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { REJECTED_FOLDER } from './folder-source.js';

export type RejectOutcome =
  | { moved: true; /** Absolute path of the file in rejected/. */ to: string; reasonFile: string | null; reasonError?: string }
  | { moved: false; code: string | undefined; message: string };

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function exists(target: string): Promise<boolean> {
  try {
    await fsp.lstat(target);
    return true;
  } catch {
    return false;
  }
}

/** `name`, or `name (2)`, `name (3)`... before the extension: a free name in `dir` for the file and its .reason file. */
async function freeName(dir: string, name: string): Promise<string> {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${stem} (${n})${ext}`;
    if (!(await exists(path.join(dir, candidate))) && !(await exists(path.join(dir, `${candidate}.reason`)))) return candidate;
  }
}

/**
 * Moves `file` (absolute, inside `folder`; `id` its path relative to the folder with '/'
 * separators) to `folder/rejected/` keeping its subfolders, and writes `NAME.reason` beside it.
 * A name already taken there gets ' (2)', ' (3)'... Never throws: a failure is the outcome.
 */
export async function moveToRejected(folder: string, id: string, file: string | Buffer, reason: string, now = new Date()): Promise<RejectOutcome> {
  const relative = id.split('/');
  const dir = path.join(folder, REJECTED_FOLDER, ...relative.slice(0, -1));
  // A Buffer path (a name that is not UTF-8) ends in rejected/ under its id's readable name.
  const fileDir = typeof file === 'string' ? path.dirname(file) : file.subarray(0, Math.max(1, file.lastIndexOf(0x2f)));
  let to: string;
  try {
    // Fails early, without creating rejected/, when the folder is read-only for us.
    await fsp.access(fileDir, constants.W_OK);
    await fsp.mkdir(dir, { recursive: true });
    to = path.join(dir, await freeName(dir, relative[relative.length - 1]!));
    await fsp.rename(file, to);
  } catch (error) {
    return { moved: false, code: errorCode(error), message: (error as Error).message };
  }
  const reasonFile = `${to}.reason`;
  const text = `${reason}\n\nrejected: ${now.toISOString()}\nfile: ${id}\n` +
    'uprez moved this file here because it cannot show it. Fix or replace it and put it back into the folder; delete it if it is not needed.\n';
  try {
    await fsp.writeFile(reasonFile, text, { flag: 'wx' });
  } catch (error) {
    return { moved: true, to, reasonFile: null, reasonError: (error as Error).message };
  }
  return { moved: true, to, reasonFile };
}
