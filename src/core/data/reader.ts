// Reading whole datasets, streaming them, and inspecting them for previews.
import { DataError, type DataProblem, type Dataset, type DatasetInfo, type Example, type LabelSpace, type ReadOptions } from '../types';
import { LabelMapper, isIntegerLabel, mixedLabelKinds, type MixedLabelKinds } from './labels';
import { dataRowBatches, planDataset, type ReadPlan } from './plan';
import { RecordChecks, buildLabelSpace, parseRow, toExample, toProblem, type ParsedRecord } from './records';

export interface ReadDatasetOptions extends ReadOptions {
  /** Label space to map labels into (dev/test files read against the training labels). */
  labelSpace?: LabelSpace;
  /** Called for every row skipped in lenient mode. */
  onSkip?: (problem: DataProblem) => void;
}

/** Rows listed one by one in `inspectDataset` problems before the rest are only counted. */
const MAX_LISTED_PROBLEMS = 50;
const PREVIEW_SIZE = 5;

/**
 * Parses the data rows of a plan in non-empty batches; bad rows raise in strict mode and go
 * to `onSkip` in lenient mode.
 */
async function* parsedRecords(plan: ReadPlan, lenient: boolean, onSkip: (problem: DataProblem) => void): AsyncGenerator<ParsedRecord[]> {
  for await (const rows of dataRowBatches(plan)) {
    const records: ParsedRecord[] = [];
    for (const row of rows) {
      try {
        records.push(parseRow(plan, row));
      } catch (error) {
        if (!(error instanceof DataError) || !lenient) throw error;
        onSkip(toProblem(error));
      }
    }
    if (records.length > 0) yield records;
  }
}

export function noRecordsError(plan: ReadPlan, skipped: number): DataError {
  if (skipped > 0) {
    return new DataError(`All ${skipped} records were skipped as invalid, so no data is left.`, plan.file, undefined, undefined, 'Look at the listed problems; the column choice (--text-column, --label-column) may be wrong.');
  }
  if (plan.header) {
    return new DataError('The file has a header row but no data rows.', plan.file, 2, undefined, 'Add data rows below the header, or pass --header false if the first row is data.');
  }
  return new DataError('The file has no records.', plan.file, undefined, undefined, 'Choose a file with at least one record.');
}

const LISTED_LABEL_VALUES = 5;

function listLabels(values: string[]): string {
  const shown = values.slice(0, LISTED_LABEL_VALUES).map((value) => `"${value}"`).join(', ');
  return values.length > LISTED_LABEL_VALUES ? `${shown} and ${values.length - LISTED_LABEL_VALUES} more` : shown;
}

/**
 * Builds the DataError for a label column that mixes integer and word labels, located at the
 * first record of the rarer kind. Callers skip the check when a names file maps integers to
 * names, and when the label space comes from the training file (dev and test files).
 */
function mixedLabelsError(plan: ReadPlan, kinds: MixedLabelKinds, firstLine: { integer?: number; word?: number }): DataError {
  const wordsRarer = kinds.words.length <= kinds.integers.length;
  const line = wordsRarer ? firstLine.word : firstLine.integer;
  const column = plan.roles.label !== undefined ? ` "${plan.columns[plan.roles.label]}"` : '';
  return new DataError(
    `The label column${column} mixes integer labels (${listLabels(kinds.integers)}) and word labels (${listLabels(kinds.words)}), so each spelling would become its own class (${kinds.integers.length + kinds.words.length} classes).`,
    plan.file,
    line,
    undefined,
    'Write every label the same way, or pass --label-names with a file of names so that integer labels index it, where 0 is the first name.',
  );
}

function checksLabelKinds(plan: ReadPlan, options: ReadDatasetOptions): boolean {
  return !options.labelSpace && !plan.labelNames && !plan.roles.labelColumns && plan.fixedLabel === undefined;
}

function mapperFor(plan: ReadPlan, space: LabelSpace): LabelMapper {
  return new LabelMapper(space, plan.labelNames !== undefined);
}

function labelCounts(space: LabelSpace, examples: Iterable<Example>): { label: string; count: number }[] {
  const counts = space.names.map(() => 0);
  for (const example of examples) for (const index of example.labels ?? []) counts[index] += 1;
  return space.names.map((label, index) => ({ label, count: counts[index] }));
}

