// `sentiment-distill cache info|clear`: inspect or empty the teacher cache.
import type { Command } from 'commander';
import { SETTINGS } from '../core/config';
import { TeacherCache, defaultTeacherCacheDir } from '../core/teachers/cache';

const DEFAULT_MAX_MB = Number(SETTINGS.find((s) => s.section === 'teacher' && s.key === 'cacheMaxMb')?.default ?? 2048);

interface CacheFlags {
  cacheDir?: string;
  json?: boolean;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function openCache(flags: CacheFlags): TeacherCache {
  return new TeacherCache(flags.cacheDir ?? defaultTeacherCacheDir(), DEFAULT_MAX_MB * 1024 * 1024);
}

export function addCacheCommand(program: Command): void {
  const cache = program.command('cache').description('Show or clear the cache of Hugging Face teacher outputs.');
  const dirHelp = 'teacher cache folder (default $SENTIMENT_DISTILLER_CACHE_DIR or the OS cache folder)';

  cache
    .command('info')
    .description('List the cached teachers with their rows, size and last use.')
    .option('--cache-dir <dir>', dirHelp)
    .option('--json', 'print JSON')
    .action((flags: CacheFlags) => {
      const info = openCache(flags).info();
      if (flags.json) return void process.stdout.write(JSON.stringify(info) + '\n');
      process.stdout.write(`Teacher cache: ${info.dir}\n${info.entries.length} entries, ${mebibytes(info.bytes)} (default limit ${mebibytes(info.maxBytes)}, setting teacher.cacheMaxMb)\n`);
      for (const entry of info.entries) {
        process.stdout.write(`  ${entry.key}  ${String(entry.rows).padStart(8)} rows  ${mebibytes(entry.bytes).padStart(11)}  last used ${entry.lastUsed.toISOString()}  ${entry.model}\n`);
      }
    });

  cache
    .command('clear')
    .description('Delete every cached teacher output; the next run computes them again.')
    .option('--cache-dir <dir>', dirHelp)
    .option('--json', 'print JSON')
    .action((flags: CacheFlags) => {
      const teacherCache = openCache(flags);
      const removed = teacherCache.clear();
      if (flags.json) return void process.stdout.write(JSON.stringify({ dir: teacherCache.dir, ...removed }) + '\n');
      process.stdout.write(`Removed ${removed.entries} entries (${mebibytes(removed.bytes)}) from ${teacherCache.dir}.\n`);
    });
}
