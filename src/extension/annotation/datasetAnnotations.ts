// Inline annotation of dataset files: end-of-line decorations with the teacher's and the
// student's predictions for the visible records, hovers with probability bars, "Set
// label" quick fixes, labelling keys and navigation between disagreements.
import { basename, extname, join } from 'node:path';
import * as vscode from 'vscode';
import { cellTokens, cellTokensFor, DISAGREE, findLabelCell, LABEL_ERROR, labelCellEdit, PredictionIndex, type AnnotationRecord, type LabelLayout } from '../../core/annotate';
import { LineShifts } from '../../core/annotate/shifts';
import { getLog } from '../log';
import { SECTION } from '../settings';
import { decorationText, hoverMarkdown } from './render';
import { runsForFile, type FinishedRun } from './runs';

export type ShowMode = 'all' | 'disagreements' | 'labelErrors' | 'off';

/** Extensions of the files whose records can carry annotations. */
export const DATASET_EXTENSIONS = new Set(['.csv', '.tsv', '.jsonl', '.ndjson', '.json', '.txt']);
/** Lines above and below the visible range that get decorations too, so a short scroll shows them at once. */
const MARGIN_LINES = 40;
const RENDER_DELAY_MS = 60;
/** Lines read after a record's first line when looking for its label cell (a quoted field may span lines). */
const MAX_RECORD_LINES = 200;

interface Annotated {
  uri: vscode.Uri;
  file: string;
  run: FinishedRun;
  index: PredictionIndex;
  layout?: LabelLayout;
  layoutError?: string;
  shifts: LineShifts;
  /** Editor line offset of a document that shows a slice of the file (large-file view); 0 for the file itself. */
  lineOffset: number;
}

/** One decoration of the last render of an editor, as the in-extension-host tests read it. */
export interface RenderedDecoration {
  /** 1-based editor line. */
  line: number;
  kind: 'agree' | 'disagree' | 'labelError';
  text: string;
}

export function showMode(scope?: vscode.Uri): ShowMode {
  return vscode.workspace.getConfiguration(SECTION, scope).get<ShowMode>('annotations.show', 'all');
}

function maxDecorations(scope?: vscode.Uri): number {
  return Math.max(1, vscode.workspace.getConfiguration(SECTION, scope).get<number>('annotations.maxDecorations', 500));
}

function maskFor(mode: ShowMode): number {
  return mode === 'labelErrors' ? LABEL_ERROR : DISAGREE | LABEL_ERROR;
}

export class DatasetAnnotations implements vscode.Disposable {
  private readonly states = new Map<string, Annotated | Promise<Annotated | undefined>>();
  /** Run chosen with "Choose Run for Annotations…", by data file. */
  private readonly pinned = new Map<string, string>();
  private readonly timers = new Map<vscode.TextEditor, NodeJS.Timeout>();
  private readonly rendered = new Map<string, RenderedDecoration[]>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly types: Record<RenderedDecoration['kind'], vscode.TextEditorDecorationType>;
  private readonly statusBar: vscode.StatusBarItem;
  private hidden = false;
  private labelling = false;
  /** Maps a read-only window document of a large file to the file and its first line (set by the large-file view). */
  sliceResolver: ((uri: vscode.Uri) => { file: string; firstLine: number } | undefined) | undefined;

