;; encodeRecords' byte reader as a wasm kernel, for reading large files: `scan` finds the
;; records of a delimited file and their fields, and tokenizes the text field as
;; StudentTokenizer.appendAsciiBytes does. It splits ASCII text into words and punctuation (by
;; a table of character kinds), looks each one up in an open-addressing table of word ids in
;; its own memory, and writes the ids. A word that is not in the table stops it, so that the
;; TypeScript side (ascii-words.ts) encodes the word with the tokenizer, adds it, and calls it
;; again. scripts/wasm-kernels.mjs compiles this file into ascii-words-wasm.ts.
;;
;; The context at $ctx holds i32 fields: 0 character kinds (128 bytes: 0 word, 1 separator,
;; 2 punctuation, 3 blocked), 4 the lowercase (or identity) map of the 128 ASCII codes, 8 the
;; table, 12 the table's slot mask, 16 the ids of each punctuation character (128 offsets, 0
;; when not known yet), 20 and 24, written on a miss, the missing word's start and end, 84
;; the scan kinds (see $text_field), 88 1 when the tokenizer lowercases, 92 the 17 masks of
;; 16 bytes whose first n bytes are 0xff, 96, written on a missing word, its hash, 100 1
;; when the word characters are exactly the ASCII letters and digits, and 104 the ids of every
;; word that the table lacks, or 0 when such a word stops `scan` (a table that holds the whole
;; vocabulary of a WordLevel model, where any other word is the unknown token), 108 1 when text
;; beyond the ASCII path is tokenized one whitespace-delimited chunk at a time, and 112,
;; written on a miss, 1 when the missing key is such a chunk. A chunk's key is its raw bytes,
;; its slot's key length has bit 30 set, and its key is never inline. A table slot
;; is 32 bytes: hash, key length (0 for
;; an empty slot), ids offset, the key's offset in the pool for a key longer than 16 bytes,
;; then a shorter key inline, zero-padded. Ids are stored as a count followed by the ids.
;;
;; `scan` reads whole records of a delimited file as encodeRecords' byte reader does, and
;; tokenizes their text field. It also reads from the context: 28 the delimiter, 32 quoting
;; (0 or 1), 36 the text column, 40 the label column (-1 for none), 44 the column count, 48
;; the largest number of ids per record, 52 and 56 the record table and its capacity in
;; records, 60 and 64 the ids area and its capacity in ids. It writes 68 where the next call
;; starts, 72 the ids it wrote, 76 the records it wrote, and 80 why it stopped: 0 the end of
;; the bytes, 1 a missing word, 2 a full record table or ids area.
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

  ;; Hash of a word of at most 16 bytes, as its lowercased, zero-padded vector (its bytes are
  ;; never 0, so the vector tells the length too): the two halves multiplied by odd constants
  ;; and folded to 32 bits.
  (func $vector_hash (param $vector v128) (result i32)
    (local $h i64)
    (local.set $h
      (i64.xor
        (i64.mul (i64x2.extract_lane 0 (local.get $vector)) (i64.const 0x9e3779b97f4a7c15))
        (i64.mul (i64x2.extract_lane 1 (local.get $vector)) (i64.const 0xc2b2ae3d27d4eb4f))))
    (i32.wrap_i64 (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29)))))

  ;; The hash `scan` gives the word at [$start, $end): $vector_hash of its lowercased (when
  ;; context field 88 is 1), zero-padded vector for at most 16 bytes, else $long_hash.
  (func (export "word_hash") (param $ctx i32) (param $start i32) (param $end i32) (result i32)
    (local $length i32) (local $vector v128)
    (local.set $length (i32.sub (local.get $end) (local.get $start)))
    (if (i32.gt_u (local.get $length) (i32.const 16))
      (then (return (call $long_hash (i32.load offset=4 (local.get $ctx)) (local.get $start) (local.get $end)))))
    (local.set $vector (v128.load align=1 (local.get $start)))
    (if (i32.load offset=88 (local.get $ctx))
      (then
        (local.set $vector
          (v128.or (local.get $vector)
            (v128.and
              (v128.and
                (i8x16.ge_u (local.get $vector) (i8x16.splat (i32.const 0x41)))
                (i8x16.le_u (local.get $vector) (i8x16.splat (i32.const 0x5a))))
              (i8x16.splat (i32.const 0x20)))))))
    (call $vector_hash
      (v128.and (local.get $vector) (v128.load (i32.add (i32.load offset=92 (local.get $ctx)) (i32.shl (local.get $length) (i32.const 4)))))))

  ;; FNV-1a hash of the lowercased bytes of a longer word at [$start, $end).
  (func $long_hash (param $lower i32) (param $start i32) (param $end i32) (result i32)
    (local $hash i32)
    (local.set $hash (i32.const 0x811c9dc5))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $start) (local.get $end)))
        (local.set $hash
          (i32.mul
            (i32.xor (local.get $hash) (i32.load8_u (i32.add (local.get $lower) (i32.load8_u (local.get $start)))))
            (i32.const 16777619)))
        (local.set $start (i32.add (local.get $start) (i32.const 1)))
        (br $bytes)))
    (local.get $hash))

  ;; The ids offset of the word of more than 16 bytes at [$start, $end) with hash $hash, or 0
  ;; when the table lacks it; its key is in the pool, compared byte by byte. $text_field looks
  ;; up shorter words itself.
  (func $word_ids (param $ctx i32) (param $start i32) (param $end i32) (param $hash i32) (result i32)
    (local $table i32) (local $mask i32) (local $slot i32) (local $entry i32) (local $length i32)
    (local $key i32) (local $lower i32) (local $k i32)
    (local.set $table (i32.load offset=8 (local.get $ctx)))
    (local.set $mask (i32.load offset=12 (local.get $ctx)))
    (local.set $length (i32.sub (local.get $end) (local.get $start)))
    (local.set $lower (i32.load offset=4 (local.get $ctx)))
    (local.set $slot (i32.and (local.get $hash) (local.get $mask)))
    (loop $probe
      (local.set $entry (i32.add (local.get $table) (i32.shl (local.get $slot) (i32.const 5))))
      (if (i32.eqz (i32.load offset=4 (local.get $entry))) (then (return (i32.const 0))))
      (block $next
        (br_if $next (i32.ne (i32.load (local.get $entry)) (local.get $hash)))
        (br_if $next (i32.ne (i32.load offset=4 (local.get $entry)) (local.get $length)))
        (local.set $key (i32.load offset=12 (local.get $entry)))
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
        (return (i32.load offset=8 (local.get $entry))))
      (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (local.get $mask)))
      (br $probe))
    (i32.const 0))

  ;; FNV-1a hash of the raw bytes of a chunk at [$start, $end).
  (func $chunk_hash (param $start i32) (param $end i32) (result i32)
    (local $hash i32)
    (local.set $hash (i32.const 0x811c9dc5))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $start) (local.get $end)))
        (local.set $hash (i32.mul (i32.xor (local.get $hash) (i32.load8_u (local.get $start))) (i32.const 16777619)))
        (local.set $start (i32.add (local.get $start) (i32.const 1)))
        (br $bytes)))
    (local.get $hash))

  ;; The ids offset of the chunk at [$start, $end) with hash $hash, or 0 when the table lacks it.
  (func $chunk_ids (param $ctx i32) (param $start i32) (param $end i32) (param $hash i32) (result i32)
    (local $table i32) (local $mask i32) (local $slot i32) (local $entry i32) (local $length i32)
    (local $key i32) (local $k i32)
    (local.set $table (i32.load offset=8 (local.get $ctx)))
    (local.set $mask (i32.load offset=12 (local.get $ctx)))
    (local.set $length (i32.sub (local.get $end) (local.get $start)))
    (local.set $slot (i32.and (local.get $hash) (local.get $mask)))
    (loop $probe
      (local.set $entry (i32.add (local.get $table) (i32.shl (local.get $slot) (i32.const 5))))
      (if (i32.eqz (i32.load offset=4 (local.get $entry))) (then (return (i32.const 0))))
      (block $next
        (br_if $next (i32.ne (i32.load (local.get $entry)) (local.get $hash)))
        (br_if $next (i32.ne (i32.load offset=4 (local.get $entry)) (i32.or (local.get $length) (i32.const 0x40000000))))
        (local.set $key (i32.load offset=12 (local.get $entry)))
        (local.set $k (i32.const 0))
        (loop $compare
          (if (i32.lt_u (local.get $k) (local.get $length))
            (then
              (br_if $next (i32.ne (i32.load8_u (i32.add (local.get $start) (local.get $k))) (i32.load8_u (i32.add (local.get $key) (local.get $k)))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $compare))))
        (return (i32.load offset=8 (local.get $entry))))
      (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (local.get $mask)))
      (br $probe))
    (i32.const 0))

