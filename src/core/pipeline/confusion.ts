// Confusion matrices between gold labels, teacher and student predictions, as the
// dashboard shows them: per epoch on dev while training, and once on the report split.
import { argmax, confusionMatrix, thresholdMultilabel } from '../metrics';
import type { Evaluation } from '../train/evaluate';
import type { TaskKind } from '../types';
import type { ConfusionSet } from '../runs/dashboardTypes';

export interface ConfusionRecord {
  /** One set for single-label tasks; one set per label, in label order, for multi-label tasks. */
  matrices: ConfusionSet[];
}

/** Predicted label indices per example: the argmax, or every label at or above the evaluation's threshold. */
function predictions(evaluation: Evaluation, task: TaskKind): number[][] {
  if (task === 'multilabel') return thresholdMultilabel(evaluation.probabilities, evaluation.threshold);
  return evaluation.probabilities.map((p) => [argmax(p)]);
}

function binaryMatrix(rows: number[][], columns: number[][], label: number): number[][] {
  const matrix = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < rows.length; i++) matrix[rows[i]!.includes(label) ? 1 : 0]![columns[i]!.includes(label) ? 1 : 0]! += 1;
  return matrix;
}

/** Builds gold×student, gold×teacher and teacher×student matrices; without a teacher only gold×student. For single-label tasks, examples without a gold label are left out of the gold matrices. */
export function confusionRecord(gold: number[][], teacher: Evaluation | undefined, student: Evaluation, task: TaskKind, numLabels: number): ConfusionRecord {
  const studentLabels = predictions(student, task);
  const teacherLabels = teacher ? predictions(teacher, task) : undefined;
  if (task === 'multilabel') {
    const matrices = Array.from({ length: numLabels }, (_, label): ConfusionSet => ({
      goldStudent: binaryMatrix(gold, studentLabels, label),
      ...(teacherLabels ? { goldTeacher: binaryMatrix(gold, teacherLabels, label), teacherStudent: binaryMatrix(teacherLabels, studentLabels, label) } : {}),
    }));
    return { matrices };
  }
  // Rows without a gold label have no place in a gold × prediction matrix.
  const keep = gold.flatMap((labels, i) => (labels.length > 0 ? [i] : []));
  const first = (labels: number[][], rows: number[]) => rows.map((i) => labels[i]![0]!);
  const g = first(gold, keep);
  const goldStudent = confusionMatrix(g, first(studentLabels, keep), numLabels);
  if (!teacherLabels) return { matrices: [{ goldStudent }] };
  // Teacher × student needs no gold label, so it counts every row, as the table's cell filter does.
  const all = studentLabels.map((_, i) => i);
  return { matrices: [{ goldStudent, goldTeacher: confusionMatrix(g, first(teacherLabels, keep), numLabels), teacherStudent: confusionMatrix(first(teacherLabels, all), first(studentLabels, all), numLabels) }] };
}
