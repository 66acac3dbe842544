// Reading a window of lines from a file too large to open as a document: the file is
// scanned for line feeds as bytes (no decoding) and only the window is decoded. Byte
// offsets of every 10,000th line are kept per file, so later windows start near their
// first line instead of at the start of the file.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { decodeBuffer, readLines } from '../data/encoding';
import type { TextEncoding } from '../types';

const CHECKPOINT_EVERY = 10_000;
const CHUNK_BYTES = 256 * 1024;

interface Checkpoints {
  size: number;
  mtimeMs: number;
  /** offsets[k] is the byte offset of line k·CHECKPOINT_EVERY + 1. */
  offsets: number[];
}

const checkpointsByFile = new Map<string, Checkpoints>();

/** Encodings in which byte 0x0A only ever encodes a line feed, so lines can be counted on raw bytes. */
function countsLinesOnBytes(encoding: TextEncoding): boolean {
  return encoding !== 'utf-16le' && encoding !== 'utf-16be';
}

/**
 * Lines `firstLine..lastLine` (1-based, inclusive) of `file`, decoded, without their line
 * terminators. Files that end lines with a lone CR, or are UTF-16, are decoded from the
 * start instead, because their line feeds cannot be counted on bytes.
 */
export async function readLineWindow(file: string, encoding: TextEncoding, firstLine: number, lastLine: number, lineEnding: string): Promise<string[]> {
  if (!countsLinesOnBytes(encoding) || lineEnding === 'CR' || lineEnding === 'mixed') {
    const lines: string[] = [];
    for await (const { text, line } of readLines(file, encoding)) {
      if (line > lastLine) break;
      if (line >= firstLine) lines.push(text);
    }
    return lines;
  }

  const info = await stat(file);
  let checkpoints = checkpointsByFile.get(file);
  if (!checkpoints || checkpoints.size !== info.size || checkpoints.mtimeMs !== info.mtimeMs) {
    checkpoints = { size: info.size, mtimeMs: info.mtimeMs, offsets: [0] };
    checkpointsByFile.set(file, checkpoints);
  }
  const known = checkpoints.offsets;
  const startCheckpoint = Math.min(Math.floor((firstLine - 1) / CHECKPOINT_EVERY), known.length - 1);
  let line = startCheckpoint * CHECKPOINT_EVERY + 1;
  let offset = known[startCheckpoint];
  let windowStart = -1;
  let windowEnd = info.size;

  // Counts line feeds from the checkpoint, recording new checkpoints on the way.
  scan: for await (const chunk of createReadStream(file, { start: offset, highWaterMark: CHUNK_BYTES })) {
    const buffer = chunk as Buffer;
    let at = 0;
    if (line === firstLine && windowStart < 0) windowStart = offset;
    for (;;) {
      const newline = buffer.indexOf(10, at);
      if (newline < 0) break;
      line += 1;
      const next = offset + newline + 1;
      if ((line - 1) % CHECKPOINT_EVERY === 0 && (line - 1) / CHECKPOINT_EVERY === known.length) known.push(next);
      if (line === firstLine) windowStart = next;
      if (line === lastLine + 1) {
        windowEnd = next;
        break scan;
      }
      at = newline + 1;
    }
    offset += buffer.length;
  }
  if (windowStart < 0) return [];

  const handle = await open(file, 'r');
  try {
    const bytes = Buffer.alloc(windowEnd - windowStart);
    await handle.read(bytes, 0, bytes.length, windowStart);
    let text = decodeBuffer(bytes, encoding);
    if (windowStart === 0) text = text.replace(/^\uFEFF/, '');
    const lines = text.split(/\r\n|\n/);
    if (text.endsWith('\n')) lines.pop();
    return lines.slice(0, lastLine - firstLine + 1);
  } finally {
    await handle.close();
  }
}
