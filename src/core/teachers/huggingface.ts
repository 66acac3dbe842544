// Teachers from the Hugging Face ecosystem, run with transformers.js (ONNX Runtime).
// A text-classification model gives logits in its `id2label` order, which are mapped to
// the dataset's labels. An encoder without a classification head gets a head trained in
// the run on its frozen pooled features. Outputs go through the on-disk teacher cache.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { DistillConfig } from '../config';
import type { EventSink, LogLevel } from '../events';
import type { Example, LabelSpace } from '../types';
import { TeacherCache, defaultTeacherCacheDir, hashModelFile, type CachedRow, type TeacherIdentity } from './cache';
import { trainFeatureHead, type FeatureHead } from './featureHead';
import { applyLabelMapping, describeLabelMapping, mapLabels, parseLabelMap, type LabelMapping } from './labelMapping';
import type { PredictOptions, Teacher, TeacherOutputs } from './types';

export type TeacherDtype = DistillConfig['teacher']['dtype'];
export type TeacherDevice = DistillConfig['teacher']['device'];

/** ONNX file that transformers.js 4.x reads for each dtype, relative to the model folder. */
export const DTYPE_FILES: Record<TeacherDtype, string> = {
  fp32: 'onnx/model.onnx',
  q8: 'onnx/model_quantized.onnx',
  fp16: 'onnx/model_fp16.onnx',
};

const TEXT_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** Raised for a model that cannot be found or loaded; the message names the file and the fix. */
export class HuggingFaceTeacherError extends Error {
  override readonly name = 'HuggingFaceTeacherError';
}

/**
 * Counters over every Hugging Face teacher in this process. Tests and benchmarks read
 * them to check that a cache hit loaded no model and ran no forward pass.
 */
export const huggingFaceTeacherStats = { modelLoads: 0, forwardCalls: 0, textsComputed: 0 };

// The subset of the transformers.js API used here, typed locally so the engine compiles
// and bundles without the package, which is loaded at run time.
interface HfTensor {
  dims: number[];
  type: string;
  data: ArrayLike<number | bigint>;
  to?(type: string): HfTensor;
  dispose?(): void;
}
type HfTokenizer = (texts: string[], options: { padding: boolean; truncation: boolean; max_length: number }) => Record<string, HfTensor>;
interface HfModel {
  config?: Record<string, unknown>;
  forward(inputs: Record<string, HfTensor>): Promise<Record<string, HfTensor>>;
  dispose(): Promise<unknown>;
}
interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string; cacheDir: string | null };
  AutoTokenizer: { from_pretrained(id: string, options?: Record<string, unknown>): Promise<HfTokenizer> };
  AutoModel: { from_pretrained(id: string, options?: Record<string, unknown>): Promise<HfModel> };
  AutoConfig: { from_pretrained(id: string, options?: Record<string, unknown>): Promise<Record<string, unknown>> };
}

let transformers: TransformersModule | undefined;

/**
 * Loads @huggingface/transformers with a run-time require, so esbuild leaves it out of
 * dist/cli.js and dist/host.js. The package resolves from node_modules next to the code
 * or on NODE_PATH. Throws HuggingFaceTeacherError with install steps when it is absent.
 */
export function loadTransformers(): TransformersModule {
  if (transformers) return applyOfflineSwitch(transformers);
  const requireAtRuntime = createRequire(__filename);
  try {
    transformers = requireAtRuntime('@huggingface/transformers') as TransformersModule;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /@huggingface\/transformers/.test((error as Error).message);
    if (missing) {
      throw new HuggingFaceTeacherError(
        `Hugging Face teachers need the @huggingface/transformers package, which was not found from ${__dirname}. ` +
          'Install it with `npm install @huggingface/transformers` in a folder above this program or on NODE_PATH, or use --teacher trained or --teacher soft-labels.',
      );
    }
    throw new HuggingFaceTeacherError(`Loading @huggingface/transformers failed: ${(error as Error).message}. Its native dependencies (onnxruntime-node, sharp) may not match this platform; reinstall them with npm.`);
  }
  return applyOfflineSwitch(transformers);
}

/** HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1 are the Hugging Face tools' switches for "never download". */
function applyOfflineSwitch(library: TransformersModule): TransformersModule {
  if (process.env.HF_HUB_OFFLINE === '1' || process.env.TRANSFORMERS_OFFLINE === '1') library.env.allowRemoteModels = false;
  return library;
}

