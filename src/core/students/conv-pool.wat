;; The max over time of a convolution's ReLU outputs and its gradient, as wasm SIMD kernels
;; for conv-pool.ts on the tfjs wasm backend's memory, which the module imports: every
;; argument is a tensor of that backend, given by its byte offset. The number of filters and
;; the window width (inner) must be multiples of 4. scripts/wasm-kernels.mjs compiles this
;; file into conv-pool-wasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; outputs [count, filters] += bias [filters], in place; then for every window n,
  ;; pooled [rows, filters] at row rowOf[n] (int32) becomes the larger of itself and the
  ;; window's outputs. pooled starts at zeros, which stands for the ReLU.
  (func (export "pool_forward")
    (param $outputs i32) (param $bias i32) (param $pooled i32) (param $rowOf i32)
    (param $count i32) (param $filters i32)
    (local $n i32) (local $f i32) (local $row_bytes i32) (local $out_at i32) (local $top_at i32)
    (local $value v128)
    (local.set $row_bytes (i32.shl (local.get $filters) (i32.const 2)))
    (block $windows_done
      (loop $windows
        (br_if $windows_done (i32.ge_u (local.get $n) (local.get $count)))
        (local.set $out_at (i32.add (local.get $outputs) (i32.mul (local.get $n) (local.get $row_bytes))))
        (local.set $top_at (i32.add (local.get $pooled)
          (i32.mul (i32.load (i32.add (local.get $rowOf) (i32.shl (local.get $n) (i32.const 2)))) (local.get $row_bytes))))
        (local.set $f (i32.const 0))
        (block $filters_done
          (loop $filters_loop
            (br_if $filters_done (i32.ge_u (local.get $f) (local.get $row_bytes)))
            (local.set $value (f32x4.add
              (v128.load align=4 (i32.add (local.get $out_at) (local.get $f)))
              (v128.load align=4 (i32.add (local.get $bias) (local.get $f)))))
            (v128.store align=4 (i32.add (local.get $out_at) (local.get $f)) (local.get $value))
            ;; pmax(a, b) is a < b ? b : a, the same test as the JavaScript path.
            (v128.store align=4 (i32.add (local.get $top_at) (local.get $f))
              (f32x4.pmax (v128.load align=4 (i32.add (local.get $top_at) (local.get $f))) (local.get $value)))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $filters_loop)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $windows)))
  )

  ;; The gradient of pool_forward's pooled values, dy [rows, filters], reaches window n and
  ;; filter f when pooled at (rowOf[n], f) is above 0 and equals outputs at (n, f). For each
  ;; such pair, with g = dy at (rowOf[n], f):
  ;;   dx [count, inner] row n   += g · wT [filters, inner] row f
  ;;   dwT [filters, inner] row f += g · x [count, inner] row n
  ;;   db [filters] at f         += g
  ;; dx, dwT and db must start at zeros.
  (func (export "pool_backward")
    (param $outputs i32) (param $pooled i32) (param $rowOf i32) (param $dy i32)
    (param $x i32) (param $wT i32) (param $dx i32) (param $dwT i32) (param $db i32)
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
        (local.set $x_at (i32.add (local.get $x) (i32.mul (local.get $n) (local.get $inner_bytes))))
        (local.set $dx_at (i32.add (local.get $dx) (i32.mul (local.get $n) (local.get $inner_bytes))))
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
