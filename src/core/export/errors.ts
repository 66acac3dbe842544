/**
 * Why an export failed: `not-finished` (the run is running, queued or failed),
 * `invalid-run` (a missing or inconsistent file in the run folder), `output-not-empty`
 * (the output folder has files and overwriting was not requested), `unknown-format`, and
 * `unsupported` (a student or tokenizer the ONNX graph cannot reproduce exactly).
 */
export type ExportErrorCode = 'not-finished' | 'invalid-run' | 'output-not-empty' | 'unknown-format' | 'unsupported';

export class ExportError extends Error {
  override readonly name = 'ExportError';
  constructor(
    readonly code: ExportErrorCode,
    message: string,
  ) {
    super(message);
  }
}
