// Data behind the run dashboard. An incremental reader of metrics.jsonl lets a live run's
// curves grow without re-reading the file. A query engine over predictions.jsonl filters,
// sorts and pages 100,000 rows in the extension host, so the webview contains only the
// rows on screen.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import type { PredictionRecord } from '../pipeline/disagreements';
import type { CellFilter, MatrixKind, MetricsDelta, StepRow, EpochRow, ConfusionRow, FinalRow, SpeedRow, TableQuery, TableRow } from './dashboardTypes';

export type * from './dashboardTypes';

export const defaultQuery = (): TableQuery => ({ split: 'all', disagreementsOnly: true, labelErrorsOnly: false, search: '', sort: 'kl', descending: true });

export const emptyDelta = (): MetricsDelta => ({ steps: [], epochs: [], confusions: [], finals: [] });

/**
 * Reads metrics.jsonl from where the previous call stopped. A line the run is still
 * writing (no newline yet) is left for the next call; unparsable lines are skipped.
 */
export class MetricsReader {
  private offset = 0;
  private pending = '';

  constructor(readonly file: string) {}

  read(): MetricsDelta {
    const delta = emptyDelta();
    if (!existsSync(this.file)) return delta;
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      // A smaller file means it was replaced (a re-run into the same folder): start over.
      if (size < this.offset) {
        this.offset = 0;
        this.pending = '';
      }
      if (size === this.offset) return delta;
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const text = this.pending + buffer.toString('utf8');
      const end = text.lastIndexOf('\n');
      this.pending = text.slice(end + 1);
      for (const line of text.slice(0, end + 1).split('\n')) addLine(delta, line);
      return delta;
    } finally {
      closeSync(fd);
    }
  }
}

function addLine(delta: MetricsDelta, line: string): void {
  if (!line.trim()) return;
  let row: Record<string, unknown>;
  try {
    row = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const { type, ...rest } = row;
  if (type === 'step') delta.steps.push(rest as unknown as StepRow);
  else if (type === 'epoch') delta.epochs.push(rest as unknown as EpochRow);
  else if (type === 'confusion') delta.confusions.push(rest as unknown as ConfusionRow);
  else if (type === 'final') delta.finals.push(rest as unknown as FinalRow);
  else if (type === 'speed') delta.speed = rest as unknown as SpeedRow;
}

const confidence = (probabilities: number[] | undefined) => (probabilities && probabilities.length ? Math.max(...probabilities) : -1);

/** The predictions of one run, with the filtered and sorted order of the current query. */
export class PredictionTable {
  private order: number[] = [];
  private lastQuery = '';
  private readonly lowerText: string[];

  constructor(
    readonly records: PredictionRecord[],
    readonly labels: string[],
    readonly task: string,
  ) {
    this.lowerText = records.map((r) => `${r.text ?? ''}\u0000${r.id}`.toLowerCase());
  }

  /** Reads predictions.jsonl; an absent file (a run still training) gives an empty table. */
  static load(file: string, labels: string[], task: string): PredictionTable {
    const records: PredictionRecord[] = [];
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          records.push(normalizeRecord(JSON.parse(line) as PredictionRecord));
        } catch {
          // A truncated last line of a crashed run: the rows before it are still shown.
        }
      }
    }
    return new PredictionTable(records, labels, task);
  }

  /** Applies `query` and returns the number of matching rows; `page` then reads from that order. */
  apply(query: TableQuery): number {
    const key = JSON.stringify(query);
    if (key === this.lastQuery) return this.order.length;
    const needle = query.search.trim().toLowerCase();
    const matches: number[] = [];
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      if (query.split !== 'all' && r.split !== query.split) continue;
      if (query.disagreementsOnly && !(r.teacherStudentDisagree || r.possibleLabelError)) continue;
      if (query.labelErrorsOnly && !r.possibleLabelError) continue;
      if (needle && !this.lowerText[i]!.includes(needle)) continue;
      if (query.cell && !this.inCell(r, query.cell)) continue;
      matches.push(i);
    }
    const value = (i: number): number => {
      const r = this.records[i]!;
      switch (query.sort) {
        case 'kl':
          return r.kl;
        case 'studentConfidence':
          return confidence(r.student.probabilities);
        case 'teacherConfidence':
          return confidence(r.teacher?.probabilities);
        case 'line':
          return r.source.line;
      }
    };
    const sign = query.descending ? -1 : 1;
    // Ties keep file order, so the order is the same on every call.
    matches.sort((a, b) => sign * (value(a) - value(b)) || a - b);
    this.order = matches;
    this.lastQuery = key;
    return matches.length;
  }

  page(offset: number, count: number): TableRow[] {
    return this.order.slice(Math.max(0, offset), Math.max(0, offset) + Math.max(0, count)).map((index) => this.row(index));
  }

  row(index: number): TableRow {
    const r = this.records[index]!;
    return {
      index,
      split: r.split,
      id: r.id,
      line: r.source.line,
      text: r.text,
      gold: r.gold,
      teacher: r.teacher,
      student: r.student,
      kl: r.kl,
      teacherStudentDisagree: r.teacherStudentDisagree,
      possibleLabelError: r.possibleLabelError,
    };
  }

  /** Formats the rows of the current order as CSV: text, labels, probabilities per label and flags. */
  toCsv(): string {
    const header = ['split', 'id', 'line', 'text', 'gold', 'teacher', 'student', 'kl', 'teacher_student_disagree', 'possible_label_error', ...this.labels.map((l) => `teacher_p_${l}`), ...this.labels.map((l) => `student_p_${l}`)];
    const rows = this.order.map((index) => {
      const r = this.records[index]!;
      return [
        r.split,
        r.id,
        r.source.line,
        r.text,
        r.gold?.join('|') ?? '',
        r.teacher?.labels.join('|') ?? '',
        r.student.labels.join('|'),
        r.kl,
        r.teacherStudentDisagree,
        r.possibleLabelError,
        ...this.labels.map((_, j) => r.teacher?.probabilities[j] ?? ''),
        ...this.labels.map((_, j) => r.student.probabilities[j] ?? ''),
      ];
    });
    return stringify([header, ...rows], { cast: { boolean: (value) => String(value) } });
  }

  private inCell(r: PredictionRecord, cell: CellFilter): boolean {
    const sources: Record<MatrixKind, [string[] | null | undefined, string[] | null | undefined]> = {
      goldStudent: [r.gold, r.student.labels],
      goldTeacher: [r.gold, r.teacher?.labels],
      teacherStudent: [r.teacher?.labels, r.student.labels],
    };
    const [rows, columns] = sources[cell.matrix];
    if (!rows || !columns) return false;
    if (this.task === 'multilabel') {
      if (cell.label === undefined) return false;
      const state = (labels: string[]) => (labels.includes(cell.label!) ? 'present' : 'absent');
      return state(rows) === cell.row && state(columns) === cell.column;
    }
    return rows[0] === cell.row && columns[0] === cell.column;
  }
}

