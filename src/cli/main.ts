// `sentiment-distill`: the headless command line over the engine.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, resolveConfig, type DeepPartial, type DistillConfig } from '../core/config';
import { encodeRecords, inspectDataset } from '../core/data';
import { decodeBuffer, detectFileEncoding } from '../core/data/encoding';
import { loadPredictor } from '../core/inference';
import { resumeDistillation, runDistillation, RunCancelledError } from '../core/pipeline/run';
import { listRuns, RunFolder } from '../core/runs/store';
import { selectBackend } from '../core/tf';
import { summarize } from '../core/metrics';
import { DataError, type DataProblem, type ReadOptions, type TextEncoding } from '../core/types';
import { HuggingFaceTeacherError } from '../core/teachers/huggingface';
import { LabelMappingError } from '../core/teachers/labelMapping';
import { addCacheCommand } from './cacheCommand';
import { addExportCommand } from './exportCommand';
import { addGpuCommand } from './gpuCommand';
import { createRenderer } from './progress';
import { formatInspect, formatMetricsTable } from './format';

/** Exit codes: 0 success, 1 failure, 2 invalid usage or settings, 3 invalid data, 130 cancelled. */
export const EXIT = { ok: 0, failure: 1, usage: 2, data: 3, cancelled: 130 } as const;

const number = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new InvalidArgumentError(`${name} must be a number, got "${value}".`);
  return parsed;
};
const integer = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError(`${name} must be an integer, got "${value}".`);
  return parsed;
};

interface TrainFlags extends ReadFlags {
  train: string;
  /** Run folder to continue instead of starting a run; the other settings come from its config.json. */
  resume?: string;
  dev?: string;
  test?: string;
  transfer?: string;
  teacher?: string;
  teacherModel?: string;
  teacherModels?: string;
  labelMap?: string;
  teacherDtype?: DistillConfig['teacher']['dtype'];
  teacherDevice?: DistillConfig['teacher']['device'];
  teacherBatchSize?: number;
  teacherMaxLength?: number;
  teacherHead?: DistillConfig['teacher']['head'];
  teacherHeadEpochs?: number;
  teacherHeadLearningRate?: number;
  teacherCache?: boolean;
  teacherCacheDir?: string;
  teacherCacheMaxMb?: number;
  softLabels?: string;
  softLabelFormat?: 'auto' | 'logits' | 'probabilities';
  teacherArchitecture?: 'bag' | 'cnn' | 'bilstm';
  teacherEpochs?: number;
  student?: 'bag' | 'cnn' | 'bilstm';
  goldFraction?: number;
  devFraction?: number;
  testFraction?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  weightDecay?: number;
  temperature?: number;
  temperatureEnd?: number;
  alpha?: number;
  alphaEnd?: number;
  tokenizer?: string;
  embeddingDim?: number;
  dropout?: number;
  ngrams?: number;
  ngramBuckets?: number;
  vocabSize?: number;
  teacherLearningRate?: number;
  logitMse?: number;
  featureWeight?: number;
  featureLoss?: 'mse' | 'cosine';
  gradientMatching?: number;
  maxLength?: number;
  patience?: number;
  metric?: DistillConfig['training']['metric'];
  seed?: number;
  backend?: DistillConfig['hardware']['backend'];
  lenient?: boolean;
  config?: string;
  out?: string;
  runId?: string;
  json?: boolean;
  quiet?: boolean;
}

interface ReadFlags {
  textColumn?: string;
  labelColumn?: string;
  labelNames?: string;
  idColumn?: string;
  format?: DistillConfig['data']['format'];
  encoding?: DistillConfig['data']['encoding'];
  delimiter?: string;
  quoting?: boolean;
  header?: 'true' | 'false';
}

const ENCODINGS: TextEncoding[] = ['utf-8', 'utf-8-bom', 'gb18030', 'windows-1252', 'latin1', 'utf-16le', 'utf-16be'];

/** Other names of the encodings, as Python, iconv and editors spell them. GBK and GB2312 text is valid GB18030. */
const ENCODING_ALIASES: Record<string, TextEncoding> = {
  utf8: 'utf-8',
  'utf-8-sig': 'utf-8-bom',
  'utf8-sig': 'utf-8-bom',
  gbk: 'gb18030',
  gb2312: 'gb18030',
  cp936: 'gb18030',
  cp1252: 'windows-1252',
  'iso-8859-1': 'latin1',
  'latin-1': 'latin1',
  utf16le: 'utf-16le',
  utf16be: 'utf-16be',
};

