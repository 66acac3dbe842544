// One folder per run. Every file is written to a temporary name and renamed into
// place, so a reader never gets half a file. `status.json` records whether the run is
// running, done, failed or cancelled, and a run whose process died is reported failed.
import { createHash } from 'node:crypto';
import { appendFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export type RunState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface RunStatus {
  state: RunState;
  runId: string;
  /** ISO times. */
  startedAt: string;
  finishedAt?: string;
  /** Process that owns a running run; a running run whose process is gone has failed. */
  pid?: number;
  error?: string;
  /** Headline numbers for lists of runs. */
  summary?: Record<string, unknown>;
}

/** Folder names are `[A-Za-z0-9._-]`, at most 100 characters, and never `.` or `..`. */
export function sanitizeRunId(value: string): string {
  const cleaned = value.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 100);
  return cleaned === '' ? 'run' : cleaned;
}

/** `2026-12-04T20-39-08-sst2-bag`: sortable by time, readable in a file list. */
export function makeRunId(datasetPath: string, student: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, '').replace(/:/g, '-');
  const dataset = basename(datasetPath).replace(/\.[^.]+$/, '');
  return sanitizeRunId(`${stamp}-${dataset}-${student}`);
}

/** Writes `contents` to `path` through a temporary file in the same folder and a rename. */
export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(temporary, contents);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

export class RunFolder {
  private constructor(
    readonly dir: string,
    readonly runId: string,
  ) {}

  /** Creates `<runsDir>/<runId>` (adding `-2`, `-3` … when taken) and marks it running. */
  static create(runsDir: string, runId: string): RunFolder {
    const base = sanitizeRunId(runId);
    mkdirSync(resolve(runsDir), { recursive: true });
    let id = base;
    for (let n = 2; existsSync(join(runsDir, id)); n++) id = `${base}-${n}`;
    const dir = resolve(runsDir, id);
    mkdirSync(dir);
    const folder = new RunFolder(dir, id);
    folder.writeStatus({ state: 'running', runId: id, startedAt: new Date().toISOString(), pid: process.pid });
    return folder;
  }

  static open(dir: string): RunFolder {
    const absolute = resolve(dir);
    if (!existsSync(join(absolute, 'status.json'))) {
      throw new Error(`${absolute} is not a run folder: status.json is missing.`);
    }
    return new RunFolder(absolute, basename(absolute));
  }

  path(name: string): string {
    const target = resolve(this.dir, name);
    if (!target.startsWith(this.dir + '/') && target !== this.dir) {
      throw new Error(`Refusing to write "${name}" outside the run folder ${this.dir}.`);
    }
    return target;
  }

  writeJson(name: string, value: unknown): void {
    writeFileAtomic(this.path(name), JSON.stringify(value, null, 2) + '\n');
  }

  writeText(name: string, text: string): void {
    writeFileAtomic(this.path(name), text);
  }

  /** Writes a whole JSON Lines file at once (atomic). */
  writeJsonl(name: string, rows: Iterable<unknown>): void {
    const lines: string[] = [];
    for (const row of rows) lines.push(JSON.stringify(row));
    writeFileAtomic(this.path(name), lines.join('\n') + (lines.length ? '\n' : ''));
  }

  /** Appends one JSON line, for logs that grow during the run (metrics.jsonl). */
  appendJsonl(name: string, row: unknown): void {
    appendFileSync(this.path(name), JSON.stringify(row) + '\n');
  }

  readStatus(): RunStatus {
    return JSON.parse(readFileSync(this.path('status.json'), 'utf8')) as RunStatus;
  }

  writeStatus(status: RunStatus): void {
    this.writeJson('status.json', status);
  }

  finish(state: Exclude<RunState, 'queued' | 'running'>, extra: { error?: string; summary?: Record<string, unknown> } = {}): void {
    const status = this.readStatus();
    const summary = extra.summary ? { ...(status.summary ?? {}), ...extra.summary } : status.summary;
    this.writeStatus({ ...status, state, finishedAt: new Date().toISOString(), pid: undefined, ...extra, summary });
  }
}

/** Lists runs under `runsDir`, newest first, marking running runs whose process is gone as failed. */
export function listRuns(runsDir: string): RunStatus[] {
  if (!existsSync(runsDir)) return [];
  const runs: RunStatus[] = [];
  for (const name of readdirSync(runsDir)) {
    const statusPath = join(runsDir, name, 'status.json');
    if (!existsSync(statusPath)) continue;
    let status: RunStatus;
    try {
      status = JSON.parse(readFileSync(statusPath, 'utf8')) as RunStatus;
    } catch {
      continue;
    }
    if (status.state === 'running' && status.pid !== undefined && !isAlive(status.pid)) {
      status = { ...status, state: 'failed', error: `The training process (pid ${status.pid}) ended without finishing the run.`, pid: undefined };
      writeFileAtomic(statusPath, JSON.stringify(status, null, 2) + '\n');
    }
    // The folder name is the run id: status.json is data, and callers join the id onto runsDir.
    runs.push({ ...status, runId: name });
  }
  return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SHA-256 of a file's bytes (or of every file below a folder, in sorted order). */
export async function hashPath(path: string): Promise<string> {
  const hash = createHash('sha256');
  const files = statSync(path).isDirectory() ? listFiles(path) : [path];
  for (const file of files) {
    if (files.length > 1) hash.update(file.slice(path.length) + '\0');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? listFiles(path) : [path];
    });
}
