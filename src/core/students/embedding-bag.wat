;; The bag student's masked mean of embeddings and its gradient per table row, as wasm
;; SIMD kernels on the tfjs wasm backend's memory, which they import.
;; scripts/wasm-kernels.mjs compiles this file into embedding-bag-wasm.ts.
;;
;; Both add in the order of the tfjs ops they replace (Gather, Mul by the mask, Sum over
;; time, Div by the count; and backward Div, the broadcast, the mask and ScatterNd), one
;; float32 operation at a time; the lanes of a vector are different embedding columns, so
;; each column still sums in time order. Padding (id 0) adds nothing and is not counted.
(module
  (import "env" "memory" (memory 1))

  ;; The number of non-padding ids in a row of `time` int32 ids at $ids, at least 1, as float32.
  (func $count (param $ids i32) (param $time i32) (result f32)
    (local $t i32) (local $n i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $t) (local.get $time)))
        (if (i32.load (i32.add (local.get $ids) (i32.shl (local.get $t) (i32.const 2))))
          (then (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $each)))
    (if (result f32) (local.get $n)
      (then (f32.convert_i32_u (local.get $n)))
      (else (f32.const 1))))

  ;; out[b] = (Σ_t table[ids[b, t]]) / count(b) over non-padding t, for a [batch, dim]
  ;; output at $out that starts at zero. $table is [vocabulary, dim], $ids [batch, time].
  (func (export "bag_mean")
    (param $table i32) (param $ids i32) (param $batch i32) (param $time i32) (param $dim i32) (param $out i32)
    (local $b i32) (local $t i32) (local $d i32) (local $id i32)
    (local $row_bytes i32) (local $vector_end i32) (local $ids_row i32) (local $out_row i32) (local $source i32)
    (local $count f32) (local $countx4 v128)
    (local.set $row_bytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $vector_end (i32.and (local.get $row_bytes) (i32.const -16)))
    (block $batch_done
      (loop $rows
        (br_if $batch_done (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $ids_row (i32.add (local.get $ids) (i32.shl (i32.mul (local.get $b) (local.get $time)) (i32.const 2))))
        (local.set $out_row (i32.add (local.get $out) (i32.mul (local.get $b) (local.get $row_bytes))))
        (local.set $t (i32.const 0))
        (block $time_done
          (loop $steps
            (br_if $time_done (i32.ge_u (local.get $t) (local.get $time)))
            (local.set $id (i32.load (i32.add (local.get $ids_row) (i32.shl (local.get $t) (i32.const 2)))))
            (if (local.get $id)
              (then
                (local.set $source (i32.add (local.get $table) (i32.mul (local.get $id) (local.get $row_bytes))))
                (local.set $d (i32.const 0))
                (block $vectors_done
                  (loop $vectors
                    (br_if $vectors_done (i32.ge_u (local.get $d) (local.get $vector_end)))
                    (v128.store align=4 (i32.add (local.get $out_row) (local.get $d))
                      (f32x4.add
                        (v128.load align=4 (i32.add (local.get $out_row) (local.get $d)))
                        (v128.load align=4 (i32.add (local.get $source) (local.get $d)))))
                    (local.set $d (i32.add (local.get $d) (i32.const 16)))
                    (br $vectors)))
                (block $tail_done
                  (loop $tail
                    (br_if $tail_done (i32.ge_u (local.get $d) (local.get $row_bytes)))
                    (f32.store (i32.add (local.get $out_row) (local.get $d))
                      (f32.add
                        (f32.load (i32.add (local.get $out_row) (local.get $d)))
                        (f32.load (i32.add (local.get $source) (local.get $d)))))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (br $tail)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $steps)))

        (local.set $count (call $count (local.get $ids_row) (local.get $time)))
        (local.set $countx4 (f32x4.splat (local.get $count)))
        (local.set $d (i32.const 0))
        (block $divide_done
          (loop $divide
            (br_if $divide_done (i32.ge_u (local.get $d) (local.get $vector_end)))
            (v128.store align=4 (i32.add (local.get $out_row) (local.get $d))
              (f32x4.div (v128.load align=4 (i32.add (local.get $out_row) (local.get $d))) (local.get $countx4)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $divide)))
        (block $divide_tail_done
          (loop $divide_tail
            (br_if $divide_tail_done (i32.ge_u (local.get $d) (local.get $row_bytes)))
            (f32.store (i32.add (local.get $out_row) (local.get $d))
              (f32.div (f32.load (i32.add (local.get $out_row) (local.get $d))) (local.get $count)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $divide_tail)))

        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $rows))))

  ;; grads[slots[b, t]] += dy[b] / count(b) for each non-padding (b, t) in order, for a
  ;; [distinct rows, dim] gradient at $grads that starts at zero. $dy is [batch, dim] and
  ;; $slots [batch, time] holds each position's row among the distinct ones.
  (func (export "bag_mean_grad")
    (param $dy i32) (param $ids i32) (param $slots i32) (param $batch i32) (param $time i32) (param $dim i32) (param $grads i32)
    (local $b i32) (local $t i32) (local $d i32) (local $at i32)
    (local $row_bytes i32) (local $vector_end i32) (local $ids_row i32) (local $dy_row i32) (local $target i32)
    (local $count f32) (local $countx4 v128)
    (local.set $row_bytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $vector_end (i32.and (local.get $row_bytes) (i32.const -16)))
    (block $batch_done
      (loop $rows
        (br_if $batch_done (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $ids_row (i32.add (local.get $ids) (i32.shl (i32.mul (local.get $b) (local.get $time)) (i32.const 2))))
        (local.set $dy_row (i32.add (local.get $dy) (i32.mul (local.get $b) (local.get $row_bytes))))
        (local.set $count (call $count (local.get $ids_row) (local.get $time)))
        (local.set $countx4 (f32x4.splat (local.get $count)))
        (local.set $t (i32.const 0))
        (block $time_done
          (loop $steps
            (br_if $time_done (i32.ge_u (local.get $t) (local.get $time)))
            (local.set $at (i32.shl (i32.add (i32.mul (local.get $b) (local.get $time)) (local.get $t)) (i32.const 2)))
            (if (i32.load (i32.add (local.get $ids) (local.get $at)))
              (then
                (local.set $target
                  (i32.add (local.get $grads) (i32.mul (i32.load (i32.add (local.get $slots) (local.get $at))) (local.get $row_bytes))))
                (local.set $d (i32.const 0))
                (block $vectors_done
                  (loop $vectors
                    (br_if $vectors_done (i32.ge_u (local.get $d) (local.get $vector_end)))
                    (v128.store align=4 (i32.add (local.get $target) (local.get $d))
                      (f32x4.add
                        (v128.load align=4 (i32.add (local.get $target) (local.get $d)))
                        (f32x4.div (v128.load align=4 (i32.add (local.get $dy_row) (local.get $d))) (local.get $countx4))))
                    (local.set $d (i32.add (local.get $d) (i32.const 16)))
                    (br $vectors)))
                (block $tail_done
                  (loop $tail
                    (br_if $tail_done (i32.ge_u (local.get $d) (local.get $row_bytes)))
                    (f32.store (i32.add (local.get $target) (local.get $d))
                      (f32.add
                        (f32.load (i32.add (local.get $target) (local.get $d)))
                        (f32.div (f32.load (i32.add (local.get $dy_row) (local.get $d))) (local.get $count))))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (br $tail)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $steps)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $rows)))))