function makeInfo(plan: ReadPlan, space: LabelSpace, counts: { label: string; count: number }[], rows: number, preview: Example[], problems: DataProblem[]): DatasetInfo {
  const { roles, columns } = plan;
  const info: DatasetInfo = {
    file: plan.file,
    format: plan.format,
    encoding: plan.encoding,
    encodingDetected: plan.encodingDetected,
    header: plan.header,
    columns,
    textColumn: columns[roles.text],
    lineEnding: plan.lineEnding,
    task: space.task,
    labelCounts: counts,
    rows,
    preview,
    problems,
  };
  if (plan.layout) {
    info.delimiter = plan.layout.delimiter;
    info.quoting = plan.layout.quoting;
  }
  if (roles.label !== undefined) info.labelColumn = columns[roles.label];
  if (roles.labelColumns) info.labelColumns = roles.labelColumns.map((index) => columns[index]);
  if (roles.id !== undefined) info.idColumn = columns[roles.id];
  if (roles.soft !== undefined) info.softLabelColumn = columns[roles.soft];
  return info;
}

function skippedSummary(plan: ReadPlan, skipped: DataProblem[]): DataProblem[] {
  if (skipped.length === 0) return [];
  return [{ severity: 'warning', file: plan.file, message: `${skipped.length} invalid record(s) were skipped (lenient mode); the first is on line ${skipped[0].line ?? '?'}.`, hint: 'Fix them in the file, or read without --lenient to stop at the first one.' }];
}

/**
 * Reads every record of a dataset file (or label folder) into examples. Strict by default:
 * the first bad row raises a DataError; with `lenient`, bad rows are skipped and listed.
 */
export async function readDataset(path: string, options: ReadDatasetOptions = {}): Promise<Dataset> {
  const plan = await planDataset(path, options);
  if (plan.roles.labelProblem) throw plan.roles.labelProblem;
  // Before the rows: a line that the wrong delimiter splits would fail first, with a message that does not name it.
  await checkDelimiter(plan);
  const lenient = options.lenient === true;
  const skipped: DataProblem[] = [];
  const skip = (problem: DataProblem) => {
    skipped.push(problem);
    options.onSkip?.(problem);
  };

  const records: ParsedRecord[] = [];
  const checks = new RecordChecks(plan);
  const tokens = new Set<string>();
  let sawMultiLabel = false;
  for await (const batch of parsedRecords(plan, lenient, skip)) {
    for (const record of batch) {
      records.push(record);
      checks.add(record);
      if (record.tokens) {
        for (const token of record.tokens) tokens.add(token);
        if (record.tokens.length !== 1) sawMultiLabel = true;
      }
    }
  }
  if (records.length === 0) throw noRecordsError(plan, skipped.length);
  const kinds = checksLabelKinds(plan, options) ? mixedLabelKinds(tokens) : undefined;
  if (kinds) {
    const firstLine: { integer?: number; word?: number } = {};
    for (const record of records) {
      for (const token of record.tokens ?? []) {
        if (isIntegerLabel(token)) firstLine.integer ??= record.line;
        else firstLine.word ??= record.line;
      }
      if (firstLine.integer !== undefined && firstLine.word !== undefined) break;
    }
    throw mixedLabelsError(plan, kinds, firstLine);
  }

  const built = options.labelSpace ? { space: options.labelSpace, mapper: mapperFor(plan, options.labelSpace) } : buildLabelSpace(plan, tokens, sawMultiLabel);
  const examples: Example[] = [];
  for (const record of records) {
    if (checks.idsRepeat) record.id = `${record.file}:${record.line}`;
    try {
      examples.push(toExample(plan, record, built.mapper));
    } catch (error) {
      if (!(error instanceof DataError) || !lenient) throw error;
      skip(toProblem(error));
    }
  }
  if (examples.length === 0) throw noRecordsError(plan, skipped.length);

  const problems = [...plan.problems, ...checks.problems(), ...skippedSummary(plan, skipped)];
  const info = makeInfo(plan, built.space, labelCounts(built.space, examples), examples.length, examples.slice(0, PREVIEW_SIZE), problems);
  return { info, labelSpace: built.space, examples, skipped };
}

