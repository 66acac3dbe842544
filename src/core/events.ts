// Events a distillation run emits while it works. The CLI renders them as a progress
// bar and log lines; the training host forwards them to the extension unchanged.

export type RunStage = 'load' | 'tokenize' | 'teacher-train' | 'teacher-predict' | 'student-train' | 'evaluate' | 'save';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export type RunEvent =
  | { type: 'stage'; stage: RunStage; message: string }
  | {
      type: 'progress';
      stage: RunStage;
      /** Completed units of the stage (steps or examples) and the total. */
      done: number;
      total: number;
      epoch?: number;
      epochs?: number;
      loss?: number;
      /** Estimated seconds left in the stage, when known. */
      etaSeconds?: number;
    }
  | { type: 'step'; role: 'teacher' | 'student'; epoch: number; step: number; losses: LossBreakdown; learningRate: number; temperature: number; alpha: number }
  | { type: 'epoch'; role: 'teacher' | 'student'; epoch: number; trainLoss: number; devLoss: number; dev: Record<string, number>; best: boolean; seconds: number }
  | { type: 'log'; level: LogLevel; message: string };

/** Mean loss terms over the steps since the previous `step` event. */
export interface LossBreakdown {
  total: number;
  ce?: number;
  kd?: number;
  logitMse?: number;
  feature?: number;
  gradientMatching?: number;
}

export type EventSink = (event: RunEvent) => void;

/**
 * Wraps `sink` so `progress` events pass at most every `intervalMs`, plus the first
 * and the last of each stage; every other event passes at once.
 */
export function throttleProgress(sink: EventSink, intervalMs = 250): EventSink {
  let last = 0;
  return (event) => {
    if (event.type !== 'progress') return sink(event);
    const now = Date.now();
    if (event.done === 0 || event.done >= event.total || now - last >= intervalMs) {
      last = now;
      sink(event);
    }
  };
}

/** One line for an `epoch` event: losses and the headline dev metrics. */
export function describeEpoch(event: Extract<RunEvent, { type: 'epoch' }>): string {
  const metrics = Object.entries(event.dev)
    .filter(([key]) => ['accuracy', 'macroF1', 'microF1'].includes(key))
    .map(([key, value]) => `${key} ${value.toFixed(4)}`)
    .join(', ');
  return `${event.role} epoch ${event.epoch}: train loss ${event.trainLoss.toFixed(4)}, dev loss ${event.devLoss.toFixed(4)}, dev ${metrics} (${event.seconds.toFixed(1)} s)${event.best ? ', best so far' : ''}`;
}
