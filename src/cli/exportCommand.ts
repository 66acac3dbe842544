// `sentiment-distill export RUN_DIR --out DIR`: writes the student of a finished run as a
// transformers.js model folder (ONNX) and/or TensorFlow.js files, with a model card.
import { InvalidArgumentError, type Command } from 'commander';
import { ExportError, exportStudent, parseExportFormats, type ExportErrorCode, type ExportFormat } from '../core/export';

interface ExportFlags {
  out: string;
  format: ExportFormat[];
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export interface ExitCodes {
  failure: number;
  usage: number;
  data: number;
}

function formatList(value: string): ExportFormat[] {
  try {
    return parseExportFormats(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** Exit code per export failure: usage for a bad --out or --format, data for a broken run folder. */
function exitCodeOf(code: ExportErrorCode, exit: ExitCodes): number {
  switch (code) {
    case 'output-not-empty':
    case 'unknown-format':
      return exit.usage;
    case 'invalid-run':
      return exit.data;
    case 'not-finished':
    case 'unsupported':
      return exit.failure;
  }
}

export function addExportCommand(program: Command, exit: ExitCodes): void {
  program
    .command('export')
    .description('Export the student of a finished run: an ONNX model in the transformers.js folder layout (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx), the TensorFlow.js files in tfjs/, and a model card README.md.')
    .argument('<run>', 'run folder (see `sentiment-distill runs`)')
    .requiredOption('--out <dir>', 'output folder; it must be empty or missing unless --force is given')
    .option('--format <list>', 'comma-separated formats: onnx, tfjs', formatList, ['onnx', 'tfjs'] as ExportFormat[])
    .option('--force', 'write into a non-empty output folder, replacing the files of an earlier export (other files are kept)')
    .option('--json', 'print one JSON object with the output folder and files')
    .option('--quiet', 'print no progress')
    .action(async (runDir: string, flags: ExportFlags) => {
      try {
        const result = await exportStudent(runDir, flags.out, {
          formats: flags.format,
          force: flags.force === true,
          onProgress: flags.quiet || flags.json ? undefined : (message) => process.stderr.write(`${message}\n`),
        });
        if (flags.json) {
          process.stdout.write(JSON.stringify(result) + '\n');
        } else {
          process.stdout.write(`Exported ${result.formats.join(' and ')} to ${result.outDir}\n${result.files.map((file) => `  ${file}`).join('\n')}\nModel card: ${result.modelCard}\n`);
        }
      } catch (error) {
        if (!(error instanceof ExportError)) throw error;
        process.stderr.write(`error: ${error.message}\n`);
        process.exitCode = exitCodeOf(error.code, exit);
      }
    });
}