/**
 * Streams the examples of a dataset without holding them. Without `labelSpace`, a first
 * pass over the file collects the label values, because the index order needs all of them.
 */
export async function* streamRecords(path: string, options: ReadDatasetOptions = {}): AsyncGenerator<Example> {
  const plan = await planDataset(path, options);
  if (plan.roles.labelProblem) throw plan.roles.labelProblem;
  const space = options.labelSpace ?? (await collectLabelSpace(plan, options.lenient === true));
  for await (const batch of exampleBatches(plan, space, options)) yield* batch;
}

/** Yields the examples of a planned file in non-empty batches, with labels mapped into `space`. */
export async function* exampleBatches(plan: ReadPlan, space: LabelSpace, options: ReadDatasetOptions): AsyncGenerator<Example[]> {
  const lenient = options.lenient === true;
  const mapper = mapperFor(plan, space);
  for await (const batch of parsedRecords(plan, lenient, (problem) => options.onSkip?.(problem))) {
    const examples: Example[] = [];
    for (const record of batch) {
      try {
        examples.push(toExample(plan, record, mapper));
      } catch (error) {
        if (!(error instanceof DataError) || !lenient) throw error;
        options.onSkip?.(toProblem(error));
      }
    }
    if (examples.length > 0) yield examples;
  }
}

/** Returns the label space of a plan's records, from a pass over the file that collects their label values. */
export async function collectLabelSpace(plan: ReadPlan, lenient: boolean): Promise<LabelSpace> {
  const tokens = new Set<string>();
  let sawMultiLabel = false;
  for await (const batch of parsedRecords(plan, lenient, () => {})) {
    for (const record of batch) {
      for (const token of record.tokens ?? []) tokens.add(token);
      if (record.tokens && record.tokens.length !== 1) sawMultiLabel = true;
    }
  }
  return buildLabelSpace(plan, tokens, sawMultiLabel).space;
}

/** Raises the error of `wrongDelimiter` for the first records of a plan, when there is one. */
export async function checkDelimiter(plan: ReadPlan): Promise<void> {
  if (plan.options.delimiter === undefined || plan.layout === undefined || plan.columns.length !== 1) return;
  const first: ParsedRecord[] = [];
  for await (const batch of parsedRecords(plan, true, () => {})) {
    first.push(...batch.slice(0, PREVIEW_SIZE - first.length));
    if (first.length >= PREVIEW_SIZE) break;
  }
  const problem = wrongDelimiter(plan, first);
  if (problem) throw new DataError(problem.message, plan.file, undefined, undefined, problem.hint);
}

/** Delimiters that a file split into one column by --delimiter is checked for. */
const OTHER_DELIMITERS = [',', '\t', ';', '|'];

/**
 * Reports a --delimiter that leaves a file in one column while another common delimiter
 * occurs equally often, outside double quotes, in each of its first lines (the header
 * included), such as --delimiter ";" on a comma-separated file. Each record is then one
 * whole line, with no label column. Sentences with commas vary in their count, so a
 * one-column text file does not trigger it.
 */
function wrongDelimiter(plan: ReadPlan, records: ParsedRecord[]): DataProblem | undefined {
  const requested = plan.options.delimiter;
  if (requested === undefined || plan.layout === undefined || plan.columns.length !== 1 || records.length < 2) return undefined;
  const lines = [...(plan.header ? [plan.columns[0]] : []), ...records.map((record) => record.text)];
  const found = OTHER_DELIMITERS.find((candidate) => {
    if (candidate === requested) return false;
    const counts = lines.map((line) => countOutsideQuotes(line, candidate));
    return counts[0] > 0 && counts.every((count) => count === counts[0]);
  });
  if (found === undefined) return undefined;
  return {
    severity: 'error',
    file: plan.file,
    message: `--delimiter ${JSON.stringify(requested)} leaves every row in one column, but each of the first ${lines.length} lines splits into ${countOutsideQuotes(lines[0], found) + 1} columns at ${JSON.stringify(found)}.`,
    hint: `Pass --delimiter ${JSON.stringify(found)}, or leave --delimiter out so that it is detected.`,
  };
}

/** Counts `delimiter` in `line` outside double-quoted fields. */
function countOutsideQuotes(line: string, delimiter: string): number {
  let count = 0;
  let quoted = false;
  for (const character of line) {
    if (character === '"') quoted = !quoted;
    else if (character === delimiter && !quoted) count++;
  }
  return count;
}

