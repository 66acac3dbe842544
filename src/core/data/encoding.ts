// Encoding detection and decoding streams for dataset files.
import { isAscii, isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import chardet from 'chardet';
import iconv from 'iconv-lite';
import { DataError, type TextEncoding } from '../types';

/** Bytes read from the start of a file for chardet and format sniffing. */
export const SAMPLE_BYTES = 256 * 1024;

/** Bytes that Windows-1252 leaves undefined; a file containing them is decoded as Latin-1 instead. */
const CP1252_UNDEFINED = [0x81, 0x8d, 0x8f, 0x90, 0x9d];

export async function readHead(file: string, bytes = SAMPLE_BYTES): Promise<{ buffer: Buffer; truncated: boolean }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, 0);
    return { buffer, truncated: size > length };
  } finally {
    await handle.close();
  }
}

function bomEncoding(head: Buffer): TextEncoding | undefined {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8-bom';
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return undefined;
}

interface ByteScan {
  validUtf8: boolean;
  hasNul: boolean;
  /** Offset of the first NUL byte, for the error message. */
  nulOffset: number;
  hasCp1252Undefined: boolean;
  /** Some byte is 0x80 or above, so single-byte and UTF-8 readings differ. */
  hasNonAscii: boolean;
  size: number;
}

/**
 * Streams the whole file once: a file is UTF-8 only when every byte sequence in it is,
 * and a stray cp1252 byte can sit anywhere, so a head sample is not enough.
 */
/** Bytes read at a time by the whole-file scan of encoding detection. */
const SCAN_CHUNK_BYTES = 1 << 20;

/**
 * Returns the length of the start of `bytes` that ends at a UTF-8 sequence boundary: the
 * whole buffer, or up to the lead byte of a last sequence that needs bytes beyond it.
 */
export function completeUtf8Length(bytes: Uint8Array): number {
  for (let back = 1; back <= 4 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back];
    // A continuation byte (10xxxxxx): the lead byte is further back.
    if ((byte & 0xc0) === 0x80) continue;
    // The lead byte gives the sequence length; an invalid one is left to the validator.
    let needed = 1;
    if (byte >= 0xf0) needed = 4;
    else if (byte >= 0xe0) needed = 3;
    else if (byte >= 0xc0) needed = 2;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

async function scanBytes(file: string): Promise<ByteScan> {
  const scan: ByteScan = { validUtf8: true, hasNul: false, nulOffset: -1, hasCp1252Undefined: false, hasNonAscii: false, size: 0 };
  // isUtf8 checks the bytes without decoding them, where a TextDecoder built and dropped a
  // string as large as the file. Two buffers take turns, so the next chunk is read while this
  // one is checked. Each chunk goes 4 bytes in, so that a sequence the previous chunk cut (at
  // most 3 bytes) fits right before it. A read stream's new buffer per chunk made 50 MB of
  // garbage for a 50 MB file.
  const handle = await open(file, 'r');
  const buffers = [Buffer.allocUnsafe(SCAN_CHUNK_BYTES + 4), Buffer.allocUnsafe(SCAN_CHUNK_BYTES + 4)];
  let turn = 0;
  let pending = handle.read(buffers[0], 4, SCAN_CHUNK_BYTES, null);
  try {
    const carry = Buffer.alloc(4);
    let carried = 0;
    // Bytes from here on are checked for the ones windows-1252 leaves undefined, which only
    // matter once the file is known not to be UTF-8.
    let legacyFrom = -1;
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const buffer = buffers[turn];
      turn = 1 - turn;
      pending = handle.read(buffers[turn], 4, SCAN_CHUNK_BYTES, null);
      const chunk = buffer.subarray(4, 4 + bytesRead);
      if (!scan.hasNul) {
        const nul = chunk.indexOf(0);
        if (nul >= 0) {
          scan.hasNul = true;
          scan.nulOffset = scan.size + nul;
        }
      }
      // Native scans: a JavaScript loop over every byte was the slowest part of reading a large file.
      const ascii = isAscii(chunk);
      if (!ascii) scan.hasNonAscii = true;
      if (scan.validUtf8 && !ascii) {
        carry.copy(buffer, 4 - carried, 0, carried);
        const bytes = buffer.subarray(4 - carried, 4 + bytesRead);
        const complete = completeUtf8Length(bytes);
        if (!isUtf8(bytes.subarray(0, complete))) scan.validUtf8 = false;
        carried = bytes.length - complete;
        bytes.copy(carry, 0, complete);
      } else if (scan.validUtf8 && carried > 0) {
        // An ASCII chunk cannot finish a sequence that the previous chunk started.
        scan.validUtf8 = false;
      }
      if (!scan.validUtf8 && legacyFrom < 0) legacyFrom = scan.size;
      if (!scan.validUtf8 && !ascii && !scan.hasCp1252Undefined) scan.hasCp1252Undefined = CP1252_UNDEFINED.some((byte) => chunk.includes(byte));
      scan.size += bytesRead;
    }
    // A sequence cut by the end of the file is invalid.
    if (carried > 0 && scan.validUtf8) {
      scan.validUtf8 = false;
      legacyFrom = scan.size;
    }
    // The chunks before the file turned out not to be UTF-8 are read again for those bytes.
    if (!scan.validUtf8 && !scan.hasCp1252Undefined && legacyFrom > 0) scan.hasCp1252Undefined = await containsAny(handle, legacyFrom, CP1252_UNDEFINED);
  } finally {
    await pending.catch(() => undefined);
    await handle.close();
  }
  return scan;
}

