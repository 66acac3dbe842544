// Data preparation for a run: read the splits into one label space, hold out dev and
// test when no files are given, hide gold labels for the gold fraction, add transfer
// texts, build the student tokenizer and encode every text.
import { extname, resolve } from 'node:path';
import type { DistillConfig } from '../config';
import { readDataset, readSplits, stratifiedSplit, findDuplicates } from '../data';
import { StudentTokenizer, buildTokenizer, ngramIds } from '../tokenize';
import { createRng, shuffleInPlace } from '../random';
import { DataError, type DataProblem, type Example, type LabelSpace, type ReadOptions } from '../types';

export interface PreparedData {
  labelSpace: LabelSpace;
  /** Training rows; `labels` is null where the gold label is hidden (gold fraction) or absent (transfer texts). */
  train: Example[];
  /** Gold labels of every training row before hiding, for the teacher trained in the run. */
  trainGold: (number[] | null)[];
  dev: Example[];
  test: Example[];
  /** Origin of dev and test: their own files, or a seeded split of the training file. */
  splitSource: { dev: 'file' | 'split'; test: 'file' | 'split' | 'none' };
  problems: DataProblem[];
  /** Rows skipped in lenient mode. */
  skipped: DataProblem[];
  counts: { train: number; trainGold: number; transfer: number; dev: number; test: number };
}

export function readOptionsFrom(config: DistillConfig): ReadOptions {
  const options: ReadOptions = { lenient: config.data.lenient };
  const column = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : value);
  if (config.data.textColumn) options.textColumn = column(config.data.textColumn);
  if (config.data.labelColumn) options.labelColumn = column(config.data.labelColumn);
  if (config.data.labelNames) options.labelNamesFile = config.data.labelNames;
  if (config.data.idColumn) options.idColumn = column(config.data.idColumn);
  if (config.data.format) options.format = config.data.format;
  if (config.data.encoding) options.encoding = config.data.encoding;
  if (config.data.delimiter) options.delimiter = config.data.delimiter;
  if (config.data.quoting !== undefined) options.quoting = config.data.quoting;
  if (config.data.header !== undefined) options.header = config.data.header;
  if (config.teacher.kind === 'soft-labels' && config.teacher.softLabels && !looksLikeFile(config.teacher.softLabels)) {
    options.softLabelColumn = column(config.teacher.softLabels);
  }
  return options;
}

function looksLikeFile(value: string): boolean {
  return /[\\/]/.test(value) || ['.jsonl', '.ndjson', '.json', '.csv', '.tsv', '.txt'].includes(extname(value).toLowerCase());
}

export async function prepareData(config: DistillConfig, log: (level: 'info' | 'warn', message: string) => void): Promise<PreparedData> {
  const options = readOptionsFrom(config);
  const splits = await readSplits({ train: config.data.train, dev: config.data.dev, test: config.data.test, options });
  const problems: DataProblem[] = [...splits.train.info.problems, ...(splits.dev?.info.problems ?? []), ...(splits.test?.info.problems ?? [])];
  const skipped: DataProblem[] = [...splits.train.skipped, ...(splits.dev?.skipped ?? []), ...(splits.test?.skipped ?? [])];
  const labelSpace = splits.labelSpace;
  if (labelSpace.names.length < 2) {
    throw new DataError(
      `The training data has only one label ("${labelSpace.names[0] ?? ''}"); a classifier needs at least two.`,
      resolve(config.data.train),
      undefined,
      undefined,
      'Check that the label column is right (--label-column) and that the file holds examples of every class.',
    );
  }

  let train = splits.train.examples;
  let dev = splits.dev?.examples ?? [];
  let test = splits.test?.examples ?? [];
  const splitSource: PreparedData['splitSource'] = { dev: 'file', test: splits.test ? 'file' : 'none' };
  if (!splits.dev || (!splits.test && config.data.testFraction > 0)) {
    const held = stratifiedSplit(train, labelSpace, {
      devFraction: splits.dev ? 0 : config.data.devFraction,
      testFraction: splits.test ? 0 : config.data.testFraction,
      seed: config.training.seed,
    });
    train = held.train;
    if (!splits.dev) {
      dev = held.dev;
      splitSource.dev = 'split';
    }
    if (!splits.test && config.data.testFraction > 0) {
      test = held.test;
      splitSource.test = 'split';
    }
  }
  if (dev.length === 0) {
    throw new DataError('The dev split is empty.', config.data.dev ?? config.data.train, undefined, undefined, 'Pass --dev FILE or raise --dev-fraction.');
  }

  const duplicates = findDuplicates({ train, dev, ...(test.length > 0 ? { test } : {}) });
  problems.push(...duplicates);
  for (const problem of duplicates) log('warn', problem.message);

  const trainGold = train.map((e) => e.labels);
  const trainWithHidden = hideGold(train, config.data.goldFraction, config.training.seed);
  const trainGoldCount = trainWithHidden.filter((e) => e.labels !== null).length;

  let transfer: Example[] = [];
  if (config.data.transfer) {
    transfer = await readTransferTexts(config.data.transfer, options);
    log('info', `Read ${transfer.length} transfer texts from ${config.data.transfer}.`);
  }

  return {
    labelSpace,
    train: [...trainWithHidden, ...transfer],
    trainGold: [...trainGold, ...transfer.map(() => null)],
    dev,
    test,
    splitSource,
    problems,
    skipped,
    counts: { train: train.length, trainGold: trainGoldCount, transfer: transfer.length + train.length - trainGoldCount, dev: dev.length, test: test.length },
  };
}