;; Results of $text_field besides the position it returns.
  (global $count (mut i32) (i32.const 0))
  (global $blocked (mut i32) (i32.const 0))
  (global $field_newlines (mut i32) (i32.const 0))
  (global $field_status (mut i32) (i32.const 0))
  (global $text_start (mut i32) (i32.const 0))
  (global $text_end (mut i32) (i32.const 0))

  ;; The kind of the character at $p of a text field as `encode` sees it: 1 separator,
  ;; 2 punctuation, 3 blocked, or 5 when the field ends there; 6 when the bytes end before it
  ;; can tell and more may follow. A doubled quote in a quoted field is one quote character.
  (func $kind_at (param $ctx i32) (param $p i32) (param $end i32) (param $at_end i32) (param $quoted i32) (result i32)
    (local $b i32) (local $kind i32)
    (if (i32.ge_u (local.get $p) (local.get $end))
      (then (return (if (result i32) (local.get $at_end) (then (i32.const 5)) (else (i32.const 6))))))
    (local.set $b (i32.load8_u (local.get $p)))
    (local.set $kind (i32.load8_u (i32.add (i32.load offset=84 (local.get $ctx)) (local.get $b))))
    (if (i32.ne (local.get $kind) (i32.const 4)) (then (return (local.get $kind))))
    (if (i32.eq (local.get $b) (i32.const 34))
      (then
        (if (i32.eqz (local.get $quoted)) (then (return (i32.load8_u offset=34 (i32.load (local.get $ctx))))))
        (if (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end))
          (then (return (if (result i32) (local.get $at_end) (then (i32.const 5)) (else (i32.const 6))))))
        (if (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 34))
          (then (return (i32.load8_u offset=34 (i32.load (local.get $ctx))))))
        (return (i32.const 5))))
    ;; The delimiter, LF and CR: text inside quotes, the end of the field outside.
    (if (result i32) (local.get $quoted)
      (then (i32.load8_u (i32.add (i32.load (local.get $ctx)) (local.get $b))))
      (else (i32.const 5))))

  ;; Reads the text field at $p (quoted when $quoting and it starts with a quote) and writes
  ;; its ids to $out, at most $limit, as `encode` does for the field's text with doubled quotes
  ;; made single. Returns the position after the field (at its delimiter or line end), -1 when
  ;; the bytes end inside it and more may follow, or -2 when a word or punctuation character
  ;; is missing from the tables (its range is in the context). Sets $count (ids written),
  ;; $blocked (text the ASCII path does not cover), $field_newlines (line ends inside it) and
  ;; $field_status (1 text after the closing quote, 2 a quote the end of the file leaves open).
  ;; The scan kinds at context offset 84 (256 bytes) are the character kinds with 3 for every
  ;; byte from 128 on and 4 for the delimiter, LF, CR and, with quoting, the quote.
  (func $text_field (param $ctx i32) (param $p i32) (param $end i32) (param $at_end i32)
      (param $quoting i32) (param $delimiter i32) (param $out i32) (param $limit i32) (result i32)
    (local $kinds i32) (local $scan_kinds i32) (local $lower i32) (local $quoted i32) (local $b i32)
    (local $kind i32) (local $step i32) (local $word i32) (local $hash i32) (local $count i32)
    (local $blocked i32) (local $newlines i32) (local $ids i32) (local $status i32) (local $next i32)
    (local $length i32) (local $vector v128) (local $lowercase i32) (local $masks i32) (local $table i32)
    (local $mask i32) (local $slot i32) (local $entry i32) (local $simd i32) (local $others i32)
    (local $h i64) (local $chunks i32) (local $chunk_start i32) (local $chunk_count i32) (local $q i32) (local $c i32) (local $chunk_quote i32)
    (local.set $chunks (i32.load offset=108 (local.get $ctx)))
    (local.set $kinds (i32.load (local.get $ctx)))
    (local.set $simd (i32.load offset=100 (local.get $ctx)))
    (local.set $table (i32.load offset=8 (local.get $ctx)))
    (local.set $mask (i32.load offset=12 (local.get $ctx)))
    (local.set $lowercase (i32.load offset=88 (local.get $ctx)))
    (local.set $masks (i32.load offset=92 (local.get $ctx)))
    (local.set $lower (i32.load offset=4 (local.get $ctx)))
    (local.set $scan_kinds (i32.load offset=84 (local.get $ctx)))
    (local.set $quoted (i32.and (local.get $quoting)
      (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 34)))))
    (if (local.get $quoted) (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    (global.set $text_start (local.get $p))
    (local.set $chunk_start (local.get $p))
    (block $field_done
      (loop $chars
        (if (i32.ge_u (local.get $p) (local.get $end))
          (then
            (if (i32.eqz (local.get $at_end)) (then (return (i32.const -1))))
            (if (local.get $quoted) (then (local.set $status (i32.const 2))))
            (br $field_done)))
        (local.set $b (i32.load8_u (local.get $p)))
        (local.set $kind (i32.load8_u (i32.add (local.get $scan_kinds) (local.get $b))))
        (if (i32.eqz (local.get $kind))
          (then
            ;; A word: find its end, then look it up.
            (local.set $word (local.get $p))
            (block $word_end
              (block $scalar
                ;; When the word characters are exactly the ASCII letters and digits (context
                ;; field 100), the 16 bytes after $p at a time (the byte at $p is a word
                ;; character): the first byte that is neither ends the word.
                (br_if $scalar (i32.eqz (local.get $simd)))
                (loop $vectors
                  (br_if $scalar (i32.gt_u (i32.add (local.get $p) (i32.const 17)) (local.get $end)))
                  (local.set $vector (v128.load offset=1 align=1 (local.get $p)))
                  (local.set $others
                    (i32.xor (i32.const 0xffff)
                      (i8x16.bitmask
                        (v128.or
                          (i8x16.le_u
                            (i8x16.sub (v128.or (local.get $vector) (i8x16.splat (i32.const 0x20))) (i8x16.splat (i32.const 0x61)))
                            (i8x16.splat (i32.const 25)))
                          (i8x16.le_u (i8x16.sub (local.get $vector) (i8x16.splat (i32.const 0x30))) (i8x16.splat (i32.const 9)))))))
                  (if (i32.eqz (local.get $others))
                    (then
                      (local.set $p (i32.add (local.get $p) (i32.const 16)))
                      (br $vectors)))
                  (local.set $p (i32.add (local.get $p) (i32.add (i32.const 1) (i32.ctz (local.get $others)))))
                  (local.set $b (i32.load8_u (local.get $p)))
                  (br $word_end)))
              (loop $word_chars
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (if (i32.lt_u (local.get $p) (local.get $end))
                  (then
                    (local.set $b (i32.load8_u (local.get $p)))
                    (br_if $word_chars (i32.eqz (i32.load8_u (i32.add (local.get $scan_kinds) (local.get $b)))))))))
            ;; `encode` checks the character after a word before it looks the word up.
            (local.set $next (i32.const 4))
            (if (i32.lt_u (local.get $p) (local.get $end))
              (then (local.set $next (i32.load8_u (i32.add (local.get $scan_kinds) (local.get $b))))))
            (if (i32.eq (local.get $next) (i32.const 4))
              (then (local.set $next (call $kind_at (local.get $ctx) (local.get $p) (local.get $end) (local.get $at_end) (local.get $quoted)))))
            (if (i32.eq (local.get $next) (i32.const 6)) (then (return (i32.const -1))))
            ;; A word that runs into a blocked character is part of a chunk (with chunks), or
            ;; the text is not for the ASCII path at all.
            (if (i32.and (i32.eq (local.get $next) (i32.const 3)) (i32.lt_s (local.get $count) (local.get $limit)))
              (then (if (i32.eqz (local.get $chunks)) (then (local.set $blocked (i32.const 1))))))
            (if (i32.and
                  (i32.and (i32.eqz (local.get $blocked)) (i32.ne (local.get $next) (i32.const 3)))
                  (i32.lt_s (local.get $count) (local.get $limit)))
              (then
                (local.set $ids (i32.const 0))
                (local.set $length (i32.sub (local.get $p) (local.get $word)))
                (if (i32.le_u (local.get $length) (i32.const 16))
                  (then
                    ;; The probe of $word_ids for a short word, inline: the word as one vector,
                    ;; lowercased when the tokenizer lowercases, cut by the mask of its length.
                    (local.set $vector (v128.load align=1 (local.get $word)))
                    (if (local.get $lowercase)
                      (then
                        (if (local.get $simd)
                          (then
                            ;; Only letters and digits: setting bit 0x20 lowercases a letter and
                            ;; leaves a digit as it is. The mask below clears the bytes after the word.
                            (local.set $vector (v128.or (local.get $vector) (i8x16.splat (i32.const 0x20)))))
                          (else
                            (local.set $vector
                              (v128.or (local.get $vector)
                                (v128.and
                                  (v128.and
                                    (i8x16.ge_u (local.get $vector) (i8x16.splat (i32.const 0x41)))
                                    (i8x16.le_u (local.get $vector) (i8x16.splat (i32.const 0x5a))))
                                  (i8x16.splat (i32.const 0x20)))))))))
                    (local.set $vector (v128.and (local.get $vector) (v128.load (i32.add (local.get $masks) (i32.shl (local.get $length) (i32.const 4))))))
                    ;; $vector_hash, inline: a call per word cost more than the hash.
                    (local.set $h
                      (i64.xor
                        (i64.mul (i64x2.extract_lane 0 (local.get $vector)) (i64.const 0x9e3779b97f4a7c15))
                        (i64.mul (i64x2.extract_lane 1 (local.get $vector)) (i64.const 0xc2b2ae3d27d4eb4f))))
                    (local.set $hash (i32.wrap_i64 (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29)))))
                    (local.set $slot (i32.and (local.get $hash) (local.get $mask)))
                    (block $found
                      (loop $probe
                        (local.set $entry (i32.add (local.get $table) (i32.shl (local.get $slot) (i32.const 5))))
                        (br_if $found (i32.eqz (i32.load offset=4 (local.get $entry))))
                        ;; A short key is zero-padded and its bytes are never 0, so equal vectors
                        ;; mean equal words: the hash and the length need no comparing.
                        (if (i8x16.all_true (i8x16.eq (local.get $vector) (v128.load offset=16 (local.get $entry))))
                          (then
                            (local.set $ids (i32.load offset=8 (local.get $entry)))
                            (br $found)))
                        (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (local.get $mask)))
                        (br $probe))))
                  (else
                    (local.set $hash (call $long_hash (local.get $lower) (local.get $word) (local.get $p)))
                    (local.set $ids (call $word_ids (local.get $ctx) (local.get $word) (local.get $p) (local.get $hash)))))
                (if (i32.eqz (local.get $ids)) (then (local.set $ids (i32.load offset=104 (local.get $ctx)))))
                (if (i32.eqz (local.get $ids))
                  (then
                    (i32.store offset=20 (local.get $ctx) (local.get $word))
                    (i32.store offset=24 (local.get $ctx) (local.get $p))
                    (i32.store offset=96 (local.get $ctx) (local.get $hash))
                    (return (i32.const -2))))
                ;; Most words have one id.
                (if (i32.eq (i32.load (local.get $ids)) (i32.const 1))
                  (then
                    (i32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))) (i32.load offset=4 (local.get $ids)))
                    (local.set $count (i32.add (local.get $count) (i32.const 1))))
                  (else (local.set $count (call $append (local.get $ids) (local.get $out) (local.get $count) (local.get $limit)))))))
            (br $chars)))
        (local.set $step (i32.const 1))
        (if (i32.eq (local.get $kind) (i32.const 4))
          (then
            (if (local.get $quoted)
              (then
                (if (i32.eq (local.get $b) (i32.const 34))
                  (then
                    ;; The byte after a quote decides how it is read, so it must be present.
                    (if (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end))
                      (then
                        (if (i32.eqz (local.get $at_end)) (then (return (i32.const -1))))
                        (br $field_done)))
                    (br_if $field_done (i32.ne (i32.load8_u offset=1 (local.get $p)) (i32.const 34)))
                    (local.set $step (i32.const 2))
                    (local.set $chunk_quote (i32.const 1)))
                  (else
                    (if (i32.eq (local.get $b) (i32.const 10))
                      (then (local.set $newlines (i32.add (local.get $newlines) (i32.const 1)))))
                    (if (i32.eq (local.get $b) (i32.const 13))
                      (then
                        (if (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end))
                          (then
                            (if (i32.eqz (local.get $at_end)) (then (return (i32.const -1))))
                            (local.set $newlines (i32.add (local.get $newlines) (i32.const 1))))
                          (else
                            (if (i32.ne (i32.load8_u offset=1 (local.get $p)) (i32.const 10))
                              (then (local.set $newlines (i32.add (local.get $newlines) (i32.const 1)))))))))))
                (local.set $kind (i32.load8_u (i32.add (local.get $kinds) (local.get $b)))))
              (else
                ;; Outside quotes a quote is text; the delimiter, LF and CR end the field.
                (br_if $field_done (i32.ne (local.get $b) (i32.const 34)))
                (local.set $kind (i32.load8_u (i32.add (local.get $kinds) (local.get $b))))))))
        (if (i32.and (i32.eq (local.get $kind) (i32.const 2))
              (i32.and (i32.eqz (local.get $blocked)) (i32.lt_s (local.get $count) (local.get $limit))))
          (then
            (local.set $ids (i32.load (i32.add (i32.load offset=16 (local.get $ctx)) (i32.shl (local.get $b) (i32.const 2)))))
            (if (i32.eqz (local.get $ids))
              (then
                (i32.store offset=20 (local.get $ctx) (local.get $p))
                (i32.store offset=24 (local.get $ctx) (i32.add (local.get $p) (i32.const 1)))
                (return (i32.const -2))))
            ;; Most punctuation characters have one id, as most words do.
            (if (i32.eq (i32.load (local.get $ids)) (i32.const 1))
              (then
                (i32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))) (i32.load offset=4 (local.get $ids)))
                (local.set $count (i32.add (local.get $count) (i32.const 1))))
              (else (local.set $count (call $append (local.get $ids) (local.get $out) (local.get $count) (local.get $limit)))))))
        ;; Whitespace starts the next chunk.
        (if (i32.eq (local.get $kind) (i32.const 1))
          (then
            (local.set $chunk_start (i32.add (local.get $p) (local.get $step)))
            (local.set $chunk_count (local.get $count))
            (local.set $chunk_quote (i32.const 0))))
        (if (i32.and (i32.eq (local.get $kind) (i32.const 3))
              (i32.and (i32.eqz (local.get $blocked)) (i32.lt_s (local.get $count) (local.get $limit))))
          (then
            (local.set $blocked (i32.const 1))
            (if (local.get $chunks)
              (then
                (block $fallback
                  ;; A doubled quote earlier in the chunk is one quote in the text but two in the bytes.
                  (br_if $fallback (local.get $chunk_quote))
                  ;; As StudentTokenizer.asciiIds does, the chunk around the character replaces
                  ;; the ids written since the chunk began with its ids from the tokenizer
                  ;; library. It ends at the next ASCII whitespace or at the end of the field.
                  (local.set $q (local.get $p))
                  (block $chunk_end
                    (loop $chunk_bytes
                      (if (i32.ge_u (local.get $q) (local.get $end))
                        (then
                          (if (i32.eqz (local.get $at_end)) (then (return (i32.const -1))))
                          (br $chunk_end)))
                      (local.set $c (i32.load8_u (local.get $q)))
                      (br_if $chunk_end (i32.eq (local.get $c) (i32.const 32)))
                      (br_if $chunk_end (i32.eq (local.get $c) (i32.const 9)))
                      (br_if $chunk_end (i32.eq (local.get $c) (i32.const 10)))
                      (br_if $chunk_end (i32.eq (local.get $c) (i32.const 13)))
                      (if (local.get $quoted)
                        (then
                          (if (i32.eq (local.get $c) (i32.const 34))
                            (then
                              (if (i32.ge_u (i32.add (local.get $q) (i32.const 1)) (local.get $end))
                                (then
                                  (if (i32.eqz (local.get $at_end)) (then (return (i32.const -1))))
                                  (br $chunk_end)))
                              ;; Likewise a doubled quote later in the chunk.
                              (br_if $fallback (i32.eq (i32.load8_u offset=1 (local.get $q)) (i32.const 34)))
                              (br $chunk_end))))
                        (else (br_if $chunk_end (i32.eq (local.get $c) (local.get $delimiter)))))
                      (local.set $q (i32.add (local.get $q) (i32.const 1)))
                      (br $chunk_bytes)))
                  ;; Long chunks (text without spaces) rarely repeat: the JavaScript path takes them.
                  (br_if $fallback (i32.gt_u (i32.sub (local.get $q) (local.get $chunk_start)) (i32.const 64)))
                  (local.set $hash (call $chunk_hash (local.get $chunk_start) (local.get $q)))
                  (local.set $ids (call $chunk_ids (local.get $ctx) (local.get $chunk_start) (local.get $q) (local.get $hash)))
                  (if (i32.eqz (local.get $ids))
                    (then
                      (i32.store offset=20 (local.get $ctx) (local.get $chunk_start))
                      (i32.store offset=24 (local.get $ctx) (local.get $q))
                      (i32.store offset=96 (local.get $ctx) (local.get $hash))
                      (i32.store offset=112 (local.get $ctx) (i32.const 1))
                      (return (i32.const -2))))
                  (local.set $blocked (i32.const 0))
                  (local.set $count (call $append (local.get $ids) (local.get $out) (local.get $chunk_count) (local.get $limit)))
                  (local.set $chunk_count (local.get $count))
                  (local.set $p (local.get $q))
                  (br $chars))))))
        (local.set $p (i32.add (local.get $p) (local.get $step)))
        (br $chars)))
    (global.set $text_end (local.get $p))
    ;; After a closing quote: text up to the delimiter makes the general reader keep the quotes.
    (if (i32.and (local.get $quoted) (i32.ne (local.get $status) (i32.const 2)))
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (block $after_done
          (loop $after
            (if (i32.ge_u (local.get $p) (local.get $end))
              (then
                (if (i32.eqz (local.get $at_end)) (then (return (i32.const -1))))
                (br $after_done)))
            (local.set $b (i32.load8_u (local.get $p)))
            (br_if $after_done (i32.eq (local.get $b) (local.get $delimiter)))
            (br_if $after_done (i32.eq (local.get $b) (i32.const 10)))
            (br_if $after_done (i32.eq (local.get $b) (i32.const 13)))
            (local.set $status (i32.const 1))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $after)))))
    (global.set $count (local.get $count))
    (global.set $blocked (local.get $blocked))
    (global.set $field_newlines (local.get $newlines))
    (global.set $field_status (local.get $status))
    (local.get $p))

  ;; Scans the records in [$start, $end); $at_end is 1 when the file ends at $end. Each record
  ;; gets 40 bytes in the record table: status (0 read; 1 for the general reader: a field count
  ;; other than the context's, text without ids, text after a closing quote, a label with
  ;; doubled quotes; 2 a quoted field the end of the file leaves open; 3 text the ASCII path
  ;; does not cover, for the tokenizer), its start, its end, the line ends skipped before it,
  ;; the line ends in and after it, its id count, its label field's start and end, and its
  ;; text field's start and end (inside the quotes). Returns the number of records.
  (func (export "scan") (param $ctx i32) (param $start i32) (param $end i32) (param $at_end i32) (result i32)
    (local $delimiter i32) (local $quoting i32) (local $text i32) (local $label i32) (local $columns i32)
    (local $limit i32) (local $records i32) (local $capacity i32) (local $ids i32) (local $ids_capacity i32)
    (local $p i32) (local $record i32) (local $field i32) (local $status i32) (local $count i32)
    (local $skipped i32) (local $newlines i32) (local $b i32) (local $written i32) (local $used i32)
    (local $field_start i32) (local $field_end i32) (local $label_start i32) (local $label_end i32)
    (local $escaped i32) (local $reason i32) (local $resume i32) (local $info i32) (local $next i32)
    (local $text_start i32) (local $text_end i32) (local $blocked i32)
    (local.set $delimiter (i32.load offset=28 (local.get $ctx)))
    (local.set $quoting (i32.load offset=32 (local.get $ctx)))
    (local.set $text (i32.load offset=36 (local.get $ctx)))
    (local.set $label (i32.load offset=40 (local.get $ctx)))
    (local.set $columns (i32.load offset=44 (local.get $ctx)))
    (local.set $limit (i32.load offset=48 (local.get $ctx)))
    (local.set $records (i32.load offset=52 (local.get $ctx)))
    (local.set $capacity (i32.load offset=56 (local.get $ctx)))
    (local.set $ids (i32.load offset=60 (local.get $ctx)))
    (local.set $ids_capacity (i32.load offset=64 (local.get $ctx)))
    (local.set $p (local.get $start))
    (block $stop
      (loop $next_record
        (local.set $resume (local.get $p))
        (if (i32.or
              (i32.ge_u (local.get $written) (local.get $capacity))
              (i32.gt_u (i32.add (local.get $used) (local.get $limit)) (local.get $ids_capacity)))
          (then
            (local.set $reason (i32.const 2))
            (br $stop)))
        ;; Empty lines before the record.
        (local.set $skipped (i32.const 0))
        (block $lines_done
          (loop $lines
            (br_if $lines_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $b (i32.load8_u (local.get $p)))
            (if (i32.eq (local.get $b) (i32.const 10))
              (then
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (local.set $skipped (i32.add (local.get $skipped) (i32.const 1)))
                (br $lines)))
            (br_if $lines_done (i32.ne (local.get $b) (i32.const 13)))
            ;; A CR at the end of the bytes may be the first half of a CRLF.
            (if (i32.and (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end)) (i32.eqz (local.get $at_end)))
              (then (br $stop)))
            (local.set $p (i32.add (local.get $p)
              (if (result i32) (i32.and (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $end))
                                        (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 10)))
                (then (i32.const 2)) (else (i32.const 1)))))
            (local.set $skipped (i32.add (local.get $skipped) (i32.const 1)))
            (br $lines)))
        (br_if $stop (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $record (local.get $p))
        (local.set $field (i32.const 0))
        (local.set $status (i32.const 0))
        (local.set $newlines (i32.const 0))
        (local.set $count (i32.const 0))
        (local.set $label_start (i32.const 0))
        (local.set $label_end (i32.const 0))
        (local.set $text_start (i32.const 0))
        (local.set $text_end (i32.const 0))
        (local.set $blocked (i32.const 0))
        (block $record_done
          (loop $fields
            (if (i32.eq (local.get $field) (local.get $text))
              (then
                (local.set $next
                  (call $text_field (local.get $ctx) (local.get $p) (local.get $end) (local.get $at_end) (local.get $quoting)
                    (local.get $delimiter) (i32.add (local.get $ids) (i32.shl (local.get $used) (i32.const 2))) (local.get $limit)))
                (br_if $stop (i32.eq (local.get $next) (i32.const -1)))
                (if (i32.eq (local.get $next) (i32.const -2))
                  (then
                    (local.set $reason (i32.const 1))
                    (br $stop)))
                (local.set $p (local.get $next))
                (local.set $count (global.get $count))
                (local.set $newlines (i32.add (local.get $newlines) (global.get $field_newlines)))
                (local.set $status (i32.or (local.get $status) (global.get $field_status)))
                (local.set $text_start (global.get $text_start))
                (local.set $text_end (global.get $text_end))
                ;; Text beyond the ASCII path goes to the JavaScript tokenizer (3), no ids to the general reader.
                (local.set $blocked (global.get $blocked))
                (if (i32.and (i32.eqz (local.get $blocked)) (i32.eqz (global.get $count)))
                  (then (local.set $status (i32.or (local.get $status) (i32.const 1))))))
              (else
                (local.set $escaped (i32.const 0))
                (if (i32.and (local.get $quoting)
                      (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 34))))
                  (then
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (local.set $field_start (local.get $p))
                    (block $content_done
                      (loop $content
                        (if (i32.ge_u (local.get $p) (local.get $end))
                          (then
                            (br_if $stop (i32.eqz (local.get $at_end)))
                            ;; The file ends inside the quoted field.
                            (local.set $status (i32.const 2))
                            (local.set $field_end (local.get $end))
                            (br $content_done)))
                        (local.set $b (i32.load8_u (local.get $p)))
                        (if (i32.eq (local.get $b) (i32.const 34))
                          (then
                            (if (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end))
                              (then
                                (br_if $stop (i32.eqz (local.get $at_end)))
                                (local.set $field_end (local.get $p))
                                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                                (br $content_done)))
                            (if (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 34))
                              (then
                                (local.set $escaped (i32.const 1))
                                (local.set $p (i32.add (local.get $p) (i32.const 2)))
                                (br $content)))
                            (local.set $field_end (local.get $p))
                            (local.set $p (i32.add (local.get $p) (i32.const 1)))
                            (br $content_done)))
                        (if (i32.eq (local.get $b) (i32.const 10))
                          (then (local.set $newlines (i32.add (local.get $newlines) (i32.const 1)))))
                        (if (i32.eq (local.get $b) (i32.const 13))
                          (then
                            (if (i32.and (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end)) (i32.eqz (local.get $at_end)))
                              (then (br $stop)))
                            (if (i32.eqz (i32.and (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $end))
                                                  (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 10))))
                              (then (local.set $newlines (i32.add (local.get $newlines) (i32.const 1)))))))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))
                        (br $content)))
                    ;; Text after the closing quote: the general reader keeps the quotes as text.
                    (if (i32.ne (local.get $status) (i32.const 2))
                      (then
                        (block $after_done
                          (loop $after
                            (if (i32.ge_u (local.get $p) (local.get $end))
                              (then
                                (br_if $stop (i32.eqz (local.get $at_end)))
                                (br $after_done)))
                            (local.set $b (i32.load8_u (local.get $p)))
                            (br_if $after_done (i32.eq (local.get $b) (local.get $delimiter)))
                            (br_if $after_done (i32.eq (local.get $b) (i32.const 10)))
                            (br_if $after_done (i32.eq (local.get $b) (i32.const 13)))
                            (local.set $status (i32.or (local.get $status) (i32.const 1)))
                            (local.set $p (i32.add (local.get $p) (i32.const 1)))
                            (br $after))))))
                  (else
                    (local.set $field_start (local.get $p))
                    (block $plain_done
                      (loop $plain
                        (if (i32.ge_u (local.get $p) (local.get $end))
                          (then
                            (br_if $stop (i32.eqz (local.get $at_end)))
                            (br $plain_done)))
                        (local.set $b (i32.load8_u (local.get $p)))
                        (br_if $plain_done (i32.eq (local.get $b) (local.get $delimiter)))
                        (br_if $plain_done (i32.eq (local.get $b) (i32.const 10)))
                        (br_if $plain_done (i32.eq (local.get $b) (i32.const 13)))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))
                        (br $plain)))
                    (local.set $field_end (local.get $p))))
                (if (i32.eq (local.get $field) (local.get $label))
                  (then
                    (local.set $label_start (local.get $field_start))
                    (local.set $label_end (local.get $field_end))
                    (if (local.get $escaped) (then (local.set $status (i32.or (local.get $status) (i32.const 1)))))))))
            (local.set $field (i32.add (local.get $field) (i32.const 1)))
            (br_if $record_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $b (i32.load8_u (local.get $p)))
            (if (i32.eq (local.get $b) (i32.const 13))
              (then
                (if (i32.and (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end)) (i32.eqz (local.get $at_end)))
                  (then (br $stop)))
                (local.set $newlines (i32.add (local.get $newlines) (i32.const 1)))
                (local.set $p (i32.add (local.get $p)
                  (if (result i32) (i32.and (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $end))
                                            (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 10)))
                    (then (i32.const 2)) (else (i32.const 1)))))
                (br $record_done)))
            (if (i32.eq (local.get $b) (i32.const 10))
              (then
                (local.set $newlines (i32.add (local.get $newlines) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $record_done)))
            ;; A delimiter: the next field.
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $fields)))
        ;; A field count other than the header's also goes to the general reader.
        (if (i32.ne (local.get $field) (local.get $columns))
          (then (local.set $status (i32.or (local.get $status) (i32.const 1)))))
        ;; An open quote (2) wins over the other reasons (1).
        (if (i32.and (local.get $status) (i32.const 2)) (then (local.set $status (i32.const 2))))
        (if (i32.and (i32.eqz (local.get $status)) (local.get $blocked)) (then (local.set $status (i32.const 3))))
        (local.set $info (i32.add (local.get $records) (i32.mul (local.get $written) (i32.const 40))))
        (i32.store (local.get $info) (local.get $status))
        (i32.store offset=4 (local.get $info) (local.get $record))
        (i32.store offset=8 (local.get $info) (local.get $p))
        (i32.store offset=12 (local.get $info) (local.get $skipped))
        (i32.store offset=16 (local.get $info) (local.get $newlines))
        (i32.store offset=20 (local.get $info)
          (if (result i32) (local.get $status) (then (i32.const 0)) (else (local.get $count))))
        (i32.store offset=24 (local.get $info) (local.get $label_start))
        (i32.store offset=28 (local.get $info) (local.get $label_end))
        (i32.store offset=32 (local.get $info) (local.get $text_start))
        (i32.store offset=36 (local.get $info) (local.get $text_end))
        (if (i32.eqz (local.get $status)) (then (local.set $used (i32.add (local.get $used) (local.get $count)))))
        (local.set $written (i32.add (local.get $written) (i32.const 1)))
        (local.set $resume (local.get $p))
        (br $next_record)))
    (i32.store offset=68 (local.get $ctx) (local.get $resume))
    (i32.store offset=72 (local.get $ctx) (local.get $used))
    (i32.store offset=76 (local.get $ctx) (local.get $written))
    (i32.store offset=80 (local.get $ctx) (local.get $reason))
    (local.get $written))
)