/** Tells whether the first `length` bytes of an open file contain one of `bytes`. */
async function containsAny(handle: FileHandle, length: number, bytes: readonly number[]): Promise<boolean> {
  const buffer = Buffer.allocUnsafe(Math.min(length, SCAN_CHUNK_BYTES));
  for (let position = 0; position < length; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - position), position);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    if (bytes.some((byte) => chunk.includes(byte))) return true;
    position += bytesRead;
  }
  return false;
}

/** Encoding of a byte sample from several files (a folder dataset): UTF-8 when valid, else chardet's guess. */
export function guessBufferEncoding(sample: Buffer): TextEncoding {
  const bom = bomEncoding(sample);
  if (bom) return bom;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return 'utf-8';
  } catch {
    return guessLegacyEncoding(sample, CP1252_UNDEFINED.some((byte) => sample.includes(byte)));
  }
}

/** Maps chardet's guess for a file that is not valid UTF-8 onto the encodings this reader decodes. */
function guessLegacyEncoding(sample: Buffer, hasCp1252Undefined: boolean): TextEncoding {
  for (const match of chardet.analyse(sample)) {
    const name = match.name.toLowerCase();
    if (match.confidence < 20) break;
    if (name === 'gb18030' || name === 'gbk' || name === 'gb2312') return 'gb18030';
    if (name === 'utf-16le') return 'utf-16le';
    if (name === 'utf-16be') return 'utf-16be';
    if (name.startsWith('iso-8859') || name.startsWith('windows-125')) break;
  }
  return hasCp1252Undefined ? 'latin1' : 'windows-1252';
}

export interface EncodingResult {
  encoding: TextEncoding;
  detected: boolean;
  size: number;
  /** The encoding detection would choose, set when an override disagrees with the bytes. */
  mismatch?: EncodingMismatch;
}

export interface EncodingMismatch {
  /** Encoding given by the caller. */
  given: TextEncoding;
  /** Encoding that detection picks for the same bytes. */
  detected: TextEncoding;
  /** The given encoding is UTF-8 but the bytes are not, so decoding replaces them with U+FFFD. */
  invalidBytes: boolean;
}

const SINGLE_OR_DOUBLE_BYTE: ReadonlySet<TextEncoding> = new Set(['gb18030', 'windows-1252', 'latin1']);

/**
 * Compares an encoding override with the bytes. Only clear conflicts count: UTF-8 given for
 * bytes that are not UTF-8, or a legacy encoding given for valid UTF-8 with non-ASCII bytes.
 * Choosing between legacy encodings (cp1252 or GB18030) is a guess, so it is never flagged.
 */
export function encodingMismatch(given: TextEncoding, validUtf8: boolean, hasNonAscii: boolean, detected: TextEncoding): EncodingMismatch | undefined {
  const utf8 = given === 'utf-8' || given === 'utf-8-bom';
  if (utf8 && !validUtf8) return { given, detected, invalidBytes: true };
  if (SINGLE_OR_DOUBLE_BYTE.has(given) && validUtf8 && hasNonAscii) return { given, detected, invalidBytes: false };
  return undefined;
}

/**
 * Detects the encoding of one file (UTF-8 first, then chardet on the head) and rejects
 * empty and binary files with a DataError.
 */
export async function detectFileEncoding(file: string, override?: TextEncoding): Promise<EncodingResult> {
  const { buffer } = await readHead(file);
  const bom = bomEncoding(buffer);
  const scan = await scanBytes(file);
  if (scan.size === 0 || (bom === 'utf-8-bom' && scan.size === 3)) {
    throw new DataError('The file is empty.', file, undefined, undefined, 'Choose a file that contains a header and data rows.');
  }
  const utf16 = bom === 'utf-16le' || bom === 'utf-16be' || override === 'utf-16le' || override === 'utf-16be';
  if (scan.hasNul && !utf16) {
    throw new DataError(
      `The file contains NUL bytes (first at byte offset ${scan.nulOffset}), so it looks binary, not text.`,
      file,
      undefined,
      undefined,
      'Choose a CSV, TSV, JSON Lines, JSON, Parquet or plain-text file; for UTF-16 text, pass --encoding utf-16le.',
    );
  }
  let detected: TextEncoding;
  if (bom) detected = bom;
  else if (scan.validUtf8) detected = 'utf-8';
  else detected = guessLegacyEncoding(buffer, scan.hasCp1252Undefined);
  if (override) {
    const mismatch = bom ? undefined : encodingMismatch(override, scan.validUtf8, scan.hasNonAscii, detected);
    return { encoding: override, detected: false, size: scan.size, ...(mismatch ? { mismatch } : {}) };
  }
  return { encoding: detected, detected: true, size: scan.size };
}

