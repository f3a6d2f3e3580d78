// Compiles and links GL programs, keeping program binaries on disk (OES_get_program_binary)
// where the driver offers them, so the next start does not pay the compile time again.
// Key: a hash of the sources and the GL renderer + version (a driver update invalidates it).
// A binary the driver rejects is recompiled from source and rewritten.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { GL, GLProgram } from 'node-drm-gbm-egl';

/** Attribute 0 carries the quad's corners in every program. */
export const POSITION_ATTRIBUTE = 0;

/** ~/.cache/uprez/programs, or $XDG_CACHE_HOME/uprez/programs. */
export function defaultProgramCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'uprez', 'programs');
}

export interface ProgramCacheStats {
  /** Programs compiled from source (cache misses, rejected binaries, or no cache). */
  compiled: number;
  /** Programs loaded from a cached binary. */
  loaded: number;
  /** Binaries the driver refused (recompiled). */
  rejected: number;
  /** Time spent compiling + linking, or loading binaries (ms). */
  ms: number;
}

export class ProgramCache {
  readonly stats: ProgramCacheStats = { compiled: 0, loaded: 0, rejected: 0, ms: 0 };
  private readonly dir: string | null;
  private readonly driverId: string;
  private readonly binariesOffered: boolean;
  private dirReady = false;

  /** `dir` null keeps nothing on disk. */
  constructor(private readonly gl: GL, dir: string | null) {
    this.driverId = `${String(gl.getParameter(gl.RENDERER!))}\n${String(gl.getParameter(gl.VERSION!))}`;
    this.binariesOffered = gl.getProgramBinaryFormats().length > 0;
    this.dir = this.binariesOffered ? dir : null;
  }

  /** A linked program for these sources (from the cache when possible). */
  program(vertex: string, fragment: string): GLProgram {
    const started = performance.now();
    try {
      const key = createHash('sha256').update(this.driverId).update('\0').update(vertex).update('\0').update(fragment).digest('hex');
      const cached = this.loadBinary(key);
      if (cached) {
        this.stats.loaded++;
        return cached;
      }
      const program = this.compile(vertex, fragment);
      this.stats.compiled++;
      this.saveBinary(key, program);
      return program;
    } finally {
      this.stats.ms += performance.now() - started;
    }
  }

  private compile(vertex: string, fragment: string): GLProgram {
    const { gl } = this;
    const program = gl.createProgram();
    const shaders = [[gl.VERTEX_SHADER!, vertex], [gl.FRAGMENT_SHADER!, fragment]] as const;
    try {
      for (const [type, source] of shaders) {
        const shader = gl.createShader(type);
        try {
          gl.shaderSource(shader, source);
          gl.compileShader(shader); // throws GLShaderError with the driver's log
          gl.attachShader(program, shader);
        } finally {
          gl.deleteShader(shader); // stays alive while attached
        }
      }
      gl.bindAttribLocation(program, POSITION_ATTRIBUTE, 'a_position');
      gl.linkProgram(program);
      return program;
    } catch (error) {
      gl.deleteProgram(program);
      throw error;
    }
  }

  private file(key: string): string | null {
    return this.dir ? join(this.dir, `${key}.bin`) : null;
  }

  private loadBinary(key: string): GLProgram | null {
    const file = this.file(key);
    if (!file) return null;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return null; // not cached yet
    }
    if (bytes.length < 8) return null;
    const format = bytes.readUInt32LE(0);
    const program = this.gl.createProgram();
    let accepted = false;
    try {
      accepted = this.gl.programBinary(program, format, bytes.subarray(4));
    } catch {
      accepted = false;
    }
    if (!accepted) {
      this.gl.deleteProgram(program);
      this.stats.rejected++;
      return null;
    }
    return program;
  }

  private saveBinary(key: string, program: GLProgram): void {
    const file = this.file(key);
    if (!file || !this.dir) return;
    try {
      const binary = this.gl.getProgramBinary(program);
      if (!binary) return;
      if (!this.dirReady) {
        mkdirSync(this.dir, { recursive: true });
        this.dirReady = true;
      }
      const header = Buffer.alloc(4);
      header.writeUInt32LE(binary.format >>> 0, 0);
      // Write then rename: a reader never sees half a file.
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, Buffer.concat([header, binary.binary]));
      renameSync(temporary, file);
    } catch {
      // A cache that cannot be written only costs the next start its compile time.
    }
  }
}