/** Maps an --encoding value or alias to its encoding, rejecting other names with the list of valid ones. */
function parseEncoding(value: string): TextEncoding {
  const name = value.trim().toLowerCase().replaceAll('_', '-');
  const encoding = (ENCODINGS as string[]).includes(name) ? (name as TextEncoding) : ENCODING_ALIASES[name];
  if (encoding === undefined) throw new InvalidArgumentError(`Use one of ${ENCODINGS.join(', ')} (aliases: ${Object.keys(ENCODING_ALIASES).join(', ')}), or leave --encoding out to detect it.`);
  return encoding;
}

/** Adds the dataset-reading flags shared by inspect, train and eval. */
function addReadFlags(command: Command): Command {
  return command
    .option('--text-column <name|index>', 'text column (detected when omitted)')
    .option('--label-column <name|index>', 'label column (detected when omitted)')
    .option('--label-names <file>', 'file with one label name per line, for integer labels')
    .option('--id-column <name|index>', 'row id column, used to match a soft-label file (detected when omitted)')
    .addOption(new Option('--format <format>', 'dataset format (detected when omitted)').choices(['csv', 'jsonl', 'json', 'parquet', 'lines', 'folder']))
    .addOption(new Option('--encoding <name>', `text encoding: ${ENCODINGS.join(', ')}, or a common alias such as gbk or cp1252 (detected when omitted)`).argParser(parseEncoding))
    .option('--delimiter <char>', 'field delimiter of a CSV/TSV file, one character; \\t for tab (detected when omitted)')
    .option('--no-quoting', 'read quote characters as text (tab files with stray quotes)')
    .addOption(new Option('--header <bool>', 'whether the first row is a header (detected when omitted)').choices(['true', 'false']));
}

function readOptionsFromFlags(flags: ReadFlags): ReadOptions {
  const options: ReadOptions = {};
  if (flags.textColumn !== undefined) options.textColumn = columnRef(flags.textColumn);
  if (flags.labelColumn !== undefined) options.labelColumn = columnRef(flags.labelColumn);
  if (flags.labelNames) options.labelNamesFile = flags.labelNames;
  if (flags.idColumn !== undefined) options.idColumn = columnRef(flags.idColumn);
  if (flags.format) options.format = flags.format;
  if (flags.encoding) options.encoding = flags.encoding;
  if (flags.delimiter !== undefined) options.delimiter = parseDelimiter(flags.delimiter);
  if (flags.quoting === false) options.quoting = false;
  if (flags.header !== undefined) options.header = flags.header === 'true';
  return options;
}

function parseDelimiter(value: string): string {
  let delimiter = value;
  if (value === '\\t' || value === 'tab') delimiter = '\t';
  if (value === 'space') delimiter = ' ';
  // Called from action handlers, where commander would not print an InvalidArgumentError.
  if ([...delimiter].length !== 1) throw new ConfigError(`--delimiter must be one character (or "\\t", "tab", "space"), got "${value}".`);
  return delimiter;
}

