// Incremental reader of delimited records (CSV, TSV) over decoded text whose line ends are
// already '\n'. It gives the same records as csv-parse with the options of
// `csvParseOptions` (relaxed quotes and column counts, empty lines skipped), which
// test/unit/delimited-scanner.test.mjs checks record for record. It exists because
// csv-parse's per-character state machine, with the `info` and `raw` records that line
// numbers need, was the hot spot when reading large files (BENCHMARKS.md, "Reading and
// tokenizing a 1,000,000-row CSV file").

const QUOTE = 0x22;
const NEWLINE = 0x0a;

export interface ScannedRecord {
  cells: string[];
  /** 1-based line on which the record starts. */
  line: number;
  /** The record's text from its first character through its terminating newline, if any. */
  raw: string;
}

/** A quoted field that is still open when the input ends. */
export class UnclosedQuoteError extends Error {
  constructor(readonly line: number) {
    super(`A quoted field opened on line ${line} is not closed before the end of the input.`);
  }
}

interface Scan {
  cells: string[];
  /** Index just past the record's newline (or the end of the text for a last record without one). */
  end: number;
  /** Newlines inside quoted fields. */
  innerNewlines: number;
}

export class DelimitedScanner {
  private buffer = '';
  /** Line of buffer[0]. */
  private line = 1;
  /** Buffer length below which an incomplete record is not scanned again, so a long quoted field is rescanned a logarithmic number of times. */
  private retryAt = 0;
  private readonly delimiterCode: number;
  /**
   * The text `fieldEnd` last searched, from where, and the next newline and delimiter it found
   * there (-1 for none), kept while the searches move forward in the same text.
   */
  private searched: string | undefined;
  private searchedFrom = 0;
  private newlineAt = -1;
  private delimiterAt = -1;

  constructor(
    private readonly delimiter: string,
    private readonly quoting: boolean,
  ) {
    if (delimiter.length === 0) throw new RangeError('The delimiter must not be empty.');
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  /** Appends decoded text and adds the records it completes to `out`. */
  push(text: string, out: ScannedRecord[]): void {
    this.buffer = this.buffer.length === 0 ? text : this.buffer + text;
    if (this.buffer.length < this.retryAt) return;
    this.drain(false, out);
  }

  /** Ends the input: adds the last records to `out`, or throws UnclosedQuoteError. */
  end(out: ScannedRecord[]): void {
    this.drain(true, out);
  }

  private drain(atEnd: boolean, out: ScannedRecord[]): void {
    const text = this.buffer;
    let at = 0;
    let line = this.line;
    for (;;) {
      while (text.charCodeAt(at) === NEWLINE) {
        at += 1;
        line += 1;
      }
      if (at >= text.length) break;
      const scan = this.scanRecord(text, at, atEnd);
      if (scan === undefined) {
        if (atEnd) throw new UnclosedQuoteError(line);
        break;
      }
      out.push({ cells: scan.cells, line, raw: text.slice(at, scan.end) });
      line += scan.innerNewlines + (text.charCodeAt(scan.end - 1) === NEWLINE ? 1 : 0);
      at = scan.end;
    }
    this.buffer = text.slice(at);
    this.line = line;
    this.retryAt = this.buffer.length * 2;
  }

  private isDelimiterAt(text: string, index: number): boolean {
    if (text.charCodeAt(index) !== this.delimiterCode) return false;
    return this.delimiter.length === 1 || text.startsWith(this.delimiter, index);
  }

  /**
   * Index of the next delimiter or newline from `from`, or -1 when the text ends first. Both
   * are found with indexOf, which runs natively. Both are kept between calls, so the fields of
   * a wide record, or a delimiter that never comes, do not make each field search to the end.
   */
  private fieldEnd(text: string, from: number): number {
    if (text !== this.searched || from < this.searchedFrom) {
      this.searched = text;
      this.newlineAt = text.indexOf('\n', from);
      this.delimiterAt = text.indexOf(this.delimiter, from);
    } else {
      if (this.newlineAt >= 0 && this.newlineAt < from) this.newlineAt = text.indexOf('\n', from);
      if (this.delimiterAt >= 0 && this.delimiterAt < from) this.delimiterAt = text.indexOf(this.delimiter, from);
    }
    this.searchedFrom = from;
    const newline = this.newlineAt;
    const delimiter = this.delimiterAt;
    if (delimiter < 0 || (newline >= 0 && newline < delimiter)) return newline;
    return delimiter;
  }

  /** Scans the record starting at `start`; undefined when the text ends inside it and more may follow. */
  private scanRecord(text: string, start: number, atEnd: boolean): Scan | undefined {
    const cells: string[] = [];
    let innerNewlines = 0;
    let at = start;
    for (;;) {
      let value: string;
      if (this.quoting && text.charCodeAt(at) === QUOTE) {
        let content = '';
        let from = at + 1;
        for (;;) {
          const quote = text.indexOf('"', from);
          // The character after a closing quote decides how it is read, so it must be present.
          if (quote < 0 || (quote + 1 >= text.length && !atEnd)) return undefined;
          innerNewlines += countNewlines(text, from, quote);
          const next = text.charCodeAt(quote + 1);
          if (next === QUOTE) {
            content += text.slice(from, quote + 1);
            from = quote + 2;
            continue;
          }
          content += text.slice(from, quote);
          at = quote + 1;
          if (at >= text.length || next === NEWLINE || this.isDelimiterAt(text, at)) {
            value = content;
          } else {
            // Text after the closing quote: csv-parse's relaxed mode reads the whole field
            // as unquoted text, with the quotes that delimited it.
            const end = this.fieldEnd(text, at);
            if (end < 0 && !atEnd) return undefined;
            const stop = end < 0 ? text.length : end;
            value = `"${content}"${text.slice(at, stop)}`;
            at = stop;
          }
          break;
        }
      } else {
        const end = this.fieldEnd(text, at);
        if (end < 0 && !atEnd) return undefined;
        const stop = end < 0 ? text.length : end;
        value = text.slice(at, stop);
        at = stop;
      }
      cells.push(value);
      if (at >= text.length) return { cells, end: at, innerNewlines };
      if (text.charCodeAt(at) === NEWLINE) return { cells, end: at + 1, innerNewlines };
      at += this.delimiter.length;
    }
  }
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) count += 1;
  return count;
}
