// Prints Markdown tables from the JSON files that kd-throughput.mjs and inference.mjs
// write, for pasting into BENCHMARKS.md.
// Usage: node bench/report.mjs bench/results/kd-throughput.json [more.json ...]
import { readFile } from 'node:fs/promises';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('Usage: node bench/report.mjs RESULTS.json [RESULTS.json ...]. Pass files written by bench/kd-throughput.mjs or bench/inference.mjs.');
  process.exit(2);
}

for (const file of files) {
  const results = JSON.parse(await readFile(file, 'utf8'));
  const { machine, settings } = results;
  const title = results.benchmark === 'kd-throughput' ? 'KD training step' : 'Inference';
  const threads = `${machine.torchThreads} thread${machine.torchThreads === 1 ? '' : 's'}`;
  console.log(`### ${title}, PyTorch on ${threads}: \`${results.command}\`\n`);
  console.log(`Started ${machine.startedAt}, ${results.elapsedSeconds} s. Load average (1, 5, 15 min) at start ${machine.loadAverageAtStart.join(', ')}, at end ${machine.loadAverageAtEnd.join(', ')}.`);
  console.log(`tfjs on ${machine.tfjsDevice}; PyTorch ${machine.torch} with ${threads}. Batch ${settings.batch}. Timed steps per repetition: ${formatCounts(settings.steps)}; warmup ${formatCounts(settings.warmup)}.\n`);
  console.log('| workload | student | mean padded width | tfjs samples/s median (min–max) | PyTorch samples/s median (min–max) | tfjs/PyTorch (ratio of medians) | ratio within repetitions, median (min–max) | 1-min load avg (min–max) |');
  console.log('|---|---|--:|--:|--:|--:|--:|--:|');
  for (const row of results.rows) {
    const loads = [...row.tfjsRecords, ...row.torchRecords].map((record) => record.load_average_1m);
    // Recomputed from the records, so the ratio keeps its precision whatever the summary rounded.
    const paired = row.tfjsRecords.map((record, i) => record.samples_per_s / row.torchRecords[i].samples_per_s).sort((a, b) => a - b);
    const pairedMedian = paired.length % 2 === 1 ? paired[(paired.length - 1) / 2] : (paired[paired.length / 2 - 1] + paired[paired.length / 2]) / 2;
    console.log(
      `| ${row.workload} | ${row.student} | ${row.mean_padded_seq} | ${row.tfjs.median} (${row.tfjs.min}–${row.tfjs.max}) | ${row.torch.median} (${row.torch.min}–${row.torch.max}) | ${row.ratioOfMedians.toFixed(2)} | ${pairedMedian.toFixed(2)} (${paired[0].toFixed(2)}–${paired.at(-1).toFixed(2)}) | ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} |`,
    );
  }
  console.log('');
}

function formatCounts(counts) {
  return Object.entries(counts).map(([kind, count]) => `${kind} ${count}`).join(', ');
}
