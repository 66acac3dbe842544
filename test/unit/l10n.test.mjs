// Checks the Simplified Chinese translations against the English sources:
// package.nls.json (manifest strings) and l10n/bundle.l10n.json (runtime
// strings passed to vscode.l10n.t in src/extension).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers.mjs';

// Product and model names that Chinese users keep in English, so a translation
// may equal its source.
const UNTRANSLATED_NAMES = new Set(['Sentiment Distiller', 'Kim CNN', 'BiLSTM']);

const HAN = /\p{Script=Han}/u;

function readJson(path) {
  return JSON.parse(readFileSync(join(repoRoot, path), 'utf8'));
}

const nlsEnglish = readJson('package.nls.json');
const nlsChinese = readJson('package.nls.zh-cn.json');
const bundleEnglish = readJson('l10n/bundle.l10n.json');
const bundleChinese = readJson('l10n/bundle.l10n.zh-cn.json');
const manifest = readJson('package.json');

/** Message of a bundle value: a plain string, or `{ message, comment }` for keys exported with a translator comment. */
function messageOf(value) {
  return typeof value === 'string' ? value : value?.message;
}

/** Sorted `{n}` placeholders of a message, so two messages compare as multisets. */
function placeholders(message) {
  return (message.match(/\{\d+\}/g) ?? []).sort();
}

function linkTargets(message) {
  return [...message.matchAll(/\]\(([^)]*)\)/g)].map((match) => match[1]);
}

function lineBreaks(message) {
  return message.split('\n').length - 1;
}

/** Asserts that `chinese` is a usable translation of `english`. `where` names the file and key in failure messages. */
function assertTranslation(english, chinese, where) {
  assert.equal(typeof chinese, 'string', `${where}: translation is not a string`);
  assert.notEqual(chinese.trim(), '', `${where}: translation is empty`);
  if (UNTRANSLATED_NAMES.has(english)) return;

  assert.notEqual(chinese, english, `${where}: translation equals the English text; translate it or add the name to UNTRANSLATED_NAMES`);
  assert.match(chinese, HAN, `${where}: translation contains no Chinese characters: ${JSON.stringify(chinese)}`);
  assert.deepEqual(placeholders(chinese), placeholders(english), `${where}: placeholders differ from the English ${JSON.stringify(english)}`);
  assert.deepEqual(linkTargets(chinese), linkTargets(english), `${where}: markdown link targets differ from the English`);
  assert.equal(lineBreaks(chinese), lineBreaks(english), `${where}: line break count differs from the English`);
}

function collectStrings(value, out = []) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) collectStrings(item, out);
  return out;
}

function listTypeScriptFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listTypeScriptFiles(path));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

/** Decodes the escapes of a JavaScript string literal body (`\'`, `\"`, `\\`, `\n`, `\uXXXX`, ...). */
function unescapeLiteral(body) {
  const simple = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', 0: '\0' };
  return body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\s\S])/g, (_, code) => {
    if (code.startsWith('u{')) return String.fromCodePoint(parseInt(code.slice(2, -1), 16));
    if (code.length > 1) return String.fromCodePoint(parseInt(code.slice(1), 16));
    return simple[code] ?? code;
  });
}