/** Returns the iconv-lite name of an encoding; iconv-lite's decoder strips a UTF-8 BOM. */
export function iconvName(encoding: TextEncoding): string {
  switch (encoding) {
    case 'utf-8':
    case 'utf-8-bom':
      return 'utf8';
    case 'gb18030':
      return 'gb18030';
    case 'windows-1252':
      return 'win1252';
    case 'latin1':
      return 'latin1';
    case 'utf-16le':
      return 'utf16le';
    case 'utf-16be':
      return 'utf16be';
  }
}

export function decodeBuffer(buffer: Buffer, encoding: TextEncoding): string {
  return iconv.decode(buffer, iconvName(encoding));
}

/**
 * Yields the decoded text of a file in chunks, with every line terminator (LF, CRLF, CR)
 * turned into LF so that downstream parsers count lines the way editors do.
 * Only `\r` and `\n` end lines: U+0085 (byte 0x85 in Latin-1) stays text.
 */
export async function* decodedChunks(file: string, encoding: TextEncoding): AsyncGenerator<string> {
  const decoder = iconv.decodeStream(iconvName(encoding));
  createReadStream(file).on('error', (error) => decoder.emit('error', error)).pipe(decoder);
  let pendingCr = false;
  for await (const piece of decoder as AsyncIterable<string>) {
    let chunk = piece;
    if (pendingCr) {
      chunk = '\r' + chunk;
      pendingCr = false;
    }
    if (chunk.endsWith('\r')) {
      chunk = chunk.slice(0, -1);
      pendingCr = true;
    }
    if (chunk.length > 0) yield chunk.replace(/\r\n?/g, '\n');
  }
  if (pendingCr) yield '\n';
}

export interface TextLine {
  text: string;
  /** 1-based line number in the original file. */
  line: number;
}

/** Splits a decoded file into lines; a final line without terminator counts, a trailing empty one does not. */
export async function* readLines(file: string, encoding: TextEncoding): AsyncGenerator<TextLine> {
  let rest = '';
  let line = 0;
  for await (const chunk of decodedChunks(file, encoding)) {
    rest += chunk;
    let start = 0;
    let end = rest.indexOf('\n', start);
    while (end >= 0) {
      line += 1;
      yield { text: rest.slice(start, end), line };
      start = end + 1;
      end = rest.indexOf('\n', start);
    }
    rest = rest.slice(start);
  }
  if (rest.length > 0) yield { text: rest, line: line + 1 };
}

/** Decodes the head of a file for sniffing, cut after its last complete line when the file is longer. */
export async function decodedHead(file: string, encoding: TextEncoding, bytes = SAMPLE_BYTES): Promise<string> {
  const { buffer, truncated } = await readHead(file, bytes);
  let text = decodeBuffer(buffer, encoding).replace(/\r\n?/g, '\n');
  if (truncated) {
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline > 0) text = text.slice(0, lastNewline + 1);
  }
  return text;
}

/** Line-ending style of the raw head bytes; `\r\r\n` counts as CRLF with an extra CR. */
export function detectLineEnding(head: Buffer): 'LF' | 'CRLF' | 'CR' | 'mixed' | 'none' {
  let lf = 0;
  let crlf = 0;
  let cr = 0;
  for (let i = 0; i < head.length; i++) {
    const byte = head[i];
    if (byte === 0x0d) {
      if (head[i + 1] === 0x0a) {
        crlf += 1;
        i += 1;
      } else if (!(head[i + 1] === 0x0d && head[i + 2] === 0x0a)) {
        cr += 1;
      }
    } else if (byte === 0x0a) {
      lf += 1;
    }
  }
  const kinds = [lf > 0, crlf > 0, cr > 0].filter(Boolean).length;
  if (kinds === 0) return 'none';
  if (kinds > 1) {
    // CSV exports often end CRLF records and keep bare LF inside quoted fields (twitter-airline style).
    if (crlf > 0 && cr === 0 && lf < crlf) return 'CRLF';
    return 'mixed';
  }
  if (crlf > 0) return 'CRLF';
  return cr > 0 ? 'CR' : 'LF';
}
