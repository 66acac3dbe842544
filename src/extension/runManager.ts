// Queues distillation runs and drives one training host process per running run:
// progress notification with Cancel, status bar item, log lines tagged with the run id,
// heartbeat watchdog, and a failed status for hosts that crash or hang.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { DistillConfig } from '../core/config';
import { describeEpoch, type RunEvent } from '../core/events';
import { RunFolder } from '../core/runs/store';
import { HEARTBEAT_TIMEOUT_MS, WINDOW_CLOSED_ERROR, isHostMessage, type ExtensionMessage, type HostMessage, type RunResultSummary } from '../host/protocol';
import { getLog } from './log';
import { maxConcurrentRuns } from './settings';

export type TrackedState = 'queued' | 'starting' | 'running' | 'done' | 'failed' | 'cancelled';

export interface TrackedRun {
  /** In-memory id, known before the run folder exists. */
  readonly key: string;
  readonly label: string;
  readonly config: DistillConfig;
  state: TrackedState;
  runId?: string;
  runDir?: string;
  pid?: number;
  /** Latest progress, for the status bar and the Runs view. */
  progress?: { stage: string; percent: number; epoch?: number; epochs?: number; loss?: number; etaSeconds?: number };
  summary?: RunResultSummary;
  error?: string;
  /** Set for a run that continues an existing run folder from its checkpoint. */
  resume?: boolean;
}

const LOG_TAIL_LINES = 20;

export class RunManager implements vscode.Disposable {
  private readonly runs: TrackedRun[] = [];
  private readonly children = new Map<string, ChildProcess>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly statusBar: vscode.StatusBarItem;
  readonly onDidChange = this.changed.event;

  constructor(private readonly hostScript: string) {
    this.statusBar = vscode.window.createStatusBarItem('sentimentDistiller.status', vscode.StatusBarAlignment.Left, 50);
    this.statusBar.name = vscode.l10n.t('Sentiment Distiller training');
    this.statusBar.command = 'sentimentDistiller.showLog';
  }

  /** Runs that are queued or running, newest first. */
  get pending(): TrackedRun[] {
    return this.runs.filter((run) => run.state === 'queued' || run.state === 'starting' || run.state === 'running').reverse();
  }

  /** The newest tracked run of `runDir` (a resumed run is tracked again under the same folder). */
  findByDir(runDir: string): TrackedRun | undefined {
    return [...this.runs].reverse().find((run) => run.runDir === runDir);
  }

  enqueue(config: DistillConfig): TrackedRun {
    const run: TrackedRun = { key: randomUUID(), label: `${basename(config.data.train)} · ${config.student.kind}`, config, state: 'queued' };
    this.runs.push(run);
    getLog().info(`Queued a run on ${config.data.train} (${config.student.kind} student, ${config.teacher.kind} teacher).`);
    this.changed.fire();
    this.startQueued();
    return run;
  }

  /** Queues the continuation of the failed or cancelled run in `runDir`; `config` is its config.json settings, for labels and logs. */
  enqueueResume(runDir: string, config: DistillConfig): TrackedRun {
    const existing = this.findByDir(runDir);
    if (existing && (existing.state === 'queued' || existing.state === 'starting' || existing.state === 'running')) return existing;
    const run: TrackedRun = { key: randomUUID(), label: `${basename(config.data.train)} · ${config.student.kind}`, config, state: 'queued', runDir, runId: basename(runDir), resume: true };
    this.runs.push(run);
    getLog().info(`Queued resuming ${runDir} from its last checkpoint.`);
    this.changed.fire();
    this.startQueued();
    return run;
  }

  cancel(run: TrackedRun): void {
    if (run.state === 'queued') {
      run.state = 'cancelled';
      getLog().info(`Removed a queued run on ${run.config.data.train} from the queue.`);
      this.changed.fire();
      return;
    }
    const child = this.children.get(run.key);
    if (!child) return;
    getLog().info(`[${run.runId ?? run.key}] Cancel requested; the run stops after the current batch.`);
    send(child, { type: 'cancel' });
  }

