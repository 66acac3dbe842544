// Sentence and line splitting of English, Chinese and Markdown text for "Annotate Sentiment in This File".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitLines, splitSentences } from '../../out/core/annotate/sentences.js';

const texts = (spans) => spans.map((span) => span.text);
const raw = (text, spans) => spans.map((span) => text.slice(span.start, span.end));

test('english sentences and abbreviations', () => {
  const text = 'Dr. Smith loved it. It cost $3.50 (e.g. cheap)! Was it good? "Yes." Mr. J. Doe agreed…  Then he left';
  assert.deepEqual(texts(splitSentences(text)), ['Dr. Smith loved it.', 'It cost $3.50 (e.g. cheap)!', 'Was it good?', '"Yes."', 'Mr. J. Doe agreed…', 'Then he left']);
});

test('chinese sentences without spaces', () => {
  const text = '这部电影很好看！演员表演自然。剧情有点拖沓？“还行。”总之值得一看';
  assert.deepEqual(texts(splitSentences(text)), ['这部电影很好看！', '演员表演自然。', '剧情有点拖沓？', '“还行。”', '总之值得一看']);
});

test('mixed english and chinese', () => {
  const text = 'Great food.服务很差。Would not return!';
  assert.deepEqual(texts(splitSentences(text)), ['Great food.', '服务很差。', 'Would not return!']);
});

test('offsets point at the sentence as written', () => {
  const text = 'First one.\n  Second\none!\n\nThird.';
  const spans = splitSentences(text, { offset: 100 });
  assert.deepEqual(spans.map((s) => [s.start, s.end]), [[100, 110], [113, 124], [126, 132]]);
  assert.deepEqual(raw(text, splitSentences(text)), ['First one.', 'Second\none!', 'Third.']);
  assert.equal(spans[1].text, 'Second one!');
});

test('markdown blocks, code fences and front matter', () => {
  const text = ['---', 'title: x', '---', '# A great day', '', 'I loved **every** minute. The [food](http://x) was bad.', '', '```', 'code. Not a sentence.', '```', '- item one', '- item two is `fine`', '> quoted text', '---'].join('\n');
  assert.deepEqual(texts(splitSentences(text, { markdown: true })), ['A great day', 'I loved every minute.', 'The food was bad.', 'item one', 'item two is fine', 'quoted text']);
});

test('lines mode skips blanks and fences', () => {
  const text = 'one\r\n\r\n两行\n```\nx\n```\n  three  ';
  assert.deepEqual(texts(splitLines(text, { markdown: true })), ['one', '两行', 'three']);
  assert.deepEqual(raw(text, splitLines(text)), ['one', '两行', 'x', 'three']);
});

test('punctuation-only spans are dropped', () => {
  assert.deepEqual(texts(splitSentences('... !!! ——')), []);
});
