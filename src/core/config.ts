// Every hyperparameter of a distillation run, described once. The table below feeds
// the defaults, the JSON schema that validates a config (CLI flags, config files,
// VS Code settings) and, later, the settings contributed by the extension.
import Ajv from 'ajv';
import leven from 'leven';
import { parseLabelMap } from './teachers/labelMapping';
import { parseTeacherModels } from './teachers/ensemble';

export type StudentKind = 'bag' | 'cnn' | 'bilstm';
export type TeacherKind = 'trained' | 'soft-labels' | 'huggingface' | 'none';
export type ScheduleKind = 'constant' | 'linear';

export interface DistillConfig {
  data: {
    /** Labeled training file. Paths are resolved against the working directory. */
    train: string;
    dev?: string;
    test?: string;
    /** Unlabeled texts labeled by the teacher (the transfer set). */
    transfer?: string;
    textColumn?: string;
    labelColumn?: string;
    /** File of label names, one per line, for integer labels. */
    labelNames?: string;
    /** Row id column, used to match a soft-label side file. */
    idColumn?: string;
    format?: 'csv' | 'jsonl' | 'json' | 'parquet' | 'lines' | 'folder';
    encoding?: 'utf-8' | 'utf-8-bom' | 'gb18030' | 'windows-1252' | 'latin1' | 'utf-16le' | 'utf-16be';
    /** Single-character field delimiter of CSV/TSV files. */
    delimiter?: string;
    /** `false` reads quote characters as text (tab files with stray quotes). */
    quoting?: boolean;
    /** Whether the first row is a header; detected when unset. */
    header?: boolean;
    /** Fraction of the training file held out as dev when no dev file is given. */
    devFraction: number;
    /** Fraction of the training file held out as test when no test file is given (0 = none). */
    testFraction: number;
    /** Fraction of training rows whose gold label the student gets; the rest become transfer texts. */
    goldFraction: number;
    /** Tokens kept per text; longer texts are truncated. */
    maxLength: number;
    /** Skip bad rows (and report them) instead of stopping at the first one. */
    lenient: boolean;
  };
  teacher: {
    kind: TeacherKind;
    /** Hugging Face model id or folder, for kind `huggingface`. */
    model?: string;
    /** Several Hugging Face teachers as `MODEL@WEIGHT,MODEL@WEIGHT`; their probabilities are averaged with these weights. */
    models?: string;
    /** Explicit mapping from dataset labels to teacher labels, `pos=POSITIVE,neg=NEGATIVE`; unlisted labels are matched by name. */
    labelMap?: string;
    /** ONNX weights variant of a Hugging Face teacher: onnx/model.onnx, model_quantized.onnx or model_fp16.onnx. */
    dtype: 'fp32' | 'q8' | 'fp16';
    /** Execution provider of a Hugging Face teacher; falls back to cpu when it cannot be used. */
    device: 'cpu' | 'cuda' | 'webgpu';
    /** Texts per forward pass of a Hugging Face teacher. */
    batchSize: number;
    /** Tokens per text of a Hugging Face teacher; longer texts are truncated. */
    maxLength: number;
    /** Classification head trained on the pooled features of an encoder without one. */
    head: 'linear' | 'mlp';
    headEpochs: number;
    headLearningRate: number;
    /** Whether Hugging Face teacher outputs are read from and written to the teacher cache. */
    cache: boolean;
    /** Teacher cache folder; empty uses SENTIMENT_DISTILLER_CACHE_DIR or the OS cache folder. */
    cacheDir?: string;
    /** Size limit of the teacher cache in MiB; least recently used entries are removed beyond it. */
    cacheMaxMb: number;
    /** Soft-label column in the training file, or a side file keyed by row id. */
    softLabels?: string;
    /** Whether soft labels are logits or probabilities; `auto` decides from the values. */
    softLabelFormat: 'auto' | 'logits' | 'probabilities';
    /** Architecture of a teacher trained in the run. */
    architecture: StudentKind;
    /** Embedding width of a teacher trained in the run. */
    embeddingDim: number;
    epochs: number;
    learningRate: number;
  };
  student: {
    kind: StudentKind;
    /** Embedding width; 0 picks the architecture's default (bag 64, cnn and bilstm 128). */
    embeddingDim: number;
    /** Hidden width of the BiLSTM's dense layer; 0 picks the default (256). */
    hiddenDim: number;
    dropout: number;
    tokenizer: 'wordpiece' | 'wordlevel';
    /** An existing tokenizer.json (a teacher's, for example) used instead of building one. */
    tokenizerFile?: string;
    vocabSize: number;
    minFrequency: number;
    /** Largest word n-gram added to the bag student's inputs (1 = unigrams only). */
    ngrams: number;
    /** Hash buckets for the bag student's n-grams. */
    ngramBuckets: number;
  };
  loss: {
    /** Softmax temperature T of the KD term. */
    temperature: number;
    temperatureEnd?: number;
    temperatureSchedule: ScheduleKind;
    /** Weight α of the KD term; cross-entropy on gold labels gets 1 − α. */
    alpha: number;
    alphaEnd?: number;
    alphaSchedule: ScheduleKind;
    /** Weight of the mean squared error between student and teacher logits. */
    logitMseWeight: number;
    /** Weight of the feature-alignment term (needs a teacher with features). */
    featureWeight: number;
    featureLoss: 'mse' | 'cosine';
    /** Weight of the squared gradient norm of the KD loss (about 3x the cost of a step when > 0). */
    gradientMatchingWeight: number;
  };
  training: {
    epochs: number;
    batchSize: number;
    learningRate: number;
    /** Decoupled (AdamW) weight decay of the student. */
    weightDecay: number;
    /** Lazy Adam updates of embedding rows a batch touched: `auto` for the bag student only. */
    sparseEmbeddingUpdates: 'auto' | 'on' | 'off';
    lrSchedule: 'constant' | 'linear' | 'cosine';
    /** Fraction of all steps spent warming the learning rate up from 0. */
    warmupFraction: number;
    /** Epochs without improvement of `metric` before stopping. 0 turns early stopping off. */
    patience: number;
    metric: 'accuracy' | 'macroF1' | 'weightedF1' | 'microF1' | 'loss';
    seed: number;
    /** Threshold on a sigmoid probability for multi-label predictions. */
    multilabelThreshold: number;
    /** Choose the multi-label threshold with the best dev micro F1 instead of `multilabelThreshold`. */
    tuneThreshold: boolean;
    /** Teacher confidence at or above which a contradicted gold label is flagged as a possible error. */
    labelErrorConfidence: number;
  };
  hardware: {
    backend: 'auto' | 'tfjs-node-gpu' | 'webgpu' | 'tfjs-node' | 'wasm' | 'cpu';
  };
  output: {
    /** Folder holding one subfolder per run. */
    runsDir: string;
    /** Name of the run folder; generated from the time and dataset when empty. */
    runId?: string;
  };
}

