// Writes the `contributes` section of package.json and the English package.nls.json
// from the engine's settings table, so every hyperparameter is a VS Code setting with
// the same default, range and help text. `--check` fails when the files are stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { SETTINGS } = require('../out/core/config.js');
const check = process.argv.includes('--check');

// Per-run file paths are chosen in the distill flow, not in settings.
const PER_RUN = new Set(['data.train', 'data.dev', 'data.test', 'data.transfer', 'output.runId']);
const DATASET_FILES = "resourceExtname =~ /^\\.(csv|tsv|jsonl|json|parquet|txt)$/";

const nls = {
  'displayName': 'Sentiment Distiller',
  'description': 'Distill a large sentiment teacher into a small, fast student model (bag of n-grams, CNN or BiLSTM), from VS Code or the command line.',
  'viewContainer.title': 'Sentiment Distiller',
  'view.runs': 'Runs',
  'view.runs.empty': 'No runs yet.\n[Distill Sentiment Model…](command:sentimentDistiller.distill)\nOr right-click a dataset (CSV, TSV, JSONL, JSON, Parquet, text) in the Explorer.',
  'command.category': 'Sentiment Distiller',
  'command.distill': 'Distill Sentiment Model…',
  'command.openReport': 'Open Report',
  'command.openDashboard': 'Open Dashboard',
  'command.openRunFolder': 'Reveal Run Folder',
  'command.rerun': 'Re-run with the Same Settings',
  'command.resumeRun': 'Resume Run from Checkpoint',
  'command.cancelRun': 'Cancel Run',
  'command.deleteRun': 'Delete Run',
  'command.refreshRuns': 'Refresh Runs',
  'command.showLog': 'Show Log',
  'command.openSettings': 'Open Distillation Settings',
  'command.compareRuns': 'Compare with Run…',
  'command.clearTeacherCache': 'Clear Teacher Cache',
  'command.exportStudent': 'Export Student Model…',
  'command.installGpuAcceleration': 'Install GPU Acceleration',
  'config.title': 'Sentiment Distiller',
  'config.runs.maxConcurrent': 'Runs trained at the same time; further runs wait in a queue.',
  'command.annotations.toggle': 'Toggle Dataset Annotations',
  'command.annotations.pickRun': 'Choose Run for Annotations…',
  'command.annotations.setLabel': 'Set Label of Record…',
  'command.annotations.nextDisagreement': 'Go to Next Disagreement',
  'command.annotations.previousDisagreement': 'Go to Previous Disagreement',
  'command.annotations.toggleLabelling': 'Toggle Labelling Mode',
  'command.annotations.openFromDisk': 'Show Annotated Records of a Large File…',
  'command.annotateText': 'Annotate Sentiment in This File',
  'command.clearTextAnnotations': 'Clear Sentiment Annotations',
  'config.annotations.show': 'Which records of a dataset file get the predictions of the newest finished run that read it, as end-of-line annotations.',
  'config.annotations.show.all': 'Every record.',
  'config.annotations.show.disagreements': 'Records where teacher and student disagree, and possible label errors.',
  'config.annotations.show.labelErrors': 'Possible label errors only: the teacher confidently contradicts the gold label.',
  'config.annotations.show.off': 'No annotations.',
  'config.annotations.maxDecorations': 'Maximum number of records annotated at once in one editor (the visible lines and a margin around them).',
  'config.annotate.unit': 'What \"Annotate Sentiment in This File\" labels: each sentence (English and Chinese punctuation) or each line.',
  'color.disagreementBackground': 'Background of dataset records where the teacher and the student disagree.',
  'color.labelErrorBackground': 'Background of dataset records whose gold label the teacher confidently contradicts.',
  'untrusted.description': 'In an untrusted workspace, workspace settings are ignored and training starts only after you confirm it.',
};

const commands = [
  ['distill', '$(beaker)'],
  ['openReport', '$(graph)'],
  ['openDashboard', '$(dashboard)'],
  ['openRunFolder', '$(folder-opened)'],
  ['rerun', '$(debug-rerun)'],
  ['resumeRun', '$(debug-continue)'],
  ['cancelRun', '$(debug-stop)'],
  ['deleteRun', '$(trash)'],
  ['refreshRuns', '$(refresh)'],
  ['showLog', '$(output)'],
  ['openSettings', '$(settings-gear)'],
  ['compareRuns', '$(diff)'],
  ['clearTeacherCache', '$(trash)'],
  ['exportStudent', '$(package)'],
  ['installGpuAcceleration', '$(rocket)'],
  ['annotations.toggle', '$(eye)'],
  ['annotations.pickRun', '$(history)'],
  ['annotations.setLabel', '$(tag)'],
  ['annotations.nextDisagreement', '$(arrow-down)'],
  ['annotations.previousDisagreement', '$(arrow-up)'],
  ['annotations.toggleLabelling', '$(record-keys)'],
  ['annotations.openFromDisk', '$(file-binary)'],
  ['annotateText', '$(comment-discussion)'],
  ['clearTextAnnotations', '$(clear-all)'],
].map(([name, icon]) => ({ command: `sentimentDistiller.${name}`, title: `%command.${name}%`, category: '%command.category%', icon }));

