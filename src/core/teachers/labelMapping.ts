// Matches the dataset's label names to a teacher's `id2label`, so teacher logits can be
// reordered into the dataset's label order. Kept free of runtime imports because the
// settings module (and with it the extension bundle) uses `parseLabelMap`.

/** Raised when a dataset label has no teacher label, before any teacher inference runs. */
export class LabelMappingError extends Error {
  override readonly name = 'LabelMappingError';
}

export type MappingRule = 'explicit' | 'name' | 'index' | 'stars';

export interface LabelPair {
  dataset: string;
  teacher: string;
  rule: MappingRule;
}

export interface LabelMapping {
  /** For each dataset label (in dataset order), the index of its teacher label. */
  teacherIndex: number[];
  pairs: LabelPair[];
  /** Teacher labels no dataset label maps to; their logits are dropped. */
  unusedTeacherLabels: string[];
}

/**
 * Parses `pos=POSITIVE,neg=NEGATIVE` (dataset label = teacher label) into a map.
 * Throws an Error naming the malformed pair.
 */
export function parseLabelMap(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const dataset = eq >= 0 ? part.slice(0, eq).trim() : '';
    const teacher = eq >= 0 ? part.slice(eq + 1).trim() : '';
    if (dataset === '' || teacher === '') {
      throw new Error(`teacher.labelMap: "${part.trim()}" is not a DATASET_LABEL=TEACHER_LABEL pair; write for example --label-map "pos=POSITIVE,neg=NEGATIVE".`);
    }
    if (map.has(dataset)) throw new Error(`teacher.labelMap maps the dataset label "${dataset}" twice; keep one pair per label.`);
    map.set(dataset, teacher);
  }
  return map;
}

const SYNONYMS: Record<string, string> = {
  pos: 'positive',
  positive: 'positive',
  neg: 'negative',
  negative: 'negative',
  neu: 'neutral',
  neut: 'neutral',
  neutral: 'neutral',
};

/**
 * Canonical form used to compare label names: lower case without spaces, dashes or
 * underscores, pos/neg/neu spelled out, and `3 stars` as `stars:3`.
 */
export function canonicalLabel(name: string): string {
  const lower = name.trim().toLowerCase();
  const stars = /^(\d+)\s*[-_ ]?\s*stars?$/.exec(lower);
  if (stars) return `stars:${Number(stars[1])}`;
  const compact = lower.replace(/[\s_\-.]+/g, '');
  return SYNONYMS[compact] ?? compact;
}

function labelIndexOf(name: string): number | undefined {
  const match = /^label[_ ]?(\d+)$/i.exec(name.trim());
  return match ? Number(match[1]) : undefined;
}

/**
 * Maps every dataset label to one teacher label. Explicit pairs come first, then equal
 * canonical names. `LABEL_k` teachers match the integer in a dataset label, else the
 * position when both sides have the same number of labels. Integer labels match star
 * ratings (`4` to `4 stars`, or `3` to `4 stars` for 0-based labels). Throws
 * LabelMappingError listing both sides when a label stays unmapped or two dataset labels
 * map to one teacher label.
 */
export function mapLabels(datasetLabels: string[], teacherLabels: string[], explicit?: Map<string, string>, teacherName = 'the teacher'): LabelMapping {
  const both = `Dataset labels: ${datasetLabels.join(', ')}. Labels of ${teacherName}: ${teacherLabels.join(', ')}.`;
  const fix = 'Map them with --label-map "DATASET=TEACHER,..." (setting teacher.labelMap).';
  for (const key of explicit?.keys() ?? []) {
    if (!datasetLabels.includes(key)) throw new LabelMappingError(`teacher.labelMap names the dataset label "${key}", which the dataset does not have. ${both}`);
  }

  const canonicalTeacher = teacherLabels.map(canonicalLabel);
  const allIndexed = teacherLabels.length > 0 && teacherLabels.every((name) => labelIndexOf(name) !== undefined);
  const datasetIntegers = datasetLabels.every((name) => /^\d+$/.test(name.trim()));
  const zeroBasedIntegers = datasetIntegers && [...datasetLabels].map(Number).sort((a, b) => a - b).every((value, i) => value === i);
  // Integer labels 0..n-1 against star ratings from 1 star (none with 0 stars) are shifted by one.
  const starShift = zeroBasedIntegers && canonicalTeacher.includes('stars:1') && !canonicalTeacher.includes('stars:0') ? 1 : 0;

  const pairs: LabelPair[] = [];
  const unmapped: string[] = [];
  const teacherIndex = datasetLabels.map((label, position) => {
    const found = findTeacherLabel(label, position);
    if (found === undefined) {
      unmapped.push(label);
      return -1;
    }
    pairs.push({ dataset: label, teacher: teacherLabels[found.index], rule: found.rule });
    return found.index;
  });

  function findTeacherLabel(label: string, position: number): { index: number; rule: MappingRule } | undefined {
    const requested = explicit?.get(label);
    if (requested !== undefined) {
      let index = teacherLabels.indexOf(requested);
      if (index < 0) index = canonicalTeacher.indexOf(canonicalLabel(requested));
      if (index < 0) throw new LabelMappingError(`teacher.labelMap maps "${label}" to "${requested}", which ${teacherName} does not have. ${both}`);
      return { index, rule: 'explicit' };
    }
    const byName = canonicalTeacher.indexOf(canonicalLabel(label));
    if (byName >= 0) return { index: byName, rule: 'name' };
    if (allIndexed) {
      let labelNumber: number | undefined;
      if (datasetIntegers) labelNumber = Number(label);
      else if (teacherLabels.length === datasetLabels.length) labelNumber = position;
      const index = teacherLabels.findIndex((name) => labelIndexOf(name) === labelNumber);
      if (index >= 0) return { index, rule: 'index' };
    }
    if (datasetIntegers) {
      const index = canonicalTeacher.indexOf(`stars:${Number(label) + starShift}`);
      if (index >= 0) return { index, rule: 'stars' };
    }
    return undefined;
  }

  if (unmapped.length > 0) {
    throw new LabelMappingError(`No teacher label for the dataset label${unmapped.length > 1 ? 's' : ''} ${unmapped.map((l) => `"${l}"`).join(', ')}. ${both} ${fix}`);
  }
  const seen = new Map<number, string>();
  for (const pair of pairs) {
    const index = teacherLabels.indexOf(pair.teacher);
    const other = seen.get(index);
    if (other !== undefined) throw new LabelMappingError(`The dataset labels "${other}" and "${pair.dataset}" both map to the teacher label "${pair.teacher}". ${both} ${fix}`);
    seen.set(index, pair.dataset);
  }
  return { teacherIndex, pairs, unusedTeacherLabels: teacherLabels.filter((_, i) => !seen.has(i)) };
}

/** Reorders one row of teacher logits into dataset label order, dropping unused teacher labels. */
export function applyLabelMapping(logits: Float32Array, mapping: LabelMapping): Float32Array {
  return Float32Array.from(mapping.teacherIndex, (index) => logits[index]);
}

/** Formats the pairs for the run log, such as `neg → NEGATIVE (name)`. */
export function describeLabelMapping(mapping: LabelMapping): string {
  const pairs = mapping.pairs.map((p) => `${p.dataset} → ${p.teacher} (${p.rule})`).join(', ');
  return mapping.unusedTeacherLabels.length > 0 ? `${pairs}; unused teacher labels: ${mapping.unusedTeacherLabels.join(', ')}` : pairs;
}