type Section = keyof DistillConfig;

export interface SettingSpec {
  section: Section;
  key: string;
  type: 'number' | 'integer' | 'string' | 'boolean';
  default?: number | string | boolean;
  minimum?: number;
  maximum?: number;
  enum?: readonly string[];
  description: string;
}

const S = (spec: SettingSpec): SettingSpec => spec;

/** Every setting with its type, default, range and help text. */
export const SETTINGS: readonly SettingSpec[] = [
  S({ section: 'data', key: 'train', type: 'string', description: 'Labeled training file (CSV, TSV, JSONL, JSON, Parquet, text lines or a folder per label).' }),
  S({ section: 'data', key: 'dev', type: 'string', description: 'Validation file. Without one, devFraction of the training file is held out.' }),
  S({ section: 'data', key: 'test', type: 'string', description: 'Test file, evaluated once with the best checkpoint.' }),
  S({ section: 'data', key: 'transfer', type: 'string', description: 'Unlabeled texts that the teacher labels for the student (the transfer set).' }),
  S({ section: 'data', key: 'textColumn', type: 'string', description: 'Text column name or 0-based index. Detected when empty.' }),
  S({ section: 'data', key: 'labelColumn', type: 'string', description: 'Label column name or 0-based index. Detected when empty.' }),
  S({ section: 'data', key: 'labelNames', type: 'string', description: 'File with one label name per line, for integer labels.' }),
  S({ section: 'data', key: 'idColumn', type: 'string', description: 'Row id column name or 0-based index, used to match a soft-label side file. Detected when empty.' }),
  S({ section: 'data', key: 'format', type: 'string', enum: ['csv', 'jsonl', 'json', 'parquet', 'lines', 'folder'], description: 'Dataset format. Detected from the extension and content when empty.' }),
  S({ section: 'data', key: 'encoding', type: 'string', enum: ['utf-8', 'utf-8-bom', 'gb18030', 'windows-1252', 'latin1', 'utf-16le', 'utf-16be'], description: 'Text encoding. Detected when empty.' }),
  S({ section: 'data', key: 'delimiter', type: 'string', description: 'Single-character field delimiter of CSV/TSV files. Detected when empty.' }),
  S({ section: 'data', key: 'quoting', type: 'boolean', description: 'Whether quote characters delimit fields; false reads them as text. Detected when unset.' }),
  S({ section: 'data', key: 'header', type: 'boolean', description: 'Whether the first row is a header. Detected when unset.' }),
  S({ section: 'data', key: 'devFraction', type: 'number', default: 0.1, minimum: 0.01, maximum: 0.5, description: 'Fraction of the training file held out as dev when no dev file is given.' }),
  S({ section: 'data', key: 'testFraction', type: 'number', default: 0, minimum: 0, maximum: 0.5, description: 'Fraction of the training file held out as test when no test file is given.' }),
  S({ section: 'data', key: 'goldFraction', type: 'number', default: 1, minimum: 0, maximum: 1, description: 'Fraction of training rows whose gold label the student sees; the other rows become teacher-labeled transfer texts.' }),
  S({ section: 'data', key: 'maxLength', type: 'integer', default: 128, minimum: 4, maximum: 4096, description: 'Maximum tokens per text; longer texts are truncated.' }),
  S({ section: 'data', key: 'lenient', type: 'boolean', default: false, description: 'Skip bad rows and report them instead of stopping at the first one.' }),

  S({ section: 'teacher', key: 'kind', type: 'string', default: 'trained', enum: ['trained', 'soft-labels', 'huggingface', 'none'], description: 'Teacher: a larger model trained in the run on the gold labels, precomputed soft labels, a Hugging Face model, or none (the student learns from gold labels only, as a baseline).' }),
  S({ section: 'teacher', key: 'model', type: 'string', description: 'Hugging Face model id or local model folder (teacher kind huggingface).' }),
  S({ section: 'teacher', key: 'models', type: 'string', description: 'Several Hugging Face teachers as MODEL@WEIGHT separated by commas (weight 1 when omitted); the student learns the weighted average of their probabilities. Used instead of teacher.model.' }),
  S({ section: 'teacher', key: 'labelMap', type: 'string', description: 'Dataset label to teacher label pairs such as pos=POSITIVE,neg=NEGATIVE. Labels not listed are matched by name (case, pos/positive, LABEL_0 by index, 1 star to 5 stars).' }),
  S({ section: 'teacher', key: 'dtype', type: 'string', default: 'fp32', enum: ['fp32', 'q8', 'fp16'], description: 'Weights of a Hugging Face teacher: fp32 reads onnx/model.onnx, q8 onnx/model_quantized.onnx, fp16 onnx/model_fp16.onnx.' }),
  S({ section: 'teacher', key: 'device', type: 'string', default: 'cpu', enum: ['cpu', 'cuda', 'webgpu'], description: 'Device of a Hugging Face teacher; the run falls back to cpu when the device cannot be used and logs which one ran.' }),
  S({ section: 'teacher', key: 'batchSize', type: 'integer', default: 32, minimum: 1, maximum: 1024, description: 'Texts per forward pass of a Hugging Face teacher.' }),
  S({ section: 'teacher', key: 'maxLength', type: 'integer', default: 128, minimum: 8, maximum: 8192, description: 'Maximum tokens per text for a Hugging Face teacher; longer texts are truncated.' }),
  S({ section: 'teacher', key: 'head', type: 'string', default: 'linear', enum: ['linear', 'mlp'], description: 'Classification head trained on the pooled features of a Hugging Face encoder that has none: linear, or a small MLP with one hidden layer.' }),
  S({ section: 'teacher', key: 'headEpochs', type: 'integer', default: 40, minimum: 1, maximum: 1000, description: 'Training epochs of the classification head of a Hugging Face encoder (the best dev epoch is kept).' }),
  S({ section: 'teacher', key: 'headLearningRate', type: 'number', default: 0.01, minimum: 1e-6, maximum: 1, description: 'Adam learning rate of the classification head of a Hugging Face encoder.' }),
  S({ section: 'teacher', key: 'cache', type: 'boolean', default: true, description: 'Store Hugging Face teacher outputs on disk, so a re-run with the same model, settings and texts skips teacher inference.' }),
  S({ section: 'teacher', key: 'cacheDir', type: 'string', description: 'Teacher cache folder. Empty uses the SENTIMENT_DISTILLER_CACHE_DIR environment variable, else the OS cache folder (for example ~/.cache/sentiment-distiller/teachers).' }),
  S({ section: 'teacher', key: 'cacheMaxMb', type: 'integer', default: 2048, minimum: 1, maximum: 1048576, description: 'Size limit of the teacher cache in MiB; the least recently used entries are removed beyond it.' }),
  S({ section: 'teacher', key: 'softLabels', type: 'string', description: 'Soft-label column of the training file, or a JSONL/CSV side file keyed by row id (teacher kind soft-labels).' }),
  S({ section: 'teacher', key: 'softLabelFormat', type: 'string', default: 'auto', enum: ['auto', 'logits', 'probabilities'], description: 'Whether soft labels are logits or probabilities; auto treats rows that are non-negative and sum to 1 as probabilities.' }),
  S({ section: 'teacher', key: 'architecture', type: 'string', default: 'cnn', enum: ['bag', 'cnn', 'bilstm'], description: 'Architecture of a teacher trained in the run.' }),
  S({ section: 'teacher', key: 'embeddingDim', type: 'integer', default: 128, minimum: 8, maximum: 1024, description: 'Embedding width of a teacher trained in the run.' }),
  S({ section: 'teacher', key: 'epochs', type: 'integer', default: 4, minimum: 1, maximum: 200, description: 'Training epochs of a teacher trained in the run (the best dev epoch is kept).' }),
  S({ section: 'teacher', key: 'learningRate', type: 'number', default: 0.002, minimum: 1e-6, maximum: 1, description: 'Adam learning rate of a teacher trained in the run.' }),

  S({ section: 'student', key: 'kind', type: 'string', default: 'bag', enum: ['bag', 'cnn', 'bilstm'], description: 'Student architecture: bag of n-grams (fastText-like, fastest), Kim CNN, or BiLSTM (Tang et al. 2019).' }),
  S({ section: 'student', key: 'embeddingDim', type: 'integer', default: 0, minimum: 0, maximum: 1024, description: 'Embedding width; 0 uses the architecture default (bag 64, cnn and bilstm 128).' }),
  S({ section: 'student', key: 'hiddenDim', type: 'integer', default: 0, minimum: 0, maximum: 2048, description: 'Width of the BiLSTM dense layer; 0 uses the default (256).' }),
  S({ section: 'student', key: 'dropout', type: 'number', default: 0.2, minimum: 0, maximum: 0.9, description: 'Dropout rate before the output layer.' }),
  S({ section: 'student', key: 'tokenizer', type: 'string', default: 'wordlevel', enum: ['wordpiece', 'wordlevel'], description: 'Tokenizer model built from the training texts (saved as a Hugging Face tokenizer.json).' }),
  S({ section: 'student', key: 'tokenizerFile', type: 'string', description: 'An existing Hugging Face tokenizer.json (for example the teacher\'s) used instead of building one from the training texts.' }),
  S({ section: 'student', key: 'vocabSize', type: 'integer', default: 20000, minimum: 100, maximum: 500000, description: 'Maximum vocabulary size of the student tokenizer.' }),
  S({ section: 'student', key: 'minFrequency', type: 'integer', default: 1, minimum: 1, maximum: 1000, description: 'Minimum count of a token in the training texts to enter the vocabulary.' }),
  S({ section: 'student', key: 'ngrams', type: 'integer', default: 2, minimum: 1, maximum: 4, description: 'Largest word n-gram fed to the bag student (2 adds bigrams; Chinese tokens are characters, so 2 gives character bigrams).' }),
  S({ section: 'student', key: 'ngramBuckets', type: 'integer', default: 100000, minimum: 0, maximum: 2000000, description: 'Hash buckets for the bag student n-grams.' }),

  S({ section: 'loss', key: 'temperature', type: 'number', default: 2, minimum: 0.05, maximum: 100, description: 'Softmax temperature T of the KD term T²·KL(softmax(t/T) ‖ softmax(s/T)).' }),
  S({ section: 'loss', key: 'temperatureEnd', type: 'number', minimum: 0.05, maximum: 100, description: 'Temperature at the end of training for a linear schedule.' }),
  S({ section: 'loss', key: 'temperatureSchedule', type: 'string', default: 'constant', enum: ['constant', 'linear'], description: 'Temperature schedule over training.' }),
  S({ section: 'loss', key: 'alpha', type: 'number', default: 0.5, minimum: 0, maximum: 1, description: 'Weight α of the KD term; cross-entropy on gold labels gets 1 − α. Rows without a gold label use the KD term only.' }),
  S({ section: 'loss', key: 'alphaEnd', type: 'number', minimum: 0, maximum: 1, description: 'α at the end of training for a linear schedule.' }),
  S({ section: 'loss', key: 'alphaSchedule', type: 'string', default: 'constant', enum: ['constant', 'linear'], description: 'Schedule of α over training.' }),
  S({ section: 'loss', key: 'logitMseWeight', type: 'number', default: 0, minimum: 0, maximum: 100, description: 'Weight of the mean squared error between student and teacher logits (Tang et al. 2019).' }),
  S({ section: 'loss', key: 'featureWeight', type: 'number', default: 0, minimum: 0, maximum: 100, description: 'Weight of the alignment between a learned projection of the student features and the teacher features.' }),
  S({ section: 'loss', key: 'featureLoss', type: 'string', default: 'mse', enum: ['mse', 'cosine'], description: 'Feature-alignment distance: mean squared error or 1 − cosine similarity.' }),
  S({ section: 'loss', key: 'gradientMatchingWeight', type: 'number', default: 0, minimum: 0, maximum: 100, description: 'Weight of the squared norm of the KD-loss gradient with respect to the student parameters. Each step then costs about three forward-backward passes.' }),

  S({ section: 'training', key: 'epochs', type: 'integer', default: 8, minimum: 1, maximum: 1000, description: 'Maximum student training epochs.' }),
  S({ section: 'training', key: 'batchSize', type: 'integer', default: 64, minimum: 1, maximum: 4096, description: 'Examples per mini-batch.' }),
  S({ section: 'training', key: 'learningRate', type: 'number', default: 0.005, minimum: 1e-6, maximum: 1, description: 'Peak Adam learning rate of the student.' }),
  S({ section: 'training', key: 'weightDecay', type: 'number', default: 0, minimum: 0, maximum: 10, description: 'Decoupled weight decay (AdamW) of the student: every step multiplies each weight by 1 − learning rate × weight decay.' }),
  S({ section: 'training', key: 'sparseEmbeddingUpdates', type: 'string', default: 'auto', enum: ['auto', 'on', 'off'], description: 'Lazy Adam for embedding tables: each step updates only the rows of the tokens in the batch, with their moments and weight decay, instead of the whole table. auto: on for the bag student, off for the others. Off by itself when loss.gradientMatchingWeight > 0.' }),
  S({ section: 'training', key: 'lrSchedule', type: 'string', default: 'linear', enum: ['constant', 'linear', 'cosine'], description: 'Learning-rate decay after warm-up.' }),
  S({ section: 'training', key: 'warmupFraction', type: 'number', default: 0.05, minimum: 0, maximum: 0.5, description: 'Fraction of all steps spent warming the learning rate up from 0.' }),
  S({ section: 'training', key: 'patience', type: 'integer', default: 3, minimum: 0, maximum: 1000, description: 'Epochs without improvement of the metric before training stops; 0 turns early stopping off.' }),
  S({ section: 'training', key: 'metric', type: 'string', default: 'accuracy', enum: ['accuracy', 'macroF1', 'weightedF1', 'microF1', 'loss'], description: 'Dev metric for early stopping and the best checkpoint (multi-label runs use microF1 for accuracy).' }),
  S({ section: 'training', key: 'seed', type: 'integer', default: 42, minimum: 0, maximum: 2147483647, description: 'Random seed for splits, initialisation, shuffling and dropout.' }),
  S({ section: 'training', key: 'multilabelThreshold', type: 'number', default: 0.5, minimum: 0.01, maximum: 0.99, description: 'Sigmoid probability at or above which a label is predicted in multi-label runs.' }),
  S({ section: 'training', key: 'tuneThreshold', type: 'boolean', default: true, description: 'Multi-label runs: use the threshold (0.05 to 0.95) with the best dev micro F1, chosen separately for teacher and student, instead of multilabelThreshold.' }),
  S({ section: 'training', key: 'labelErrorConfidence', type: 'number', default: 0.9, minimum: 0.5, maximum: 1, description: 'Teacher confidence at or above which a contradicted gold label is flagged as a possible label error.' }),

  S({ section: 'hardware', key: 'backend', type: 'string', default: 'auto', enum: ['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'], description: 'TensorFlow.js backend; auto tries tfjs-node-gpu (CUDA), webgpu, tfjs-node, then wasm. GPU backends need the packages that "Install GPU Acceleration" installs.' }),

  S({ section: 'output', key: 'runsDir', type: 'string', default: '.sentiment-distiller/runs', description: 'Folder holding one subfolder per run.' }),
  S({ section: 'output', key: 'runId', type: 'string', description: 'Run folder name; generated from the time and dataset when empty.' }),
];