  private startQueued(): void {
    const active = this.runs.filter((run) => run.state === 'starting' || run.state === 'running').length;
    const next = this.runs.find((run) => run.state === 'queued');
    if (!next || active >= maxConcurrentRuns()) return;
    this.start(next);
    this.startQueued();
  }

  private start(run: TrackedRun): void {
    run.state = 'starting';
    this.changed.fire();
    const log = getLog();
    const tail: string[] = [];
    const remember = (line: string) => {
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
    };

    // ELECTRON_RUN_AS_NODE makes the desktop app's binary behave as plain Node; in
    // code-server and VS Code Server, process.execPath already is Node.
    const child = fork(this.hostScript, [], {
      execPath: process.execPath,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    this.children.set(run.key, child);
    run.pid = child.pid;
    const tag = () => `[${run.runId ?? run.key.slice(0, 8)}]`;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter((l) => l.trim() !== '')) {
          remember(line);
          log.warn(`${tag()} host: ${line}`);
        }
      });
    }

    let lastHeartbeat = Date.now();
    let finished = false;
    let resolveProgress: () => void = () => undefined;
    let reportProgress: (event: Extract<RunEvent, { type: 'progress' }>) => void = () => undefined;

    const watchdog = setInterval(() => {
      if (Date.now() - lastHeartbeat > HEARTBEAT_TIMEOUT_MS) {
        log.error(`${tag()} The training host (pid ${child.pid}) sent no heartbeat for ${HEARTBEAT_TIMEOUT_MS / 1000} s; stopping it.`);
        child.kill('SIGKILL');
      }
    }, 2000);

    const finish = (state: 'done' | 'failed' | 'cancelled', error?: string) => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      this.children.delete(run.key);
      run.state = state;
      run.error = error;
      run.progress = undefined;
      resolveProgress();
      this.updateStatusBar();
      this.changed.fire();
      this.startQueued();
    };

    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Distilling {0}', run.label), cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => this.cancel(run));
        let reported = 0;
        reportProgress = (event) => {
          const percent = event.total > 0 ? (100 * event.done) / event.total : 0;
          const stageShare = stageWeight(event.stage);
          const overall = stageShare.start + (stageShare.size * percent) / 100;
          const increment = Math.max(0, overall - reported);
          reported += increment;
          const eta = event.etaSeconds !== undefined ? vscode.l10n.t(', {0} left', formatDuration(event.etaSeconds)) : '';
          const epoch = event.epoch !== undefined ? vscode.l10n.t('epoch {0}/{1}', event.epoch, event.epochs ?? '?') + ' · ' : '';
          // The link opens the live dashboard; notifications render Markdown command links.
          const link = run.runDir ? ` · [${vscode.l10n.t('Open Dashboard')}](command:sentimentDistiller.openDashboard?${encodeURIComponent(JSON.stringify([run.runDir]))})` : '';
          progress.report({ increment, message: `${stageLabel(event.stage)} · ${epoch}${Math.round(percent)}%${eta}${link}` });
        };
        return new Promise<void>((resolve) => {
          resolveProgress = resolve;
        });
      },
    );

    child.on('message', (message: unknown) => {
      if (!isHostMessage(message)) {
        log.warn(`${tag()} Ignoring an invalid message from the training host: ${JSON.stringify(message)?.slice(0, 200)}`);
        return;
      }
      lastHeartbeat = Date.now();
      this.handleMessage(run, child, message, { finish, reportProgress, remember, tag });
    });

    child.on('error', (error) => {
      log.error(`${tag()} The training host failed to start: ${error.message}`);
      finish('failed', error.message);
    });

    child.on('exit', (code, signal) => {
      if (finished) return;
      const reason = signal ? vscode.l10n.t('was stopped by signal {0}', signal) : vscode.l10n.t('exited with code {0}', code ?? '?');
      const message = vscode.l10n.t('The training host {0} before the run finished.', reason);
      log.error(`${tag()} ${message}`);
      markFailed(run.runDir, message);
      finish('failed', message);
      const lastLine = tail[tail.length - 1];
      const detail = lastLine ? ' ' + vscode.l10n.t('Last log line: {0}', lastLine) : '';
      void vscode.window.showErrorMessage(message + detail, vscode.l10n.t('Show Log')).then((choice) => {
        if (choice) log.show();
      });
    });
  }

  private handleMessage(
    run: TrackedRun,
    child: ChildProcess,
    message: HostMessage,
    handlers: {
      finish: (state: 'done' | 'failed' | 'cancelled', error?: string) => void;
      reportProgress: (event: Extract<RunEvent, { type: 'progress' }>) => void;
      remember: (line: string) => void;
      tag: () => string;
    },
  ): void {
    const log = getLog();
    switch (message.type) {
      case 'ready':
        send(child, run.resume && run.runDir ? { type: 'resume', runDir: run.runDir } : { type: 'start', config: run.config });
        break;
      case 'heartbeat':
        break;
      case 'started':
        run.state = 'running';
        run.runId = message.runId;
        run.runDir = message.runDir;
        log.info(`${handlers.tag()} Started in ${message.runDir} (host pid ${child.pid}).`);
        this.changed.fire();
        break;
      case 'event':
        this.handleEvent(run, message.event, handlers);
        break;
      case 'done': {
        run.summary = message.summary;
        const state = message.summary.state === 'cancelled' ? 'cancelled' : 'done';
        log.info(`${handlers.tag()} Finished (${state}) in ${message.summary.seconds.toFixed(1)} s.`);
        handlers.finish(state);
        const metrics = message.summary.student.test ?? message.summary.student.dev;
        const headline = metrics ? (metrics.accuracy ?? metrics.microF1) : undefined;
        const text =
          state === 'done'
            ? vscode.l10n.t('Distillation finished: {0}, student {1}.', run.label, headline !== undefined ? headline.toFixed(4) : '–')
            : vscode.l10n.t('Distillation cancelled: {0}. The best checkpoint so far was kept.', run.label);
        const openDashboard = vscode.l10n.t('Open Dashboard');
        const openReport = vscode.l10n.t('Open Report');
        void vscode.window.showInformationMessage(text, openDashboard, openReport).then((choice) => {
          if (choice === openDashboard) void vscode.commands.executeCommand('sentimentDistiller.openDashboard', message.summary.runDir);
          else if (choice === openReport) void vscode.commands.executeCommand('sentimentDistiller.openReport', message.summary.runDir);
        });
        break;
      }
      case 'failed': {
        const cancelled = message.error.name === 'RunCancelledError';
        if (message.runDir) run.runDir = message.runDir;
        if (cancelled) {
          log.info(`${handlers.tag()} Cancelled.`);
          handlers.finish('cancelled');
          break;
        }
        log.error(`${handlers.tag()} ${message.error.formatted}${message.error.stack && message.error.name !== 'DataError' ? `\n${message.error.stack}` : ''}`);
        handlers.finish('failed', message.error.formatted);
        void vscode.window.showErrorMessage(vscode.l10n.t('Distillation failed: {0}', message.error.formatted.split('\n')[0]), vscode.l10n.t('Show Log')).then((choice) => {
          if (choice) log.show();
        });
        break;
      }
    }
  }

  private handleEvent(run: TrackedRun, event: RunEvent, handlers: { reportProgress: (event: Extract<RunEvent, { type: 'progress' }>) => void; remember: (line: string) => void; tag: () => string }): void {
    const log = getLog();
    switch (event.type) {
      case 'log': {
        const line = `${handlers.tag()} ${event.message}`;
        handlers.remember(event.message);
        if (event.level === 'error') log.error(line);
        else if (event.level === 'warn') log.warn(line);
        else if (event.level === 'debug' || event.level === 'trace') log.debug(line);
        else log.info(line);
        break;
      }
      case 'stage':
        log.info(`${handlers.tag()} ${event.message}`);
        handlers.remember(event.message);
        break;
      case 'epoch':
        log.info(`${handlers.tag()} ${describeEpoch(event)}`);
        break;
      case 'progress':
        run.progress = { stage: event.stage, percent: event.total > 0 ? (100 * event.done) / event.total : 0, epoch: event.epoch, epochs: event.epochs, loss: event.loss, etaSeconds: event.etaSeconds };
        handlers.reportProgress(event);
        this.updateStatusBar();
        this.changed.fire();
        break;
      case 'step':
        log.trace(`${handlers.tag()} step ${event.step}: loss ${event.losses.total.toFixed(4)}`);
        break;
    }
  }

  private updateStatusBar(): void {
    const running = this.runs.find((run) => run.state === 'running' && run.progress);
    if (!running?.progress) {
      this.statusBar.hide();
      return;
    }
    const p = running.progress;
    const parts = [`$(beaker) ${stageLabel(p.stage)}`];
    if (p.epoch !== undefined) parts.push(vscode.l10n.t('epoch {0}/{1}', p.epoch, p.epochs ?? '?'));
    if (p.loss !== undefined) parts.push(vscode.l10n.t('loss {0}', p.loss.toFixed(3)));
    if (p.etaSeconds !== undefined) parts.push(vscode.l10n.t('{0} left', formatDuration(p.etaSeconds)));
    this.statusBar.text = parts.join(' · ');
    this.statusBar.tooltip = vscode.l10n.t('{0}: {1}% of this stage. Click to show the log.', running.label, Math.round(p.percent));
    this.statusBar.show();
  }

  dispose(): void {
    for (const [key, child] of this.children) {
      getLog().info(`Stopping the training host (pid ${child.pid}) because the extension is shutting down.`);
      const run = this.runs.find((r) => r.key === key);
      markFailed(run?.runDir, WINDOW_CLOSED_ERROR);
      child.kill('SIGKILL');
    }
    this.children.clear();
    this.statusBar.dispose();
    this.changed.dispose();
  }
}

