// On-disk cache of teacher outputs (logits and pooled features), so a re-run with the
// same model files, tokenizer, maximum length and dtype skips teacher inference.
//
// Layout: <dir>/<key>/meta.json contains the identity that the key hashes. Each
// <dir>/<key>/*.bin shard contains rows of [sha256(text) (32 bytes), logits (float32 ×
// logitsDim), features (float32 × featureDim)] after a 20-byte header. A shard's mtime is its last
// use, and shards are removed least recently used first when the cache exceeds its limit.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Everything that changes a teacher's outputs for a given text. */
export interface TeacherIdentity {
  /** Model id or folder as configured. */
  model: string;
  /** sha256 of each model file that affects the outputs, by path relative to the model folder. */
  files: Record<string, string>;
  maxLength: number;
  dtype: string;
  /** Kinds of output in the shards, for example `logits` or `pooled features`. */
  outputs: string;
}

export interface CachedRow {
  logits?: Float32Array;
  features?: Float32Array;
}

export interface CacheEntryInfo {
  key: string;
  model: string;
  rows: number;
  bytes: number;
  lastUsed: Date;
}

export interface CacheInfo {
  dir: string;
  entries: CacheEntryInfo[];
  bytes: number;
  maxBytes: number;
}

interface EntryMeta {
  identity: TeacherIdentity;
  logitsDim: number;
  featureDim: number;
  created: string;
}

const MAGIC = 0x43544453; // "SDTC" read as a little-endian uint32
const FORMAT_VERSION = 1;
const HEADER_BYTES = 20;
const HASH_BYTES = 32;

/**
 * Default cache folder: $SENTIMENT_DISTILLER_CACHE_DIR, else the OS cache folder
 * (%LOCALAPPDATA% on Windows, ~/Library/Caches on macOS, $XDG_CACHE_HOME or ~/.cache
 * elsewhere) plus sentiment-distiller/teachers.
 */
export function defaultTeacherCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (env.SENTIMENT_DISTILLER_CACHE_DIR) return resolve(env.SENTIMENT_DISTILLER_CACHE_DIR);
  let base: string;
  if (platform === 'win32') base = env.LOCALAPPDATA ?? join(home, 'AppData', 'Local');
  else if (platform === 'darwin') base = join(home, 'Library', 'Caches');
  else base = env.XDG_CACHE_HOME || join(home, '.cache');
  return join(base, 'sentiment-distiller', 'teachers');
}

