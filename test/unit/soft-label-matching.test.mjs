// How soft labels from a side file find their rows: by id, and by line number only for
// rows of the training file (a renamed copy of it), never for a separate dev or test file.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSoftLabelTeacher } from '../../out/core/teachers/soft-labels.js';
import { makeTempDir } from '../helpers.mjs';

const temp = makeTempDir('sd-soft-match-');
after(() => temp.cleanup());

const example = (file, line) => ({ id: `${file}:${line}`, text: 't', labels: [0], source: { file, line } });

test('soft labels match training rows by line, never dev rows', async () => {
  const train = join(temp.dir, 'train.tsv');
  const dev = join(temp.dir, 'dev.tsv');
  const side = join(temp.dir, 'teacher-logits.jsonl');
  // Written by an earlier run of a copy of the training file under another name.
  writeFileSync(side, ['{"id":"/old/train.tsv:2","line":2,"logits":[2,-2]}', '{"id":"/old/train.tsv:3","line":3,"logits":[-1,1]}'].join('\n') + '\n');
  const teacher = await createSoftLabelTeacher({ source: side, format: 'logits', task: 'binary', labelNames: ['neg', 'pos'], trainFile: train });

  assert.equal(teacher.covers([example(train, 2), example(train, 3)]), true, 'training rows match by line');
  const outputs = await teacher.predict([example(train, 3)]);
  assert.deepEqual(Array.from(outputs.logits[0]), [-1, 1]);
  assert.equal(teacher.covers([example(dev, 2)]), false, 'line 2 of dev.tsv is not line 2 of the training file');
  await assert.rejects(teacher.predict([example(dev, 2)]), /No soft label for row id ".*dev\.tsv:2"/);
});
