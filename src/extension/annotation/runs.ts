// Finished runs of the workspace and the data files their config.json lists.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DistillConfig } from '../../core/config';
import { listRuns } from '../../core/runs/store';
import type { TaskKind } from '../../core/types';
import { runsFolders } from '../runsView';

export interface FinishedRun {
  runDir: string;
  runId: string;
  startedAt: string;
  state: 'done' | 'cancelled';
  task: TaskKind;
  /** Label names in index order, as the run's probabilities list them. */
  labels: string[];
  /** Absolute paths of the train, dev and test files, by split. */
  files: Partial<Record<'train' | 'dev' | 'test', string>>;
  settings: Partial<DistillConfig>;
  student?: string;
  teacher?: string;
}

interface RunConfigFile {
  settings?: Partial<DistillConfig>;
  data?: { files?: Record<string, { path: string }>; task?: TaskKind; labels?: string[] };
}

/** Reads a run folder written by `runDistillation`; undefined when it has no predictions or an unreadable config.json. */
export function readFinishedRun(runDir: string, status: { runId: string; startedAt: string; state: string; summary?: Record<string, unknown> }): FinishedRun | undefined {
  if (status.state !== 'done' && status.state !== 'cancelled') return undefined;
  if (!existsSync(join(runDir, 'predictions.jsonl'))) return undefined;
  let config: RunConfigFile;
  try {
    config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfigFile;
  } catch {
    return undefined;
  }
  const files: FinishedRun['files'] = {};
  for (const split of ['train', 'dev', 'test'] as const) {
    const path = config.data?.files?.[split]?.path;
    if (path) files[split] = resolve(path);
  }
  return {
    runDir,
    runId: status.runId,
    startedAt: status.startedAt,
    state: status.state,
    task: config.data?.task ?? 'multiclass',
    labels: config.data?.labels ?? [],
    files,
    settings: config.settings ?? {},
    student: typeof status.summary?.student === 'string' ? status.summary.student : undefined,
    teacher: typeof status.summary?.teacher === 'string' ? status.summary.teacher : undefined,
  };
}

/** Finished runs of every runs folder of the workspace, newest first. */
export function finishedRuns(): FinishedRun[] {
  const runs: FinishedRun[] = [];
  for (const folder of runsFolders()) {
    for (const status of listRuns(folder)) {
      const run = readFinishedRun(join(folder, status.runId), status);
      if (run) runs.push(run);
    }
  }
  return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** Finished runs whose train, dev or test file is `file`, newest first. */
export function runsForFile(file: string): FinishedRun[] {
  const target = resolve(file);
  return finishedRuns().filter((run) => Object.values(run.files).includes(target));
}

/** Runs with a saved student, for annotating any text. */
export function runsWithStudent(): FinishedRun[] {
  return finishedRuns().filter((run) => existsSync(join(run.runDir, 'student', 'model.json')));
}
