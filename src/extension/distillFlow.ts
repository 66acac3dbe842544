// The guided flow after "Distill Sentiment Model…": inspect the dataset, show what was
// found, pick columns, teacher and student, then queue the run. Choices are remembered
// per dataset in the workspace state.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { ConfigError, resolveConfig, type DeepPartial, type DistillConfig, type StudentKind } from '../core/config';
import type { DatasetInfo } from '../core/types';
import { getLog } from './log';
import type { RunManager } from './runManager';
import { SECTION, settingsOverrides } from './settings';
import { datasetConfigPath, readDatasetSettings, toOverrides } from './settingsPanel/fields';

interface RememberedChoices {
  textColumn?: string;
  labelColumn?: string;
  teacher?: TeacherChoice;
  student?: StudentKind;
  lenient?: boolean;
}

type TeacherChoice = { kind: 'trained' } | { kind: 'none' } | { kind: 'soft-labels'; source: string } | { kind: 'huggingface'; model: string };

const DATASET_EXTENSIONS = ['.csv', '.tsv', '.jsonl', '.json', '.parquet', '.txt'];

interface Item<T> extends vscode.QuickPickItem {
  value?: T;
}

/** Shows a quick pick and resolves to the chosen item's value, or undefined when dismissed. */
async function pick<T>(items: Item<T>[], options: { title: string; placeholder: string; step: number; steps: number; active?: T }): Promise<T | undefined> {
  const quickPick = vscode.window.createQuickPick<Item<T>>();
  quickPick.title = options.title;
  quickPick.placeholder = options.placeholder;
  quickPick.step = options.step;
  quickPick.totalSteps = options.steps;
  quickPick.items = items;
  quickPick.ignoreFocusOut = true;
  quickPick.matchOnDescription = true;
  const active = items.find((item) => item.value !== undefined && JSON.stringify(item.value) === JSON.stringify(options.active));
  if (active) quickPick.activeItems = [active];
  return new Promise<T | undefined>((resolve) => {
    quickPick.onDidAccept(() => {
      const chosen = quickPick.selectedItems[0];
      if (chosen?.value === undefined) return;
      resolve(chosen.value);
      quickPick.hide();
    });
    quickPick.onDidHide(() => {
      resolve(undefined);
      quickPick.dispose();
    });
    quickPick.show();
  });
}

export async function pickDataset(uri: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  if (uri) return uri;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file' && DATASET_EXTENSIONS.some((ext) => active.fsPath.toLowerCase().endsWith(ext))) return active;
  const chosen = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Choose a sentiment dataset'),
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    filters: { [vscode.l10n.t('Datasets')]: DATASET_EXTENSIONS.map((ext) => ext.slice(1)) },
  });
  return chosen?.[0];
}

