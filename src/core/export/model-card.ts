// The model card (README.md) of an exported student: how to load it, the data it was
// trained on with file hashes, the label set, final metrics, settings, size and limits.
import type { StudentConfig } from '../students/types';
import type { RunContents } from './run-files';

export interface CardInput {
  run: RunContents;
  formats: readonly ('onnx' | 'tfjs')[];
  parameterCount: number;
  featureDim: number;
  /** Relative path → { bytes, sha256 } of every written file except README.md. */
  files: Map<string, { bytes: number; sha256: string }>;
  vocabSize: number;
  onnxOpset: number;
}

const ARCHITECTURES: Record<StudentConfig['kind'], string> = {
  bag: 'fastText-style bag of embeddings: the mean of token and hashed word n-gram embeddings, then one dense layer',
  cnn: 'Kim (2014) CNN: convolutions over the token embeddings with ReLU and max-over-time pooling, then one dense layer',
  bilstm: 'BiLSTM (Tang et al., 2019): one bidirectional LSTM layer, the two final states through a ReLU dense layer, then the output layer',
};

const WHAT_IT_CANNOT_DO: Record<StudentConfig['kind'], string> = {
  bag: 'It ignores word order beyond its n-grams, so negation and contrast ("not good", "good but boring") are only caught when they fit in one n-gram.',
  cnn: 'It sees local windows of at most the widest filter in tokens; relations between distant words are lost.',
  bilstm: 'It reads the whole text in order, but a small recurrent model still misses long-range structure that a transformer teacher captures.',
};