const L10N_CALL = /\bl10n\.t\(\s*/g;
const QUOTED_LITERAL = /^(['"])((?:(?!\1)[^\\\n]|\\.)*)\1/;
const COMMENTED_MESSAGE = /^\{\s*message:\s*(['"])((?:(?!\1)[^\\\n]|\\.)*)\1/;

/**
 * Finds every `l10n.t(...)` call in src/extension and webview/. A quoted literal
 * first argument yields `{ message }`, and the `{ message: '…', comment: … }`
 * form yields `{ message, commented: true }`. Any other first argument yields
 * `{ unreadable }`, because this test reads only quoted literals and `npm run l10n`
 * exports only literal messages.
 */
function findL10nCalls() {
  const calls = [];
  const files = [...listTypeScriptFiles(join(repoRoot, 'src', 'extension')), ...listTypeScriptFiles(join(repoRoot, 'webview'))];
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const call of source.matchAll(L10N_CALL)) {
      const start = call.index + call[0].length;
      const line = source.slice(0, call.index).split('\n').length;
      const where = `${relative(repoRoot, file)}:${line}`;
      const rest = source.slice(start);
      const literal = rest.match(QUOTED_LITERAL);
      const commented = rest.match(COMMENTED_MESSAGE);
      if (literal) calls.push({ where, message: unescapeLiteral(literal[2]) });
      else if (commented) calls.push({ where, message: unescapeLiteral(commented[2]), commented: true });
      else calls.push({ where, unreadable: rest.slice(0, 40) });
    }
  }
  return calls;
}

test('nls zh-cn has every English key', () => {
  const missing = Object.keys(nlsEnglish).filter((key) => !(key in nlsChinese));
  assert.deepEqual(missing, [], 'keys of package.nls.json missing from package.nls.zh-cn.json');
});

test('nls zh-cn has no extra keys', () => {
  const extra = Object.keys(nlsChinese).filter((key) => !(key in nlsEnglish));
  assert.deepEqual(extra, [], 'keys of package.nls.zh-cn.json that package.nls.json does not define');
});

test('nls zh-cn translations are valid', () => {
  for (const [key, english] of Object.entries(nlsEnglish)) {
    if (key in nlsChinese) assertTranslation(english, nlsChinese[key], `package.nls.zh-cn.json "${key}"`);
  }
});

test('manifest %keys% exist in package.nls.json', () => {
  const keys = collectStrings(manifest)
    .map((value) => value.match(/^%(.+)%$/)?.[1])
    .filter((key) => key !== undefined);
  assert.ok(keys.length >= 10, `expected the manifest to use package.nls.json keys, found ${keys.length}`);
  for (const key of keys) assert.ok(key in nlsEnglish, `package.json uses %${key}% but package.nls.json has no "${key}"`);
});

test('manifest points l10n at the bundle folder', () => {
  assert.equal(manifest.l10n, './l10n', 'package.json "l10n" must name the folder of bundle.l10n.*.json, or VS Code loads no runtime translations');
});

test('bundle zh-cn has every English key', () => {
  const missing = Object.keys(bundleEnglish).filter((key) => !(key in bundleChinese));
  assert.deepEqual(missing, [], 'keys of l10n/bundle.l10n.json missing from l10n/bundle.l10n.zh-cn.json');
});

test('bundle zh-cn has no extra keys', () => {
  const extra = Object.keys(bundleChinese).filter((key) => !(key in bundleEnglish));
  assert.deepEqual(extra, [], 'keys of l10n/bundle.l10n.zh-cn.json that l10n/bundle.l10n.json does not define');
});

test('bundle zh-cn translations are valid', () => {
  for (const [key, value] of Object.entries(bundleEnglish)) {
    const english = messageOf(value);
    assert.equal(typeof english, 'string', `l10n/bundle.l10n.json "${key}": value is neither a string nor { message }`);
    if (key in bundleChinese) assertTranslation(english, messageOf(bundleChinese[key]), `l10n/bundle.l10n.zh-cn.json "${key}"`);
  }
});

test('l10n.t calls use literal messages', () => {
  const calls = findL10nCalls();
  assert.ok(calls.length >= 20, `expected vscode.l10n.t calls in src/extension, found ${calls.length}`);
  for (const call of calls) {
    assert.equal(call.unreadable, undefined, `${call.where}: the first argument of vscode.l10n.t must be a quoted string literal or { message: '…', comment }, got ${JSON.stringify(call.unreadable)}`);
  }
});

test('l10n.t messages are bundle keys', () => {
  for (const call of findL10nCalls()) {
    if (call.message === undefined) continue;
    if (call.commented) {
      const found = Object.keys(bundleEnglish).some((key) => key.startsWith(`${call.message}/`));
      assert.ok(found, `${call.where}: no "${call.message}/<comment>" key in l10n/bundle.l10n.json; run npm run l10n`);
    } else {
      assert.ok(call.message in bundleEnglish, `${call.where}: ${JSON.stringify(call.message)} is not a key of l10n/bundle.l10n.json; run npm run l10n`);
    }
  }
});
