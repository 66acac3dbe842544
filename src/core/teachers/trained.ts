// The default teacher when no pretrained model is available: a larger model of one of
// the student architectures, trained in the run on every gold label first.
import type { DistillConfig } from '../config';
import type { EventSink } from '../events';
import { createStudent, defaultStudentConfig, type Student } from '../students';
import type { StudentTokenizer } from '../tokenize';
import { trainModel, type TrainResult } from '../train/trainer';
import { predictModel } from '../train/evaluate';
import { encoderFor } from '../pipeline/prepare';
import type { Example, LabelSpace } from '../types';
import type { Teacher, TeacherOutputs } from './types';

export interface TrainedTeacher extends Teacher {
  readonly model: Student;
  readonly training: TrainResult;
}

/** Trains the teacher on `train` rows that have a gold label, validating on `dev`. */
export async function trainTeacher(options: {
  config: DistillConfig;
  tokenizer: StudentTokenizer;
  labelSpace: LabelSpace;
  train: Example[];
  dev: Example[];
  onEvent?: EventSink;
  signal?: AbortSignal;
}): Promise<TrainedTeacher> {
  const { config, tokenizer, labelSpace } = options;
  const architecture = config.teacher.architecture;
  // The teacher is the bigger model: trigrams for a bag teacher, wider embeddings for all.
  const ngrams = architecture === 'bag' ? Math.max(3, config.student.ngrams) : 1;
  const { encode, inputVocabSize } = encoderFor(tokenizer, architecture, config.data.maxLength, ngrams, Math.max(config.student.ngramBuckets, 200000));
  const modelConfig = { ...defaultStudentConfig(architecture, inputVocabSize, labelSpace.names.length), embeddingDim: config.teacher.embeddingDim, dropout: 0.3 };
  const model = createStudent(modelConfig, config.training.seed + 1);

  const labeled = options.train.filter((e) => e.labels !== null);
  const training = await trainModel(
    model,
    { ids: encode(labeled.map((e) => e.text)), gold: labeled.map((e) => e.labels) },
    { ids: encode(options.dev.map((e) => e.text)), gold: options.dev.map((e) => e.labels ?? []) },
    {
      role: 'teacher',
      task: labelSpace.task,
      numClasses: labelSpace.names.length,
      epochs: config.teacher.epochs,
      batchSize: config.training.batchSize,
      learningRate: config.teacher.learningRate,
      lrSchedule: config.training.lrSchedule,
      warmupFraction: config.training.warmupFraction,
      patience: 0,
      metric: config.training.metric,
      seed: config.training.seed + 1,
      multilabelThreshold: config.training.multilabelThreshold,
      // Multi-label teachers pick their best epoch at the dev-tuned threshold, as the student does; at a fixed 0.5 an
      // early epoch that predicts almost nothing can win.
      tuneThreshold: labelSpace.task === 'multilabel' && config.training.tuneThreshold,
      loss: { ...config.loss, alpha: 0, alphaSchedule: 'constant', logitMseWeight: 0, featureWeight: 0, gradientMatchingWeight: 0 },
    },
    { onEvent: options.onEvent, signal: options.signal },
  );

  return {
    description: {
      kind: 'trained',
      name: `${architecture} (trained in the run)`,
      details: { architecture, ...modelConfig, ngrams, epochs: config.teacher.epochs, bestEpoch: training.bestEpoch, learningRate: config.teacher.learningRate, parameters: model.variables.reduce((sum, variable) => sum + variable.size, 0) },
    },
    task: labelSpace.task,
    labelNames: labelSpace.names,
    featureDim: model.featureDim,
    trainedOn: new Set(labeled.map((e) => e.id)),
    model,
    training,
    async predict(examples: Example[]): Promise<TeacherOutputs> {
      const { logits, features } = predictModel(model, encode(examples.map((e) => e.text)), true);
      return { logits, features };
    },
    dispose() {
      model.dispose();
    },
  };
}
