import { STUDENT_KINDS, type StudentConfig, type StudentKind } from './types';

/**
 * Returns the default configuration of each kind: bag = fastText-style mean of 64-d
 * embeddings; cnn = Kim (2014) with 128 filters of widths 3, 4 and 5 over 128-d embeddings;
 * bilstm = Tang et al. (2019): 128-d embeddings, a BiLSTM with 128 units per direction
 * and a 256-unit ReLU layer.
 */
export function defaultStudentConfig(kind: StudentKind, vocabSize: number, numClasses: number): StudentConfig {
  switch (kind) {
    case 'bag':
      return { kind, vocabSize, numClasses, embeddingDim: 64, hiddenDim: 0, dropout: 0.1 };
    case 'cnn':
      return { kind, vocabSize, numClasses, embeddingDim: 128, hiddenDim: 0, dropout: 0.5, filterSizes: [3, 4, 5], numFilters: 128 };
    case 'bilstm':
      return { kind, vocabSize, numClasses, embeddingDim: 128, hiddenDim: 256, dropout: 0.2, lstmUnits: 128 };
    default:
      throw new Error(`Unknown student kind "${String(kind)}"; expected one of ${STUDENT_KINDS.join(', ')}.`);
  }
}

/**
 * Checks a configuration (from code or from a saved model.json) and fills the optional
 * fields of its kind with their defaults. `where` names the source in error messages.
 */
export function validateStudentConfig(config: unknown, where = 'student config'): StudentConfig {
  if (typeof config !== 'object' || config === null) throw new Error(`${where}: expected an object, got ${JSON.stringify(config)}.`);
  const c = config as Record<string, unknown>;
  const kind = c.kind;
  if (!STUDENT_KINDS.includes(kind as StudentKind)) {
    throw new Error(`${where}: invalid kind ${JSON.stringify(kind)}; expected one of ${STUDENT_KINDS.join(', ')}.`);
  }
  const positiveInt = (name: string, value: unknown, min = 1): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new Error(`${where}: invalid ${name} ${JSON.stringify(value)}; expected an integer >= ${min}.`);
    }
    return value;
  };
  const vocabSize = positiveInt('vocabSize', c.vocabSize, 2);
  const numClasses = positiveInt('numClasses', c.numClasses, 1);
  const embeddingDim = positiveInt('embeddingDim', c.embeddingDim);
  const dropout = c.dropout;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw new Error(`${where}: invalid dropout ${JSON.stringify(dropout)}; expected a rate in [0, 1).`);
  }
  const base = { kind: kind as StudentKind, vocabSize, numClasses, embeddingDim, dropout };

  if (kind === 'bag') {
    return { ...base, hiddenDim: typeof c.hiddenDim === 'number' ? c.hiddenDim : 0 };
  }
  if (kind === 'cnn') {
    const filterSizes = c.filterSizes ?? [3, 4, 5];
    if (!Array.isArray(filterSizes) || filterSizes.length === 0) {
      throw new Error(`${where}: invalid filterSizes ${JSON.stringify(filterSizes)}; expected a non-empty list of widths such as [3, 4, 5].`);
    }
    filterSizes.forEach((size, i) => positiveInt(`filterSizes[${i}]`, size));
    const numFilters = positiveInt('numFilters', c.numFilters ?? 128);
    return { ...base, hiddenDim: typeof c.hiddenDim === 'number' ? c.hiddenDim : 0, filterSizes: [...filterSizes] as number[], numFilters };
  }
  const hiddenDim = positiveInt('hiddenDim', c.hiddenDim);
  const lstmUnits = positiveInt('lstmUnits', c.lstmUnits ?? 128);
  return { ...base, hiddenDim, lstmUnits };
}
