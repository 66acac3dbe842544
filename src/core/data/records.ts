// Conversion of raw rows into examples, with strict and lenient handling of bad rows.
import { DataError, type DataProblem, type Example, type LabelSpace } from '../types';
import { decodeBytesLiteral, isBytesLiteral } from './bytes-literal';
import { fieldPosition, type RawRow } from './csv-source';
import { cellText } from './columns';
import { LabelMapper, decideTask, isIntegerLabel, labelTokens, orderLabels } from './labels';
import { rowCells, type ReadPlan } from './plan';

/** A record before its labels are mapped to a label space. */
export interface ParsedRecord {
  id: string;
  text: string;
  /** Label values as written; `null` when the file has no label column. */
  tokens: string[] | null;
  soft?: number[];
  file: string;
  line: number;
}

function columnPosition(plan: ReadPlan, row: RawRow, index: number): { line: number; column?: number } {
  if (plan.layout && row.raw !== undefined) {
    const { lineOffset, column } = fieldPosition(row.raw, plan.layout, index);
    return { line: row.line + lineOffset, column };
  }
  return { line: row.line };
}

function rowError(plan: ReadPlan, row: RawRow, index: number | undefined, message: string, hint: string): DataError {
  const at = index === undefined ? { line: row.line, column: undefined } : columnPosition(plan, row, index);
  return new DataError(message, row.file, at.line, at.column, hint);
}

const LENIENT_HINT = 'pass --lenient to skip such rows and list them';

function truthyFlag(value: unknown): boolean | undefined {
  const text = cellText(value).trim().toLowerCase();
  if (text === '1' || text === 'true' || text === '1.0') return true;
  if (text === '0' || text === 'false' || text === '0.0' || text === '') return false;
  return undefined;
}

/** Parses one data row; row-level problems are raised as DataErrors for the caller to throw or collect. */
export function parseRow(plan: ReadPlan, row: RawRow): ParsedRecord {
  const { roles, columns } = plan;
  const cells = rowCells(columns, row);
  if (plan.format === 'csv' && cells.length !== columns.length) {
    // A record over several lines usually means a quote left open, so point at its first
    // line; on one line, point at the first surplus (or the last present) field.
    const multiline = /[\r\n]/.test((row.raw ?? '').replace(/[\r\n]+$/, ''));
    const field = multiline ? 0 : Math.min(cells.length < columns.length ? cells.length : columns.length, Math.max(cells.length - 1, 0));
    throw rowError(
      plan,
      row,
      field,
      `Expected ${columns.length} fields (${columns.join(', ')}), found ${cells.length} in the record starting on line ${row.line}.`,
      plan.layout?.quoting
        ? `Check that every quote opened on line ${row.line} is closed on the same record, quote fields that contain the delimiter, or ${LENIENT_HINT}.`
        : `Check the delimiter (--delimiter), or ${LENIENT_HINT}.`,
    );
  }

  let text = cellText(cells[roles.text]);
  if (plan.bytesLiteral && isBytesLiteral(text)) text = decodeBytesLiteral(text);
  text = text.trim();
  if (text.length === 0) {
    throw rowError(plan, row, roles.text, `Empty text in column "${columns[roles.text]}".`, `Fill in the text, or ${LENIENT_HINT}.`);
  }

  let tokens: string[] | null = null;
  if (plan.fixedLabel !== undefined) {
    tokens = [plan.fixedLabel];
  } else if (roles.labelColumns) {
    tokens = [];
    for (const index of roles.labelColumns) {
      const flag = truthyFlag(cells[index]);
      if (flag === undefined) {
        throw rowError(plan, row, index, `Invalid value "${cellText(cells[index])}" in label column "${columns[index]}": expected 0 or 1.`, `Write 0 or 1 in every label column, or ${LENIENT_HINT}.`);
      }
      if (flag) tokens.push(columns[index]);
    }
  } else if (roles.label !== undefined) {
    const cell = cells[roles.label];
    tokens = labelTokens(cell, roles.multiLabelCells);
    const written = cellText(cell).trim();
    if (tokens.length === 0 && written !== '[]') {
      throw rowError(plan, row, roles.label, `Empty label in column "${columns[roles.label]}".`, `Fill in the label, or ${LENIENT_HINT}.`);
    }
  }

  let soft: number[] | undefined;
  if (roles.soft !== undefined) {
    const cell = cells[roles.soft];
    let parsed: unknown = cell;
    if (typeof cell === 'string') {
      try {
        parsed = JSON.parse(cell);
      } catch {
        parsed = undefined;
      }
    }
    if (!Array.isArray(parsed) || !parsed.every((value) => typeof value === 'number' && Number.isFinite(value))) {
      throw rowError(plan, row, roles.soft, `Invalid value ${JSON.stringify(cellText(cell).slice(0, 60))} in soft-label column "${columns[roles.soft]}": expected a JSON list of numbers.`, `Write the teacher output as a list such as [0.1, 0.9], or ${LENIENT_HINT}.`);
    }
    soft = parsed as number[];
  }

  const idCell = roles.id !== undefined ? cellText(cells[roles.id]).trim() : '';
  const id = idCell.length > 0 ? idCell : `${row.file}:${row.line}`;
  return { id, text, tokens, soft, file: row.file, line: row.line };
}