export function hashText(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Cache key of an identity: the first 32 hex digits of the sha256 of its canonical JSON. */
export function identityKey(identity: TeacherIdentity): string {
  const files = Object.fromEntries(Object.entries(identity.files).sort(([a], [b]) => a.localeCompare(b)));
  const canonical = JSON.stringify({ model: identity.model, files, maxLength: identity.maxLength, dtype: identity.dtype, outputs: identity.outputs });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

export class TeacherCache {
  readonly dir: string;

  constructor(
    dir: string,
    /** Size limit in bytes; least recently used shards are removed beyond it. */
    readonly maxBytes: number,
  ) {
    this.dir = resolve(dir);
  }

  /**
   * Returns the cached row of each text (undefined where absent) and marks the shards
   * it read as used. Shards whose widths differ from the entry's meta.json are skipped.
   */
  lookup(identity: TeacherIdentity, texts: string[]): { rows: (CachedRow | undefined)[]; hits: number } {
    const key = identityKey(identity);
    const entryDir = join(this.dir, key);
    const rows: (CachedRow | undefined)[] = texts.map(() => undefined);
    const meta = this.readMeta(entryDir);
    if (!meta) return { rows, hits: 0 };

    const pending = new Map<string, number[]>();
    texts.forEach((text, i) => {
      const hex = hashText(text).toString('hex');
      const list = pending.get(hex);
      if (list) list.push(i);
      else pending.set(hex, [i]);
    });
    let hits = 0;
    const now = new Date();
    for (const shard of this.listShards(entryDir)) {
      let buffer: Buffer;
      try {
        buffer = readFileSync(shard.path);
      } catch {
        continue; // removed by another process's eviction since the listing
      }
      const parsed = parseShard(buffer, meta);
      if (!parsed) continue;
      let used = false;
      for (let r = 0; r < parsed.rows; r++) {
        const offset = HEADER_BYTES + r * parsed.rowBytes;
        const hex = buffer.toString('hex', offset, offset + HASH_BYTES);
        const indices = pending.get(hex);
        if (!indices) continue;
        const values = new Float32Array(buffer.buffer.slice(buffer.byteOffset + offset + HASH_BYTES, buffer.byteOffset + offset + parsed.rowBytes));
        const row: CachedRow = {
          logits: meta.logitsDim > 0 ? values.slice(0, meta.logitsDim) : undefined,
          features: meta.featureDim > 0 ? values.slice(meta.logitsDim) : undefined,
        };
        for (const i of indices) {
          if (rows[i] === undefined) hits++;
          rows[i] = row;
        }
        pending.delete(hex);
        used = true;
      }
      if (used) touch(shard.path, now);
    }
    return { rows, hits };
  }

  /** Writes `rows` as one new shard of the identity's entry, then enforces the size limit. */
  store(identity: TeacherIdentity, texts: string[], rows: CachedRow[]): void {
    if (texts.length === 0) return;
    const key = identityKey(identity);
    const entryDir = join(this.dir, key);
    mkdirSync(entryDir, { recursive: true });
    const logitsDim = rows[0].logits?.length ?? 0;
    const featureDim = rows[0].features?.length ?? 0;
    let meta = this.readMeta(entryDir);
    if (!meta || meta.logitsDim !== logitsDim || meta.featureDim !== featureDim) {
      // A different width under the same identity means the old shards are unusable.
      for (const shard of this.listShards(entryDir)) rmSync(shard.path, { force: true });
      meta = { identity, logitsDim, featureDim, created: new Date().toISOString() };
      writeAtomic(join(entryDir, 'meta.json'), JSON.stringify(meta, null, 2));
    }

    const rowBytes = HASH_BYTES + 4 * (logitsDim + featureDim);
    const buffer = Buffer.alloc(HEADER_BYTES + rows.length * rowBytes);
    buffer.writeUInt32LE(MAGIC, 0);
    buffer.writeUInt32LE(FORMAT_VERSION, 4);
    buffer.writeUInt32LE(rows.length, 8);
    buffer.writeUInt32LE(logitsDim, 12);
    buffer.writeUInt32LE(featureDim, 16);
    rows.forEach((row, r) => {
      const offset = HEADER_BYTES + r * rowBytes;
      hashText(texts[r]).copy(buffer, offset);
      let at = offset + HASH_BYTES;
      for (const part of [row.logits, row.features]) {
        if (!part) continue;
        for (const value of part) {
          buffer.writeFloatLE(value, at);
          at += 4;
        }
      }
    });
    writeAtomic(join(entryDir, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.bin`), buffer);
    this.evict();
  }

  info(): CacheInfo {
    const entries: CacheEntryInfo[] = [];
    for (const key of this.listKeys()) {
      const entryDir = join(this.dir, key);
      const meta = this.readMeta(entryDir);
      const shards = this.listShards(entryDir);
      let rows = 0;
      for (const shard of shards) rows += readRowCount(shard.path);
      entries.push({
        key,
        model: meta?.identity.model ?? '(unreadable meta.json)',
        rows,
        bytes: shards.reduce((sum, s) => sum + s.bytes, 0),
        lastUsed: new Date(Math.max(0, ...shards.map((s) => s.mtimeMs))),
      });
    }
    entries.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
    return { dir: this.dir, entries, bytes: entries.reduce((sum, e) => sum + e.bytes, 0), maxBytes: this.maxBytes };
  }

  /** Removes every entry and the file-hash memo; returns what was removed. */
  clear(): { entries: number; bytes: number } {
    const before = this.info();
    for (const key of this.listKeys()) rmSync(join(this.dir, key), { recursive: true, force: true });
    rmSync(join(this.dir, FILE_HASHES), { force: true });
    return { entries: before.entries.length, bytes: before.bytes };
  }

  private evict(): void {
    const shards = this.listKeys().flatMap((key) => this.listShards(join(this.dir, key)).map((s) => ({ ...s, key })));
    let total = shards.reduce((sum, s) => sum + s.bytes, 0);
    if (total <= this.maxBytes) return;
    shards.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const shard of shards) {
      if (total <= this.maxBytes) break;
      rmSync(shard.path, { force: true });
      total -= shard.bytes;
      if (this.listShards(join(this.dir, shard.key)).length === 0) rmSync(join(this.dir, shard.key), { recursive: true, force: true });
    }
  }

  private listKeys(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && /^[0-9a-f]{32}$/.test(d.name))
      .map((d) => d.name);
  }

  private listShards(entryDir: string): { path: string; bytes: number; mtimeMs: number }[] {
    if (!existsSync(entryDir)) return [];
    const shards: { path: string; bytes: number; mtimeMs: number }[] = [];
    for (const name of readdirSync(entryDir)) {
      if (!name.endsWith('.bin')) continue;
      const path = join(entryDir, name);
      try {
        const stat = statSync(path);
        shards.push({ path, bytes: stat.size, mtimeMs: stat.mtimeMs });
      } catch {
        // Removed by a concurrent eviction between readdir and stat.
      }
    }
    return shards;
  }

  private readMeta(entryDir: string): EntryMeta | undefined {
    try {
      return JSON.parse(readFileSync(join(entryDir, 'meta.json'), 'utf8')) as EntryMeta;
    } catch {
      return undefined;
    }
  }
}

function parseShard(buffer: Buffer, meta: EntryMeta): { rows: number; rowBytes: number } | undefined {
  if (buffer.length < HEADER_BYTES || buffer.readUInt32LE(0) !== MAGIC || buffer.readUInt32LE(4) !== FORMAT_VERSION) return undefined;
  const rows = buffer.readUInt32LE(8);
  if (buffer.readUInt32LE(12) !== meta.logitsDim || buffer.readUInt32LE(16) !== meta.featureDim) return undefined;
  const rowBytes = HASH_BYTES + 4 * (meta.logitsDim + meta.featureDim);
  if (buffer.length !== HEADER_BYTES + rows * rowBytes) return undefined;
  return { rows, rowBytes };
}

function readRowCount(path: string): number {
  try {
    const buffer = readFileSync(path).subarray(0, HEADER_BYTES);
    return buffer.length === HEADER_BYTES && buffer.readUInt32LE(0) === MAGIC ? buffer.readUInt32LE(8) : 0;
  } catch {
    return 0;
  }
}

function touch(path: string, when: Date): void {
  try {
    utimesSync(path, when, when);
  } catch {
    // A read-only cache still serves hits; only the eviction order suffers.
  }
}

function writeAtomic(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

const FILE_HASHES = 'file-hashes.json';

/**
 * sha256 of a file, remembered in <cacheDir>/file-hashes.json by path, size and mtime,
 * so a 250 MB model file is read once rather than on every run.
 */
export async function hashModelFile(path: string, cacheDir: string): Promise<string> {
  const absolute = resolve(path);
  const stat = statSync(absolute);
  const memoPath = join(cacheDir, FILE_HASHES);
  let memo: Record<string, { size: number; mtimeMs: number; sha256: string }> = {};
  try {
    memo = JSON.parse(readFileSync(memoPath, 'utf8')) as typeof memo;
  } catch {
    // Absent or unreadable: start a new memo.
  }
  const known = memo[absolute];
  if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.sha256;

  const hash = createHash('sha256');
  await new Promise<void>((done, fail) => {
    createReadStream(absolute)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => done())
      .on('error', fail);
  });
  const sha256 = hash.digest('hex');
  memo[absolute] = { size: stat.size, mtimeMs: stat.mtimeMs, sha256 };
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeAtomic(memoPath, JSON.stringify(memo));
  } catch {
    // An unwritable cache folder only costs re-hashing next time.
  }
  return sha256;
}
