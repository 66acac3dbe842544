// The settings panel's model, without VS Code: fields derived from the engine's
// settings table at run time (so settings added to the table appear in the panel
// without edits here), presets, validation through resolveConfig, and the per-dataset
// settings file. The unit tests import this module from out/. Strings go through
// @vscode/l10n, which the panel loads with VS Code's bundle (English until then).
import { existsSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative } from 'node:path';
import * as l10n from '@vscode/l10n';
import { ConfigError, resolveConfig, SETTINGS, type DeepPartial, type DistillConfig, type SettingSpec } from '../../core/config';
import type { FieldDescriptor, GroupDescriptor, GroupId, PresetDescriptor, SettingValue } from './protocol';

/**
 * Settings that name one run's files or folder rather than a hyperparameter. They are
 * not VS Code settings (see scripts/manifest.mjs); "Start run" and the distill flow set them.
 */
export const PER_RUN_KEYS: ReadonlySet<string> = new Set(['data.train', 'data.dev', 'data.test', 'data.transfer', 'output.runId']);

export const GROUP_IDS: readonly GroupId[] = ['data', 'teacher', 'student', 'losses', 'optimization', 'hardware'];

/** Panel group of each settings-table section; a section missing here lands in `hardware` ("Hardware and output"). */
const GROUP_OF_SECTION: Record<string, GroupId> = {
  data: 'data',
  teacher: 'teacher',
  student: 'student',
  loss: 'losses',
  training: 'optimization',
  hardware: 'hardware',
  output: 'hardware',
};

export function groupOf(spec: Pick<SettingSpec, 'section'>): GroupId {
  return GROUP_OF_SECTION[spec.section] ?? 'hardware';
}

export function groups(): GroupDescriptor[] {
  const labels: Record<GroupId, string> = {
    data: l10n.t('Data'),
    teacher: l10n.t('Teacher'),
    student: l10n.t('Student'),
    losses: l10n.t('Losses'),
    optimization: l10n.t('Optimization'),
    hardware: l10n.t('Hardware and output'),
  };
  return GROUP_IDS.map((id) => ({ id, label: labels[id] }));
}

/** Unit of each setting that has one beyond its type; the others fall back to `typeUnit`. */
function unitOf(spec: SettingSpec): string {
  const key = `${spec.section}.${spec.key}`;
  const units: Record<string, string> = {
    'data.devFraction': l10n.t('fraction of the training rows, 0 to 1'),
    'data.testFraction': l10n.t('fraction of the training rows, 0 to 1'),
    'data.goldFraction': l10n.t('fraction of the training rows, 0 to 1'),
    'data.maxLength': l10n.t('tokens'),
    'data.textColumn': l10n.t('column name or 0-based index'),
    'data.labelColumn': l10n.t('column name or 0-based index'),
    'data.idColumn': l10n.t('column name or 0-based index'),
    'data.labelNames': l10n.t('file path'),
    'data.delimiter': l10n.t('one character'),
    'teacher.model': l10n.t('model id or folder'),
    'teacher.softLabels': l10n.t('column name or file path'),
    'teacher.embeddingDim': l10n.t('dimensions'),
    'teacher.epochs': l10n.t('epochs'),
    'teacher.learningRate': l10n.t('step size of Adam'),
    'student.embeddingDim': l10n.t('dimensions'),
    'student.hiddenDim': l10n.t('units'),
    'student.dropout': l10n.t('probability, 0 to 1'),
    'student.tokenizerFile': l10n.t('file path'),
    'student.vocabSize': l10n.t('tokens'),
    'student.minFrequency': l10n.t('occurrences'),
    'student.ngrams': l10n.t('tokens per n-gram'),
    'student.ngramBuckets': l10n.t('hash buckets'),
    'loss.temperature': l10n.t('temperature T, no unit'),
    'loss.temperatureEnd': l10n.t('temperature T, no unit'),
    'loss.alpha': l10n.t('weight, 0 to 1'),
    'loss.alphaEnd': l10n.t('weight, 0 to 1'),
    'loss.logitMseWeight': l10n.t('loss weight'),
    'loss.featureWeight': l10n.t('loss weight'),
    'loss.gradientMatchingWeight': l10n.t('loss weight'),
    'training.epochs': l10n.t('epochs'),
    'training.batchSize': l10n.t('examples per batch'),
    'training.learningRate': l10n.t('step size of Adam'),
    'training.weightDecay': l10n.t('coefficient per step, scaled by the learning rate'),
    'training.warmupFraction': l10n.t('fraction of all steps, 0 to 0.5'),
    'training.patience': l10n.t('epochs'),
    'training.seed': l10n.t('integer'),
    'training.multilabelThreshold': l10n.t('probability, 0 to 1'),
    'training.labelErrorConfidence': l10n.t('probability, 0.5 to 1'),
    'output.runsDir': l10n.t('folder, relative to the workspace folder'),
  };
  return units[key] ?? typeUnit(spec);
}