const properties = {};
for (const spec of SETTINGS) {
  const key = `${spec.section}.${spec.key}`;
  if (PER_RUN.has(key)) continue;
  const property = { type: spec.type };
  if (spec.default !== undefined) property.default = spec.default;
  else property.type = [spec.type, 'null'];
  if (spec.minimum !== undefined) property.minimum = spec.minimum;
  if (spec.maximum !== undefined) property.maximum = spec.maximum;
  if (spec.enum) property.enum = [...spec.enum];
  property.markdownDescription = `%config.${key}%`;
  if (spec.default === undefined) property.default = null;
  // Settings that choose what runs or where files go can be set by a workspace only when it is trusted.
  property.scope = 'resource';
  properties[`sentimentDistiller.${key}`] = property;
  nls[`config.${key}`] = spec.description;
}
properties['sentimentDistiller.runs.maxConcurrent'] = { type: 'integer', default: 1, minimum: 1, maximum: 8, markdownDescription: '%config.runs.maxConcurrent%', scope: 'window' };
properties['sentimentDistiller.annotations.show'] = {
  type: 'string',
  default: 'all',
  enum: ['all', 'disagreements', 'labelErrors', 'off'],
  enumDescriptions: ['%config.annotations.show.all%', '%config.annotations.show.disagreements%', '%config.annotations.show.labelErrors%', '%config.annotations.show.off%'],
  markdownDescription: '%config.annotations.show%',
  scope: 'resource',
};
properties['sentimentDistiller.annotations.maxDecorations'] = { type: 'integer', default: 500, minimum: 1, maximum: 5000, markdownDescription: '%config.annotations.maxDecorations%', scope: 'resource' };
properties['sentimentDistiller.annotate.unit'] = { type: 'string', default: 'sentence', enum: ['sentence', 'line'], markdownDescription: '%config.annotate.unit%', scope: 'resource' };

// Labelling keys are plain keys (1–9, n, shift+n), so they are active only in labelling
// mode, in a dataset file that has annotations, and never while a widget takes input.
const LABELLING = 'editorTextFocus && sentimentDistiller.annotated && sentimentDistiller.labelling && !suggestWidgetVisible && !inSnippetMode && !findInputFocussed && !renameInputVisible';
const annotationKeybindings = [
  ...Array.from({ length: 9 }, (_, i) => ({ command: 'sentimentDistiller.annotations.setLabel', key: String(i + 1), args: i + 1, when: LABELLING })),
  { command: 'sentimentDistiller.annotations.nextDisagreement', key: 'n', when: LABELLING },
  { command: 'sentimentDistiller.annotations.previousDisagreement', key: 'shift+n', when: LABELLING },
  // Outside labelling mode: a chord under ctrl+k (cmd+k), whose second keys alt+n and alt+p have no default binding in VS Code 1.139.
  { command: 'sentimentDistiller.annotations.nextDisagreement', key: 'ctrl+k alt+n', mac: 'cmd+k alt+n', when: 'editorTextFocus && sentimentDistiller.annotated' },
  { command: 'sentimentDistiller.annotations.previousDisagreement', key: 'ctrl+k alt+p', mac: 'cmd+k alt+p', when: 'editorTextFocus && sentimentDistiller.annotated' },
  { command: 'sentimentDistiller.annotations.toggleLabelling', key: 'ctrl+k alt+l', mac: 'cmd+k alt+l', when: 'editorTextFocus && sentimentDistiller.annotated' },
];
const annotationColors = [
  { id: 'sentimentDistiller.disagreementBackground', description: '%color.disagreementBackground%', defaults: { dark: '#cca70026', light: '#bf880026', highContrast: null, highContrastLight: null } },
  { id: 'sentimentDistiller.labelErrorBackground', description: '%color.labelErrorBackground%', defaults: { dark: '#f1484830', light: '#e5141430', highContrast: null, highContrastLight: null } },
];
const MARKDOWN_OR_TEXT = 'editorLangId == markdown || editorLangId == plaintext';