/** Label space and mapper for a plan: the names file when given, else the label values seen, in natural order. */
export function buildLabelSpace(plan: ReadPlan, tokens: Iterable<string>, sawMultiLabel: boolean): { space: LabelSpace; mapper: LabelMapper } {
  const multi = sawMultiLabel || plan.roles.labelColumns !== undefined;
  let names: string[];
  if (plan.labelNames) names = plan.labelNames;
  else if (plan.roles.labelColumns) names = plan.roles.labelColumns.map((index) => plan.columns[index]);
  else names = orderLabels(tokens);
  const space: LabelSpace = { task: decideTask(names.length, multi, plan.options.task), names };
  return { space, mapper: new LabelMapper(space, plan.labelNames !== undefined) };
}

/** Maps a record's label values to indices, raising a DataError for a value outside the label space. */
export function toExample(plan: ReadPlan, record: ParsedRecord, mapper: LabelMapper): Example {
  let labels: number[] | null = null;
  if (record.tokens) {
    labels = [];
    for (const token of record.tokens) {
      const index = mapper.map(token);
      if (index === undefined) {
        const names = mapper.space.names;
        const listed = names.length <= 30 ? names.map((name) => `"${name}"`).join(', ') : `${names.length} names`;
        const range = plan.labelNames && isIntegerLabel(token) ? ` (the label names file has ${names.length} names, so integer labels run from 0 to ${names.length - 1})` : '';
        throw new DataError(
          `Unknown label "${token}"${range}; the label space has ${listed}.`,
          record.file,
          record.line,
          undefined,
          `Fix the label, read this file together with the training file that defines its labels, or ${LENIENT_HINT}.`,
        );
      }
      if (!labels.includes(index)) labels.push(index);
    }
  }
  const example: Example = { id: record.id, text: record.text, labels, source: { file: record.file, line: record.line } };
  if (record.soft) example.soft = record.soft;
  return example;
}

export function toProblem(error: DataError): DataProblem {
  const problem: DataProblem = { severity: 'error', file: error.file ?? '', message: error.message };
  if (error.line !== undefined) problem.line = error.line;
  if (error.column !== undefined) problem.column = error.column;
  if (error.hint !== undefined) problem.hint = error.hint;
  return problem;
}

/** Collects follow-up warnings over the records of a file: replacement characters and repeated ids. */
export class RecordChecks {
  private replacementCount = 0;
  private firstReplacement?: { file: string; line: number };
  private readonly ids = new Set<string>();
  private duplicateId?: { id: string; file: string; line: number };
  private duplicateIds = 0;

  constructor(private readonly plan: ReadPlan) {}

  add(record: ParsedRecord): void {
    // NOTE: this counts texts with U+FFFD after decoding. A truncated GBK byte that iconv-lite folds
    // into a valid sequence is not seen (46 of the 48 damaged ChnSentiCorp GBK files are caught).
    if (record.text.includes('\uFFFD')) {
      this.replacementCount += 1;
      this.firstReplacement ??= { file: record.file, line: record.line };
    }
    if (this.plan.roles.id !== undefined) {
      if (this.ids.has(record.id)) {
        this.duplicateIds += 1;
        this.duplicateId ??= { id: record.id, file: record.file, line: record.line };
      } else {
        this.ids.add(record.id);
      }
    }
  }

  /** True when ids repeat, so callers should fall back to `file:line` ids. */
  get idsRepeat(): boolean {
    return this.duplicateIds > 0;
  }

  problems(): DataProblem[] {
    const problems: DataProblem[] = [];
    if (this.firstReplacement) {
      // U+FFFD read from valid UTF-8 was in the file already; otherwise decoding put it there.
      const storedInFile = this.plan.encoding.startsWith('utf-8') && !this.plan.invalidBytes;
      problems.push({
        severity: 'warning',
        file: this.firstReplacement.file,
        line: this.firstReplacement.line,
        message: storedInFile
          ? `${this.replacementCount} record(s) contain U+FFFD replacement characters that are stored in the file, so some characters were lost before it was saved.`
          : `${this.replacementCount} record(s) contain U+FFFD replacement characters: bytes that are invalid in ${this.plan.encoding} (for example a truncated double-byte character) were replaced.`,
        hint: storedInFile
          ? 'Re-export the data from its source if the lost characters matter.'
          : 'Check the encoding (--encoding); when it is right, each affected text lost a character.',
      });
    }
    if (this.duplicateId && this.plan.roles.id !== undefined) {
      problems.push({
        severity: 'warning',
        file: this.duplicateId.file,
        line: this.duplicateId.line,
        message: `Id column "${this.plan.columns[this.plan.roles.id]}" repeats ${this.duplicateIds} time(s) (first "${this.duplicateId.id}"), so record ids fall back to file:line.`,
        hint: 'Pass --id-column with a column of unique ids if soft labels must be matched by id.',
      });
    }
    return problems;
  }
}
