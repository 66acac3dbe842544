// The on-disk teacher cache: default folder, keys, round trip, LRU eviction, info and
// clear, and the memo of model file hashes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultTeacherCacheDir, hashModelFile, identityKey, TeacherCache } from '../../out/core/teachers/cache.js';
import { makeTempDir } from '../helpers.mjs';

const temporary = [];
after(() => temporary.forEach((t) => t.cleanup()));

function tempDir() {
  const made = makeTempDir('teacher-cache-');
  temporary.push(made);
  return made.dir;
}

const identity = { model: 'org/model', files: { 'config.json': 'a'.repeat(64), 'onnx/model.onnx': 'b'.repeat(64) }, maxLength: 128, dtype: 'fp32', outputs: 'logits, pooled features' };

function row(logits, features) {
  return { logits: Float32Array.from(logits), features: features ? Float32Array.from(features) : undefined };
}

function shardsOf(dir) {
  return readdirSync(dir, { recursive: true }).filter((name) => String(name).endsWith('.bin')).map((name) => join(dir, String(name)));
}

test('default folder per platform', () => {
  assert.equal(defaultTeacherCacheDir({ SENTIMENT_DISTILLER_CACHE_DIR: '/data/tc' }, 'linux', '/home/u'), '/data/tc');
  assert.equal(defaultTeacherCacheDir({}, 'linux', '/home/u'), '/home/u/.cache/sentiment-distiller/teachers');
  assert.equal(defaultTeacherCacheDir({ XDG_CACHE_HOME: '/xdg' }, 'linux', '/home/u'), '/xdg/sentiment-distiller/teachers');
  assert.equal(defaultTeacherCacheDir({}, 'darwin', '/Users/u'), '/Users/u/Library/Caches/sentiment-distiller/teachers');
  assert.equal(defaultTeacherCacheDir({ LOCALAPPDATA: '/appdata' }, 'win32', '/home/u'), '/appdata/sentiment-distiller/teachers');
});

test('key changes with every identity field', () => {
  const base = identityKey(identity);
  assert.match(base, /^[0-9a-f]{32}$/);
  // File order does not matter.
  assert.equal(identityKey({ ...identity, files: { 'onnx/model.onnx': 'b'.repeat(64), 'config.json': 'a'.repeat(64) } }), base);
  const variants = [
    { ...identity, model: 'org/other' },
    { ...identity, files: { ...identity.files, 'onnx/model.onnx': 'c'.repeat(64) } },
    { ...identity, files: { ...identity.files, 'tokenizer.json': 'd'.repeat(64) } },
    { ...identity, maxLength: 64 },
    { ...identity, dtype: 'q8' },
    { ...identity, outputs: 'pooled features' },
  ];
  const keys = variants.map(identityKey);
  for (const key of keys) assert.notEqual(key, base);
  assert.equal(new Set(keys).size, variants.length);
});

test('round trip returns stored values', () => {
  const dir = tempDir();
  const cache = new TeacherCache(dir, 1024 * 1024);
  cache.store(identity, ['good film', 'bad film'], [row([1.5, -2.25], [0.1, 0.2, 0.3]), row([-0.5, 3], [1, 2, 3])]);

  const { rows, hits } = cache.lookup(identity, ['bad film', 'unseen', 'good film', 'bad film']);
  assert.equal(hits, 3);
  assert.deepEqual(Array.from(rows[0].logits), [-0.5, 3]);
  assert.deepEqual(Array.from(rows[0].features), [1, 2, 3]);
  assert.equal(rows[1], undefined);
  assert.deepEqual(Array.from(rows[2].logits), [1.5, -2.25]);
  assert.deepEqual(Array.from(rows[2].features), Array.from(Float32Array.of(0.1, 0.2, 0.3)));
  assert.deepEqual(Array.from(rows[3].logits), [-0.5, 3]);

  assert.equal(new TeacherCache(dir, 1024 * 1024).lookup({ ...identity, maxLength: 64 }, ['good film']).hits, 0);
});

