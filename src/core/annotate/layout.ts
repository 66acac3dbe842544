// Where the label cell of a dataset file is, read the way the run read the file: the
// run's data settings (config.json) give the same column, delimiter and header choices.
import type { DistillConfig } from '../config';
import { planDataset } from '../data/plan';
import { isIntegerLabel } from '../data/labels';
import type { DatasetFormat, ReadOptions } from '../types';
import type { LabelCellSpec } from './cells';

export interface LabelLayout {
  format: DatasetFormat;
  encoding: string;
  /** Undefined when the label cannot be rewritten in place; `reason` says why. */
  spec?: LabelCellSpec;
  reason?: string;
  /** Cells hold lists of labels (`3,27` or a JSON list). */
  multiLabel: boolean;
  /** Integer cells index a label names file, so "Set label: joy" writes the index of joy. */
  integersIndexNames: boolean;
  labelColumn?: string;
}

/** The reading options of the run, as `prepare` derives them from the data settings (soft-label columns left out). */
export function readOptionsFromSettings(data: Partial<DistillConfig['data']>): ReadOptions {
  const options: ReadOptions = { lenient: true };
  const column = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : value);
  if (data.textColumn) options.textColumn = column(data.textColumn);
  if (data.labelColumn) options.labelColumn = column(data.labelColumn);
  if (data.labelNames) options.labelNamesFile = data.labelNames;
  if (data.idColumn) options.idColumn = column(data.idColumn);
  if (data.format) options.format = data.format;
  if (data.encoding) options.encoding = data.encoding;
  if (data.delimiter) options.delimiter = data.delimiter;
  if (data.quoting !== undefined) options.quoting = data.quoting;
  if (data.header !== undefined) options.header = data.header;
  return options;
}

/** Detects the label cell of `file` with the run's reading options. Raises the reader's DataError when the file cannot be read. */
export async function detectLabelLayout(file: string, options: ReadOptions): Promise<LabelLayout> {
  const plan = await planDataset(file, options);
  const label = plan.roles.label;
  const base = { format: plan.format, encoding: plan.encoding, multiLabel: plan.roles.multiLabelCells, integersIndexNames: plan.labelNames !== undefined, labelColumn: label !== undefined ? plan.columns[label] : undefined };
  if (label === undefined) {
    const reason = plan.roles.labelColumns
      ? 'The labels are spread over one 0/1 column per label, so there is no single label cell to rewrite.'
      : 'The file has no label column; set sentimentDistiller.data.labelColumn if it has one.';
    return { ...base, reason };
  }
  if (plan.format === 'csv' && plan.layout) {
    return { ...base, spec: { kind: 'delimited', delimiter: plan.layout.delimiter, quoting: plan.layout.quoting, column: label, splitOn: plan.layout.splitOn } };
  }
  if (plan.format === 'jsonl') return { ...base, spec: { kind: 'jsonl', key: plan.columns[label] } };
  return { ...base, reason: `Labels in ${plan.format} files are not rewritten in place; only CSV, TSV and JSON Lines files are.` };
}

/**
 * The cell tokens that write label names `names`: the name itself, or its index in the
 * label names file when the cell already holds an integer index.
 */
export function cellTokensFor(names: string[], labelNames: string[], currentTokens: string[], integersIndexNames: boolean): string[] {
  const useIndex = integersIndexNames && currentTokens.length > 0 && currentTokens.every(isIntegerLabel) && !currentTokens.every((token) => labelNames.includes(token));
  return names.map((name) => (useIndex && labelNames.includes(name) ? String(labelNames.indexOf(name)) : name));
}
