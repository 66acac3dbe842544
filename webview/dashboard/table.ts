// The predictions table, virtualized: the extension host filters and sorts every row,
// and this view requests the pages that are on screen, so 100,000 rows scroll like 100.
import type { TableQuery, TableRow } from '../../src/core/runs/dashboardTypes';
import * as l10n from '@vscode/l10n';
import { element } from './format';

export const ROW_HEIGHT = 30;
const PAGE_SIZE = 100;
const OVERSCAN_ROWS = 20;

export type RowRequest = (requestId: number, query: TableQuery, offset: number, count: number) => void;

function probabilityCell(labels: string[], prediction: { labels: string[]; probabilities: number[] } | null, className: string): HTMLElement {
  const cell = element('div', `cell ${className}`);
  if (!prediction) {
    cell.textContent = '–';
    return cell;
  }
  const top = prediction.probabilities.reduce((best, p, i, all) => (p > all[best]! ? i : best), 0);
  cell.append(element('span', 'label', prediction.labels.join(', ') || l10n.t('(none)')), element('span', 'confidence', `${Math.round((prediction.probabilities[top] ?? 0) * 100)}%`));
  const bars = element('span', 'bars');
  prediction.probabilities.forEach((p, i) => {
    const bar = element('span', i === top ? 'bar top' : 'bar');
    bar.style.setProperty('--p', `${Math.round(p * 100)}%`);
    bar.title = `${labels[i] ?? i}: ${(p * 100).toFixed(1)}%`;
    bars.append(bar);
  });
  cell.append(bars);
  cell.title = labels.map((name, i) => `${name}: ${((prediction.probabilities[i] ?? 0) * 100).toFixed(1)}%`).join('\n');
  return cell;
}

export class VirtualTable {
  private total = 0;
  private requestId = 0;
  private query: TableQuery;
  private readonly pages = new Map<number, TableRow[]>();
  private readonly requested = new Set<number>();
  private readonly spacer: HTMLElement;
  private readonly rowsHost: HTMLElement;
  private labels: string[] = [];
  private frame = 0;
  /** Row nodes on screen by position, reused while they stay in view so scrolling builds only the new rows. */
  private visibleRows = new Map<number, { row: TableRow; node: HTMLElement }>();

  constructor(
    readonly viewport: HTMLElement,
    query: TableQuery,
    private readonly request: RowRequest,
    private readonly onOpen: (row: TableRow) => void,
    private readonly onScroll: (scrollTop: number) => void,
  ) {
    this.query = query;
    this.spacer = element('div', 'spacer');
    this.rowsHost = element('div', 'rows');
    this.spacer.append(this.rowsHost);
    viewport.append(this.spacer);
    viewport.addEventListener('scroll', () => {
      this.onScroll(viewport.scrollTop);
      this.schedule();
    });
    new ResizeObserver(() => this.schedule()).observe(viewport);
  }

  setLabels(labels: string[]): void {
    this.labels = labels;
  }

  get rowCount(): number {
    return this.total;
  }

  /** Starts a new query; rows of earlier queries that arrive late are dropped. */
  setQuery(query: TableQuery): void {
    this.query = query;
    this.requestId++;
    this.pages.clear();
    this.requested.clear();
    this.visibleRows.clear();
    this.fetch(0);
  }

  refresh(): void {
    this.setQuery(this.query);
  }

  receive(requestId: number, total: number, offset: number, rows: TableRow[]): void {
    if (requestId !== this.requestId) return;
    this.total = total;
    this.pages.set(Math.floor(offset / PAGE_SIZE), rows);
    this.spacer.style.height = `${total * ROW_HEIGHT}px`;
    this.viewport.dataset.total = String(total);
    this.schedule();
  }

  restoreScroll(scrollTop: number): void {
    this.viewport.scrollTop = scrollTop;
  }

  private fetch(page: number): void {
    if (this.requested.has(page)) return;
    this.requested.add(page);
    this.request(this.requestId, this.query, page * PAGE_SIZE, PAGE_SIZE);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Draws the rows in view plus an overscan margin, and requests pages not yet here. */
  private render(): void {
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_HEIGHT) - OVERSCAN_ROWS);
    const last = Math.min(this.total, Math.ceil((this.viewport.scrollTop + this.viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN_ROWS);
    const next = new Map<number, { row: TableRow; node: HTMLElement }>();
    const nodes: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const page = Math.floor(i / PAGE_SIZE);
      const row = this.pages.get(page)?.[i % PAGE_SIZE];
      if (!row) {
        this.fetch(page);
        const placeholder = element('div', 'row loading', l10n.t('Loading…'));
        placeholder.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
        nodes.push(placeholder);
        continue;
      }
      const previous = this.visibleRows.get(i);
      const entry = previous && previous.row === row ? previous : { row, node: this.renderRow(row, i) };
      next.set(i, entry);
      nodes.push(entry.node);
    }
    this.visibleRows = next;
    if (this.total === 0 && this.pages.size > 0) {
      this.rowsHost.replaceChildren(element('div', 'row empty', l10n.t('No examples match these filters.')));
      return;
    }
    // Remove rows that left the view and append new ones; rows still in view stay in the DOM untouched.
    const keep = new Set(nodes);
    for (const child of [...this.rowsHost.children]) if (!keep.has(child as HTMLElement)) child.remove();
    for (const node of nodes) if (node.parentElement !== this.rowsHost) this.rowsHost.append(node);
  }

  private renderRow(row: TableRow, position: number): HTMLElement {
    const node = element('div', 'row');
    node.style.transform = `translateY(${position * ROW_HEIGHT}px)`;
    node.dataset.index = String(row.index);
    node.dataset.line = String(row.line);
    node.tabIndex = 0;
    if (row.possibleLabelError) node.classList.add('label-error');
    const text = element('div', 'cell text', row.text);
    text.title = row.text;
    const flags = element('div', 'cell flags');
    if (row.possibleLabelError) {
      const flag = element('span', 'codicon codicon-warning');
      flag.title = l10n.t('Possible label error: the teacher contradicts the gold label with high confidence.');
      flags.append(flag);
    }
    if (row.teacherStudentDisagree) {
      const flag = element('span', 'codicon codicon-git-compare');
      flag.title = l10n.t('The teacher and the student predict different labels.');
      flags.append(flag);
    }
    node.append(
      element('div', 'cell line', `${row.split} · ${row.line}`),
      text,
      element('div', 'cell gold', row.gold?.join(', ') ?? '–'),
      probabilityCell(this.labels, row.teacher, 'teacher'),
      probabilityCell(this.labels, row.student, 'student'),
      element('div', 'cell kl', row.kl.toFixed(3)),
      flags,
    );
    node.addEventListener('click', () => this.onOpen(row));
    node.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') this.onOpen(row);
    });
    return node;
  }
}
