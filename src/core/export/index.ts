// Export of a trained student: the transformers.js folder layout (ONNX model, tokenizer,
// config with id2label) and/or the TensorFlow.js files, plus a model card. Needs no
// TensorFlow.js: the weights are read from weights.bin and written into ONNX initializers.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { serializeTokenizerJson } from '../tokenize/student-tokenizer';
import { ExportError } from './errors';
import { buildStudentGraph, EXPORT_OPSET } from './graphs';
import { renderModelCard } from './model-card';
import { readRunContents, requireWeight, type RunContents } from './run-files';
import { exportTokenizer } from './tokenizer';

export { ExportError } from './errors';
export type { ExportErrorCode } from './errors';

export type ExportFormat = 'onnx' | 'tfjs';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['onnx', 'tfjs'];

export interface ExportOptions {
  /** Default both: ['onnx', 'tfjs']. */
  formats?: readonly ExportFormat[];
  /** Replace earlier export files in a non-empty output folder (other files are kept). */
  force?: boolean;
  /** Progress messages, one per stage. */
  onProgress?: (message: string) => void;
}

export interface ExportResult {
  outDir: string;
  formats: ExportFormat[];
  /** Paths relative to `outDir`, README.md last. */
  files: string[];
  modelCard: string;
  /** Absent when the onnx format was not requested. */
  onnxModel?: string;
  parameterCount: number;
}

/** Names this exporter writes at the top of the output folder; `force` removes only these. */
const OWNED_ENTRIES = ['onnx', 'tfjs', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'README.md'];

/** Parses a comma-separated format list such as "onnx,tfjs". */
export function parseExportFormats(value: string): ExportFormat[] {
  const names = value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (names.length === 0) throw new ExportError('unknown-format', `No export format given in "${value}"; use onnx, tfjs or onnx,tfjs.`);
  for (const name of names) {
    if (!EXPORT_FORMATS.includes(name as ExportFormat)) throw new ExportError('unknown-format', `Unknown export format "${name}"; use onnx, tfjs or onnx,tfjs.`);
  }
  return [...new Set(names)] as ExportFormat[];
}

