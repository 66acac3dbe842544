;; A convolution over a sequence of rows, its bias, ReLU and max over time, and the gradient
;; of that max, as wasm SIMD kernels for conv-pool.ts on the tfjs wasm backend's memory,
;; which the module imports: every pointer argument is a tensor of that backend, given by
;; its byte offset. Window n is `inner` consecutive floats of the sequence from float
;; starts[n] (int32), so the windows are read where they are, never unfolded into a copy.
;; The filter count must be a multiple of 8 and `inner` of 4. scripts/wasm-kernels.mjs
;; compiles this file into conv-pool-wasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; For one window: outputs row += the bias, then the pooled row takes the larger of itself
  ;; and the outputs (pmax(a, b) is a < b ? b : a, the JavaScript path's test), for 8 filters.
  (func $finish (param $out_at i32) (param $top_at i32) (param $bias_at i32) (param $c0 v128) (param $c1 v128)
    (local.set $c0 (f32x4.add (local.get $c0) (v128.load align=4 (local.get $bias_at))))
    (local.set $c1 (f32x4.add (local.get $c1) (v128.load offset=16 align=4 (local.get $bias_at))))
    (v128.store align=4 (local.get $out_at) (local.get $c0))
    (v128.store offset=16 align=4 (local.get $out_at) (local.get $c1))
    (v128.store align=4 (local.get $top_at) (f32x4.pmax (v128.load align=4 (local.get $top_at)) (local.get $c0)))
    (v128.store offset=16 align=4 (local.get $top_at) (f32x4.pmax (v128.load offset=16 align=4 (local.get $top_at)) (local.get $c1))))

  ;; Byte address of window n's first float.
  (func $window (param $sequence i32) (param $starts i32) (param $n i32) (result i32)
    (i32.add (local.get $sequence) (i32.shl (i32.load (i32.add (local.get $starts) (i32.shl (local.get $n) (i32.const 2)))) (i32.const 2))))

  ;; Byte address of the pooled row of window n.
  (func $top (param $pooled i32) (param $rowOf i32) (param $n i32) (param $row_bytes i32) (result i32)
    (i32.add (local.get $pooled) (i32.mul (i32.load (i32.add (local.get $rowOf) (i32.shl (local.get $n) (i32.const 2)))) (local.get $row_bytes))))

  ;; outputs [count, filters] = windows · w [inner, filters] + bias, adding in inner order one
  ;; float32 multiply and add at a time, as small-matmul.wat does; then for each window n the
  ;; pooled [rows, filters] row rowOf[n] takes the larger of itself and the window's outputs.
  ;; pooled starts at zeros, which stands for the ReLU. Four windows against 8 filters at a
  ;; time, in 8 vector registers.
  (func (export "conv_forward")
    (param $sequence i32) (param $starts i32) (param $w i32) (param $bias i32) (param $outputs i32)
    (param $pooled i32) (param $rowOf i32) (param $count i32) (param $inner i32) (param $filters i32)
    (local $n i32) (local $j i32) (local $p i32) (local $inner_bytes i32) (local $row_bytes i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $b_at i32) (local $out_at i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local.set $inner_bytes (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $row_bytes (i32.shl (local.get $filters) (i32.const 2)))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.gt_u (i32.add (local.get $n) (i32.const 4)) (local.get $count)))
        (local.set $a0 (call $window (local.get $sequence) (local.get $starts) (local.get $n)))
        (local.set $a1 (call $window (local.get $sequence) (local.get $starts) (i32.add (local.get $n) (i32.const 1))))
        (local.set $a2 (call $window (local.get $sequence) (local.get $starts) (i32.add (local.get $n) (i32.const 2))))
        (local.set $a3 (call $window (local.get $sequence) (local.get $starts) (i32.add (local.get $n) (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $columns_done
          (loop $columns
            (br_if $columns_done (i32.ge_u (local.get $j) (local.get $row_bytes)))
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
            (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
            (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
            (local.set $b_at (i32.add (local.get $w) (local.get $j)))
            (local.set $p (i32.const 0))
            (block $inner_done
              (loop $inner_loop
                (br_if $inner_done (i32.ge_u (local.get $p) (local.get $inner_bytes)))
                (local.set $b0 (v128.load align=4 (local.get $b_at)))
                (local.set $b1 (v128.load offset=16 align=4 (local.get $b_at)))
                (local.set $x (v128.load32_splat (i32.add (local.get $a0) (local.get $p))))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load32_splat (i32.add (local.get $a1) (local.get $p))))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load32_splat (i32.add (local.get $a2) (local.get $p))))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load32_splat (i32.add (local.get $a3) (local.get $p))))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $b_at (i32.add (local.get $b_at) (local.get $row_bytes)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $inner_loop)))
            (local.set $out_at (i32.add (i32.add (local.get $outputs) (i32.mul (local.get $n) (local.get $row_bytes))) (local.get $j)))
            (call $finish (local.get $out_at)
              (i32.add (call $top (local.get $pooled) (local.get $rowOf) (local.get $n) (local.get $row_bytes)) (local.get $j))
              (i32.add (local.get $bias) (local.get $j)) (local.get $c00) (local.get $c01))
            (call $finish (i32.add (local.get $out_at) (local.get $row_bytes))
              (i32.add (call $top (local.get $pooled) (local.get $rowOf) (i32.add (local.get $n) (i32.const 1)) (local.get $row_bytes)) (local.get $j))
              (i32.add (local.get $bias) (local.get $j)) (local.get $c10) (local.get $c11))
            (call $finish (i32.add (local.get $out_at) (i32.shl (local.get $row_bytes) (i32.const 1)))
              (i32.add (call $top (local.get $pooled) (local.get $rowOf) (i32.add (local.get $n) (i32.const 2)) (local.get $row_bytes)) (local.get $j))
              (i32.add (local.get $bias) (local.get $j)) (local.get $c20) (local.get $c21))
            (call $finish (i32.add (local.get $out_at) (i32.mul (local.get $row_bytes) (i32.const 3)))
              (i32.add (call $top (local.get $pooled) (local.get $rowOf) (i32.add (local.get $n) (i32.const 3)) (local.get $row_bytes)) (local.get $j))
              (i32.add (local.get $bias) (local.get $j)) (local.get $c30) (local.get $c31))
            (local.set $j (i32.add (local.get $j) (i32.const 32)))
            (br $columns)))
        (local.set $n (i32.add (local.get $n) (i32.const 4)))
        (br $blocks)))

    ;; The last count % 4 windows, one at a time.
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $n) (local.get $count)))
        (local.set $a0 (call $window (local.get $sequence) (local.get $starts) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $rest_columns_done
          (loop $rest_columns
            (br_if $rest_columns_done (i32.ge_u (local.get $j) (local.get $row_bytes)))
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $b_at (i32.add (local.get $w) (local.get $j)))
            (local.set $p (i32.const 0))
            (block $rest_inner_done
              (loop $rest_inner
                (br_if $rest_inner_done (i32.ge_u (local.get $p) (local.get $inner_bytes)))
                (local.set $x (v128.load32_splat (i32.add (local.get $a0) (local.get $p))))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (v128.load align=4 (local.get $b_at)))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (v128.load offset=16 align=4 (local.get $b_at)))))
                (local.set $b_at (i32.add (local.get $b_at) (local.get $row_bytes)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $rest_inner)))
            (call $finish (i32.add (i32.add (local.get $outputs) (i32.mul (local.get $n) (local.get $row_bytes))) (local.get $j))
              (i32.add (call $top (local.get $pooled) (local.get $rowOf) (local.get $n) (local.get $row_bytes)) (local.get $j))
              (i32.add (local.get $bias) (local.get $j)) (local.get $c00) (local.get $c01))
            (local.set $j (i32.add (local.get $j) (i32.const 32)))
            (br $rest_columns)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $rest)))
  )

  ;; The gradient of conv_forward's pooled values, dy [rows, filters], reaches window n and
  ;; filter f when pooled at (rowOf[n], f) is above 0 and equals outputs at (n, f). For each
  ;; such pair, with g = dy at (rowOf[n], f):
  ;;   dSequence, window n's floats += g · wT [filters, inner] row f
  ;;   dwT [filters, inner] row f   += g · the sequence's window n
  ;;   db [filters] at f            += g
  ;; dSequence, dwT and db must start at zeros. Overlapping windows add into the same floats.
  (func (export "conv_backward")
    (param $outputs i32) (param $pooled i32) (param $rowOf i32) (param $dy i32)
    (param $sequence i32) (param $starts i32) (param $wT i32) (param $dSequence i32) (param $dwT i32) (param $db i32)
    (param $count i32) (param $filters i32) (param $inner i32)
    (local $n i32) (local $f i32) (local $i i32)
    (local $filter_bytes i32) (local $inner_bytes i32)
    (local $out_at i32) (local $row_at i32) (local $x_at i32) (local $dx_at i32) (local $w_at i32) (local $dw_at i32)
    (local $top f32) (local $g f32) (local $gv v128)
    (local.set $filter_bytes (i32.shl (local.get $filters) (i32.const 2)))
    (local.set $inner_bytes (i32.shl (local.get $inner) (i32.const 2)))
    (block $windows_done
      (loop $windows
        (br_if $windows_done (i32.ge_u (local.get $n) (local.get $count)))
        (local.set $out_at (i32.add (local.get $outputs) (i32.mul (local.get $n) (local.get $filter_bytes))))
        (local.set $row_at (i32.mul (i32.load (i32.add (local.get $rowOf) (i32.shl (local.get $n) (i32.const 2)))) (local.get $filter_bytes)))
        (local.set $x_at (call $window (local.get $sequence) (local.get $starts) (local.get $n)))
        (local.set $dx_at (call $window (local.get $dSequence) (local.get $starts) (local.get $n)))
        (local.set $f (i32.const 0))
        (block $filters_done
          (loop $filters_loop
            (br_if $filters_done (i32.ge_u (local.get $f) (local.get $filter_bytes)))
            (local.set $top (f32.load (i32.add (i32.add (local.get $pooled) (local.get $row_at)) (local.get $f))))
            (local.set $g (f32.load (i32.add (i32.add (local.get $dy) (local.get $row_at)) (local.get $f))))
            (if (i32.and
                  (i32.and (f32.gt (local.get $top) (f32.const 0)) (f32.ne (local.get $g) (f32.const 0)))
                  (f32.eq (f32.load (i32.add (local.get $out_at) (local.get $f))) (local.get $top)))
              (then
                (f32.store (i32.add (local.get $db) (local.get $f))
                  (f32.add (f32.load (i32.add (local.get $db) (local.get $f))) (local.get $g)))
                (local.set $gv (f32x4.splat (local.get $g)))
                ;; Row f of wT and dwT: f is a byte offset into a filter row, f/4 the filter.
                (local.set $w_at (i32.add (local.get $wT) (i32.mul (i32.shr_u (local.get $f) (i32.const 2)) (local.get $inner_bytes))))
                (local.set $dw_at (i32.add (local.get $dwT) (i32.mul (i32.shr_u (local.get $f) (i32.const 2)) (local.get $inner_bytes))))
                (local.set $i (i32.const 0))
                (block $inner_done
                  (loop $inner_loop
                    (br_if $inner_done (i32.ge_u (local.get $i) (local.get $inner_bytes)))
                    (v128.store align=4 (i32.add (local.get $dx_at) (local.get $i))
                      (f32x4.add
                        (v128.load align=4 (i32.add (local.get $dx_at) (local.get $i)))
                        (f32x4.mul (local.get $gv) (v128.load align=4 (i32.add (local.get $w_at) (local.get $i))))))
                    (v128.store align=4 (i32.add (local.get $dw_at) (local.get $i))
                      (f32x4.add
                        (v128.load align=4 (i32.add (local.get $dw_at) (local.get $i)))
                        (f32x4.mul (local.get $gv) (v128.load align=4 (i32.add (local.get $x_at) (local.get $i))))))
                    (local.set $i (i32.add (local.get $i) (i32.const 16)))
                    (br $inner_loop)))))
            (local.set $f (i32.add (local.get $f) (i32.const 4)))
            (br $filters_loop)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $windows)))
  )
)