function readConfigFile(path: string): DeepPartial<DistillConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}.`);
  }
  try {
    return JSON.parse(text) as DeepPartial<DistillConfig>;
  } catch (error) {
    throw new ConfigError(`Invalid JSON in the config file ${path}: ${(error as Error).message}. Write an object such as {"loss": {"temperature": 4}}.`);
  }
}

/** CLI flag for each config key whose error message should name the flag. */
const FLAG_FOR_KEY: Record<string, string> = {
  'data.goldFraction': '--gold-fraction', 'data.devFraction': '--dev-fraction', 'data.testFraction': '--test-fraction', 'data.maxLength': '--max-length',
  'teacher.epochs': '--teacher-epochs', 'teacher.learningRate': '--teacher-learning-rate', 'teacher.batchSize': '--teacher-batch-size', 'teacher.maxLength': '--teacher-max-length',
  'teacher.headEpochs': '--teacher-head-epochs', 'teacher.headLearningRate': '--teacher-head-learning-rate', 'teacher.cacheMaxMb': '--teacher-cache-max-mb', 'student.embeddingDim': '--embedding-dim', 'student.dropout': '--dropout',
  'student.vocabSize': '--vocab-size', 'student.ngrams': '--ngrams', 'student.ngramBuckets': '--ngram-buckets', 'loss.temperature': '--temperature',
  'loss.temperatureEnd': '--temperature-end', 'loss.alpha': '--alpha', 'loss.alphaEnd': '--alpha-end', 'loss.logitMseWeight': '--logit-mse',
  'loss.featureWeight': '--feature-weight', 'loss.gradientMatchingWeight': '--gradient-matching', 'training.epochs': '--epochs', 'training.batchSize': '--batch-size',
  'training.learningRate': '--learning-rate', 'training.weightDecay': '--weight-decay', 'training.patience': '--patience', 'training.seed': '--seed',
};

/** Adds the CLI flag next to each config key a ConfigError names. */
function withFlagNames(message: string): string {
  return message.replace(/^(\s*)([a-z]+\.[A-Za-z]+)( = )/gm, (match, indent: string, key: string, rest: string) => (FLAG_FOR_KEY[key] ? `${indent}${FLAG_FOR_KEY[key]} (${key})${rest}` : match));
}

/** Levenshtein distance, for "did you mean" on short words. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** Rejects a --teacher value that is a misspelled kind rather than a model id (no slash) or a local folder. */
function checkTeacherTypo(value: string, kinds: string[]): void {
  if (kinds.includes(value) || /[\\/]/.test(value) || existsSync(value)) return;
  const near = kinds.find((kind) => editDistance(value.toLowerCase(), kind) <= 2);
  if (near) throw new ConfigError(`--teacher "${value}" is neither a teacher kind nor a model folder; did you mean "${near}"? Hugging Face models are given as org/name or a folder path (--teacher-model).`);
}

/** Turns CLI flags (and an optional JSON config file under them) into a validated config. */
export function configFromFlags(flags: TrainFlags): DistillConfig {
  const fromFile = flags.config ? readConfigFile(flags.config) : {};
  // --teacher-model and --teacher-models imply a Hugging Face teacher, and so does a --teacher value other than
  // trained, soft-labels or none. Without these flags the config file's teacher.kind (or the default) applies.
  const namedKinds = ['trained', 'soft-labels', 'none'];
  let teacherKind: DistillConfig['teacher']['kind'] | undefined;
  if (flags.teacherModel || flags.teacherModels) teacherKind = 'huggingface';
  else if (flags.teacher !== undefined) checkTeacherTypo(flags.teacher, namedKinds);
  if (!teacherKind && flags.teacher !== undefined) teacherKind = namedKinds.includes(flags.teacher) ? (flags.teacher as 'trained' | 'soft-labels' | 'none') : 'huggingface';
  const merge = <T extends object>(base: T | undefined, over: T): T => ({ ...(base ?? {}), ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) }) as T;
  return resolveConfig({
    data: merge(fromFile.data, {
      train: flags.train,
      dev: flags.dev,
      test: flags.test,
      transfer: flags.transfer,
      textColumn: flags.textColumn,
      labelColumn: flags.labelColumn,
      labelNames: flags.labelNames,
      idColumn: flags.idColumn,
      format: flags.format,
      encoding: flags.encoding,
      delimiter: flags.delimiter !== undefined ? parseDelimiter(flags.delimiter) : undefined,
      quoting: flags.quoting === false ? false : undefined,
      header: flags.header === undefined ? undefined : flags.header === 'true',
      goldFraction: flags.goldFraction,
      devFraction: flags.devFraction,
      testFraction: flags.testFraction,
      maxLength: flags.maxLength,
      lenient: flags.lenient,
    }),
    teacher: merge(fromFile.teacher, {
      kind: teacherKind,
      model: flags.teacherModel ?? (teacherKind === 'huggingface' && flags.teacher && !namedKinds.includes(flags.teacher) ? flags.teacher : undefined),
      models: flags.teacherModels,
      labelMap: flags.labelMap,
      dtype: flags.teacherDtype,
      device: flags.teacherDevice,
      batchSize: flags.teacherBatchSize,
      maxLength: flags.teacherMaxLength,
      head: flags.teacherHead,
      headEpochs: flags.teacherHeadEpochs,
      headLearningRate: flags.teacherHeadLearningRate,
      cache: flags.teacherCache === false ? false : undefined,
      cacheDir: flags.teacherCacheDir,
      cacheMaxMb: flags.teacherCacheMaxMb,
      softLabels: flags.softLabels,
      softLabelFormat: flags.softLabelFormat,
      architecture: flags.teacherArchitecture,
      epochs: flags.teacherEpochs,
      learningRate: flags.teacherLearningRate,
    }),
    student: merge(fromFile.student, {
      kind: flags.student,
      tokenizerFile: flags.tokenizer,
      embeddingDim: flags.embeddingDim,
      dropout: flags.dropout,
      ngrams: flags.ngrams,
      ngramBuckets: flags.ngramBuckets,
      vocabSize: flags.vocabSize,
    }),
    loss: merge(fromFile.loss, {
      temperature: flags.temperature,
      temperatureEnd: flags.temperatureEnd,
      temperatureSchedule: flags.temperatureEnd !== undefined ? 'linear' : undefined,
      alpha: flags.alpha,
      alphaEnd: flags.alphaEnd,
      alphaSchedule: flags.alphaEnd !== undefined ? 'linear' : undefined,
      logitMseWeight: flags.logitMse,
      featureWeight: flags.featureWeight,
      featureLoss: flags.featureLoss,
      gradientMatchingWeight: flags.gradientMatching,
    }),
    training: merge(fromFile.training, {
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      learningRate: flags.learningRate,
      weightDecay: flags.weightDecay,
      patience: flags.patience,
      metric: flags.metric,
      seed: flags.seed,
    }),
    hardware: merge(fromFile.hardware, { backend: flags.backend }),
    output: merge(fromFile.output, { runsDir: flags.out, runId: flags.runId }),
  });
}

export function buildProgram(): Command {
  const program = new Command('sentiment-distill')
    .description('Distill a sentiment teacher into a small, fast student model (bag of n-grams, CNN or BiLSTM in TensorFlow.js).')
    .version(readVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  addReadFlags(
    program
      .command('inspect')
      .description('Detect the format, encoding, columns and labels of a dataset file or folder and list the problems found.')
      .argument('<file>', 'dataset file (CSV, TSV, JSONL, JSON, Parquet, text lines) or a folder with one subfolder per label'),
  )
    .option('--json', 'print the result as JSON')
    .action(async (file: string, flags: ReadFlags & { json?: boolean }) => {
      const info = await inspectDataset(file, readOptionsFromFlags(flags));
      process.stdout.write(flags.json ? JSON.stringify(info, null, 2) + '\n' : formatInspect(info));
      if (info.problems.some((p) => p.severity === 'error')) process.exitCode = EXIT.data;
    });

  addReadFlags(
    program
      .command('train')
      .description('Run the whole pipeline: read the data, get the teacher outputs, train the student, evaluate both and write a run folder with a report.'),
  )
    .option('--train <file>', 'labeled training file (required unless --resume is given)')
    .option('--resume <run-dir>', 'continue a failed or cancelled run from its last epoch checkpoint, with the settings and teacher outputs it saved; other flags are ignored')
    .option('--dev <file>', 'dev file (default: a stratified part of --train, see --dev-fraction)')
    .option('--test <file>', 'test file, scored once with the best checkpoint')
    .option('--transfer <file>', 'unlabeled texts for the teacher to label (transfer set)')
    .option('--teacher <trained|soft-labels|none|MODEL>', 'teacher: "trained" trains a larger model on the gold labels; "soft-labels" reads --soft-labels; "none" trains the student on gold labels only; any other value is a Hugging Face model id or local folder (default trained)')
    .option('--teacher-model <id|folder>', 'Hugging Face teacher: a model id (downloaded by transformers.js where the network allows) or a local folder with config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx')
    .option('--teacher-models <list>', 'several Hugging Face teachers as MODEL@WEIGHT,MODEL@WEIGHT; the student learns their weighted average probabilities')
    .option('--label-map <pairs>', 'dataset label to teacher label pairs, such as "pos=POSITIVE,neg=NEGATIVE" (default: match by name)')
    .addOption(new Option('--teacher-dtype <dtype>', 'Hugging Face teacher weights: fp32 onnx/model.onnx, q8 model_quantized.onnx, fp16 model_fp16.onnx (default fp32)').choices(['fp32', 'q8', 'fp16']))
    .addOption(new Option('--teacher-device <device>', 'Hugging Face teacher device; falls back to cpu when unavailable (default cpu)').choices(['cpu', 'cuda', 'webgpu']))
    .option('--teacher-batch-size <n>', 'texts per Hugging Face teacher forward pass (default 32)', integer('--teacher-batch-size'))
    .option('--teacher-max-length <n>', 'tokens per text for the Hugging Face teacher; longer texts are truncated (default 128)', integer('--teacher-max-length'))
    .addOption(new Option('--teacher-head <kind>', 'head trained on the pooled features of an encoder without a classifier (default linear)').choices(['linear', 'mlp']))
    .option('--teacher-head-epochs <n>', 'training epochs of that head; the best dev epoch is kept (default 40)', integer('--teacher-head-epochs'))
    .option('--teacher-head-learning-rate <lr>', 'Adam learning rate of that head (default 0.01)', number('--teacher-head-learning-rate'))
    .option('--no-teacher-cache', 'neither read nor write the teacher cache')
    .option('--teacher-cache-dir <dir>', 'teacher cache folder (default $SENTIMENT_DISTILLER_CACHE_DIR or ~/.cache/sentiment-distiller/teachers)')
    .option('--teacher-cache-max-mb <n>', 'teacher cache size limit in MiB; least recently used entries are removed beyond it (default 2048)', integer('--teacher-cache-max-mb'))
    .option('--soft-labels <column|file>', 'soft-label column of the training file, or a JSONL/CSV file keyed by row id')
    .addOption(new Option('--soft-label-format <format>', 'whether soft labels are logits or probabilities').choices(['auto', 'logits', 'probabilities']))
    .addOption(new Option('--teacher-architecture <kind>', 'architecture of a trained teacher (default cnn)').choices(['bag', 'cnn', 'bilstm']))
    .option('--teacher-epochs <n>', 'epochs of a trained teacher (default 4)', integer('--teacher-epochs'))
    .option('--teacher-learning-rate <lr>', 'Adam learning rate of a trained teacher (default 0.002)', number('--teacher-learning-rate'))
    .addOption(new Option('--student <kind>', 'student architecture (default bag)').choices(['bag', 'cnn', 'bilstm']))
    .option('--embedding-dim <n>', 'student embedding width; 0 = architecture default (bag 64, cnn and bilstm 128)', integer('--embedding-dim'))
    .option('--dropout <p>', 'student dropout rate (default 0.2)', number('--dropout'))
    .option('--vocab-size <n>', 'maximum vocabulary of the student tokenizer (default 20000)', integer('--vocab-size'))
    .option('--ngrams <n>', 'largest word n-gram of the bag student (default 2)', integer('--ngrams'))
    .option('--ngram-buckets <n>', 'hash buckets for bag n-grams; with the embedding width it sets the model size (default 100000)', integer('--ngram-buckets'))
    .option('--gold-fraction <f>', 'fraction of training rows whose gold label the student sees; the rest are labeled by the teacher (default 1)', number('--gold-fraction'))
    .option('--dev-fraction <f>', 'fraction held out as dev when --dev is not given (default 0.1)', number('--dev-fraction'))
    .option('--test-fraction <f>', 'fraction held out as test when --test is not given (default 0)', number('--test-fraction'))
    .option('--epochs <n>', 'maximum student epochs (default 8)', integer('--epochs'))
    .option('--batch-size <n>', 'examples per batch (default 64)', integer('--batch-size'))
    .option('--learning-rate <lr>', 'peak Adam learning rate of the student (default 0.005)', number('--learning-rate'))
    .option('--weight-decay <w>', 'decoupled (AdamW) weight decay of the student (default 0)', number('--weight-decay'))
    .option('--temperature <T>', 'KD softmax temperature (default 2)', number('--temperature'))
    .option('--temperature-end <T>', 'temperature at the last step; the temperature then changes linearly', number('--temperature-end'))
    .option('--alpha <a>', 'weight of the KD term; cross-entropy gets 1 - alpha (default 0.5)', number('--alpha'))
    .option('--alpha-end <a>', 'alpha at the last step; alpha then changes linearly', number('--alpha-end'))
    .option('--tokenizer <file>', 'use this tokenizer.json (for example the teacher\'s) instead of building one from the training texts')
    .option('--logit-mse <w>', 'weight of the logit MSE term (default 0)', number('--logit-mse'))
    .option('--feature-weight <w>', 'weight of the feature-alignment term (default 0)', number('--feature-weight'))
    .addOption(new Option('--feature-loss <kind>', 'feature-alignment distance').choices(['mse', 'cosine']))
    .option('--gradient-matching <w>', 'weight of the gradient-matching penalty; about triples the step time (default 0)', number('--gradient-matching'))
    .option('--max-length <n>', 'tokens kept per text (default 128)', integer('--max-length'))
    .option('--patience <n>', 'epochs without improvement before stopping; 0 turns early stopping off (default 3)', integer('--patience'))
    .addOption(new Option('--metric <name>', 'dev metric for early stopping and the best checkpoint').choices(['accuracy', 'macroF1', 'weightedF1', 'microF1', 'loss']))
    .option('--seed <n>', 'random seed (default 42)', integer('--seed'))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (default auto: tfjs-node-gpu, webgpu, tfjs-node, wasm; see `gpu install`)').choices(['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']))
    .option('--lenient', 'skip bad rows and report them instead of stopping')
    .option('--config <file>', 'JSON file with settings ({"loss": {"temperature": 4}, ...}); flags override it')
    .option('--out <dir>', 'folder for run folders (default .sentiment-distiller/runs)')
    .option('--run-id <name>', 'name of the run folder (default: time, dataset and student)')
    .option('--json', 'print one JSON object with the run folder and metrics as the last line')
    .option('--quiet', 'print no progress')
    .action(async (flags: TrainFlags) => {
      if (!flags.train && !flags.resume) throw new ConfigError('--train is required: pass the labeled training file, or --resume RUN_DIR to continue a run.');
      const config = flags.resume ? undefined : configFromFlags(flags);
      const controller = new AbortController();
      let runDir: string | undefined;
      const onSignal = () => {
        if (controller.signal.aborted) {
          if (runDir) {
            try {
              RunFolder.open(runDir).finish('cancelled', { error: 'Stopped at once by a second interrupt; the last checkpoint is the best epoch finished before it.' });
            } catch {
              // The folder may be half-written or gone; exiting matters more.
            }
          }
          process.exit(EXIT.cancelled);
        }
        process.stderr.write('\nCancelling after the current batch (press Ctrl+C again to stop at once)…\n');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const renderer = createRenderer({ quiet: flags.quiet === true });
      try {
        const runOptions = {
          onEvent: renderer.onEvent,
          signal: controller.signal,
          onStart: (run: { runDir: string }) => {
            runDir = run.runDir;
          },
        };
        const summary = config ? await runDistillation(config, runOptions) : await resumeDistillation(flags.resume!, runOptions);
        renderer.finish();
        if (!flags.json) {
          process.stdout.write(formatMetricsTable(summary));
          const skipped = summary.backend.fallbacks.length > 0 ? ` (skipped ${summary.backend.fallbacks.map((f) => f.backend).join(', ')}; reasons in config.json)` : '';
          const split = summary.studentThreads > 1 ? `; student batches split over ${summary.studentThreads} threads, each with its own wasm backend` : '';
          process.stdout.write(`\nBackend: ${summary.backend.name} on ${summary.backend.device}${skipped}${split}\n`);
          if (summary.state === 'cancelled') process.stdout.write('\nThe run was cancelled; the metrics above are those of the best epoch finished before it.\n');
          process.stdout.write(`\nRun folder: ${summary.runDir}\nReport:     ${summary.report.html}\n`);
        } else {
          process.stdout.write(
            JSON.stringify({ runId: summary.runId, runDir: summary.runDir, state: summary.state, task: summary.task, labels: summary.labels, backend: summary.backend.name, studentThreads: summary.studentThreads, teacher: summary.teacher, student: summary.student, agreement: summary.agreement, bestEpoch: summary.bestEpoch, seconds: summary.seconds, report: summary.report.html }) + '\n',
          );
        }
        if (summary.state === 'cancelled') process.exitCode = EXIT.cancelled;
      } finally {
        renderer.finish();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  addReadFlags(
    program
      .command('eval')
      .description('Score a saved student on a labeled dataset.')
      .argument('<student>', 'run folder or its student/ folder')
      .argument('<file>', 'labeled dataset file'),
  )
    .option('--lenient', 'skip rows that cannot be read or whose label the student does not know, and report how many')
    .option('--backend <name>', 'TensorFlow.js backend', 'auto')
    .option('--json', 'print the metrics as JSON')
    .action(async (studentDir: string, file: string, flags: ReadFlags & { lenient?: boolean; backend: DistillConfig['hardware']['backend']; json?: boolean }) => {
      await selectBackend(flags.backend);
      const predictor = await loadPredictor(studentDir);
      // The rows stream in batches of token ids, so a large file is not held as texts.
      const skipped: DataProblem[] = [];
      const gold: number[][] = [];
      const probabilities: number[][] = [];
      const rows = encodeRecords(file, predictor.tokenizer, {
        ...readOptionsFromFlags(flags),
        lenient: flags.lenient === true,
        labelSpace: { task: predictor.task, names: predictor.labelNames },
        maxLength: predictor.maxLength,
        onSkip: (problem) => skipped.push(problem),
      });
      const reportSkipped = () => {
        if (skipped.length === 0) return;
        process.stderr.write(`Skipped ${skipped.length} ${skipped.length === 1 ? 'row' : 'rows'}:\n`);
        for (const problem of skipped.slice(0, LISTED_SKIPS)) process.stderr.write(`  line ${problem.line ?? '?'}: ${problem.message}\n`);
        if (skipped.length > LISTED_SKIPS) process.stderr.write(`  … and ${skipped.length - LISTED_SKIPS} more, listed by --json\n`);
      };
      try {
        for await (const batch of rows) {
          const tokens = Array.from({ length: batch.lines.length }, (_, row) => batch.ids.subarray(batch.offsets[row], batch.offsets[row + 1]));
          for (const prediction of predictor.predictTokens(tokens)) probabilities.push(prediction.probabilities);
          for (const labels of batch.labels) gold.push([...(labels ?? [])]);
        }
      } catch (error) {
        // "All N records were skipped" points at the skipped rows, so they are listed first.
        reportSkipped();
        throw error;
      }
      reportSkipped();
      // A multi-label student is scored at the threshold its run chose on dev, as `predict` applies it.
      const metrics = summarize(predictor.task, gold, probabilities, { threshold: predictor.multilabelThreshold });
      const formatValue = (key: string, v: unknown) => (typeof v === 'number' && key !== 'count' ? v.toFixed(4) : v);
      const skippedRows = skipped.map((problem) => ({ line: problem.line, message: problem.message }));
      process.stdout.write(flags.json ? JSON.stringify({ file, examples: gold.length, skipped: skippedRows.length, skippedRows, metrics }) + '\n' : Object.entries(metrics).map(([k, v]) => `${k.padEnd(16)} ${formatValue(k, v)}`).join('\n') + '\n');
      predictor.dispose();
    });

  program
    .command('predict')
    .description('Predict labels with a saved student for texts given as arguments, in a file (one per line), or on standard input.')
    .argument('<student>', 'run folder or its student/ folder')
    .argument('[texts...]', 'texts to label')
    .option('--file <file>', 'read texts from a file, one per line')
    .option('--backend <name>', 'TensorFlow.js backend', 'auto')
    .option('--json', 'print JSON Lines: {"text", "labels", "probabilities"}')
    .action(async (studentDir: string, texts: string[], flags: { file?: string; backend: DistillConfig['hardware']['backend']; json?: boolean }) => {
      let inputs = texts;
      if (flags.file) {
        if (!existsSync(flags.file) || statSync(flags.file).isDirectory()) {
          throw new DataError('File not found.', resolve(flags.file), undefined, undefined, 'Pass --file with a text file of one text per line; relative paths are resolved from the current folder.');
        }
        // The encoding is detected as for datasets (UTF-8, GB18030, Windows-1252, ...), and a BOM is dropped.
        const bytes = readFileSync(flags.file);
        const encoding = bytes.length === 0 ? 'utf-8' : (await detectFileEncoding(flags.file)).encoding;
        inputs = decodeBuffer(bytes, encoding).split(/\r\n?|\n/).filter((line) => line.trim() !== '');
      }
      else if (inputs.length === 0 && !process.stdin.isTTY) inputs = await readStdinLines();
      if (inputs.length === 0) throw new CommanderError(EXIT.usage, 'predict.noInput', 'No texts to label: pass texts as arguments, --file FILE, or pipe lines on standard input.');
      await selectBackend(flags.backend);
      const predictor = await loadPredictor(studentDir);
      const predictions = predictor.predict(inputs);
      predictions.forEach((prediction, i) => {
        const probabilities = Object.fromEntries(predictor.labelNames.map((name, k) => [name, Number(prediction.probabilities[k].toFixed(4))]));
        if (flags.json) process.stdout.write(JSON.stringify({ text: inputs[i], labels: prediction.labels, probabilities }) + '\n');
        else process.stdout.write(`${prediction.labels.join(',') || '(none)'}\t${Math.max(...prediction.probabilities).toFixed(3)}\t${inputs[i]}\n`);
      });
      predictor.dispose();
    });

  addCacheCommand(program);
  addExportCommand(program, EXIT);
  addGpuCommand(program, EXIT);

  program
    .command('runs')
    .description('List the runs in a runs folder, newest first.')
    .option('--out <dir>', 'runs folder', '.sentiment-distiller/runs')
    .option('--json', 'print JSON')
    .action((flags: { out: string; json?: boolean }) => {
      const runs = listRuns(flags.out);
      if (flags.json) return void process.stdout.write(JSON.stringify(runs) + '\n');
      if (runs.length === 0) return void process.stdout.write(`No runs in ${flags.out}.\n`);
      process.stdout.write(`${'STATE'.padEnd(10)} ${'RUN'.padEnd(50)} SCORE (student accuracy or micro F1; test when present, else dev)\n`);
      for (const run of runs) {
        const metrics = (run.summary?.metrics as { test?: Record<string, number>; dev?: Record<string, number> } | undefined) ?? {};
        const headline = metrics.test ?? metrics.dev;
        const score = headline ? `${(headline.accuracy ?? headline.microF1)?.toFixed(4)} ${metrics.test ? 'test' : 'dev'}` : '';
        process.stdout.write(`${run.state.padEnd(10)} ${run.runId.padEnd(50)} ${score ?? ''}${run.error ? `  ${run.error.split('\n')[0]}` : ''}\n`);
      }
    });

  return program;
}

/** Skipped rows that `eval` lists on stderr; `--json` lists them all. */
const LISTED_SKIPS = 10;

function columnRef(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}

async function readStdinLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin })) if (line.trim() !== '') lines.push(line);
  return lines;
}

function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Fix for a file-system error that names a path: the run folder (or another output) cannot be written. */
const STORAGE_HINTS: Record<string, string> = {
  ENOSPC: 'The disk is full. Free some space, or pass --out with a folder on another disk.',
  EDQUOT: 'The disk quota is used up. Free some space, or pass --out with a folder on another disk.',
  EROFS: 'The file system is read-only. Pass --out with a writable folder.',
  EACCES: 'Permission denied. Pass --out with a folder you can write to.',
  EPERM: 'The operation is not permitted. Pass --out with a folder you can write to.',
};

/** Prints an error the user can act on, without a stack trace, and returns the exit code. */
export function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
    if (error.code === 'predict.noInput') process.stderr.write(`error: ${error.message}\n`);
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`error: ${withFlagNames(error.message)}\n`);
    return EXIT.usage;
  }
  if (error instanceof DataError) {
    process.stderr.write(`error: ${error.format()}\n`);
    return EXIT.data;
  }
  if (error instanceof RunCancelledError) {
    process.stderr.write(`${error.message}\n`);
    return EXIT.cancelled;
  }
  if (error instanceof LabelMappingError || error instanceof HuggingFaceTeacherError) {
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof SyntaxError) {
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message}\n`);
  const storageHint = STORAGE_HINTS[(error as NodeJS.ErrnoException).code ?? ''];
  if (storageHint && (error as NodeJS.ErrnoException).path) process.stderr.write(`  ${storageHint}\n`);
  if (process.env.SENTIMENT_DISTILLER_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
  else process.stderr.write('Set SENTIMENT_DISTILLER_DEBUG=1 to print the stack trace.\n');
  return EXIT.failure;
}

if (require.main === module) {
  // `sentiment-distill runs | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  });
  buildProgram()
    .parseAsync(process.argv)
    .then(
      () => process.exit(process.exitCode ?? EXIT.ok),
      (error: unknown) => process.exit(reportError(error)),
    );
}
