// Keeps run lines (the file as the run read it) aligned with editor lines after edits
// that add or remove lines. Lines here are 0-based, as in the editor API. A record is
// identified by the position of its first character, the start of its first line.

interface Shift {
  /** First line of the replaced range, in the line numbers before this edit. */
  start: number;
  /** Last line of the replaced range, before this edit. */
  end: number;
  /** The range ends at the start of line `end`, so a record starting there follows the new text. */
  endsAtLineStart: boolean;
  /** The range starts at the start of line `start` and runs into a later line, so it replaces that record's start. */
  replacesStartLine: boolean;
  /** Lines added (positive) or removed (negative) by the edit. */
  delta: number;
}

export class LineShifts {
  private readonly shifts: Shift[] = [];

  /**
   * Records an edit that replaced the range from (`start`, `startCharacter`) to
   * (`end`, `endCharacter`) with text of `newLineCount` lines.
   */
  record(start: number, startCharacter: number, end: number, endCharacter: number, newLineCount: number): void {
    const delta = newLineCount - (end - start + 1);
    // Line starts strictly inside the range are replaced, so their records are gone even when the line count stays.
    const replacesStartLine = startCharacter === 0 && end > start;
    const replacesLineStarts = replacesStartLine || (end > start && (end - start >= 2 || endCharacter > 0));
    if (delta !== 0 || replacesLineStarts) this.shifts.push({ start, end, endsAtLineStart: endCharacter === 0, replacesStartLine, delta });
  }

  get edited(): boolean {
    return this.shifts.length > 0;
  }

  /** Editor line of the record that started on run line `line`; undefined when an edit replaced its start. */
  toEditor(line: number): number | undefined {
    let current = line;
    for (const shift of this.shifts) {
      if (current > shift.end || (current === shift.end && shift.endsAtLineStart)) current += shift.delta;
      else if (current > shift.start || (current === shift.start && shift.replacesStartLine)) return undefined;
    }
    return current;
  }

  /** Run line of editor line `line`; lines that an edit inserted map to the line where the edit started. */
  toRun(line: number): number {
    let current = line;
    for (let i = this.shifts.length - 1; i >= 0; i--) {
      const shift = this.shifts[i];
      const newEnd = shift.end + shift.delta;
      if (current > newEnd || (current === newEnd && shift.endsAtLineStart)) current -= shift.delta;
      else if (current > shift.start) current = shift.start;
    }
    return current;
  }
}