export interface ModelSource {
  /** As configured: a hub id such as `org/name`, or a folder. */
  model: string;
  /** Model argument passed to transformers.js: the absolute folder for local models, else the hub id. */
  id: string;
  local: boolean;
  /** Folder holding the model files, once they are on disk (for hub ids: the transformers.js cache). */
  folder: string | undefined;
}

function looksLikePath(model: string): boolean {
  return isAbsolute(model) || model.startsWith('.') || model.startsWith('~') || model.includes('\\') || existsSync(model);
}

/** Finds a model's files: a local folder, or a hub id already in the transformers.js cache or local model path. */
export function resolveModelSource(model: string, env?: TransformersModule['env']): ModelSource {
  if (looksLikePath(model)) {
    const folder = resolve(model.startsWith('~') ? model.replace(/^~/, process.env.HOME ?? '~') : model);
    return { model, id: folder, local: true, folder };
  }
  const candidates = [env?.localModelPath, env?.cacheDir].filter((dir): dir is string => !!dir).map((dir) => join(dir, model));
  return { model, id: model, local: false, folder: candidates.find((dir) => existsSync(join(dir, 'config.json'))) };
}

/** Files a model needs for `dtype`; throws HuggingFaceTeacherError naming the first missing one. */
export function checkModelFiles(source: ModelSource, dtype: TeacherDtype): void {
  const folder = source.folder;
  if (!folder) return;
  const fix = 'Point --teacher-model (setting teacher.model) at a folder with config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx (or the file of the chosen --teacher-dtype).';
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new HuggingFaceTeacherError(`Teacher model folder not found: ${folder} (from "${source.model}"). ${fix}`);
  }
  for (const file of [...TEXT_FILES, DTYPE_FILES[dtype]]) {
    const path = join(folder, file);
    if (existsSync(path)) continue;
    const variants = Object.entries(DTYPE_FILES).filter(([, other]) => existsSync(join(folder, other))).map(([name]) => name);
    const dtypeHint = file === DTYPE_FILES[dtype] && variants.length > 0 ? ` The folder has weights for --teacher-dtype ${variants.join(', ')}.` : '';
    throw new HuggingFaceTeacherError(`Teacher model "${source.model}" is missing the file ${file} (expected at ${path}).${dtypeHint} ${fix}`);
  }
}

/**
 * Checks, before a run folder exists, that a teacher can be found: a local folder must
 * have every file for `dtype`, and a hub id not on disk must have a reachable config.json.
 */
export async function checkHuggingFaceTeacher(model: string, dtype: TeacherDtype): Promise<void> {
  const library = loadTransformers();
  const source = resolveModelSource(model, library.env);
  if (source.local) return checkModelFiles(source, dtype);
  if (source.folder) return checkModelFiles(source, dtype);
  try {
    await library.AutoConfig.from_pretrained(source.id, { local_files_only: !library.env.allowRemoteModels });
  } catch (error) {
    throw describeLoadError(error, source, dtype);
  }
}

/** Turns a transformers.js load failure into a message naming the model, the file and the fix. */
function describeLoadError(error: unknown, source: ModelSource, dtype: TeacherDtype): HuggingFaceTeacherError {
  const message = (error as Error)?.message ?? String(error);
  const file = /(config\.json|tokenizer_config\.json|tokenizer\.json|onnx\/[\w.-]+\.onnx(?:_data)?)/.exec(message)?.[1] ?? 'config.json';
  const where = source.folder ? join(source.folder, file) : `the Hugging Face hub (https://huggingface.co/${source.id}/resolve/main/${file})`;
  return new HuggingFaceTeacherError(
    `Could not load the teacher model "${source.model}": ${file} could not be read from ${where} (${message.split('\n')[0]}). ` +
      `Without network access, copy the model folder (config.json, tokenizer.json, tokenizer_config.json, ${DTYPE_FILES[dtype]}) to this machine and pass --teacher-model /path/to/folder (setting teacher.model).`,
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new HuggingFaceTeacherError(`Invalid JSON in ${path}: ${(error as Error).message}. Re-export or re-download the model folder.`);
  }
}