/** Fills fields that predictions.jsonl of runs from before version 0.2 lack. */
function normalizeRecord(record: PredictionRecord): PredictionRecord {
  return {
    ...record,
    text: record.text ?? '',
    teacherStudentDisagree: record.teacherStudentDisagree ?? (record.teacher ? record.teacher.labels.join(',') !== record.student.labels.join(',') : false),
    possibleLabelError: record.possibleLabelError ?? false,
    teacherTrainedOnExample: record.teacherTrainedOnExample ?? false,
  };
}

/**
 * Finds a record's first line in the current file contents. The run stored the line
 * it read the record from; after edits the record is found again by a probe of its
 * text, choosing the occurrence nearest to the stored line. Returns undefined when
 * the text no longer occurs.
 */
export function locateRecord(fileText: string, storedLine: number, text: string): { line: number; column: number; moved: boolean } | undefined {
  const lines = fileText.split(/\r?\n/);
  const probe = probeOf(text);
  if (!probe) return storedLine >= 1 && storedLine <= lines.length ? { line: storedLine, column: 0, moved: false } : undefined;
  // A quoted field may span lines: the probe then sits `offset` lines below the record's first line.
  const offset = text.slice(0, Math.max(0, text.indexOf(probe))).split(/\r?\n/).length - 1;
  const at = lines[storedLine - 1 + offset];
  if (at !== undefined && at.includes(probe)) return { line: storedLine, column: offset === 0 ? at.indexOf(probe) : 0, moved: false };
  let best: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.includes(probe)) continue;
    const start = i + 1 - offset;
    if (best === undefined || Math.abs(start - storedLine) < Math.abs(best - storedLine)) best = start;
  }
  if (best === undefined || best < 1) return undefined;
  return { line: best, column: offset === 0 ? lines[best - 1]!.indexOf(probe) : 0, moved: true };
}

/**
 * The longest stretch of `text` that any of the dataset formats stores verbatim: it
 * stops at quotes, backslashes and line breaks, which CSV and JSON escape. A maximum of 60
 * characters is enough to tell records apart.
 */
export function probeOf(text: string): string {
  const pieces = text.split(/["\\\r\n\t]/).map((piece) => piece.trim());
  const longest = pieces.reduce((a, b) => (b.length > a.length ? b : a), '');
  return longest.slice(0, 60);
}