const contributes = {
  commands,
  viewsContainers: { activitybar: [{ id: 'sentimentDistiller', title: '%viewContainer.title%', icon: '$(beaker)' }] },
  views: { sentimentDistiller: [{ id: 'sentimentDistiller.runs', name: '%view.runs%', icon: '$(beaker)' }] },
  viewsWelcome: [{ view: 'sentimentDistiller.runs', contents: '%view.runs.empty%' }],
  menus: {
    'explorer/context': [
      { command: 'sentimentDistiller.distill', when: `explorerResourceIsFolder || ${DATASET_FILES}`, group: 'navigation@90' },
    ],
    'editor/title': [{ command: 'sentimentDistiller.distill', when: DATASET_FILES, group: 'navigation@90' }],
    'editor/context': [
      { command: 'sentimentDistiller.annotateText', when: MARKDOWN_OR_TEXT, group: '9_sentiment@1' },
      { command: 'sentimentDistiller.annotations.setLabel', when: 'sentimentDistiller.annotated', group: '9_sentiment@1' },
      { command: 'sentimentDistiller.annotations.pickRun', when: 'sentimentDistiller.annotated', group: '9_sentiment@2' },
    ],
    'view/title': [
      { command: 'sentimentDistiller.distill', when: 'view == sentimentDistiller.runs', group: 'navigation@1' },
      { command: 'sentimentDistiller.refreshRuns', when: 'view == sentimentDistiller.runs', group: 'navigation@2' },
      { command: 'sentimentDistiller.showLog', when: 'view == sentimentDistiller.runs', group: 'navigation@3' },
      { command: 'sentimentDistiller.openSettings', when: 'view == sentimentDistiller.runs', group: 'navigation@4' },
    ],
    'view/item/context': [
      { command: 'sentimentDistiller.cancelRun', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(running|queued)$/', group: 'inline@1' },
      { command: 'sentimentDistiller.openReport', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled)$/', group: 'inline@1' },
      { command: 'sentimentDistiller.openDashboard', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(running|done|cancelled|failed)$/', group: 'inline@2' },
      { command: 'sentimentDistiller.openDashboard', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(running|done|cancelled|failed)$/', group: '1_open@1' },
      { command: 'sentimentDistiller.openReport', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled)$/', group: '1_open@2' },
      { command: 'sentimentDistiller.openRunFolder', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled|failed)$/', group: '1_open@3' },
      { command: 'sentimentDistiller.rerun', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled|failed)$/', group: '2_run@1' },
      { command: 'sentimentDistiller.resumeRun', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(cancelled|failed)$/', group: '2_run@0' },
      { command: 'sentimentDistiller.cancelRun', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(running|queued)$/', group: '2_run@2' },
      { command: 'sentimentDistiller.deleteRun', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled|failed)$/', group: '9_delete@1' },
      { command: 'sentimentDistiller.compareRuns', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled)$/', group: '1_open@4' },
      { command: 'sentimentDistiller.exportStudent', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled)$/', group: '3_export@1' },
    ],
    commandPalette: [
      { command: 'sentimentDistiller.openReport', when: 'false' },
      { command: 'sentimentDistiller.openRunFolder', when: 'false' },
      { command: 'sentimentDistiller.rerun', when: 'false' },
      { command: 'sentimentDistiller.deleteRun', when: 'false' },
    ],
  },
  configuration: { title: '%config.title%', properties },
  keybindings: annotationKeybindings,
  colors: annotationColors,
};

const packagePath = new URL('../package.json', import.meta.url);
const nlsPath = new URL('../package.nls.json', import.meta.url);
const pkg = JSON.parse(readFileSync(packagePath, 'utf8'));
const updated = {
  ...pkg,
  displayName: '%displayName%',
  description: '%description%',
  // A dashboard restored after a window reload needs the extension before any command runs.
  activationEvents: ['workspaceContains:.sentiment-distiller/runs', 'onWebviewPanel:sentimentDistiller.dashboard', 'onWebviewPanel:sentimentDistiller.settings'],
  extensionKind: ['workspace'],
  l10n: './l10n',
  capabilities: {
    // VS Code ignores workspace values of these settings until the workspace is trusted, so a
    // cloned repository's .vscode/settings.json cannot move the runs folder or change training.
    untrustedWorkspaces: { supported: 'limited', description: '%untrusted.description%', restrictedConfigurations: SETTINGS.filter((spec) => !PER_RUN.has(`${spec.section}.${spec.key}`)).map((spec) => `sentimentDistiller.${spec.section}.${spec.key}`) },
    virtualWorkspaces: false,
  },
  contributes,
};
const packageText = JSON.stringify(updated, null, 2) + '\n';
const nlsText = JSON.stringify(nls, null, 2) + '\n';

if (check) {
  const stale = [];
  if (readFileSync(packagePath, 'utf8') !== packageText) stale.push('package.json');
  if (readFileSync(nlsPath, 'utf8') !== nlsText) stale.push('package.nls.json');
  if (stale.length) {
    console.error(`${stale.join(' and ')} are out of date with src/core/config.ts; run \`npm run manifest\`.`);
    process.exit(1);
  }
  console.log('package.json and package.nls.json match the settings table.');
} else {
  writeFileSync(packagePath, packageText);
  writeFileSync(nlsPath, nlsText);
  console.log(`Wrote ${Object.keys(properties).length} settings and ${commands.length} commands.`);
}