/** Labels of `id2label` ordered by id, or undefined when the config has none. */
export function labelsFromConfig(config: Record<string, unknown>): string[] | undefined {
  const id2label = config.id2label as Record<string, string> | undefined;
  if (!id2label || typeof id2label !== 'object') return undefined;
  const entries = Object.entries(id2label).map(([id, label]) => [Number(id), String(label)] as const);
  if (entries.some(([id]) => !Number.isInteger(id))) return undefined;
  entries.sort((a, b) => a[0] - b[0]);
  return entries.map(([, label]) => label);
}

/** True for sequence-classification checkpoints; other architectures are treated as encoders. */
export function isClassifierConfig(config: Record<string, unknown>): boolean {
  const architectures = Array.isArray(config.architectures) ? (config.architectures as unknown[]).map(String) : [];
  return architectures.some((name) => /ForSequenceClassification$/.test(name));
}

export interface RunnerSettings {
  dtype: TeacherDtype;
  device: TeacherDevice;
  batchSize: number;
  maxLength: number;
}

type Log = (level: LogLevel, message: string) => void;

/** A tokenizer and ONNX session loaded on first use, run in length-sorted batches. */
class ModelRunner {
  private loaded: { tokenizer: HfTokenizer; model: HfModel } | undefined;
  deviceUsed: TeacherDevice | undefined;
  modelConfig: Record<string, unknown> | undefined;
  /** Texts run through the model and the seconds they took (tokenization and forward passes), over every `run` call. */
  readonly totals = { texts: 0, seconds: 0 };

  constructor(
    private readonly source: ModelSource,
    private readonly settings: RunnerSettings,
    private readonly log: Log,
  ) {}

  async load(): Promise<{ tokenizer: HfTokenizer; model: HfModel }> {
    if (this.loaded) return this.loaded;
    const library = loadTransformers();
    const started = Date.now();
    const common = { local_files_only: this.source.local || !library.env.allowRemoteModels };
    let tokenizer: HfTokenizer;
    try {
      tokenizer = await library.AutoTokenizer.from_pretrained(this.source.id, common);
    } catch (error) {
      throw describeLoadError(error, this.source, this.settings.dtype);
    }
    const devices: TeacherDevice[] = this.settings.device === 'cpu' ? ['cpu'] : [this.settings.device, 'cpu'];
    let model: HfModel | undefined;
    for (const device of devices) {
      try {
        model = await library.AutoModel.from_pretrained(this.source.id, { ...common, dtype: this.settings.dtype, device });
        this.deviceUsed = device;
        break;
      } catch (error) {
        if (device === 'cpu') throw describeLoadError(error, this.source, this.settings.dtype);
        this.log('warn', `Teacher device ${device} failed for ${this.source.model} (${(error as Error).message.split('\n')[0].slice(0, 300)}); falling back to cpu.`);
      }
    }
    huggingFaceTeacherStats.modelLoads++;
    this.modelConfig = model!.config;
    if (!this.source.folder) this.source.folder = resolveModelSource(this.source.model, library.env).folder;
    this.log('info', `Teacher ${this.source.model} loaded in ${((Date.now() - started) / 1000).toFixed(1)} s on ${this.deviceUsed} (${this.settings.dtype}, ${DTYPE_FILES[this.settings.dtype]}).`);
    this.loaded = { tokenizer, model: model! };
    return this.loaded;
  }

  /**
   * Runs the model on `texts` (sorted by length, so batches pad less) and returns rows
   * in input order. `onChunk` receives finished rows about every 1,024 texts, so a
   * cancelled run keeps what it computed.
   */
  async run(texts: string[], hooks: { emit?: EventSink; signal?: AbortSignal; onChunk?: (texts: string[], rows: CachedRow[]) => void; label: string }): Promise<CachedRow[]> {
    const { tokenizer, model } = await this.load();
    const rows: CachedRow[] = new Array(texts.length);
    const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length);
    const started = Date.now();
    let pending: number[] = [];
    let done = 0;
    hooks.emit?.({ type: 'progress', stage: 'teacher-predict', done: 0, total: texts.length });

