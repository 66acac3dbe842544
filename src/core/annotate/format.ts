// Text renderings of probabilities for decorations and hovers.

const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `width` character cells for a probability in [0, 1], in eighths of a cell (U+2588 and U+258F…U+2589). */
export function probabilityBar(probability: number, width = 20): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(probability) ? probability : 0));
  const eighths = Math.round(clamped * width * 8);
  const full = Math.floor(eighths / 8);
  const bar = '█'.repeat(full) + BLOCKS[eighths % 8];
  return bar + ' '.repeat(width - full - (eighths % 8 > 0 ? 1 : 0));
}

/** `0.873` → `87%`; values under 1% keep one decimal. */
export function formatPercent(probability: number): string {
  const percent = probability * 100;
  return percent > 0 && percent < 1 ? `${percent.toFixed(1)}%` : `${Math.round(percent)}%`;
}