test('logits without features', () => {
  const dir = tempDir();
  const cache = new TeacherCache(dir, 1024 * 1024);
  cache.store(identity, ['x'], [row([0.25, 0.75])]);
  const { rows } = cache.lookup(identity, ['x']);
  assert.deepEqual(Array.from(rows[0].logits), [0.25, 0.75]);
  assert.equal(rows[0].features, undefined);
  // Header (20 bytes) + sha256 (32) + 2 float32.
  assert.equal(statSync(shardsOf(dir)[0]).size, 20 + 32 + 8);
});

test('corrupt shard is skipped', () => {
  const dir = tempDir();
  const cache = new TeacherCache(dir, 1024 * 1024);
  cache.store(identity, ['x'], [row([1, 2])]);
  const [shard] = shardsOf(dir);
  writeFileSync(shard, readFileSync(shard).subarray(0, 40));
  assert.equal(cache.lookup(identity, ['x']).hits, 0);
});

test('eviction removes least recently used', () => {
  const dir = tempDir();
  // A shard with one row of 2 logits is 60 bytes, so the limit fits two shards.
  const cache = new TeacherCache(dir, 130);
  const a = { ...identity, model: 'a' };
  const b = { ...identity, model: 'b' };
  const c = { ...identity, model: 'c' };
  cache.store(a, ['t'], [row([1, 1])]);
  cache.store(b, ['t'], [row([2, 2])]);
  const [shardA] = shardsOf(join(dir, identityKey(a)));
  const [shardB] = shardsOf(join(dir, identityKey(b)));
  utimesSync(shardA, new Date(1000_000), new Date(1000_000));
  utimesSync(shardB, new Date(2000_000), new Date(2000_000));
  // Reading A marks it as used now, so B becomes the oldest.
  assert.equal(cache.lookup(a, ['t']).hits, 1);
  cache.store(c, ['t'], [row([3, 3])]);

  assert.equal(cache.lookup(a, ['t']).hits, 1);
  assert.equal(cache.lookup(b, ['t']).hits, 0);
  assert.equal(cache.lookup(c, ['t']).hits, 1);
  const info = cache.info();
  assert.deepEqual(info.entries.map((e) => e.model).sort(), ['a', 'c']);
  assert.equal(info.bytes, 120);
});

test('info and clear', () => {
  const dir = tempDir();
  const cache = new TeacherCache(dir, 1024 * 1024);
  cache.store(identity, ['a', 'b', 'c'], [row([1, 2]), row([3, 4]), row([5, 6])]);
  cache.store(identity, ['d'], [row([7, 8])]);
  const info = cache.info();
  assert.equal(info.dir, dir);
  assert.equal(info.entries.length, 1);
  assert.equal(info.entries[0].model, 'org/model');
  assert.equal(info.entries[0].rows, 4);
  assert.equal(info.entries[0].bytes, 20 + 3 * 40 + 20 + 40);
  assert.equal(info.maxBytes, 1024 * 1024);

  assert.deepEqual(cache.clear(), { entries: 1, bytes: 200 });
  assert.equal(cache.info().entries.length, 0);
  assert.equal(cache.lookup(identity, ['a']).hits, 0);
});

test('model file hash and its memo', async () => {
  const dir = tempDir();
  const file = join(dir, 'model.onnx');
  writeFileSync(file, 'weights v1');
  const expected = createHash('sha256').update('weights v1').digest('hex');
  assert.equal(await hashModelFile(file, dir), expected);

  // Same size and mtime: the hash comes from the memo without reading the file.
  const memoPath = join(dir, 'file-hashes.json');
  const memo = JSON.parse(readFileSync(memoPath, 'utf8'));
  memo[file].sha256 = 'memo'.repeat(16);
  writeFileSync(memoPath, JSON.stringify(memo));
  assert.equal(await hashModelFile(file, dir), 'memo'.repeat(16));

  writeFileSync(file, 'weights v22');
  assert.equal(await hashModelFile(file, dir), createHash('sha256').update('weights v22').digest('hex'));
});