  constructor() {
    const after = { margin: '0 0 0 1.5em', fontStyle: 'italic' };
    this.types = {
      agree: vscode.window.createTextEditorDecorationType({ after: { ...after, color: new vscode.ThemeColor('editorCodeLens.foreground') } }),
      disagree: vscode.window.createTextEditorDecorationType({
        after: { ...after, color: new vscode.ThemeColor('editorWarning.foreground') },
        backgroundColor: new vscode.ThemeColor('sentimentDistiller.disagreementBackground'),
        overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.warningForeground'),
        overviewRulerLane: vscode.OverviewRulerLane.Right,
        isWholeLine: true,
      }),
      labelError: vscode.window.createTextEditorDecorationType({
        after: { ...after, color: new vscode.ThemeColor('editorError.foreground') },
        backgroundColor: new vscode.ThemeColor('sentimentDistiller.labelErrorBackground'),
        overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.errorForeground'),
        overviewRulerLane: vscode.OverviewRulerLane.Right,
        isWholeLine: true,
      }),
    };
    this.statusBar = vscode.window.createStatusBarItem('sentimentDistiller.annotations', vscode.StatusBarAlignment.Right, 100);
    this.statusBar.name = vscode.l10n.t('Sentiment Distiller annotations');

    this.disposables.push(
      this.statusBar,
      ...Object.values(this.types),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((editor) => this.attachLogged(editor))),
      vscode.window.onDidChangeTextEditorVisibleRanges((event) => this.schedule(event.textEditor)),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateStatus()),
      vscode.window.onDidChangeTextEditorSelection((event) => {
        if (event.textEditor === vscode.window.activeTextEditor && this.labelling) this.updateStatus();
      }),
      vscode.workspace.onDidChangeTextDocument((event) => this.onEdit(event)),
      vscode.workspace.onDidCloseTextDocument((document) => {
        this.states.delete(document.uri.toString());
        this.rendered.delete(document.uri.toString());
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(`${SECTION}.annotations`)) this.renderAll();
      }),
      vscode.languages.registerCodeActionsProvider({ scheme: 'file' }, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    );
    for (const editor of vscode.window.visibleTextEditors) this.attachLogged(editor);
  }

  private attachLogged(editor: vscode.TextEditor): void {
    this.attach(editor).catch((error: Error) => getLog().error(`Annotating ${editor.document.uri.toString()} failed: ${error.stack ?? error.message}`));
  }

  /** Annotation state of a document, loading it on first use; undefined when no finished run lists the file. */
  async stateOf(document: vscode.TextDocument): Promise<Annotated | undefined> {
    const key = document.uri.toString();
    const existing = this.states.get(key);
    if (existing) return existing;
    const slice = this.sliceResolver?.(document.uri);
    if (!slice && document.uri.scheme !== 'file') return undefined;
    const file = slice?.file ?? document.uri.fsPath;
    if (!DATASET_EXTENSIONS.has(extname(file).toLowerCase())) return undefined;
    const loading = this.load(document.uri, file, slice ? slice.firstLine - 1 : 0);
    this.states.set(key, loading);
    const state = await loading;
    if (state) this.states.set(key, state);
    else this.states.delete(key);
    return state;
  }

  /** Returns the state if it is loaded already, without starting a load. */
  loadedState(uri: vscode.Uri): Annotated | undefined {
    const state = this.states.get(uri.toString());
    return state instanceof Promise ? undefined : state;
  }

  private async load(uri: vscode.Uri, file: string, lineOffset: number): Promise<Annotated | undefined> {
    const runs = runsForFile(file);
    if (runs.length === 0) return undefined;
    const pinned = this.pinned.get(file);
    const run = runs.find((candidate) => candidate.runDir === pinned) ?? runs[0];
    const log = getLog();
    const started = Date.now();
    let index: PredictionIndex;
    try {
      index = await PredictionIndex.build(file, join(run.runDir, 'predictions.jsonl'), join(run.runDir, 'disagreements.jsonl'));
    } catch (error) {
      log.error(`Could not read the predictions of ${run.runDir} for ${file}: ${(error as Error).message}`);
      return undefined;
    }
    if (index.size === 0) return undefined;
    log.info(`Annotations for ${file}: ${index.size} records from run ${run.runId}, indexed in ${Date.now() - started} ms.`);
    const state: Annotated = { uri, file, run, index, shifts: new LineShifts(), lineOffset };
    if (uri.scheme !== 'file') {
      state.layoutError = vscode.l10n.t('this view of a large file is read-only.');
      return state;
    }
    // The label cell layout is only needed to rewrite labels, so a failure here leaves the decorations in place.
    try {
      const { detectLabelLayout, readOptionsFromSettings } = await import('../../core/annotate/layout');
      state.layout = await detectLabelLayout(file, readOptionsFromSettings(run.settings.data ?? {}));
      if (!state.layout.spec) state.layoutError = state.layout.reason;
    } catch (error) {
      state.layoutError = (error as Error).message;
      log.warn(`Labels of ${file} cannot be rewritten: ${state.layoutError}`);
    }
    return state;
  }

  /** Reloads every open document, for example after a run finished or the user chose another run. */
  reload(): void {
    this.states.clear();
    for (const editor of vscode.window.visibleTextEditors) this.attachLogged(editor);
  }

  private async attach(editor: vscode.TextEditor): Promise<void> {
    const state = await this.stateOf(editor.document);
    if (!state) {
      this.clear(editor);
      return;
    }
    this.schedule(editor);
    this.updateStatus();
  }

  /** Debounced: scrolling fires visible-range events many times a second. */
  schedule(editor: vscode.TextEditor): void {
    const pending = this.timers.get(editor);
    if (pending) clearTimeout(pending);
    this.timers.set(
      editor,
      setTimeout(() => {
        this.timers.delete(editor);
        void this.render(editor).catch((error: Error) => getLog().error(`Rendering annotations of ${editor.document.uri.fsPath} failed: ${error.stack ?? error.message}`));
      }, RENDER_DELAY_MS),
    );
  }

  private renderAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.schedule(editor);
    this.updateStatus();
  }

  private clear(editor: vscode.TextEditor): void {
    for (const type of Object.values(this.types)) editor.setDecorations(type, []);
    this.rendered.delete(editor.document.uri.toString());
  }

  /** Editor line (0-based) of a record that starts on run line `line` (1-based); undefined when an edit removed it. */
  editorLine(state: Annotated, line: number): number | undefined {
    const mapped = state.shifts.toEditor(line - 1);
    return mapped === undefined ? undefined : mapped - state.lineOffset;
  }

  /** Run line (1-based) of editor line `line` (0-based). */
  runLine(state: Annotated, line: number): number {
    return state.shifts.toRun(line + state.lineOffset) + 1;
  }

  async render(editor: vscode.TextEditor): Promise<void> {
    const state = this.loadedState(editor.document.uri);
    const mode = showMode(editor.document.uri);
    if (!state || this.hidden || mode === 'off') {
      this.clear(editor);
      return;
    }
    const cap = maxDecorations(editor.document.uri);
    const lineCount = editor.document.lineCount;
    const positions: [number, number][] = [];
    let total = 0;
    for (const range of editor.visibleRanges) {
      const first = this.runLine(state, Math.max(0, range.start.line - MARGIN_LINES));
      const last = this.runLine(state, Math.min(lineCount - 1, range.end.line + MARGIN_LINES));
      const [from, to] = state.index.range(first, last);
      const end = Math.min(to, from + cap - total);
      if (end > from) positions.push([from, end]);
      total += Math.max(0, end - from);
      if (total >= cap) break;
    }

    const decorations: Record<RenderedDecoration['kind'], vscode.DecorationOptions[]> = { agree: [], disagree: [], labelError: [] };
    const rendered: RenderedDecoration[] = [];
    const editable = state.layout?.spec !== undefined;
    for (const [from, to] of positions) {
      for (const record of await state.index.records(from, to)) {
        if (mode === 'disagreements' && !record.disagree && !record.labelError) continue;
        if (mode === 'labelErrors' && !record.labelError) continue;
        const line = this.editorLine(state, record.source.line);
        if (line === undefined || line < 0 || line >= lineCount) continue;
        const kind: RenderedDecoration['kind'] = record.labelError ? 'labelError' : record.disagree ? 'disagree' : 'agree';
        const text = decorationText(record, state.run.labels);
        decorations[kind].push({
          range: editor.document.lineAt(line).range,
          hoverMessage: hoverMarkdown(record, state.run.labels, state.run.runId, editor.document.uri, editable),
          renderOptions: { after: { contentText: text } },
        });
        rendered.push({ line: line + 1, kind, text: text.trim() });
      }
    }
    // The document may have closed or the state reloaded while records were read.
    if (this.loadedState(editor.document.uri) !== state) return;
    for (const kind of Object.keys(this.types) as RenderedDecoration['kind'][]) editor.setDecorations(this.types[kind], decorations[kind]);
    this.rendered.set(editor.document.uri.toString(), rendered.sort((a, b) => a.line - b.line));
  }

  private onEdit(event: vscode.TextDocumentChangeEvent): void {
    const state = this.loadedState(event.document.uri);
    if (!state) return;
    // Changes in one event are given against the text before the event, last position first.
    const changes = [...event.contentChanges].sort((a, b) => b.range.start.line - a.range.start.line);
    for (const change of changes) {
      const newLines = change.text.split(/\r\n|\r|\n/).length;
      state.shifts.record(change.range.start.line + state.lineOffset, change.range.start.character, change.range.end.line + state.lineOffset, change.range.end.character, newLines);
    }
    for (const editor of vscode.window.visibleTextEditors) if (editor.document === event.document) this.schedule(editor);
  }

  private async recordAt(editor: vscode.TextEditor, line: number): Promise<{ state: Annotated; record: AnnotationRecord } | undefined> {
    const state = await this.stateOf(editor.document);
    if (!state) return undefined;
    const position = state.index.positionAt(this.runLine(state, line));
    if (position === undefined) return undefined;
    const [record] = await state.index.records(position, position + 1);
    return record ? { state, record } : undefined;
  }

  /**
   * Rewrites the label cell of the record that starts on run line `line` with a
   * WorkspaceEdit, so undo restores it. Returns false (after telling the user why)
   * when the label cannot be rewritten.
   */
  async setLabel(document: vscode.TextDocument, line: number, label: string): Promise<boolean> {
    const state = await this.stateOf(document);
    if (!state) {
      void vscode.window.showWarningMessage(vscode.l10n.t('{0} has no annotations: no finished run lists this file.', basename(document.uri.fsPath)));
      return false;
    }
    const layout = state.layout;
    if (!layout?.spec) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Labels in {0} cannot be rewritten: {1}', basename(state.file), state.layoutError ?? ''));
      return false;
    }
    if (!state.run.labels.includes(label)) {
      void vscode.window.showWarningMessage(vscode.l10n.t('"{0}" is not a label of run {1}; its labels are {2}.', label, state.run.runId, state.run.labels.join(', ')));
      return false;
    }
    const editorLine = this.editorLine(state, line);
    if (editorLine === undefined || editorLine < 0 || editorLine >= document.lineCount) {
      void vscode.window.showWarningMessage(vscode.l10n.t('The record on line {0} was edited since the run, so its label cell is not known.', line));
      return false;
    }

    // Only the record's own lines are read: getText() of a whole 40 MB document costs more than the edit.
    const position = state.index.positionAt(line);
    const nextLine = position !== undefined && position + 1 < state.index.size ? this.editorLine(state, state.index.lines[position + 1]) : undefined;
    const lastLine = Math.min(document.lineCount - 1, nextLine !== undefined && nextLine > editorLine ? nextLine - 1 : editorLine + MAX_RECORD_LINES);
    const slice = new vscode.Range(editorLine, 0, lastLine, document.lineAt(lastLine).range.end.character);
    const text = document.getText(slice);
    const base = document.offsetAt(slice.start);

    const cell = findLabelCell(text, 0, layout.spec);
    if (!cell) {
      void vscode.window.showWarningMessage(vscode.l10n.t('No label cell ({0}) found in the record on line {1}.', layout.labelColumn ?? '?', editorLine + 1));
      return false;
    }
    const currentTokens = cellTokens(cell.value, layout.multiLabel);
    let names = [label];
    if (state.run.task === 'multilabel') {
      // Multi-label cells toggle the label, keeping the others.
      const currentNames = currentTokens.map((token) => (layout.integersIndexNames && /^\d+$/.test(token) && !state.run.labels.includes(token) ? state.run.labels[Number(token)] : token));
      names = currentNames.includes(label) ? currentNames.filter((name) => name !== label) : [...currentNames, label];
    }
    const edit = labelCellEdit(text, 1, layout.spec, cellTokensFor(names, state.run.labels, currentTokens, layout.integersIndexNames));
    if (!edit) return false;
    const workspaceEdit = new vscode.WorkspaceEdit();
    workspaceEdit.replace(document.uri, new vscode.Range(document.positionAt(base + edit.start), document.positionAt(base + edit.end)), edit.text);
    return vscode.workspace.applyEdit(workspaceEdit);
  }

  /** "Set label" for the record under the cursor: a label number (1-based, keys 1–9), a label name, or a quick pick. */
  async setLabelAtCursor(choice?: number | string): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    const found = await this.recordAt(editor, editor.selection.active.line);
    if (!found) {
      void vscode.window.showInformationMessage(vscode.l10n.t('The cursor is not on an annotated record.'));
      return;
    }
    const { state, record } = found;
    let label: string | undefined;
    if (typeof choice === 'number') {
      label = state.run.labels[choice - 1];
      if (label === undefined) {
        void vscode.window.showWarningMessage(vscode.l10n.t('Run {0} has {1} labels, so key {2} sets none.', state.run.runId, state.run.labels.length, choice));
        return;
      }
    } else if (typeof choice === 'string') {
      label = choice;
    } else {
      const picked = await vscode.window.showQuickPick(
        state.run.labels.map((name, i) => ({ label: name, description: this.describeLabel(record, i) })),
        { title: vscode.l10n.t('Set label of the record on line {0}', record.source.line), placeHolder: vscode.l10n.t('Gold: {0}', record.gold?.join(', ') ?? '–') },
      );
      label = picked?.label;
    }
    if (label === undefined) return;
    const done = await this.setLabel(editor.document, record.source.line, label);
    // In labelling mode the cursor moves on, as in annotation tools, so a run of keys labels consecutive records.
    if (done && this.labelling) {
      const position = state.index.positionAt(record.source.line);
      const next = position !== undefined && position + 1 < state.index.size ? this.editorLine(state, state.index.lines[position + 1]) : undefined;
      if (next !== undefined) this.moveTo(editor, next);
    }
  }

  private describeLabel(record: AnnotationRecord, i: number): string {
    const parts = [];
    if (record.teacher) parts.push(vscode.l10n.t('teacher {0}', `${Math.round((record.teacher.probabilities[i] ?? 0) * 100)}%`));
    parts.push(vscode.l10n.t('student {0}', `${Math.round((record.student.probabilities[i] ?? 0) * 100)}%`));
    return parts.join(' · ');
  }

  private moveTo(editor: vscode.TextEditor, line: number): void {
    const position = new vscode.Position(line, 0);
    editor.selection = new vscode.Selection(position, position);
    editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  /** Moves the cursor to the next (or previous) record where teacher and student disagree or the gold label looks wrong, wrapping around. */
  async goToDisagreement(direction: 1 | -1): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    const state = await this.stateOf(editor.document);
    if (!state) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} has no annotations: no finished run lists this file.', basename(editor.document.uri.fsPath)));
      return;
    }
    const mode = showMode(editor.document.uri);
    const cursorRecord = state.index.positionAt(this.runLine(state, editor.selection.active.line));
    const fromLine = cursorRecord !== undefined ? state.index.lines[cursorRecord] : 0;
    const mask = maskFor(mode);
    let position = state.index.findFlagged(fromLine, mask, direction);
    // Records removed by edits are skipped; the loop ends after one pass over the flagged records.
    for (let tries = 0; position !== undefined && this.editorLine(state, state.index.lines[position]) === undefined && tries < state.index.size; tries++) {
      position = state.index.findFlagged(state.index.lines[position], mask, direction);
    }
    if (position === undefined) {
      void vscode.window.showInformationMessage(mode === 'labelErrors' ? vscode.l10n.t('Run {0} marks no possible label errors in this file.', state.run.runId) : vscode.l10n.t('Teacher and student agree on every record of this file in run {0}.', state.run.runId));
      return;
    }
    this.moveTo(editor, this.editorLine(state, state.index.lines[position])!);
  }

  toggleVisible(): void {
    this.hidden = !this.hidden;
    this.renderAll();
  }

  async toggleLabelling(): Promise<void> {
    this.labelling = !this.labelling;
    await vscode.commands.executeCommand('setContext', 'sentimentDistiller.labelling', this.labelling);
    this.updateStatus();
  }

  async pickRun(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const file = editor ? (this.loadedState(editor.document.uri)?.file ?? editor.document.uri.fsPath) : undefined;
    if (!editor || !file) return;
    const runs = runsForFile(file);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No finished run lists {0} as its train, dev or test file. Distill a model on it first.', basename(file)));
      return;
    }
    const current = this.loadedState(editor.document.uri)?.run.runDir;
    const picked = await vscode.window.showQuickPick(
      runs.map((run) => ({
        label: run.runId,
        description: [run.student, run.teacher, new Date(run.startedAt).toLocaleString()].filter(Boolean).join(' · '),
        detail: run.runDir === current ? vscode.l10n.t('shown now') : undefined,
        run,
      })),
      { title: vscode.l10n.t('Run whose predictions annotate {0}', basename(file)) },
    );
    if (!picked) return;
    this.pinned.set(file, picked.run.runDir);
    this.states.delete(editor.document.uri.toString());
    await this.attach(editor);
  }

  /** Records decorated by the last render of a document, for tests. */
  renderedOf(uri: vscode.Uri): RenderedDecoration[] {
    return this.rendered.get(uri.toString()) ?? [];
  }

  updateStatus(): void {
    const editor = vscode.window.activeTextEditor;
    const state = editor ? this.loadedState(editor.document.uri) : undefined;
    void vscode.commands.executeCommand('setContext', 'sentimentDistiller.annotated', state !== undefined);
    if (!state) {
      this.statusBar.hide();
      return;
    }
    let disagreements = 0;
    let labelErrors = 0;
    for (const flags of state.index.flags) {
      if (flags & DISAGREE) disagreements += 1;
      if (flags & LABEL_ERROR) labelErrors += 1;
    }
    const keys = state.run.labels.slice(0, 9).map((label, i) => `${i + 1} ${label}`).join(' · ');
    this.statusBar.text = this.labelling
      ? `$(record-keys) ${vscode.l10n.t('Labelling')}: ${keys} · ${vscode.l10n.t('n/N next/previous')}`
      : `$(beaker) ${vscode.l10n.t('{0} disagreements, {1} possible label errors', disagreements, labelErrors)}${this.hidden ? ` (${vscode.l10n.t('hidden')})` : ''}`;
    this.statusBar.tooltip = vscode.l10n.t('Annotations from run {0} ({1} records of this file). Click to choose another run.', state.run.runId, state.index.size);
    this.statusBar.command = this.labelling ? 'sentimentDistiller.annotations.toggleLabelling' : 'sentimentDistiller.annotations.pickRun';
    this.statusBar.show();
  }

  async provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection): Promise<vscode.CodeAction[]> {
    const state = this.loadedState(document.uri);
    if (!state?.layout?.spec) return [];
    const position = state.index.positionAt(this.runLine(state, range.start.line));
    if (position === undefined) return [];
    const [record] = await state.index.records(position, position + 1);
    if (!record || this.editorLine(state, record.source.line) !== range.start.line) return [];
    return state.run.labels.map((label, i) => {
      const action = new vscode.CodeAction(vscode.l10n.t('Set label: {0} ({1})', label, this.describeLabel(record, i)), vscode.CodeActionKind.QuickFix);
      action.command = { command: 'sentimentDistiller.annotations.setLabel', title: action.title, arguments: [{ uri: document.uri.toString(), line: record.source.line, label }] };
      action.isPreferred = record.labelError && record.teacher?.labels[0] === label;
      return action;
    });
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const disposable of this.disposables) disposable.dispose();
  }
}