/** Keeps the gold label on a stratified `fraction` of rows (seeded); the rest become transfer texts. */
export function hideGold(examples: Example[], fraction: number, seed: number): Example[] {
  if (fraction >= 1) return examples;
  const byLabel = new Map<string, number[]>();
  examples.forEach((example, index) => {
    const key = (example.labels ?? []).join(',');
    if (!byLabel.has(key)) byLabel.set(key, []);
    byLabel.get(key)!.push(index);
  });
  const rng = createRng(seed ^ 0x5bd1e995);
  const keep = new Set<number>();
  const target = Math.round(fraction * examples.length);
  const groups = [...byLabel.entries()].sort(([a], [b]) => a.localeCompare(b));
  const remainders: { index: number; order: number }[] = [];
  for (const [, indices] of groups) {
    shuffleInPlace(indices, rng);
    const exact = fraction * indices.length;
    indices.slice(0, Math.floor(exact)).forEach((index) => keep.add(index));
    indices.slice(Math.floor(exact)).forEach((index) => remainders.push({ index, order: rng() }));
  }
  remainders.sort((a, b) => a.order - b.order);
  for (const { index } of remainders) {
    if (keep.size >= target) break;
    keep.add(index);
  }
  return examples.map((example, index) => (keep.has(index) ? example : { ...example, labels: null }));
}

/** Reads a transfer set: any dataset file; its labels, when it has any, are ignored. */
async function readTransferTexts(path: string, options: ReadOptions): Promise<Example[]> {
  const format = extname(path).toLowerCase() === '.txt' ? { format: 'lines' as const, label: 'unlabeled' } : {};
  const dataset = await readDataset(path, { ...options, ...format, softLabelColumn: undefined });
  return dataset.examples.map((example) => ({ ...example, id: `transfer:${example.id}`, labels: null }));
}

export interface EncodedSplits {
  tokenizer: StudentTokenizer;
  encode: (texts: string[]) => Int32Array[];
}

/**
 * Builds the student's tokenizer from the training texts and returns an encoder. The bag
 * student gets hashed n-gram ids after the vocabulary, so its embedding table has
 * `vocabSize + ngramBuckets` rows.
 */
export async function buildEncoder(config: DistillConfig, texts: string[], kind: 'bag' | 'cnn' | 'bilstm'): Promise<EncodedSplits & { inputVocabSize: number }> {
  const tokenizer = config.student.tokenizerFile
    ? await StudentTokenizer.load(config.student.tokenizerFile)
    : StudentTokenizer.fromJson(buildTokenizer(texts, { model: config.student.tokenizer, vocabSize: config.student.vocabSize, minFrequency: config.student.minFrequency, lowercase: true }));
  return { tokenizer, ...encoderFor(tokenizer, kind, config.data.maxLength, config.student.ngrams, config.student.ngramBuckets) };
}

/**
 * Returns the student's encoder: `encode` for texts, and `fromTokens` for the token ids that
 * `tokenizer.encode(text, maxLength)` gives (as encodeRecords streams them), with the same result.
 */
export function encoderFor(
  tokenizer: StudentTokenizer,
  kind: 'bag' | 'cnn' | 'bilstm',
  maxLength: number,
  ngrams: number,
  buckets: number,
): { encode: (texts: string[]) => Int32Array[]; fromTokens: (tokens: Int32Array) => Int32Array; inputVocabSize: number } {
  const useNgrams = kind === 'bag' && ngrams > 1 && buckets > 0;
  const fallback = tokenizer.unkId >= 0 ? tokenizer.unkId : 1;
  // The bag student's inputs are encodeBag's: the tokens, then their hashed n-grams.
  const fromTokens = (tokens: Int32Array): Int32Array => {
    let ids = tokens;
    if (useNgrams) {
      const grams = ngramIds(tokens, { n: ngrams, buckets, offset: tokenizer.vocabSize });
      ids = new Int32Array(tokens.length + grams.length);
      ids.set(tokens);
      ids.set(grams, tokens.length);
    }
    return ids.length > 0 ? ids : Int32Array.of(fallback);
  };
  const encode = (texts: string[]): Int32Array[] => texts.map((text) => fromTokens(tokenizer.encode(text, maxLength)));
  return { encode, fromTokens, inputVocabSize: tokenizer.vocabSize + (useNgrams ? buckets : 0) };
}
