// Reading train/dev/test files into one label space, seeded stratified splits, duplicate checks.
import { createRng } from '../random';
import { DataError, type DataProblem, type Dataset, type Example, type LabelSpace, type ReadOptions } from '../types';
import { readDataset } from './reader';

export interface SplitFiles {
  train: string;
  dev?: string;
  test?: string;
  options?: ReadOptions;
  /** Label space to use for every file; by default the training file defines it. */
  labelSpace?: LabelSpace;
}

export interface SplitDatasets {
  train: Dataset;
  dev?: Dataset;
  test?: Dataset;
  labelSpace: LabelSpace;
}

/**
 * Reads train (and optional dev/test) files into one shared label space. A dev/test label
 * missing from the training labels raises a DataError naming the label, file and line.
 */
export async function readSplits(files: SplitFiles): Promise<SplitDatasets> {
  const options = files.options ?? {};
  const train = await readDataset(files.train, { ...options, labelSpace: files.labelSpace });
  const labelSpace = train.labelSpace;
  const result: SplitDatasets = { train, labelSpace };
  if (files.dev) result.dev = await readDataset(files.dev, { ...options, labelSpace });
  if (files.test) result.test = await readDataset(files.test, { ...options, labelSpace });
  return result;
}

const TRAIN = 0;
const DEV = 1;
const TEST = 2;

export interface StratifiedSplitOptions {
  /** Share of each class that goes to dev, in [0, 1). */
  devFraction: number;
  /** Share of each class that goes to test, in [0, 1). */
  testFraction: number;
  seed: number;
}

/**
 * Splits examples into train/dev/test with the same class shares in each part, grouped by
 * the first gold label (unlabeled examples form their own group). Output keeps input order.
 */
export function stratifiedSplit(examples: Example[], labelSpace: LabelSpace, options: StratifiedSplitOptions): { train: Example[]; dev: Example[]; test: Example[] } {
  const { devFraction, testFraction, seed } = options;
  if (!(devFraction >= 0 && testFraction >= 0 && devFraction + testFraction < 1)) {
    throw new DataError(
      `Invalid split fractions: dev ${devFraction} and test ${testFraction} must be at least 0 and add up to less than 1.`,
      undefined,
      undefined,
      undefined,
      'Pass fractions such as --dev-fraction 0.1 --test-fraction 0.1.',
    );
  }
  const random = createRng(seed);
  const groups = new Map<number, number[]>();
  for (let group = -1; group < labelSpace.names.length; group++) groups.set(group, []);
  examples.forEach((example, index) => {
    const first = example.labels && example.labels.length > 0 ? example.labels[0] : -1;
    if (!groups.has(first)) groups.set(first, []);
    groups.get(first)!.push(index);
  });

  const part = new Uint8Array(examples.length);
  for (const indices of groups.values()) {
    for (let i = indices.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [indices[i], indices[j]] = [indices[j], indices[i]];
    }
    const devCount = Math.round(indices.length * devFraction);
    const testCount = Math.round(indices.length * testFraction);
    indices.forEach((index, position) => {
      if (position < devCount) part[index] = DEV;
      else if (position < devCount + testCount) part[index] = TEST;
      else part[index] = TRAIN;
    });
  }
  const result = { train: [] as Example[], dev: [] as Example[], test: [] as Example[] };
  examples.forEach((example, index) => {
    if (part[index] === DEV) result.dev.push(example);
    else if (part[index] === TEST) result.test.push(example);
    else result.train.push(example);
  });
  return result;
}

/** Locations shown per duplicate or overlap warning. */
const MAX_EXAMPLE_LOCATIONS = 3;

function normalizeText(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

function location(example: Example): string {
  return `${example.source.file}:${example.source.line}`;
}

function quote(text: string): string {
  return text.length > 60 ? `"${text.slice(0, 57)}…"` : `"${text}"`;
}

/**
 * Reports texts that repeat within a split and texts shared between splits, compared after
 * trimming and collapsing whitespace. Returns warnings with counts and a few locations.
 */
export function findDuplicates(splits: Record<string, Example[] | undefined>): DataProblem[] {
  const problems: DataProblem[] = [];
  const indexes = new Map<string, Map<string, Example[]>>();
  for (const [name, examples] of Object.entries(splits)) {
    if (!examples) continue;
    const byText = new Map<string, Example[]>();
    for (const example of examples) {
      const key = normalizeText(example.text);
      const list = byText.get(key);
      if (list) list.push(example);
      else byText.set(key, [example]);
    }
    indexes.set(name, byText);

    const repeated = [...byText.values()].filter((list) => list.length > 1);
    if (repeated.length > 0) {
      const extra = repeated.reduce((sum, list) => sum + list.length - 1, 0);
      const first = repeated[0];
      problems.push({
        severity: 'warning',
        file: first[0].source.file,
        line: first[1].source.line,
        message: `Split "${name}" has ${repeated.length} text(s) that occur more than once (${extra} extra copies); for example ${quote(first[0].text)} at ${first.slice(0, MAX_EXAMPLE_LOCATIONS).map(location).join(', ')}.`,
        hint: 'Remove the copies so that they do not weigh more in training.',
      });
    }
  }

  const names = [...indexes.keys()];
  for (let a = 0; a < names.length; a++) {
    for (let b = a + 1; b < names.length; b++) {
      const left = indexes.get(names[a])!;
      const right = indexes.get(names[b])!;
      const shared: string[] = [];
      for (const key of left.keys()) if (right.has(key)) shared.push(key);
      if (shared.length === 0) continue;
      const samples = shared.slice(0, MAX_EXAMPLE_LOCATIONS).map((key) => `${quote(key)} at ${location(left.get(key)![0])} and ${location(right.get(key)![0])}`);
      const first = right.get(shared[0])![0];
      problems.push({
        severity: 'warning',
        file: first.source.file,
        line: first.source.line,
        message: `Splits "${names[a]}" and "${names[b]}" share ${shared.length} text(s); for example ${samples.join('; ')}.`,
        hint: `Remove the shared texts from "${names[b]}" so that its scores measure unseen data.`,
      });
    }
  }
  return problems;
}
