// Terminal rendering of run events: a progress bar per stage on a TTY, plain
// time-throttled lines otherwise (CI logs), all on standard error.
import { SingleBar, Presets } from 'cli-progress';
import { describeEpoch, throttleProgress, type EventSink, type RunEvent } from '../core/events';

export interface Renderer {
  onEvent: EventSink;
  finish(): void;
}

export function createRenderer(options: { quiet: boolean; stream?: NodeJS.WriteStream }): Renderer {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) {
    return {
      onEvent: (event) => {
        if (event.type === 'log' && (event.level === 'warn' || event.level === 'error')) stream.write(`${event.level}: ${event.message}\n`);
      },
      finish: () => undefined,
    };
  }
  const interactive = stream.isTTY === true;
  let bar: SingleBar | undefined;
  let barStage: string | undefined;

  const stopBar = () => {
    bar?.stop();
    bar = undefined;
    barStage = undefined;
  };

  const write = (line: string) => {
    if (bar) {
      // Keep the bar below the log line.
      stream.write('\r\x1b[K' + line + '\n');
    } else {
      stream.write(line + '\n');
    }
  };

  const handle = (event: RunEvent) => {
    switch (event.type) {
      case 'stage':
        stopBar();
        write(`▸ ${event.message}`);
        break;
      case 'log':
        if (event.level !== 'debug' && event.level !== 'trace') write(event.level === 'info' ? `  ${event.message}` : `  ${event.level}: ${event.message}`);
        break;
      case 'epoch':
        write(`  ${describeEpoch(event)}`);
        break;
      case 'progress': {
        if (!interactive) {
          const percent = ((100 * event.done) / Math.max(1, event.total)).toFixed(0);
          stream.write(`  ${event.stage} ${percent}% (${event.done}/${event.total})${event.loss !== undefined ? ` loss ${event.loss.toFixed(4)}` : ''}\n`);
          break;
        }
        if (barStage !== event.stage) {
          stopBar();
          bar = new SingleBar({ format: `  ${event.stage} [{bar}] {percentage}% | {value}/{total} | epoch {epoch} | loss {loss} | ETA {eta_formatted}`, stream, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
          bar.start(event.total, event.done, { epoch: '-', loss: '-' });
          barStage = event.stage;
        }
        bar!.update(event.done, { epoch: event.epoch !== undefined ? `${event.epoch}/${event.epochs}` : '-', loss: event.loss !== undefined ? event.loss.toFixed(4) : '-' });
        break;
      }
      case 'step':
        break;
    }
  };
  return { onEvent: throttleProgress(handle, interactive ? 100 : 5000), finish: stopBar };
}