function checkOutputFolder(outDir: string, runDir: string, force: boolean): void {
  const inside = (child: string, parent: string) => child === parent || child.startsWith(parent + sep);
  if (inside(runDir, outDir)) {
    throw new ExportError('output-not-empty', `The output folder ${outDir} contains the run folder ${runDir}; choose a folder outside the run, for example ${join(dirname(runDir), `${runDir.split(sep).pop()}-export`)}.`);
  }
  if (!existsSync(outDir)) return;
  if (!statSync(outDir).isDirectory()) throw new ExportError('output-not-empty', `The output path ${outDir} is a file, not a folder; choose another --out.`);
  const entries = readdirSync(outDir);
  if (entries.length > 0 && !force) {
    throw new ExportError('output-not-empty', `The output folder ${outDir} is not empty (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', …' : ''}); choose an empty folder, or pass --force to replace an earlier export there.`);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Exports the student of the run folder `runDir` into `outDir`:
 * - onnx: `onnx/model.onnx`, `tokenizer.json`, `tokenizer_config.json`, `config.json`,
 *   loadable with `pipeline('text-classification', outDir)` in transformers.js;
 * - tfjs: `tfjs/` with model.json, weights.bin, tokenizer.json and labels.json, loadable
 *   with `loadPredictor`;
 * - always: `README.md`, the model card.
 * Everything is built and checked in memory before the output folder is touched.
 * Throws ExportError (see its codes) for a run that cannot be exported.
 */
export async function exportStudent(runDir: string, outDir: string, options: ExportOptions = {}): Promise<ExportResult> {
  const formats = [...new Set(options.formats ?? EXPORT_FORMATS)];
  for (const format of formats) {
    if (!EXPORT_FORMATS.includes(format)) throw new ExportError('unknown-format', `Unknown export format "${String(format)}"; use onnx, tfjs or both.`);
  }
  if (formats.length === 0) throw new ExportError('unknown-format', 'No export format requested; use onnx, tfjs or both.');
  const progress = options.onProgress ?? (() => {});
  const target = resolve(outDir);

  progress(`Reading ${resolve(runDir)}`);
  const run = readRunContents(runDir);
  checkOutputFolder(target, run.runDir, options.force === true);
  const parameterCount = [...run.weights.values()].reduce((sum, weight) => sum + weight.data.length, 0);

  const outputs = new Map<string, Uint8Array>();
  const text = (value: string) => new TextEncoder().encode(value);
  let featureDim = 0;
  let vocabSize = run.config.vocabSize;
  if (formats.includes('onnx')) {
    progress('Converting the tokenizer');
    const tokenizer = exportTokenizer(run.tokenizerJson, run.labels.maxLength, join(run.studentDir, 'tokenizer.json'));
    vocabSize = tokenizer.vocabSize;
    progress(`Building the ONNX graph of the ${run.config.kind} student`);
    const graph = buildStudentGraph({
      config: run.config,
      weight: (name) => requireWeight(run, name),
      emptyTextId: tokenizer.emptyTextId,
      ngrams: run.labels.ngrams ?? 1,
      ngramBuckets: run.labels.ngramBuckets ?? 0,
      vocabSize: tokenizer.vocabSize,
    });
    featureDim = graph.featureDim;
    outputs.set('onnx/model.onnx', graph.bytes);
    outputs.set('tokenizer.json', text(serializeTokenizerJson(tokenizer.tokenizerJson)));
    outputs.set('tokenizer_config.json', text(`${JSON.stringify(tokenizer.tokenizerConfig, null, 2)}\n`));
    outputs.set('config.json', text(`${JSON.stringify(transformersConfig(run, graph.featureDim, tokenizer.vocabSize), null, 2)}\n`));
  }

  progress(`Writing ${target}`);
  mkdirSync(target, { recursive: true });
  for (const entry of OWNED_ENTRIES) rmSync(join(target, entry), { recursive: true, force: true });
  const files = new Map<string, { bytes: number; sha256: string }>();
  for (const [path, bytes] of outputs) {
    mkdirSync(dirname(join(target, path)), { recursive: true });
    writeFileSync(join(target, path), bytes);
    files.set(path, { bytes: bytes.length, sha256: sha256(bytes) });
  }
  if (formats.includes('tfjs')) {
    mkdirSync(join(target, 'tfjs'), { recursive: true });
    for (const name of ['model.json', 'weights.bin', 'tokenizer.json', 'labels.json']) {
      const bytes = readFileSync(join(run.studentDir, name));
      writeFileSync(join(target, 'tfjs', name), bytes);
      files.set(`tfjs/${name}`, { bytes: bytes.length, sha256: sha256(bytes) });
    }
  }

  const card = renderModelCard({ run, formats, parameterCount, featureDim, files, vocabSize, onnxOpset: EXPORT_OPSET });
  writeFileSync(join(target, 'README.md'), card);
  progress(`Exported the ${run.config.kind} student to ${target}`);
  return {
    outDir: target,
    formats,
    files: [...files.keys(), 'README.md'].map((path) => relative(target, join(target, path)).split(sep).join('/')),
    modelCard: join(target, 'README.md'),
    onnxModel: formats.includes('onnx') ? join(target, 'onnx', 'model.onnx') : undefined,
    parameterCount,
  };
}

/** config.json in the layout transformers.js reads: model type, id2label/label2id and problem_type. */
function transformersConfig(run: RunContents, featureDim: number, vocabSize: number): Record<string, unknown> {
  const { labels, config } = run;
  return {
    // transformers.js picks the model class from model_type and architectures; a BERT
    // sequence classifier takes input_ids and attention_mask and returns logits, as this graph does.
    model_type: 'bert',
    architectures: ['BertForSequenceClassification'],
    problem_type: labels.task === 'multilabel' ? 'multi_label_classification' : 'single_label_classification',
    id2label: Object.fromEntries(labels.labels.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(labels.labels.map((label, i) => [label, i])),
    hidden_size: featureDim,
    vocab_size: vocabSize,
    max_position_embeddings: labels.maxLength,
    sentiment_distiller: {
      student: config,
      task: labels.task,
      maxLength: labels.maxLength,
      ngrams: labels.ngrams,
      ngramBuckets: labels.ngramBuckets,
      multilabelThreshold: labels.multilabelThreshold,
      runId: run.runId,
      weightsSha256: run.weightsSha256,
    },
  };
}
