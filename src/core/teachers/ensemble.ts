// Several teachers as one: the weighted average of their probabilities. Kept free of
// runtime imports because the settings module uses `parseTeacherModels`.
import type { Example } from '../types';
import type { PredictOptions, Teacher, TeacherOutputs } from './types';

export interface WeightedModel {
  model: string;
  weight: number;
}

/**
 * Parses `MODEL@WEIGHT,MODEL@WEIGHT` (weight 1 when omitted). Throws an Error naming
 * the entry with a weight that is not a positive number.
 */
export function parseTeacherModels(text: string): WeightedModel[] {
  const entries: WeightedModel[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const at = item.lastIndexOf('@');
    const model = at > 0 ? item.slice(0, at).trim() : item;
    const weightText = at > 0 ? item.slice(at + 1).trim() : '1';
    const weight = Number(weightText);
    if (weightText === '' || !Number.isFinite(weight) || weight <= 0) {
      throw new Error(`teacher.models: the weight "${weightText}" of "${model}" is not a positive number; write for example --teacher-models "modelA@0.7,modelB@0.3".`);
    }
    entries.push({ model, weight });
  }
  if (entries.length === 0) throw new Error('teacher.models is empty; list at least one MODEL@WEIGHT.');
  return entries;
}

/** Smallest probability kept before the logarithm, so a hard 0 gives a large finite logit. */
const PROBABILITY_FLOOR = 1e-7;

function probabilities(logits: Float32Array, multilabel: boolean): Float64Array {
  if (multilabel) return Float64Array.from(logits, (z) => 1 / (1 + Math.exp(-z)));
  const max = Math.max(...logits);
  const exp = Float64Array.from(logits, (z) => Math.exp(z - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

/**
 * Averages probabilities row by row with `weights` (normalized to sum 1) and returns
 * logits of the average: log p for single-label tasks (softmax(log p) = p), log-odds
 * for multi-label tasks.
 */
export function averageTeacherLogits(outputs: Float32Array[][], weights: number[], multilabel: boolean): Float32Array[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const rows = outputs[0]?.length ?? 0;
  const result: Float32Array[] = [];
  for (let row = 0; row < rows; row++) {
    const mean = new Float64Array(outputs[0][row].length);
    outputs.forEach((teacherRows, t) => {
      const p = probabilities(teacherRows[row], multilabel);
      for (let k = 0; k < mean.length; k++) mean[k] += (weights[t] / total) * p[k];
    });
    result.push(
      Float32Array.from(mean, (p) => {
        const q = Math.min(1 - PROBABILITY_FLOOR, Math.max(PROBABILITY_FLOOR, p));
        return multilabel ? Math.log(q / (1 - q)) : Math.log(q);
      }),
    );
  }
  return result;
}

/**
 * Combines teachers whose logits are already in the dataset's label order. Features
 * come from the first teacher that has them, because averaging features of different
 * models (and widths) has no meaning.
 */
export function createEnsembleTeacher(members: { teacher: Teacher; weight: number }[]): Teacher {
  const first = members[0].teacher;
  const withFeatures = members.find((m) => m.teacher.featureDim !== undefined)?.teacher;
  const trainedOn = new Set<string>();
  for (const { teacher } of members) for (const id of teacher.trainedOn) trainedOn.add(id);
  return {
    description: {
      kind: 'huggingface',
      name: `ensemble of ${members.map((m) => `${m.teacher.description.name} (weight ${m.weight})`).join(', ')}`,
      details: { members: members.map((m) => ({ weight: m.weight, ...m.teacher.description })) },
    },
    task: first.task,
    labelNames: first.labelNames,
    featureDim: withFeatures?.featureDim,
    trainedOn,
    async predict(examples: Example[], options?: PredictOptions): Promise<TeacherOutputs> {
      const outputs: TeacherOutputs[] = [];
      for (const { teacher } of members) outputs.push(await teacher.predict(examples, options));
      const logits = averageTeacherLogits(
        outputs.map((o) => o.logits),
        members.map((m) => m.weight),
        first.task === 'multilabel',
      );
      const featureSource = withFeatures ? outputs[members.findIndex((m) => m.teacher === withFeatures)] : undefined;
      return { logits, features: featureSource?.features };
    },
    covers(examples: Example[]): boolean {
      return members.every(({ teacher }) => teacher.covers?.(examples) !== false);
    },
    dispose() {
      for (const { teacher } of members) teacher.dispose();
    },
  };
}