function typeUnit(spec: SettingSpec): string {
  if (spec.enum) return l10n.t('choice');
  switch (spec.type) {
    case 'boolean':
      return l10n.t('on or off');
    case 'integer':
      return l10n.t('integer');
    case 'number':
      return l10n.t('number');
    default:
      return l10n.t('text');
  }
}

function controlOf(spec: SettingSpec): FieldDescriptor['control'] {
  if (spec.enum) return 'select';
  // A boolean without a default is detected when unset, which a checkbox cannot show.
  if (spec.type === 'boolean') return spec.default === undefined ? 'select' : 'checkbox';
  return spec.type === 'string' ? 'text' : 'number';
}

/** `learningRate` → `Learning rate`. */
function labelOf(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Returns one field per setting of the table except PER_RUN_KEYS, in table order.
 * `descriptions` maps `config.<section>.<key>` to translated help text (the
 * package.nls.<language>.json of the display language); the table's English text is the fallback.
 */
export function deriveFields(descriptions: Record<string, string> = {}, settings: readonly SettingSpec[] = SETTINGS): FieldDescriptor[] {
  return settings
    .filter((spec) => !PER_RUN_KEYS.has(`${spec.section}.${spec.key}`))
    .map((spec) => {
      const key = `${spec.section}.${spec.key}`;
      return {
        key,
        group: groupOf(spec),
        label: labelOf(spec.key),
        control: controlOf(spec),
        type: spec.type,
        ...(spec.enum ? { enum: spec.enum } : {}),
        ...(spec.minimum !== undefined ? { minimum: spec.minimum } : {}),
        ...(spec.maximum !== undefined ? { maximum: spec.maximum } : {}),
        ...(spec.default !== undefined ? { default: spec.default } : {}),
        unit: unitOf(spec),
        description: descriptions[`config.${key}`] ?? spec.description,
      };
    });
}

interface Preset {
  id: string;
  values: Record<string, SettingValue>;
  label(): string;
  description(): string;
}

/** Presets set only the keys they list; every other value stays as it is in the panel. */
export const PRESETS: readonly Preset[] = [
  {
    id: 'fastCpu',
    values: { 'student.kind': 'bag', 'teacher.kind': 'trained', 'teacher.architecture': 'bag', 'teacher.epochs': 2, 'training.epochs': 4, 'data.maxLength': 64, 'loss.featureWeight': 0, 'loss.gradientMatchingWeight': 0 },
    label: () => l10n.t('Fast CPU'),
    description: () => l10n.t('Bag-of-n-grams teacher and student, 64 tokens per text, few epochs: a first result in seconds on a laptop CPU.'),
  },
  {
    id: 'bilstmTang2019',
    values: { 'student.kind': 'bilstm', 'student.embeddingDim': 0, 'student.hiddenDim': 0, 'loss.alpha': 0, 'loss.logitMseWeight': 1, 'loss.featureWeight': 0 },
    label: () => l10n.t('BiLSTM (Tang et al. 2019)'),
    description: () => l10n.t('BiLSTM student trained on cross-entropy plus the mean squared error between student and teacher logits, as in "Distilling Task-Specific Knowledge from BERT into Simple Neural Networks".'),
  },
  {
    id: 'featureAlignment',
    values: { 'teacher.kind': 'trained', 'teacher.architecture': 'cnn', 'loss.featureWeight': 1, 'loss.featureLoss': 'cosine' },
    label: () => l10n.t('Feature alignment'),
    description: () => l10n.t('Trains a CNN teacher in the run and adds a cosine term that aligns a projection of the student features with the teacher features.'),
  },
];

export function presetDescriptors(): PresetDescriptor[] {
  return PRESETS.map((preset) => ({ id: preset.id, label: preset.label(), description: preset.description() }));
}

/** Nests flat `section.key` values into config overrides, leaving out unset values. */
export function toOverrides(values: Record<string, SettingValue | undefined>): DeepPartial<DistillConfig> {
  const overrides: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const [section, name] = key.split('.', 2);
    overrides[section] ??= {};
    overrides[section][name] = value;
  }
  return overrides as DeepPartial<DistillConfig>;
}

