// Shared data types of the distillation engine. Nothing here imports tfjs or vscode,
// so every layer (CLI, training host, extension, webview protocol) can use them.

/** Binary polarity, single-label multi-class (e.g. 1–5 stars), or multi-label emotions. */
export type TaskKind = 'binary' | 'multiclass' | 'multilabel';

/** Where a record came from, so an editor can open the file at that place. */
export interface SourceLocation {
  /** Absolute path of the file the record was read from. */
  file: string;
  /** 1-based line on which the record starts (a quoted field may span more lines). */
  line: number;
}

/** One dataset record after parsing and label mapping. */
export interface Example {
  /** Stable id within the dataset: the row id column when there is one, else `file:line`. */
  id: string;
  text: string;
  /**
   * Gold label indices into `LabelSpace.names`: exactly one for single-label tasks,
   * zero or more for multi-label tasks. `null` when the record has no gold label
   * (an unlabeled transfer-set text, or a gold label hidden by `goldFraction`).
   */
  labels: number[] | null;
  /** Precomputed teacher output for this record (logits or probabilities), when the dataset has a soft-label column. */
  soft?: number[];
  source: SourceLocation;
}

export interface LabelSpace {
  task: TaskKind;
  /** Label names in index order. Integer labels without a names file keep their integer as the name ("0", "1"). */
  names: string[];
}

/** A problem found while reading a file. `line`/`column` are 1-based and refer to the original file. */
export interface DataProblem {
  severity: 'error' | 'warning';
  file: string;
  line?: number;
  column?: number;
  /** What is wrong, in one sentence that names the value. */
  message: string;
  /** What the user can do about it (a flag, a setting, an edit). */
  hint?: string;
}

export type DatasetFormat =
  | 'csv'
  | 'jsonl'
  | 'json'
  | 'parquet'
  | 'lines'
  | 'folder';

export type TextEncoding = 'utf-8' | 'utf-8-bom' | 'gb18030' | 'windows-1252' | 'latin1' | 'utf-16le' | 'utf-16be';

/**
 * Options for reading one dataset file. Everything is detected when left out;
 * each field overrides one detection step.
 */
export interface ReadOptions {
  format?: DatasetFormat;
  encoding?: TextEncoding;
  /** Single-character field delimiter for `csv` (`,` `\t` `;` `|` ` ` `@` …). */
  delimiter?: string;
  /** Split each line on the last delimiter only (Financial PhraseBank's `sentence@label`). */
  splitOnLastDelimiter?: boolean;
  /** `false` turns off quote handling (tab files with stray `"`). Default: detected. */
  quoting?: boolean;
  /** Whether the first row is a header. Default: detected. */
  header?: boolean;
  /** Text column: a header name or a 0-based index. */
  textColumn?: string | number;
  /** Label column: a header name or a 0-based index. */
  labelColumn?: string | number;
  /** Multi-label as one 0/1 column per label: the columns' names or indices. */
  labelColumns?: (string | number)[];
  /** Row id column, used to match soft-label side files. */
  idColumn?: string | number;
  /** Soft-label column holding a JSON list of logits or probabilities. */
  softLabelColumn?: string | number;
  /** File with one label name per line; integer labels index into it. */
  labelNamesFile?: string;
  /** Force the task kind (for example multi-label when every row happens to have one label). */
  task?: TaskKind;
  /** Skip bad rows and report them instead of stopping at the first one. */
  lenient?: boolean;
  /** Label for every line, for `lines` files whose name does not carry it. */
  label?: string;
}

/** What `inspect` reports about one file; also the parser's plan for reading it. */
export interface DatasetInfo {
  file: string;
  format: DatasetFormat;
  encoding: TextEncoding;
  /** `true` when the encoding came from detection rather than an option. */
  encodingDetected: boolean;
  delimiter?: string;
  quoting?: boolean;
  header: boolean;
  /** Column names; `column1`, `column2` … for headerless files. */
  columns: string[];
  textColumn: string;
  labelColumn?: string;
  labelColumns?: string[];
  idColumn?: string;
  softLabelColumn?: string;
  lineEnding: 'LF' | 'CRLF' | 'CR' | 'mixed' | 'none';
  task: TaskKind;
  /** Label names with their record counts, in label-space order. */
  labelCounts: { label: string; count: number }[];
  rows: number;
  /** Up to five parsed examples, for previews. */
  preview: Example[];
  problems: DataProblem[];
}

/** A fully read file: examples plus everything `inspect` reports. */
export interface Dataset {
  info: DatasetInfo;
  labelSpace: LabelSpace;
  examples: Example[];
  /** Rows skipped in lenient mode, each with the reason. */
  skipped: DataProblem[];
}

/** Raised for input the user must fix. The CLI prints `message` and `hint` without a stack trace. */
export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly column?: number,
    readonly hint?: string,
  ) {
    super(message);
  }

  /** `file:line:column: message` followed by the hint, as compilers print it. */
  format(): string {
    let where = this.file ?? '';
    if (this.file && this.line !== undefined) where += `:${this.line}`;
    if (this.file && this.line !== undefined && this.column !== undefined) where += `:${this.column}`;
    const head = where ? `${where}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  ${this.hint}` : head;
  }
}