/**
 * Detects how a file is laid out and summarises its records. Row-level problems are
 * reported, not raised. A DataError means the file cannot be read at all (missing, empty, binary)
 * or an option is invalid (an unknown column name, an unreadable label names file).
 */
export async function inspectDataset(path: string, options: ReadOptions = {}): Promise<DatasetInfo> {
  const plan = await planDataset(path, options);
  const problems: DataProblem[] = [...plan.problems];
  if (plan.roles.labelProblem) problems.push(toProblem(plan.roles.labelProblem));

  const rowProblems: DataProblem[] = [];
  const checks = new RecordChecks(plan);
  const tokenCounts = new Map<string, number>();
  const firstRecords: ParsedRecord[] = [];
  let rows = 0;
  let sawMultiLabel = false;
  // First line with an integer label and with a word label, to locate a mixed label column.
  const kindLines: { integer?: number; word?: number } = {};
  try {
    for await (const batch of parsedRecords(plan, true, (problem) => rowProblems.push(problem))) {
      for (const record of batch) {
        rows += 1;
        checks.add(record);
        if (firstRecords.length < PREVIEW_SIZE) firstRecords.push(record);
        for (const token of record.tokens ?? []) {
          tokenCounts.set(token, (tokenCounts.get(token) ?? 0) + 1);
          if (isIntegerLabel(token)) kindLines.integer ??= record.line;
          else kindLines.word ??= record.line;
        }
        if (record.tokens && record.tokens.length !== 1) sawMultiLabel = true;
      }
    }
  } catch (error) {
    // A file-level parse failure (such as an unclosed quote) ends the scan; what was read still counts.
    if (!(error instanceof DataError)) throw error;
    rowProblems.push(toProblem(error));
  }
  if (rows === 0 && rowProblems.length === 0) problems.push(toProblem(noRecordsError(plan, 0)));

  // A wrong --delimiter explains the row problems it causes, so it comes before them.
  const delimiterProblem = wrongDelimiter(plan, firstRecords);
  if (delimiterProblem) problems.push(delimiterProblem);
  problems.push(...rowProblems.slice(0, MAX_LISTED_PROBLEMS));
  if (rowProblems.length > MAX_LISTED_PROBLEMS) {
    problems.push({ severity: 'error', file: plan.file, message: `${rowProblems.length - MAX_LISTED_PROBLEMS} more invalid record(s) are not listed.`, hint: 'Read the file with --lenient to get the full list.' });
  }
  problems.push(...checks.problems());

  const kinds = checksLabelKinds(plan, {}) ? mixedLabelKinds(tokenCounts.keys()) : undefined;
  if (kinds) problems.push(toProblem(mixedLabelsError(plan, kinds, kindLines)));

  const { space, mapper } = buildLabelSpace(plan, tokenCounts.keys(), sawMultiLabel);
  const counts = space.names.map((label, index) => {
    let count = 0;
    for (const [token, times] of tokenCounts) if (mapper.map(token) === index) count += times;
    return { label, count };
  });
  for (const [token] of tokenCounts) {
    if (mapper.map(token) === undefined) {
      problems.push({ severity: 'error', file: plan.file, message: `Label "${token}" is not in the label names file (${space.names.length} names).`, hint: 'Fix the label or the names file (--label-names).' });
    }
  }
  const present = counts.filter((c) => c.count > 0);
  if (rows > 0 && present.length === 1) {
    problems.push({
      severity: 'warning',
      file: plan.file,
      message: `Every row has the label "${present[0].label}"; a classifier needs at least two labels, so this file alone cannot train one.`,
      hint: plan.fixedLabel !== undefined ? 'Files such as rt-polarity.pos and rt-polarity.neg contain one label each: pass the folder that contains them all, or join them into one file.' : 'Check the label column (--label-column).',
    });
  }
  const preview: Example[] = [];
  for (const record of firstRecords) {
    if (checks.idsRepeat) record.id = `${record.file}:${record.line}`;
    try {
      preview.push(toExample(plan, record, mapper));
    } catch {
      // Reported above as a label missing from the names file.
    }
  }
  return makeInfo(plan, space, counts, rows, preview, problems);
}