/** Runs the flow for `uri` and queues the run; returns undefined when the user backs out. */
export async function runDistillFlow(context: vscode.ExtensionContext, manager: RunManager, uri: vscode.Uri | undefined): Promise<DistillConfig | undefined> {
  const dataset = await pickDataset(uri);
  if (!dataset) return undefined;
  if (dataset.scheme !== 'file') {
    void vscode.window.showErrorMessage(vscode.l10n.t('Only datasets on the file system can be distilled ({0}).', dataset.toString()));
    return undefined;
  }
  if (!vscode.workspace.isTrusted) {
    const proceed = vscode.l10n.t('Train Anyway');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('This workspace is not trusted. Training reads {0} and runs a training process; workspace settings are ignored until you trust the workspace.', dataset.fsPath),
      { modal: true },
      proceed,
    );
    if (answer !== proceed) return undefined;
  }

  const path = dataset.fsPath;
  const memoryKey = `distill:${path}`;
  const remembered = context.workspaceState.get<RememberedChoices>(memoryKey) ?? {};
  const steps = 5;
  const title = vscode.l10n.t('Distill Sentiment Model');

  const info = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Inspecting {0}…', path) }, async () => {
    const { inspectDataset } = await import('../core/data');
    try {
      return await inspectDataset(path, {
        ...(remembered.textColumn ? { textColumn: remembered.textColumn } : {}),
        ...(remembered.labelColumn ? { labelColumn: remembered.labelColumn } : {}),
      });
    } catch (error) {
      const message = (error as { format?: () => string }).format?.() ?? (error as Error).message;
      getLog().error(`Inspecting ${path} failed: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('Cannot read {0}: {1}', path, message));
      return undefined;
    }
  });
  if (!info) return undefined;

  const errors = info.problems.filter((p) => p.severity === 'error');
  const preview = await pick<'continue' | 'lenient'>(previewItems(info, errors.length > 0), { title, placeholder: vscode.l10n.t('{0}: {1} rows, {2} labels. Check what was found, then continue.', info.format.toUpperCase(), info.rows, info.labelCounts.length), step: 1, steps });
  if (!preview) return undefined;
  const lenient = preview === 'lenient' || remembered.lenient === true;

  const columns = info.columns;
  let textColumn = info.textColumn;
  let labelColumn = info.labelColumn;
  if (columns.length > 1 && !info.labelColumns) {
    const chosenText = await pick<string>(
      columns.map((name) => ({ label: name, value: name, description: name === info.textColumn ? vscode.l10n.t('detected text column') : undefined })),
      { title, placeholder: vscode.l10n.t('Text column'), step: 2, steps, active: remembered.textColumn ?? info.textColumn },
    );
    if (!chosenText) return undefined;
    textColumn = chosenText;
    const chosenLabel = await pick<string>(
      columns.filter((name) => name !== textColumn).map((name) => ({ label: name, value: name, description: name === info.labelColumn ? vscode.l10n.t('detected label column') : undefined })),
      { title, placeholder: vscode.l10n.t('Label column'), step: 3, steps, active: remembered.labelColumn ?? info.labelColumn },
    );
    if (!chosenLabel) return undefined;
    labelColumn = chosenLabel;
  }

  const teacher = await pickTeacher(info, columns, remembered.teacher, { title, step: 4, steps });
  if (!teacher) return undefined;
  const student = await pick<StudentKind>(
    [
      { label: '$(zap) ' + vscode.l10n.t('Bag of n-grams'), description: 'fastText-like', detail: vscode.l10n.t('Fastest; the default on CPU. Word bigrams (character bigrams for Chinese).'), value: 'bag' },
      { label: '$(symbol-array) ' + vscode.l10n.t('Kim CNN'), description: '128 × 3/4/5', detail: vscode.l10n.t('Convolutions over word windows; slower, often more accurate.'), value: 'cnn' },
      { label: '$(symbol-namespace) BiLSTM', description: 'Tang et al. 2019', detail: vscode.l10n.t('Bidirectional LSTM as in "Distilling Task-Specific Knowledge from BERT"; slowest on CPU.'), value: 'bilstm' },
    ],
    { title, placeholder: vscode.l10n.t('Student architecture'), step: 5, steps, active: remembered.student ?? (vscode.workspace.getConfiguration(SECTION).get<StudentKind>('student.kind') || 'bag') },
  );
  if (!student) return undefined;

  const choices: RememberedChoices = { textColumn, labelColumn, teacher, student, lenient };
  await context.workspaceState.update(memoryKey, choices);

  let config: DistillConfig;
  try {
    config = buildConfig(path, info, choices);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : (error as Error).message;
    getLog().error(`Invalid settings for ${path}: ${message}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('Invalid settings: {0}', message), vscode.l10n.t('Open Settings')).then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', SECTION);
    });
    return undefined;
  }
  manager.enqueue(config);
  return config;
}

function previewItems(info: DatasetInfo, hasErrors: boolean): Item<'continue' | 'lenient'>[] {
  const items: Item<'continue' | 'lenient'>[] = [];
  if (hasErrors) {
    items.push({ label: '$(warning) ' + vscode.l10n.t('Continue in lenient mode'), detail: vscode.l10n.t('Bad rows are skipped and listed in the report.'), value: 'lenient' });
  } else {
    items.push({ label: '$(play) ' + vscode.l10n.t('Continue'), value: 'continue' });
    if (info.problems.length > 0) items.push({ label: '$(filter) ' + vscode.l10n.t('Continue in lenient mode'), detail: vscode.l10n.t('Bad rows are skipped and listed in the report.'), value: 'lenient' });
  }
  items.push({ label: vscode.l10n.t('What was found'), kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: '$(file) ' + vscode.l10n.t('Format'), description: `${info.format}${info.delimiter !== undefined ? ` (${JSON.stringify(info.delimiter)}${info.quoting === false ? ', no quoting' : ''})` : ''}, ${info.encoding}, ${info.lineEnding}` });
  items.push({ label: '$(symbol-field) ' + vscode.l10n.t('Columns'), description: `${vscode.l10n.t('text')}: ${info.textColumn}${info.labelColumn ? ` · ${vscode.l10n.t('label')}: ${info.labelColumn}` : ''} · ${info.columns.join(', ')}` });
  items.push({ label: '$(tag) ' + vscode.l10n.t('Task'), description: `${info.task}, ${info.rows} ${vscode.l10n.t('rows')}` });
  const total = info.labelCounts.reduce((sum, l) => sum + l.count, 0) || 1;
  for (const { label, count } of info.labelCounts.slice(0, 30)) {
    items.push({ label: `    ${label}`, description: `${count} (${((100 * count) / total).toFixed(1)}%) ${'▇'.repeat(Math.max(1, Math.round((20 * count) / total)))}` });
  }
  if (info.problems.length > 0) {
    items.push({ label: vscode.l10n.t('Problems'), kind: vscode.QuickPickItemKind.Separator });
    for (const problem of info.problems.slice(0, 20)) {
      items.push({ label: `${problem.severity === 'error' ? '$(error)' : '$(warning)'} ${problem.line ? vscode.l10n.t('line {0}', problem.line) : ''}`, description: problem.message, detail: problem.hint });
    }
  }
  return items;
}