function send(child: ChildProcess, message: ExtensionMessage): void {
  if (child.connected) child.send(message);
}

/** Marks a run folder failed if the host could not (crash, kill, hang). */
function markFailed(runDir: string | undefined, error: string): void {
  if (!runDir || !existsSync(runDir)) return;
  try {
    const folder = RunFolder.open(runDir);
    if (folder.readStatus().state === 'running') folder.finish('failed', { error });
  } catch (failure) {
    getLog().warn(`Could not mark ${runDir} as failed: ${(failure as Error).message}`);
  }
}

/** Share of the whole run (in percent) that each stage takes in the notification's bar, an estimate. */
function stageWeight(stage: string): { start: number; size: number } {
  switch (stage) {
    case 'teacher-train':
      return { start: 5, size: 50 };
    case 'teacher-predict':
      return { start: 55, size: 5 };
    case 'student-train':
      return { start: 60, size: 35 };
    default:
      return { start: 95, size: 5 };
  }
}

function stageLabel(stage: string): string {
  switch (stage) {
    case 'load':
      return vscode.l10n.t('Reading data');
    case 'tokenize':
      return vscode.l10n.t('Tokenizing');
    case 'teacher-train':
      return vscode.l10n.t('Training teacher');
    case 'teacher-predict':
      return vscode.l10n.t('Teacher outputs');
    case 'student-train':
      return vscode.l10n.t('Training student');
    case 'evaluate':
      return vscode.l10n.t('Evaluating');
    default:
      return vscode.l10n.t('Saving');
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}
