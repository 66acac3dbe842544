// Colors from VS Code's theme variables, read at draw time so charts follow a theme change.

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-red', '--vscode-charts-green', '--vscode-charts-orange', '--vscode-charts-purple', '--vscode-charts-yellow', '--vscode-terminal-ansiCyan', '--vscode-terminal-ansiMagenta'];
const FALLBACK = ['#3794ff', '#f14c4c', '#89d185', '#d18616', '#b180d7', '#cca700', '#11a8cd', '#bc3fbc'];

export function cssVariable(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

export function seriesColor(index: number): string {
  return cssVariable(PALETTE[index % PALETTE.length]!, FALLBACK[index % FALLBACK.length]!);
}

export function foreground(): string {
  return cssVariable('--vscode-foreground', '#cccccc');
}

export function gridColor(): string {
  return cssVariable('--vscode-editorWidget-border', cssVariable('--vscode-panel-border', '#80808040'));
}

/** Calls `onChange` when VS Code switches the theme (it changes the body's classes). */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
}

/** A color with `alpha` (0–1) applied, for faint raw curves behind smoothed ones. Canvas needs rgba(), so hex theme colors are converted. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(color)?.[1];
  if (!hex) return color;
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex.slice(0, 6);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}