    for (let start = 0; start < order.length; start += this.settings.batchSize) {
      if (hooks.signal?.aborted) throw new TeacherCancelledError();
      const batch = order.slice(start, start + this.settings.batchSize);
      const inputs = tokenizer(batch.map((i) => texts[i]), { padding: true, truncation: true, max_length: this.settings.maxLength });
      const outputs = await model.forward(inputs);
      huggingFaceTeacherStats.forwardCalls++;
      huggingFaceTeacherStats.textsComputed += batch.length;
      const batchRows = rowsFromOutputs(outputs, inputs.attention_mask, batch.length);
      batch.forEach((index, r) => (rows[index] = batchRows[r]));
      for (const tensor of [...Object.values(outputs), ...Object.values(inputs)]) tensor.dispose?.();

      done += batch.length;
      pending.push(...batch);
      if (pending.length >= 1024 || done === texts.length) {
        hooks.onChunk?.(pending.map((i) => texts[i]), pending.map((i) => rows[i]));
        pending = [];
      }
      const seconds = (Date.now() - started) / 1000;
      const rate = done / Math.max(seconds, 1e-3);
      hooks.emit?.({ type: 'progress', stage: 'teacher-predict', done, total: texts.length, etaSeconds: (texts.length - done) / rate });
    }
    const seconds = (Date.now() - started) / 1000;
    this.totals.texts += texts.length;
    this.totals.seconds += seconds;
    this.log('info', `${hooks.label}: ${texts.length} texts in ${seconds.toFixed(1)} s (${(texts.length / Math.max(seconds, 1e-3)).toFixed(1)} samples/s, batch ${this.settings.batchSize}, max length ${this.settings.maxLength}, ${this.deviceUsed}).`);
    return rows;
  }

  async dispose(): Promise<void> {
    await this.loaded?.model.dispose();
    this.loaded = undefined;
  }
}

export class TeacherCancelledError extends Error {
  override readonly name = 'TeacherCancelledError';
  constructor() {
    super('Teacher inference was cancelled.');
  }
}

function toFloat32(tensor: HfTensor): Float32Array {
  if (tensor.data instanceof Float32Array) return tensor.data;
  if (tensor.type === 'float16' && tensor.to) return tensor.to('float32').data as Float32Array;
  return Float32Array.from(tensor.data as ArrayLike<number>, Number);
}

/**
 * Splits named graph outputs into rows: `logits` when present, and pooled features from
 * `pooler_output`, else the mean of `last_hidden_state` over unmasked tokens.
 */
function rowsFromOutputs(outputs: Record<string, HfTensor>, mask: HfTensor | undefined, count: number): CachedRow[] {
  const rows: CachedRow[] = Array.from({ length: count }, () => ({}));
  const logits = outputs.logits;
  if (logits) {
    const values = toFloat32(logits);
    const k = logits.dims[1];
    rows.forEach((row, r) => (row.logits = values.slice(r * k, (r + 1) * k)));
  }
  const pooler = outputs.pooler_output;
  const hidden = outputs.last_hidden_state;
  if (pooler && pooler.dims.length === 2) {
    const values = toFloat32(pooler);
    const h = pooler.dims[1];
    rows.forEach((row, r) => (row.features = values.slice(r * h, (r + 1) * h)));
  } else if (hidden && hidden.dims.length === 3) {
    const values = toFloat32(hidden);
    const [, length, h] = hidden.dims;
    const maskValues = mask ? Array.from(mask.data as ArrayLike<number | bigint>, Number) : undefined;
    rows.forEach((row, r) => {
      const pooled = new Float32Array(h);
      let tokens = 0;
      for (let t = 0; t < length; t++) {
        if (maskValues && maskValues[r * length + t] === 0) continue;
        tokens++;
        const offset = (r * length + t) * h;
        for (let j = 0; j < h; j++) pooled[j] += values[offset + j];
      }
      for (let j = 0; j < h; j++) pooled[j] /= Math.max(1, tokens);
      row.features = pooled;
    });
  }
  return rows;
}

export interface HuggingFaceTeacherOptions {
  /** Model id or folder. */
  model: string;
  config: DistillConfig;
  labelSpace: LabelSpace;
  /** Training rows; for an encoder, the head trains on those with a gold label in `trainGold`. */
  train: Example[];
  trainGold: (number[] | null)[];
  dev: Example[];
  emit: EventSink;
  signal?: AbortSignal;
}

