// Pure annotation logic shared by the editor integration, the tests and the benchmark; no `vscode` import.
export { cellTokens, findLabelCell, formatLabelCell, labelCellEdit, lineStartOffset, type CellEdit, type LabelCell, type LabelCellSpec } from './cells';
export { cellTokensFor, detectLabelLayout, readOptionsFromSettings, type LabelLayout } from './layout';
export { DISAGREE, LABEL_ERROR, PredictionIndex, type AnnotationRecord } from './predictions';
export { plainText, splitLines, splitSentences, type TextSpan } from './sentences';
export { probabilityBar, formatPercent } from './format';
export { readLineWindow } from './window';
