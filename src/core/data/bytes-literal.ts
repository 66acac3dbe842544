// Python bytes literals stored as CSV text (`b'I don\'t …'`, `b"caf\xc3\xa9"`).

const BYTES_LITERAL = /^b(['"])[\s\S]*\1$/;

export function isBytesLiteral(text: string): boolean {
  return BYTES_LITERAL.test(text.trim());
}

const SIMPLE_ESCAPES: Record<string, number> = {
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  v: 0x0b,
  '0': 0x00,
};

/**
 * Decodes the body of a Python bytes literal to bytes and then as UTF-8 (invalid sequences
 * become U+FFFD). Characters outside the escapes are taken as their UTF-8 bytes.
 */
export function decodeBytesLiteral(literal: string): string {
  const trimmed = literal.trim();
  // Code points, not UTF-16 units, so that a character outside the BMP encodes as one UTF-8 sequence.
  const body = Array.from(trimmed.slice(2, -1));
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (char !== '\\' || i + 1 >= body.length) {
      for (const byte of encoder.encode(char)) bytes.push(byte);
      continue;
    }
    const next = body[i + 1];
    if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 2, i + 4).join(''))) {
      bytes.push(parseInt(body.slice(i + 2, i + 4).join(''), 16));
      i += 3;
    } else if (next in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[next]);
      i += 1;
    } else {
      // Python keeps unknown escapes such as `\d` as a backslash plus the character.
      bytes.push(0x5c);
    }
  }
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
}