async function pickTeacher(info: DatasetInfo, columns: string[], remembered: TeacherChoice | undefined, step: { title: string; step: number; steps: number }): Promise<TeacherChoice | undefined> {
  const architecture = vscode.workspace.getConfiguration(SECTION).get<string>('teacher.architecture', 'cnn');
  const items: Item<TeacherChoice | 'file' | 'huggingface'>[] = [
    { label: '$(mortar-board) ' + vscode.l10n.t('Train a teacher in the run'), description: architecture, detail: vscode.l10n.t('A larger model trained on every gold label first, then used to label the training texts.'), value: { kind: 'trained' } },
  ];
  const softColumn = info.softLabelColumn;
  for (const column of columns) {
    if (column === info.textColumn || column === info.labelColumn) continue;
    items.push({ label: '$(table) ' + vscode.l10n.t('Soft labels from column "{0}"', column), description: column === softColumn ? vscode.l10n.t('detected') : undefined, detail: vscode.l10n.t('Logits or probabilities per row as a JSON list.'), value: { kind: 'soft-labels', source: column } });
  }
  items.push({ label: '$(file-symlink-file) ' + vscode.l10n.t('Soft labels from a file…'), detail: vscode.l10n.t('JSONL with {"id": …, "logits": […]} per row, for example teacher-logits.jsonl from an earlier run.'), value: 'file' });
  items.push({ label: '$(hubot) ' + vscode.l10n.t('Hugging Face model…'), detail: vscode.l10n.t('A text-classification model or an encoder (its head is trained in the run), from a local folder or a hub id, run with transformers.js.'), value: 'huggingface' });
  items.push({ label: '$(circle-slash) ' + vscode.l10n.t('No teacher'), detail: vscode.l10n.t('The student learns from the gold labels only (a baseline).'), value: { kind: 'none' } });

  const chosen = await pick<TeacherChoice | 'file' | 'huggingface'>(items, { ...step, placeholder: vscode.l10n.t('Teacher'), active: remembered });
  if (chosen === 'huggingface') return pickHuggingFaceModel(remembered?.kind === 'huggingface' ? remembered.model : undefined);
  if (chosen !== 'file') return chosen;
  const file = await vscode.window.showOpenDialog({ title: vscode.l10n.t('Choose a soft-label file'), canSelectMany: false, filters: { JSONL: ['jsonl', 'ndjson'], CSV: ['csv', 'tsv'] } });
  return file?.[0] ? { kind: 'soft-labels', source: file[0].fsPath } : undefined;
}

/** Asks for a hub id or a local model folder; a value that looks like a path must be an existing folder. */
async function pickHuggingFaceModel(previous: string | undefined): Promise<TeacherChoice | undefined> {
  const model = await vscode.window.showInputBox({
    title: vscode.l10n.t('Hugging Face teacher'),
    prompt: vscode.l10n.t('A model folder (config.json, tokenizer.json, onnx/model.onnx) or a hub id such as "org/model"; hub ids need network access the first time.'),
    value: previous,
    ignoreFocusOut: true,
    validateInput: (value) => {
      const text = value.trim();
      if (!text) return vscode.l10n.t('Enter a model folder or a hub id.');
      const looksLikePath = isAbsolute(text) || text.startsWith('.') || text.startsWith('~');
      if (looksLikePath && !existsSync(text)) return vscode.l10n.t('The folder {0} does not exist.', text);
      return undefined;
    },
  });
  return model ? { kind: 'huggingface', model: model.trim() } : undefined;
}

/** Settings.json values, then the flow's choices for this dataset. */
export function buildConfig(path: string, info: DatasetInfo, choices: RememberedChoices): DistillConfig {
  const workspaceFolder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path))?.uri.fsPath;
  const folder = workspaceFolder ?? (info.format === 'folder' ? path : dirname(path));
  const overrides = settingsOverrides(vscode.Uri.file(path)) as Record<string, Record<string, unknown>>;
  // The settings panel's per-dataset file applies on top of settings.json, in trusted workspaces only.
  if (workspaceFolder && vscode.workspace.isTrusted) {
    const perDataset = toOverrides(readDatasetSettings(datasetConfigPath(workspaceFolder, path))) as Record<string, Record<string, unknown>>;
    for (const [section, values] of Object.entries(perDataset)) overrides[section] = { ...(overrides[section] ?? {}), ...values };
  }
  const teacher = choices.teacher ?? { kind: 'trained' };
  const runsDir = (overrides.output?.runsDir as string | undefined) ?? '.sentiment-distiller/runs';
  const config: DeepPartial<DistillConfig> = {
    ...overrides,
    data: { ...(overrides.data ?? {}), train: path, textColumn: choices.textColumn, labelColumn: choices.labelColumn, lenient: choices.lenient || undefined },
    teacher: {
      ...(overrides.teacher ?? {}),
      kind: teacher.kind,
      ...(teacher.kind === 'soft-labels' ? { softLabels: teacher.source } : {}),
      ...(teacher.kind === 'huggingface' ? { model: teacher.model } : {}),
    },
    student: { ...(overrides.student ?? {}), kind: choices.student },
    output: { ...(overrides.output ?? {}), runsDir: isAbsolute(runsDir) ? runsDir : join(folder, runsDir) },
  };
  return resolveConfig(config);
}
