// The training host: a Node process forked by the extension (or started by tests) that
// runs one distillation and reports over the IPC channel. Keeping TensorFlow.js out of
// the extension host means a crash or a long step never freezes the editor.
import { resolveConfig } from '../core/config';
import { throttleProgress } from '../core/events';
import { resumeDistillation, runDistillation } from '../core/pipeline/run';
import { RunFolder } from '../core/runs/store';
import { HEARTBEAT_INTERVAL_MS, WINDOW_CLOSED_ERROR, isExtensionMessage, type HostError, type HostMessage } from './protocol';

function send(message: HostMessage): void {
  if (!process.connected) return;
  // With a callback, a write to a channel that just closed (EPIPE) is reported here instead
  // of as an uncaught 'error' event. The 'disconnect' handler then ends the run.
  process.send?.(message, undefined, undefined, (error: Error | null) => {
    if (error) process.stderr.write(`Could not send a ${message.type} message to the extension: ${error.message}\n`);
  });
}

function describeError(error: unknown): HostError {
  if (error instanceof Error) {
    const format = (error as { format?: () => string }).format;
    return { name: error.name, message: error.message, formatted: typeof format === 'function' ? format.call(error) : error.message, stack: error.stack };
  }
  return { name: 'Error', message: String(error), formatted: String(error) };
}

function main(): void {
  if (!process.send) {
    process.stderr.write('The training host must be started by the extension with an IPC channel (child_process.fork).\n');
    process.exit(2);
  }
  const controller = new AbortController();
  let started = false;
  let runDir: string | undefined;
  const heartbeat = setInterval(() => send({ type: 'heartbeat', time: Date.now() }), HEARTBEAT_INTERVAL_MS);

  process.on('message', (message: unknown) => {
    if (!isExtensionMessage(message)) {
      process.stderr.write(`Ignoring an invalid message: ${JSON.stringify(message)?.slice(0, 200)}\n`);
      return;
    }
    if (message.type === 'cancel') {
      controller.abort();
      return;
    }
    if (started) {
      process.stderr.write('Ignoring a second start message: a host runs one distillation.\n');
      return;
    }
    started = true;
    void (async () => {
      try {
        const options = {
          signal: controller.signal,
          onStart: (run: { runId: string; runDir: string }) => {
            runDir = run.runDir;
            send({ type: 'started', ...run });
          },
          onEvent: throttleProgress((event) => send({ type: 'event', event }), 250),
        };
        if (message.type === 'resume') runDir = message.runDir;
        const summary = message.type === 'resume' ? await resumeDistillation(message.runDir, options) : await runDistillation(resolveConfig(message.config), options);
        send({
          type: 'done',
          summary: {
            runId: summary.runId,
            runDir: summary.runDir,
            state: summary.state,
            task: summary.task,
            labels: summary.labels,
            backend: `${summary.backend.name} (${summary.backend.device})`,
            teacher: summary.teacher,
            student: summary.student,
            bestEpoch: summary.bestEpoch,
            seconds: summary.seconds,
            reportHtml: summary.report.html,
          },
        });
      } catch (error) {
        send({ type: 'failed', error: describeError(error), runDir });
      } finally {
        clearInterval(heartbeat);
        // Let the IPC channel flush the last message before leaving.
        setTimeout(() => process.exit(0), 100);
      }
    })();
  });
  process.on('disconnect', () => {
    // The extension went away (window closed or reloaded). Finishing the run as cancelled
    // would hide it from the resume offer, so the run is marked failed and the process exits
    // at once. The checkpoint of the last finished epoch is complete: it is written by
    // synchronous calls that this handler cannot interrupt.
    controller.abort();
    if (runDir) {
      try {
        const folder = RunFolder.open(runDir);
        if (folder.readStatus().state === 'running') folder.finish('failed', { error: WINDOW_CLOSED_ERROR });
      } catch (error) {
        process.stderr.write(`Could not mark ${runDir} as failed: ${(error as Error).message}\n`);
      }
    }
    process.exit(0);
  });
  send({ type: 'ready', pid: process.pid });
}

main();
