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
  'command.cancelRun': 'Cancel Run',
  'command.deleteRun': 'Delete Run',
  'command.refreshRuns': 'Refresh Runs',
  'command.showLog': 'Show Log',
  'config.title': 'Sentiment Distiller',
  'config.runs.maxConcurrent': 'Runs trained at the same time; further runs wait in a queue.',
  'untrusted.description': 'In an untrusted workspace, workspace settings are ignored and training starts only after you confirm it.',
};

const commands = [
  ['distill', '$(beaker)'],
  ['openReport', '$(graph)'],
  ['openDashboard', '$(dashboard)'],
  ['openRunFolder', '$(folder-opened)'],
  ['rerun', '$(debug-rerun)'],
  ['cancelRun', '$(debug-stop)'],
  ['deleteRun', '$(trash)'],
  ['refreshRuns', '$(refresh)'],
  ['showLog', '$(output)'],
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
    'view/title': [
      { command: 'sentimentDistiller.distill', when: 'view == sentimentDistiller.runs', group: 'navigation@1' },
      { command: 'sentimentDistiller.refreshRuns', when: 'view == sentimentDistiller.runs', group: 'navigation@2' },
      { command: 'sentimentDistiller.showLog', when: 'view == sentimentDistiller.runs', group: 'navigation@3' },
    ],
    'view/item/context': [
      { command: 'sentimentDistiller.cancelRun', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(running|queued)$/', group: 'inline@1' },
      { command: 'sentimentDistiller.openReport', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled)$/', group: 'inline@1' },
      { command: 'sentimentDistiller.openDashboard', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled)$/', group: '1_open@1' },
      { command: 'sentimentDistiller.openReport', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled)$/', group: '1_open@2' },
      { command: 'sentimentDistiller.openRunFolder', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled|failed)$/', group: '1_open@3' },
      { command: 'sentimentDistiller.rerun', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled|failed)$/', group: '2_run@1' },
      { command: 'sentimentDistiller.cancelRun', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(running|queued)$/', group: '2_run@2' },
      { command: 'sentimentDistiller.deleteRun', when: 'view == sentimentDistiller.runs && viewItem =~ /^run\\.(done|cancelled|failed)$/', group: '9_delete@1' },
    ],
    commandPalette: [
      { command: 'sentimentDistiller.openReport', when: 'false' },
      { command: 'sentimentDistiller.openDashboard', when: 'false' },
      { command: 'sentimentDistiller.openRunFolder', when: 'false' },
      { command: 'sentimentDistiller.rerun', when: 'false' },
      { command: 'sentimentDistiller.deleteRun', when: 'false' },
    ],
  },
  configuration: { title: '%config.title%', properties },
};

const packagePath = new URL('../package.json', import.meta.url);
const nlsPath = new URL('../package.nls.json', import.meta.url);
const pkg = JSON.parse(readFileSync(packagePath, 'utf8'));
const updated = {
  ...pkg,
  displayName: '%displayName%',
  description: '%description%',
  activationEvents: ['workspaceContains:.sentiment-distiller/runs'],
  extensionKind: ['workspace'],
  l10n: './l10n',
  capabilities: {
    untrustedWorkspaces: { supported: 'limited', description: '%untrusted.description%' },
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