/** Flattens config overrides (a dataset settings file, a run's config) into `section.key` values. */
export function flattenOverrides(overrides: unknown): Record<string, SettingValue> {
  const values: Record<string, SettingValue> = {};
  if (typeof overrides !== 'object' || overrides === null) return values;
  for (const [section, entries] of Object.entries(overrides as Record<string, unknown>)) {
    if (typeof entries !== 'object' || entries === null) continue;
    for (const [key, value] of Object.entries(entries as Record<string, unknown>)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') values[`${section}.${key}`] = value;
    }
  }
  return values;
}

export interface ValidationResult {
  /** Messages by field key; a dependency message is listed under every field it names. */
  fieldErrors: Record<string, string[]>;
  /** Every message, in resolveConfig's order. */
  messages: string[];
}

/**
 * Validates the panel's values with resolveConfig, the same check a run makes, and
 * attaches each message to the fields it names (`loss.featureWeight`, `teacher.kind` …).
 * `train` is a placeholder dataset path: resolveConfig requires one but does not open it.
 */
export function validateValues(values: Record<string, SettingValue | undefined>, train = 'dataset.csv'): ValidationResult {
  const overrides = toOverrides(values) as Record<string, Record<string, unknown>>;
  try {
    resolveConfig({ ...overrides, data: { ...(overrides.data ?? {}), train } } as DeepPartial<DistillConfig>);
    return { fieldErrors: {}, messages: [] };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const messages = error.message.split('\n').slice(1).map((line) => line.trim()).filter((line) => line !== '');
    const fieldErrors: Record<string, string[]> = {};
    for (const message of messages) {
      const named = new Set([...message.matchAll(/\b([a-z]+\.[A-Za-z]+)\b/g)].map((match) => match[1]).filter((key) => key in values || SETTINGS.some((s) => `${s.section}.${s.key}` === key)));
      for (const key of named) (fieldErrors[key] ??= []).push(message);
    }
    return { fieldErrors, messages };
  }
}

/**
 * Per-dataset settings file: `<workspace folder>/.sentiment-distiller/settings/<dataset
 * path relative to the folder>.json`, beside the runs folder. A dataset outside the
 * workspace folder uses its file name only.
 */
export function datasetConfigPath(workspaceFolder: string, datasetPath: string): string {
  const inside = relative(workspaceFolder, datasetPath);
  const name = inside === '' || inside.startsWith('..') || isAbsolute(inside) ? basename(datasetPath) : inside;
  return join(workspaceFolder, '.sentiment-distiller', 'settings', `${name}.json`);
}

/** Reads a per-dataset settings file (`{ "settings": { "loss": { "temperature": 3 } } }`); an absent file gives no values. */
export function readDatasetSettings(file: string): Record<string, SettingValue> {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON (${(error as Error).message}); fix or delete the file.`);
  }
  return flattenOverrides((parsed as { settings?: unknown } | null)?.settings);
}