/** Config with every default filled in; `train` still has to be set. */
export function defaultConfig(): DistillConfig {
  const config: Record<string, Record<string, unknown>> = {};
  for (const spec of SETTINGS) {
    config[spec.section] ??= {};
    if (spec.default !== undefined) config[spec.section][spec.key] = spec.default;
  }
  return config as unknown as DistillConfig;
}

/** JSON schema of a complete config, built from SETTINGS. */
export function configSchema(): object {
  const properties: Record<string, { type: 'object'; properties: Record<string, object>; required: string[]; additionalProperties: false }> = {};
  for (const spec of SETTINGS) {
    properties[spec.section] ??= { type: 'object', properties: {}, required: [], additionalProperties: false };
    const { section: _section, key, default: _default, ...schema } = spec;
    properties[spec.section].properties[key] = schema;
    if (spec.default !== undefined) properties[spec.section].required.push(key);
  }
  properties.data.required.push('train');
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Merges `overrides` over the defaults and validates the result. Throws ConfigError
 * listing every invalid value with its allowed range or choices.
 */
export function resolveConfig(overrides: DeepPartial<DistillConfig>): DistillConfig {
  const config = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(overrides ?? {})) {
    if (values === undefined) continue;
    if (typeof values !== 'object' || values === null) throw new ConfigError(`Config section "${section}" must be an object.`);
    config[section] = { ...(config[section] ?? {}), ...dropUndefined(values as Record<string, unknown>) };
  }
  // An end value without a schedule means a linear schedule towards it.
  const loss = (overrides?.loss ?? {}) as Partial<DistillConfig['loss']>;
  if (loss.temperatureEnd !== undefined && loss.temperatureSchedule === undefined) config.loss.temperatureSchedule = 'linear';
  if (loss.alphaEnd !== undefined && loss.alphaSchedule === undefined) config.loss.alphaSchedule = 'linear';
  validateConfig(config);
  checkDependencies(config as unknown as DistillConfig);
  return config as unknown as DistillConfig;
}

