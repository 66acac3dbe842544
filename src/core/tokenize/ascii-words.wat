;; The ASCII path of StudentTokenizer.appendAsciiBytes as a wasm kernel, for reading large
;; files: it splits ASCII text into words and punctuation (by a table of character kinds),
;; looks each one up in an open-addressing table of word ids in its own memory, and writes
;; the ids. A word that is not in the table stops it, so that the TypeScript side
;; (ascii-words.ts) encodes the word with the tokenizer, adds it, and calls it again.
;; scripts/wasm-kernels.mjs compiles this file into ascii-words-wasm.ts.
;;
;; The context at $ctx holds i32 fields: 0 character kinds (128 bytes: 0 word, 1 separator,
;; 2 punctuation, 3 blocked), 4 the lowercase (or identity) map of the 128 ASCII codes, 8 the
;; table, 12 the table's slot mask, 16 the ids of each punctuation character (128 offsets, 0
;; when not known yet), and 20 and 24, written on a miss, the missing word's start and end.
;; A table slot is 16 bytes: hash, key offset, key length (0 for an empty slot), ids offset.
;; Ids are stored as a count followed by that many i32 ids.
(module
  (memory (export "memory") 1)

  ;; Copies the ids at $ids after the $count ids already at $out, up to $limit ids in all.
  (func $append (param $ids i32) (param $out i32) (param $count i32) (param $limit i32) (result i32)
    (local $n i32) (local $j i32)
    (local.set $n (i32.load (local.get $ids)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (br_if $done (i32.ge_s (local.get $count) (local.get $limit)))
        (i32.store
          (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2)))
          (i32.load (i32.add (local.get $ids) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 2)))))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each)))
    (local.get $count))

  ;; The ids offset of the word at [$start, $end) with hash $hash, or 0 when the table lacks it.
  (func $word_ids (param $ctx i32) (param $start i32) (param $end i32) (param $hash i32) (result i32)
    (local $table i32) (local $mask i32) (local $slot i32) (local $entry i32) (local $length i32)
    (local $key i32) (local $lower i32) (local $k i32)
    (local.set $table (i32.load offset=8 (local.get $ctx)))
    (local.set $mask (i32.load offset=12 (local.get $ctx)))
    (local.set $lower (i32.load offset=4 (local.get $ctx)))
    (local.set $length (i32.sub (local.get $end) (local.get $start)))
    (local.set $slot (i32.and (local.get $hash) (local.get $mask)))
    (loop $probe
      (local.set $entry (i32.add (local.get $table) (i32.shl (local.get $slot) (i32.const 4))))
      (if (i32.eqz (i32.load offset=8 (local.get $entry))) (then (return (i32.const 0))))
      (block $next
        (br_if $next (i32.ne (i32.load (local.get $entry)) (local.get $hash)))
        (br_if $next (i32.ne (i32.load offset=8 (local.get $entry)) (local.get $length)))
        (local.set $key (i32.load offset=4 (local.get $entry)))
        (local.set $k (i32.const 0))
        (loop $compare
          (if (i32.lt_u (local.get $k) (local.get $length))
            (then
              (br_if $next
                (i32.ne
                  (i32.load8_u (i32.add (local.get $lower) (i32.load8_u (i32.add (local.get $start) (local.get $k)))))
                  (i32.load8_u (i32.add (local.get $key) (local.get $k)))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $compare))))
        (return (i32.load offset=12 (local.get $entry))))
      (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (local.get $mask)))
      (br $probe))
    (i32.const 0))

  ;; Writes the ids of the text at [$start, $end) to $out, at most $limit of them, and returns
  ;; their count. Returns -1 for a byte the ASCII path does not cover, and -2 for a word or
  ;; punctuation character the tables lack, whose range it stores in the context.
  (func (export "encode") (param $ctx i32) (param $start i32) (param $end i32) (param $out i32) (param $limit i32) (result i32)
    (local $kinds i32) (local $lower i32) (local $punctuation i32)
    (local $i i32) (local $code i32) (local $kind i32) (local $word i32) (local $hash i32)
    (local $count i32) (local $ids i32)
    (local.set $kinds (i32.load (local.get $ctx)))
    (local.set $lower (i32.load offset=4 (local.get $ctx)))
    (local.set $punctuation (i32.load offset=16 (local.get $ctx)))
    (local.set $word (i32.const -1))
    (local.set $i (local.get $start))
    (block $done
      (loop $bytes
        (br_if $done (i32.gt_u (local.get $i) (local.get $end)))
        (br_if $done (i32.ge_s (local.get $count) (local.get $limit)))
        ;; One space after the text ends its last word.
        (local.set $code
          (if (result i32) (i32.lt_u (local.get $i) (local.get $end))
            (then (i32.load8_u (local.get $i)))
            (else (i32.const 32))))
        (if (i32.ge_u (local.get $code) (i32.const 128)) (then (return (i32.const -1))))
        (local.set $kind (i32.load8_u (i32.add (local.get $kinds) (local.get $code))))
        (block $handled
          (if (i32.eqz (local.get $kind))
            (then
              (if (i32.lt_s (local.get $word) (i32.const 0))
                (then
                  (local.set $word (local.get $i))
                  (local.set $hash (i32.const 0x811c9dc5))))
              ;; FNV-1a over the lowercased codes, as the TypeScript word cache hashes.
              (local.set $hash
                (i32.mul
                  (i32.xor (local.get $hash) (i32.load8_u (i32.add (local.get $lower) (local.get $code))))
                  (i32.const 16777619)))
              (br $handled)))
          (if (i32.eq (local.get $kind) (i32.const 3)) (then (return (i32.const -1))))
          (if (i32.ge_s (local.get $word) (i32.const 0))
            (then
              (local.set $ids (call $word_ids (local.get $ctx) (local.get $word) (local.get $i) (local.get $hash)))
              (if (i32.eqz (local.get $ids))
                (then
                  (i32.store offset=20 (local.get $ctx) (local.get $word))
                  (i32.store offset=24 (local.get $ctx) (local.get $i))
                  (return (i32.const -2))))
              (local.set $count (call $append (local.get $ids) (local.get $out) (local.get $count) (local.get $limit)))
              (local.set $word (i32.const -1))))
          (if (i32.and (i32.eq (local.get $kind) (i32.const 2)) (i32.lt_s (local.get $count) (local.get $limit)))
            (then
              (local.set $ids (i32.load (i32.add (local.get $punctuation) (i32.shl (local.get $code) (i32.const 2)))))
              (if (i32.eqz (local.get $ids))
                (then
                  (i32.store offset=20 (local.get $ctx) (local.get $i))
                  (i32.store offset=24 (local.get $ctx) (i32.add (local.get $i) (i32.const 1)))
                  (return (i32.const -2))))
              (local.set $count (call $append (local.get $ids) (local.get $out) (local.get $count) (local.get $limit))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $bytes)))
    (local.get $count))
)
