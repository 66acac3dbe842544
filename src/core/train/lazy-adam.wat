;; The lazy Adam row update of optimizer.ts (updateRowsInPlace) as a wasm SIMD kernel
;; that works in place on the tfjs wasm backend's memory, which it imports.
;; scripts/wasm-kernels.mjs compiles this file into lazy-adam-wasm.ts.
;;
;; Every operation is an IEEE float32 operation in the order of the JavaScript
;; reference, so each row ends with the same bits (float32 add, mul, div and sqrt are
;; correctly rounded, as Math.fround of the float64 result is).
(module
  (import "env" "memory" (memory 1))

  ;; Updates `count` rows of a [rows, dim] table. Pointers are byte offsets into memory:
  ;; $w, $m, $v the table and its two moments, $g the [count, dim] row gradients and
  ;; $rows the int32 row indices. The new values go to the same rows of $out, which is $w
  ;; for an update in place. $decay is 1 when the value is multiplied by $keep.
  (func (export "lazy_adam_rows")
    (param $w i32) (param $out i32) (param $m i32) (param $v i32) (param $g i32)
    (param $rows i32) (param $count i32) (param $dim i32)
    (param $beta1 f32) (param $beta2 f32) (param $scale1 f32) (param $scale2 f32)
    (param $correction1 f32) (param $correction2 f32) (param $epsilon f32)
    (param $rate f32) (param $keep f32) (param $decay i32)
    (local $r i32) (local $row i32) (local $grad i32) (local $d i32)
    (local $vector_end i32) (local $end i32)
    (local $at i32)
    (local $beta1x4 v128) (local $beta2x4 v128) (local $scale1x4 v128) (local $scale2x4 v128)
    (local $correction1x4 v128) (local $correction2x4 v128) (local $epsilonx4 v128)
    (local $ratex4 v128) (local $keepx4 v128)
    (local $gradient v128) (local $first v128) (local $second v128) (local $value v128)
    (local $gradient1 f32) (local $first1 f32) (local $second1 f32) (local $value1 f32)

    (local.set $beta1x4 (f32x4.splat (local.get $beta1)))
    (local.set $beta2x4 (f32x4.splat (local.get $beta2)))
    (local.set $scale1x4 (f32x4.splat (local.get $scale1)))
    (local.set $scale2x4 (f32x4.splat (local.get $scale2)))
    (local.set $correction1x4 (f32x4.splat (local.get $correction1)))
    (local.set $correction2x4 (f32x4.splat (local.get $correction2)))
    (local.set $epsilonx4 (f32x4.splat (local.get $epsilon)))
    (local.set $ratex4 (f32x4.splat (local.get $rate)))
    (local.set $keepx4 (f32x4.splat (local.get $keep)))
    ;; Bytes of a row, and of its part that whole 4-lane vectors cover.
    (local.set $end (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $vector_end (i32.and (local.get $end) (i32.const -16)))

    (local.set $r (i32.const 0))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $row
          (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $r) (i32.const 2)))) (local.get $end)))
        (local.set $grad (i32.add (local.get $g) (i32.mul (local.get $r) (local.get $end))))

        (local.set $d (i32.const 0))
        (block $vectors_done
          (loop $vectors
            (br_if $vectors_done (i32.ge_u (local.get $d) (local.get $vector_end)))
            (local.set $at (i32.add (local.get $row) (local.get $d)))
            (local.set $gradient (v128.load align=4 (i32.add (local.get $grad) (local.get $d))))
            (local.set $first
              (f32x4.add
                (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $at))) (local.get $beta1x4))
                (f32x4.mul (local.get $gradient) (local.get $scale1x4))))
            (local.set $second
              (f32x4.add
                (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $at))) (local.get $beta2x4))
                (f32x4.mul (f32x4.mul (local.get $gradient) (local.get $gradient)) (local.get $scale2x4))))
            (v128.store align=4 (i32.add (local.get $m) (local.get $at)) (local.get $first))
            (v128.store align=4 (i32.add (local.get $v) (local.get $at)) (local.get $second))
            (local.set $value
              (f32x4.add
                (f32x4.mul
                  (f32x4.div
                    (f32x4.div (local.get $first) (local.get $correction1x4))
                    (f32x4.add
                      (f32x4.sqrt (f32x4.div (local.get $second) (local.get $correction2x4)))
                      (local.get $epsilonx4)))
                  (local.get $ratex4))
                (v128.load align=4 (i32.add (local.get $w) (local.get $at)))))
            (if (local.get $decay)
              (then (local.set $value (f32x4.mul (local.get $value) (local.get $keepx4)))))
            (v128.store align=4 (i32.add (local.get $out) (local.get $at)) (local.get $value))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $vectors)))

        ;; The last dim % 4 values, one at a time.
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $d) (local.get $end)))
            (local.set $at (i32.add (local.get $row) (local.get $d)))
            (local.set $gradient1 (f32.load (i32.add (local.get $grad) (local.get $d))))
            (local.set $first1
              (f32.add
                (f32.mul (f32.load (i32.add (local.get $m) (local.get $at))) (local.get $beta1))
                (f32.mul (local.get $gradient1) (local.get $scale1))))
            (local.set $second1
              (f32.add
                (f32.mul (f32.load (i32.add (local.get $v) (local.get $at))) (local.get $beta2))
                (f32.mul (f32.mul (local.get $gradient1) (local.get $gradient1)) (local.get $scale2))))
            (f32.store (i32.add (local.get $m) (local.get $at)) (local.get $first1))
            (f32.store (i32.add (local.get $v) (local.get $at)) (local.get $second1))
            (local.set $value1
              (f32.add
                (f32.mul
                  (f32.div
                    (f32.div (local.get $first1) (local.get $correction1))
                    (f32.add
                      (f32.sqrt (f32.div (local.get $second1) (local.get $correction2)))
                      (local.get $epsilon)))
                  (local.get $rate))
                (f32.load (i32.add (local.get $w) (local.get $at)))))
            (if (local.get $decay)
              (then (local.set $value1 (f32.mul (local.get $value1) (local.get $keep)))))
            (f32.store (i32.add (local.get $out) (local.get $at)) (local.get $value1))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $tail)))

        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop)))))