let compiled: ReturnType<Ajv['compile']> | undefined;

function validateConfig(config: unknown): void {
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(configSchema());
  if (compiled(config)) return;

  const lines = (compiled.errors ?? []).map((error) => {
    const path = error.instancePath.slice(1).replace(/\//g, '.') || '(root)';
    const spec = SETTINGS.find((s) => `${s.section}.${s.key}` === path);
    const value = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config);
    if (error.keyword === 'additionalProperties') {
      const prefix = path === '(root)' ? '' : `${path}.`;
      const name = String(error.params.additionalProperty);
      const known = path === '(root)' ? [...new Set(SETTINGS.map((s) => s.section))] : SETTINGS.filter((s) => s.section === path).map((s) => s.key);
      const suggestion = closestName(name, known);
      return `unknown setting "${prefix}${name}"${suggestion ? `; did you mean "${prefix}${suggestion}"?` : ''}`;
    }
    if (error.keyword === 'required') return `missing setting "${path === '(root)' ? '' : path + '.'}${String(error.params.missingProperty)}"`;
    const allowed = spec?.enum
      ? `one of ${spec.enum.join(', ')}`
      : spec && (spec.minimum !== undefined || spec.maximum !== undefined)
        ? `${spec.type === 'integer' ? 'an' : 'a'} ${spec.type} from ${spec.minimum ?? '-∞'} to ${spec.maximum ?? '∞'}`
        : `${spec?.type === 'integer' ? 'an' : 'a'} ${spec?.type ?? 'valid value'}`;
    return `${path} = ${JSON.stringify(value)} is invalid: expected ${allowed}`;
  });
  throw new ConfigError(`Invalid settings:\n  ${[...new Set(lines)].join('\n  ')}`);
}

