// Splitting English and Chinese text into sentences (or lines) with their offsets, for
// annotating prose with a sentence-level classifier.

export interface TextSpan {
  /** UTF-16 offsets into the text; `text.slice(start, end)` is the span as written. */
  start: number;
  end: number;
  /** What the classifier reads: the span with Markdown markers removed and whitespace collapsed. */
  text: string;
}

/** Words followed by a period that do not end an English sentence. */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'cf', 'al', 'fig', 'no', 'vol', 'inc', 'ltd', 'co', 'corp', 'approx', 'dept', 'est', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'u.s', 'u.k', 'a.m', 'p.m',
]);

/** Full-width terminators end a sentence without a following space; ASCII ones need a space or the end. */
const CJK_TERMINATORS = '。！？';
const ASCII_TERMINATORS = '.!?…';
/** Closing quotes and brackets that stay with the sentence they close. */
const CLOSERS = '"\'”’」』）)]}»';

/** Markdown block lines that never join the next line into one sentence: headings, list items, quotes, tables, rules. */
const BLOCK_START = /^\s{0,3}(#{1,6}\s|[-*+]\s|\d+[.)]\s|>|\||-{3,}|\*{3,}|_{3,})/;
const FENCE = /^\s{0,3}(```|~~~)/;

export interface SplitOptions {
  /** `markdown` skips fenced code blocks and front matter and treats block lines as boundaries. */
  markdown?: boolean;
  /** Offset at which `text` starts in the document, added to every span. */
  offset?: number;
}

/** Readable text of a span: Markdown markers and links reduced to their words, whitespace collapsed. */
export function plainText(raw: string, markdown: boolean): string {
  let text = raw;
  if (markdown) {
    text = text
      .split(/\r\n|\r|\n/)
      .map((line) => line.replace(BLOCK_START, (marker) => (marker.trim().startsWith('|') ? ' ' : '')))
      .join(' ')
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/`([^`]*)`/g, '$1')
      .replace(/(\*\*|__|\*|_|~~)(?=\S)([^*_~]+?)(?<=\S)\1/g, '$2')
      .replace(/\s*\|\s*/g, ' ');
  }
  return text.replace(/\s+/g, ' ').trim();
}

function isAbbreviation(text: string, periodAt: number): boolean {
  let start = periodAt;
  while (start > 0 && /[A-Za-z.]/.test(text[start - 1])) start -= 1;
  const word = text.slice(start, periodAt).toLowerCase();
  if (word.length === 0) return false;
  // A single capital letter is an initial ("J. Smith").
  if (/^[a-z]$/.test(word) && /[A-Z]/.test(text[start])) return true;
  return ABBREVIATIONS.has(word);
}

/** Offsets just past each sentence end inside one paragraph `[from, to)`. */
function sentenceEnds(text: string, from: number, to: number): number[] {
  const ends: number[] = [];
  let i = from;
  while (i < to) {
    const char = text[i];
    const cjk = CJK_TERMINATORS.includes(char);
    const ascii = ASCII_TERMINATORS.includes(char);
    if (!cjk && !ascii) {
      i += 1;
      continue;
    }
    let end = i + 1;
    // Runs of terminators ("?!", "……", "...") and closing quotes belong to this sentence.
    while (end < to && (CJK_TERMINATORS.includes(text[end]) || ASCII_TERMINATORS.includes(text[end]))) end += 1;
    while (end < to && CLOSERS.includes(text[end])) end += 1;
    const next = text[end];
    const atBoundary = end >= to || /\s/.test(next) || /[\u3000-\u9fff\uff00-\uffef]/.test(next ?? '');
    // A decimal point ("3.5") is never at a boundary, because a digit follows it.
    const abbreviation = char === '.' && end === i + 1 && isAbbreviation(text, i);
    if (cjk || (atBoundary && !abbreviation)) ends.push(end);
    i = end;
  }
  return ends;
}

/** Line spans of `text`, blank lines left out. */
function lineRanges(text: string): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  const pattern = /\r\n|\r|\n/g;
  let start = 0;
  for (;;) {
    const match = pattern.exec(text);
    const end = match ? match.index : text.length;
    ranges.push({ start, end });
    if (!match) break;
    start = match.index + match[0].length;
  }
  return ranges;
}

/** Paragraphs: runs of non-blank lines, broken at Markdown block lines and with code fences left out. */
function paragraphs(text: string, markdown: boolean): { start: number; end: number }[] {
  const result: { start: number; end: number }[] = [];
  let current: { start: number; end: number } | undefined;
  let inFence = false;
  let inFrontMatter = false;
  const lines = lineRanges(text);
  lines.forEach((line, index) => {
    const content = text.slice(line.start, line.end);
    if (markdown && index === 0 && content.trim() === '---') {
      inFrontMatter = true;
      return;
    }
    if (inFrontMatter) {
      if (content.trim() === '---') inFrontMatter = false;
      return;
    }
    if (markdown && FENCE.test(content)) {
      inFence = !inFence;
      if (current) result.push(current);
      current = undefined;
      return;
    }
    if (inFence) return;
    if (content.trim().length === 0) {
      if (current) result.push(current);
      current = undefined;
      return;
    }
    const block = markdown && BLOCK_START.test(content);
    if (block && current) {
      result.push(current);
      current = undefined;
    }
    if (current) current.end = line.end;
    else current = { start: line.start, end: line.end };
    // A heading or table row is complete on its own line.
    if (markdown && /^\s{0,3}(#{1,6}\s|\|)/.test(content)) {
      result.push(current);
      current = undefined;
    }
  });
  if (current) result.push(current);
  return result;
}

function span(text: string, start: number, end: number, markdown: boolean, offset: number): TextSpan | undefined {
  while (start < end && /\s/.test(text[start])) start += 1;
  while (end > start && /\s/.test(text[end - 1])) end -= 1;
  const plain = plainText(text.slice(start, end), markdown);
  // Spans with no letters or digits (a rule, a lone bullet, punctuation) carry no sentiment.
  if (!/[\p{L}\p{N}]/u.test(plain)) return undefined;
  return { start: start + offset, end: end + offset, text: plain };
}

/** Splits `text` into sentences, in order. Chinese terminators end a sentence wherever they stand; `.`, `!` and `?` need a space, a line end or a CJK character after them. */
export function splitSentences(text: string, options: SplitOptions = {}): TextSpan[] {
  const markdown = options.markdown ?? false;
  const offset = options.offset ?? 0;
  const spans: TextSpan[] = [];
  for (const paragraph of paragraphs(text, markdown)) {
    let start = paragraph.start;
    for (const end of [...sentenceEnds(text, paragraph.start, paragraph.end), paragraph.end]) {
      if (end <= start) continue;
      const piece = span(text, start, end, markdown, offset);
      if (piece) spans.push(piece);
      start = end;
    }
  }
  return spans;
}

/** One span per non-blank line (code fences skipped in Markdown). */
export function splitLines(text: string, options: SplitOptions = {}): TextSpan[] {
  const markdown = options.markdown ?? false;
  const offset = options.offset ?? 0;
  const spans: TextSpan[] = [];
  let inFence = false;
  for (const line of lineRanges(text)) {
    const content = text.slice(line.start, line.end);
    if (markdown && FENCE.test(content)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    const piece = span(text, line.start, line.end, markdown, offset);
    if (piece) spans.push(piece);
  }
  return spans;
}