/** Creates a teacher from a Hugging Face model; the label mapping is checked before any inference. */
export async function createHuggingFaceTeacher(options: HuggingFaceTeacherOptions): Promise<Teacher> {
  const { config, labelSpace, emit, signal } = options;
  const settings = config.teacher;
  const log: Log = (level, message) => emit({ type: 'log', level, message });
  const library = loadTransformers();
  const source = resolveModelSource(options.model, library.env);
  if (source.local) checkModelFiles(source, settings.dtype);
  const runner = new ModelRunner(source, { dtype: settings.dtype, device: settings.device, batchSize: settings.batchSize, maxLength: settings.maxLength }, log);

  // A hub model that is not on disk yet is downloaded first: its files are the cache key.
  if (!source.folder) await runner.load();
  const modelConfig = source.folder ? readJson(join(source.folder, 'config.json')) : (runner.modelConfig ?? {});
  const classifier = isClassifierConfig(modelConfig);

  let mapping: LabelMapping | undefined;
  if (classifier) {
    const teacherLabels = labelsFromConfig(modelConfig);
    if (!teacherLabels) throw new HuggingFaceTeacherError(`Teacher model "${source.model}" is a classifier but its config.json has no id2label. Add "id2label" to config.json, or map the labels with --label-map.`);
    mapping = mapLabels(labelSpace.names, teacherLabels, settings.labelMap ? parseLabelMap(settings.labelMap) : undefined, `the teacher ${source.model}`);
    log('info', `Teacher label mapping: ${describeLabelMapping(mapping)}.`);
  } else {
    log('info', `Teacher ${source.model} has no classification head (architectures: ${JSON.stringify(modelConfig.architectures ?? [])}); a ${settings.head} head is trained on its pooled features.`);
  }

  const cache = settings.cache ? new TeacherCache(settings.cacheDir || defaultTeacherCacheDir(), settings.cacheMaxMb * 1024 * 1024) : undefined;
  const identity = cache && source.folder ? await modelIdentity(source, settings, classifier, cache.dir) : undefined;
  if (cache && !identity) log('warn', `The files of ${source.model} were not found on disk, so its outputs are not cached.`);

  const memo = new Map<string, CachedRow>();
  let cacheWriteFailed = false;
  const outputsFor = async (texts: string[], label: string, predictOptions?: PredictOptions): Promise<CachedRow[]> => {
    const missing = [...new Set(texts.filter((text) => !memo.has(text)))];
    if (missing.length > 0 && cache && identity) {
      const { rows, hits } = cache.lookup(identity, missing);
      rows.forEach((row, i) => row && memo.set(missing[i], row));
      if (hits === missing.length) log('info', `Teacher cache hit: ${plural(hits, 'text')} for ${label} read from ${cache.dir}; ${source.model} was not run.`);
      else if (hits > 0) log('info', `Teacher cache: ${hits} of ${plural(missing.length, 'text')} for ${label} found in ${cache.dir}; running ${source.model} on the other ${missing.length - hits}.`);
      else log('info', `Teacher cache miss: running ${source.model} on ${plural(missing.length, 'text')} for ${label}.`);
    }
    const toCompute = missing.filter((text) => !memo.has(text));
    if (toCompute.length > 0) {
      const rows = await runner.run(toCompute, {
        emit: predictOptions?.onEvent ?? emit,
        signal: predictOptions?.signal ?? signal,
        label: `Teacher ${source.model} (${label})`,
        onChunk: (chunkTexts, chunkRows) => {
          if (!cache || !identity || cacheWriteFailed) return;
          try {
            cache.store(identity, chunkTexts, chunkRows);
          } catch (error) {
            cacheWriteFailed = true;
            log('warn', `Could not write the teacher cache in ${cache.dir}: ${(error as Error).message}. The run continues without caching; check the folder's permissions and free space, or set --teacher-cache-dir.`);
          }
        },
      });
      rows.forEach((row, i) => memo.set(toCompute[i], row));
    }
    return texts.map((text) => memo.get(text)!);
  };

  let featureDim: number | undefined;
  const details: Record<string, unknown> = {
    model: source.model,
    folder: source.folder,
    files: identity?.files,
    kind: classifier ? 'classifier' : 'encoder',
    dtype: settings.dtype,
    device: settings.device,
    maxLength: settings.maxLength,
    batchSize: settings.batchSize,
    labelMapping: mapping?.pairs,
  };
  // Measured model speed for reports; cache hits are left out, so a cached re-run keeps no rate.
  const recordInference = () => {
    details.device = runner.deviceUsed ?? details.device;
    const { texts, seconds } = runner.totals;
    details.inference = texts > 0 ? { texts, seconds, samplesPerSecond: texts / Math.max(seconds, 1e-3) } : undefined;
  };
  const base = {
    task: labelSpace.task,
    labelNames: labelSpace.names,
    trainedOn: new Set<string>(),
    dispose() {
      void runner.dispose();
    },
  };

  if (mapping) {
    const classifierMapping = mapping;
    return {
      ...base,
      description: { kind: 'huggingface', name: source.model, details },
      get featureDim() {
        return featureDim;
      },
      async predict(examples: Example[], predictOptions?: PredictOptions): Promise<TeacherOutputs> {
        const rows = await outputsFor(examples.map((e) => e.text), plural(examples.length, 'row'), predictOptions);
        recordInference();
        if (rows.some((row) => !row.logits)) throw new HuggingFaceTeacherError(`Teacher model "${source.model}" is configured as a classifier, but its ONNX graph has no "logits" output.`);
        const logits = rows.map((row) => applyLabelMapping(row.logits!, classifierMapping));
        const hasFeatures = rows.length > 0 && rows.every((row) => row.features);
        if (hasFeatures) featureDim = rows[0].features!.length;
        return { logits, features: hasFeatures ? rows.map((row) => row.features!) : undefined };
      },
    };
  }

  // Encoder: pooled features of the gold training rows and dev rows train the head.
  emit({ type: 'stage', stage: 'teacher-predict', message: `Computing pooled features of ${source.model}` });
  const goldIndices = options.trainGold.map((gold, i) => (gold !== null ? i : -1)).filter((i) => i >= 0);
  const trainRows = await outputsFor(goldIndices.map((i) => options.train[i].text), 'gold training rows');
  const devRows = await outputsFor(options.dev.map((e) => e.text), 'dev rows');
  if (trainRows.some((row) => !row.features)) throw new HuggingFaceTeacherError(`Teacher model "${source.model}" returned neither pooler_output nor last_hidden_state, so no head can be trained on its features.`);
  featureDim = trainRows[0]?.features?.length;

  emit({ type: 'stage', stage: 'teacher-train', message: `Training a ${settings.head} head on ${goldIndices.length} pooled features of ${source.model}` });
  const head: FeatureHead = await trainFeatureHead({
    features: trainRows.map((row) => row.features!),
    gold: goldIndices.map((i) => options.trainGold[i]!),
    devFeatures: devRows.map((row) => row.features!),
    devGold: options.dev.map((e) => e.labels ?? []),
    task: labelSpace.task,
    numClasses: labelSpace.names.length,
    kind: settings.head,
    epochs: settings.headEpochs,
    learningRate: settings.headLearningRate,
    batchSize: config.training.batchSize,
    seed: config.training.seed,
    signal,
  });
  const metricName = labelSpace.task === 'multilabel' ? 'micro F1' : 'accuracy';
  log('info', `Teacher head (${settings.head}) dev ${metricName} ${head.devScore.toFixed(4)} at epoch ${head.bestEpoch} of ${settings.headEpochs}.`);
  details.head = { kind: settings.head, epochs: settings.headEpochs, bestEpoch: head.bestEpoch, devScore: head.devScore, learningRate: settings.headLearningRate };

  return {
    ...base,
    description: { kind: 'huggingface', name: `${source.model} + ${settings.head} head`, details },
    get featureDim() {
      return featureDim;
    },
    trainedOn: new Set(goldIndices.map((i) => options.train[i].id)),
    async predict(examples: Example[], predictOptions?: PredictOptions): Promise<TeacherOutputs> {
      const rows = await outputsFor(examples.map((e) => e.text), plural(examples.length, 'row'), predictOptions);
      recordInference();
      const features = rows.map((row) => row.features!);
      return { logits: head.predict(features), features };
    },
    dispose() {
      head.dispose();
      void runner.dispose();
    },
  };
}

/** Cache identity: the model's text files and ONNX weights (with external data) by sha256. */
async function modelIdentity(source: ModelSource, settings: DistillConfig['teacher'], classifier: boolean, cacheDir: string): Promise<TeacherIdentity> {
  const folder = source.folder!;
  const weights = DTYPE_FILES[settings.dtype];
  const files: Record<string, string> = {};
  for (const file of [...TEXT_FILES, weights, `${weights}_data`]) {
    const path = join(folder, file);
    if (existsSync(path)) files[file] = await hashModelFile(path, cacheDir);
  }
  return { model: source.model, files, maxLength: settings.maxLength, dtype: settings.dtype, outputs: classifier ? 'logits, pooled features' : 'pooled features' };
}
