;; C = A·B for row-major float32 matrices, as a wasm SIMD kernel on the tfjs wasm backend's
;; memory, which it imports. scripts/wasm-kernels.mjs compiles this file into
;; small-matmul-wasm.ts.
;;
;; XNNPACK, behind the stock wasm BatchMatMul, first packs B into its own layout, once per
;; B tensor. In a training step every B is a new tensor (updated weights, gradients), and
;; for a product with few rows of A, such as a batch of 64 feature vectors against a
;; 768-wide projection, packing costs about as much as the product. This kernel reads B
;; where it is: 4 rows of A against 8 columns of B at a time, held in 8 vector registers.
(module
  (import "env" "memory" (memory 1))

  ;; $a [m, k], $b [k, n], $c [m, n]: byte offsets. n must be a multiple of 8.
  (func (export "matmul")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32)
    (local $i i32) (local $j i32) (local $p i32)
    (local $a_row i32) (local $row_bytes_a i32) (local $row_bytes_b i32) (local $b_at i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128) (local $c_at i32)
    (local.set $row_bytes_a (i32.shl (local.get $k) (i32.const 2)))
    (local.set $row_bytes_b (i32.shl (local.get $n) (i32.const 2)))

    ;; Blocks of 4 rows of A.
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
        (local.set $a_row (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $row_bytes_a))))
        (local.set $j (i32.const 0))
        (block $columns_done
          (loop $columns
            (br_if $columns_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
            (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
            (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
            (local.set $b_at (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $p (i32.const 0))
            (block $inner_done
              (loop $inner
                (br_if $inner_done (i32.ge_u (local.get $p) (local.get $row_bytes_a)))
                (local.set $b0 (v128.load align=4 (local.get $b_at)))
                (local.set $b1 (v128.load offset=16 align=4 (local.get $b_at)))
                (local.set $x (v128.load32_splat (i32.add (local.get $a_row) (local.get $p))))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load32_splat (i32.add (i32.add (local.get $a_row) (local.get $row_bytes_a)) (local.get $p))))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load32_splat (i32.add (i32.add (local.get $a_row) (i32.shl (local.get $row_bytes_a) (i32.const 1))) (local.get $p))))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load32_splat (i32.add (i32.add (local.get $a_row) (i32.mul (local.get $row_bytes_a) (i32.const 3))) (local.get $p))))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $b_at (i32.add (local.get $b_at) (local.get $row_bytes_b)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $inner)))
            (local.set $c_at (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
            (v128.store align=4 (local.get $c_at) (local.get $c00))
            (v128.store offset=16 align=4 (local.get $c_at) (local.get $c01))
            (local.set $c_at (i32.add (local.get $c_at) (local.get $row_bytes_b)))
            (v128.store align=4 (local.get $c_at) (local.get $c10))
            (v128.store offset=16 align=4 (local.get $c_at) (local.get $c11))
            (local.set $c_at (i32.add (local.get $c_at) (local.get $row_bytes_b)))
            (v128.store align=4 (local.get $c_at) (local.get $c20))
            (v128.store offset=16 align=4 (local.get $c_at) (local.get $c21))
            (local.set $c_at (i32.add (local.get $c_at) (local.get $row_bytes_b)))
            (v128.store align=4 (local.get $c_at) (local.get $c30))
            (v128.store offset=16 align=4 (local.get $c_at) (local.get $c31))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $columns)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $blocks)))

    ;; The last m % 4 rows, one at a time.
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $a_row (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $row_bytes_a))))
        (local.set $j (i32.const 0))
        (block $row_columns_done
          (loop $row_columns
            (br_if $row_columns_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $b_at (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $p (i32.const 0))
            (block $row_inner_done
              (loop $row_inner
                (br_if $row_inner_done (i32.ge_u (local.get $p) (local.get $row_bytes_a)))
                (local.set $x (v128.load32_splat (i32.add (local.get $a_row) (local.get $p))))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (v128.load align=4 (local.get $b_at)))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (v128.load offset=16 align=4 (local.get $b_at)))))
                (local.set $b_at (i32.add (local.get $b_at) (local.get $row_bytes_b)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $row_inner)))
            (local.set $c_at (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
            (v128.store align=4 (local.get $c_at) (local.get $c00))
            (v128.store offset=16 align=4 (local.get $c_at) (local.get $c01))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $row_columns)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))))