function table(header: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`)].join('\n');
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function formatMetric(value: unknown): string {
  if (typeof value !== 'number') return '';
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

/** Share of vocabulary tokens per Unicode script, largest first, e.g. "Latin 96.1%, Han 2.0%". */
export function vocabularyScripts(vocab: Record<string, number>): string {
  const scripts: [string, RegExp][] = [
    ['Latin', /\p{Script=Latin}/u],
    ['Han', /\p{Script=Han}/u],
    ['Cyrillic', /\p{Script=Cyrillic}/u],
    ['Arabic', /\p{Script=Arabic}/u],
    ['Hangul', /\p{Script=Hangul}/u],
    ['Hiragana/Katakana', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
    ['Greek', /\p{Script=Greek}/u],
    ['Devanagari', /\p{Script=Devanagari}/u],
  ];
  const counts = new Map<string, number>();
  let total = 0;
  for (const token of Object.keys(vocab)) {
    const word = token.replace(/^##/, '');
    if (!/\p{L}/u.test(word)) continue;
    total++;
    const script = scripts.find(([, pattern]) => pattern.test(word))?.[0] ?? 'other';
    counts.set(script, (counts.get(script) ?? 0) + 1);
  }
  if (total === 0) return 'no letters';
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([script, count]) => `${script} ${((100 * count) / total).toFixed(1)}%`)
    .join(', ');
}

export function renderModelCard(input: CardInput): string {
  const { run } = input;
  const { config, labels } = run;
  const settings = (run.runConfig.settings ?? {}) as Record<string, Record<string, unknown>>;
  const data = (run.runConfig.data ?? {}) as { files?: Record<string, { path: string; sha256: string }>; counts?: Record<string, number> };
  const teacherKind = settings.teacher?.kind;
  const teacher = (run.runConfig.teacher as { name?: string } | null | undefined)?.name ?? String(teacherKind ?? 'unknown');
  const withoutTeacher = teacherKind === 'none';
  const multilabel = labels.task === 'multilabel';
  const vocab = ((run.tokenizerJson.model as { vocab?: Record<string, number> }).vocab ?? {}) as Record<string, number>;
  const lines: string[] = [];

  lines.push(`# ${run.runId}: ${config.kind} sentiment student`, '');
  lines.push(
    `A ${config.kind} student ${withoutTeacher ? 'trained by Sentiment Distiller on gold labels only (no teacher)' : `distilled by Sentiment Distiller from the teacher "${teacher}"`}. It labels a text as ${multilabel ? 'any subset of' : 'one of'} ${labels.labels.map((l) => `\`${l}\``).join(', ')}.${run.state === 'cancelled' ? ' The run was cancelled; these are the weights of the best epoch finished before that.' : ''}`,
    '',
  );

  lines.push('## Usage', '');
  if (input.formats.includes('onnx')) {
    lines.push(
      'This folder has the transformers.js layout (`config.json`, `tokenizer.json`, `tokenizer_config.json`, `onnx/model.onnx`):',
      '',
      '```js',
      "import { env, pipeline } from '@huggingface/transformers';",
      'env.allowRemoteModels = false;',
      "const classify = await pipeline('text-classification', '/path/to/this/folder');",
      "console.log(await classify('a gripping, beautifully acted film', { top_k: null }));",
      '```',
      '',
      `The ONNX graph (opset ${input.onnxOpset}) takes \`input_ids\` and \`attention_mask\` (int64 [batch, sequence]) and returns \`logits\` [batch, ${config.numClasses}] and \`pooler_output\` [batch, ${input.featureDim}], the student's feature vector. ${multilabel ? 'Apply a sigmoid to each logit' : 'Apply a softmax to the logits'} for probabilities; \`config.json\` sets \`problem_type\` so the pipeline does this.`,
      '',
    );
  }
  if (input.formats.includes('tfjs')) {
    lines.push('`tfjs/` holds the TensorFlow.js weights with the tokenizer and labels, as Sentiment Distiller saves a student: `sentiment-distill predict tfjs "some text"`.', '');
  }

  lines.push('## Labels', '');
  lines.push(table(['id', 'label'], labels.labels.map((label, i) => [String(i), label])), '');
  if (multilabel) lines.push(`Task: multi-label. The run chose the threshold ${labels.multilabelThreshold} on dev: a label applies when its probability is at least that.`, '');
  else lines.push(`Task: ${labels.task} (single label).`, '');

  lines.push('## Training data', '');
  const files = Object.entries(data.files ?? {});
  if (files.length > 0) lines.push(table(['split', 'file', 'SHA-256'], files.map(([split, file]) => [split, file.path, `\`${file.sha256}\``])), '');
  else lines.push('The run folder does not record its data files.', '');
  if (data.counts) lines.push(`Rows: ${Object.entries(data.counts).map(([key, value]) => `${key} ${value}`).join(', ')}.`, '');

  lines.push('## Metrics', '');
  if (run.finalMetrics.length > 0) {
    const keys = [...new Set(run.finalMetrics.flatMap((row) => Object.keys(row).filter((key) => key !== 'role' && key !== 'split' && typeof row[key] === 'number')))];
    lines.push(table(['model', 'split', ...keys], run.finalMetrics.map((row) => [row.role, row.split, ...keys.map((key) => formatMetric(row[key]))])), '');
    if (run.finalMetrics.some((row) => typeof row.agreement === 'number')) {
      lines.push('`agreement` is the share of texts where the student predicts the same labels as the teacher.', '');
    }
  } else {
    lines.push('metrics.jsonl has no final rows for this run.', '');
  }

  lines.push('## Student', '');
  lines.push(`- Architecture: ${ARCHITECTURES[config.kind]}.`);
  lines.push(`- Configuration: \`${JSON.stringify(config)}\`.`);
  lines.push(`- Parameters: ${input.parameterCount.toLocaleString('en-US')} (${formatBytes(input.parameterCount * 4)} as float32).`);
  lines.push(`- Tokenizer: ${input.vocabSize.toLocaleString('en-US')} token ids${config.kind === 'bag' && labels.ngrams > 1 && labels.ngramBuckets > 0 ? `, word n-grams up to ${labels.ngrams} hashed into ${labels.ngramBuckets.toLocaleString('en-US')} buckets (FNV-1a over token ids, computed inside the ONNX graph)` : ''}.`);
  lines.push('');

  lines.push('## Settings', '');
  const pick = (section: string, keys: string[]) => keys.filter((key) => settings[section]?.[key] !== undefined).map((key) => `${key} ${JSON.stringify(settings[section]![key])}`).join(', ');
  lines.push(`- Teacher: ${withoutTeacher ? 'none (gold labels only)' : teacher}.`);
  lines.push(`- Loss: ${pick('loss', ['temperature', 'alpha', 'logitMseWeight', 'featureWeight', 'gradientMatchingWeight']) || 'not recorded'}.`);
  lines.push(`- Training: ${pick('training', ['epochs', 'batchSize', 'learningRate', 'weightDecay', 'patience', 'seed']) || 'not recorded'}.`);
  // A fraction only matters when the run split dev (or test) off the training file.
  const splitKeys = [...(settings.data?.dev === undefined ? ['devFraction'] : []), ...(settings.data?.test === undefined ? ['testFraction'] : [])];
  lines.push(`- Data: ${pick('data', ['maxLength', 'goldFraction', ...splitKeys]) || 'not recorded'}.`);
  lines.push('', 'The run folder\'s `config.json` has every setting.', '');

  lines.push('## Limits', '');
  lines.push(`- Maximum length: ${labels.maxLength} tokens. Longer texts are truncated, so only their first ${labels.maxLength} tokens count.`);
  lines.push(`- Languages: only those of the training data. Letters in the vocabulary by script: ${vocabularyScripts(vocab)}. Words outside the vocabulary become the unknown token${config.kind === 'bag' ? '' : ' and carry no meaning'}.`);
  lines.push(`- ${WHAT_IT_CANNOT_DO[config.kind]}`);
  if (!withoutTeacher) lines.push('- It learned from the teacher\'s outputs, so it repeats the teacher\'s errors and is not more accurate than its teacher on the data it was distilled on.');
  lines.push('- Its scores are model outputs, not calibrated probabilities; it has only been evaluated on the files above.');
  lines.push('- The ONNX file was checked with onnxruntime-node 1.30 through @huggingface/transformers 4.3; other runtimes need opset 18 support (BitwiseXor for the bag\'s n-gram hash).');
  lines.push('');

  lines.push('## Files', '');
  lines.push(table(['file', 'size', 'SHA-256'], [...input.files].map(([path, file]) => [path, formatBytes(file.bytes), `\`${file.sha256}\``])), '');
  lines.push(`Exported from \`${run.runDir}\` (student weights SHA-256 \`${run.weightsSha256}\`).`, '');
  return lines.join('\n');
}