/** Returns the name in `known` closest to a misspelt `name`, or undefined when none is close (at most 2 edits, or a third of its length). */
function closestName(name: string, known: string[]): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = leven(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function checkDependencies(config: DistillConfig): void {
  const problems: string[] = [];
  if (config.teacher.kind === 'huggingface' && !config.teacher.model && !config.teacher.models) {
    problems.push('teacher.kind = "huggingface" needs teacher.model (a model id or a local folder) or teacher.models; pass --teacher MODEL or --teacher-models A@0.5,B@0.5.');
  }
  if (config.teacher.kind === 'huggingface' && config.teacher.models) {
    try {
      parseTeacherModels(config.teacher.models);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (config.teacher.labelMap) {
    try {
      parseLabelMap(config.teacher.labelMap);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (config.teacher.kind === 'soft-labels' && !config.teacher.softLabels) {
    problems.push('teacher.kind = "soft-labels" needs teacher.softLabels (a column of the training file or a side file); pass --soft-labels.');
  }
  if (config.teacher.kind === 'soft-labels' && config.loss.featureWeight > 0) {
    problems.push('loss.featureWeight > 0 needs a teacher with features, but soft labels carry none; set it to 0 or use a trained or Hugging Face teacher.');
  }
  if (config.loss.temperatureSchedule === 'linear' && config.loss.temperatureEnd === undefined) {
    problems.push('loss.temperatureSchedule = "linear" needs loss.temperatureEnd.');
  }
  if (config.loss.alphaSchedule === 'linear' && config.loss.alphaEnd === undefined) {
    problems.push('loss.alphaSchedule = "linear" needs loss.alphaEnd.');
  }
  if (config.data.dev === undefined && config.data.devFraction + config.data.testFraction >= 0.9) {
    problems.push('data.devFraction + data.testFraction leaves under 10% of the rows for training; lower them.');
  }
  if (problems.length > 0) throw new ConfigError(`Invalid settings:\n  ${problems.join('\n  ')}`);
}

function dropUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
