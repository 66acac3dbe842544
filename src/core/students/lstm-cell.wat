;; The element-wise part of an LSTM step (gate activations, cell and hidden state) and its
;; gradient, as wasm SIMD kernels for lstm-recurrence.ts, four units per vector. The module
;; has its own memory, which the TypeScript side grows and fills, so it serves the cpu
;; backend as well as wasm. scripts/wasm-kernels.mjs compiles this file into lstm-cell-wasm.ts.
;;
;; Rows are [count, 4·units] gate rows in the order i, f, o, g and [rows, units] states;
;; units must be a multiple of 4. exp is a degree-6 polynomial after range reduction, so
;; sigmoid and tanh are within a few float32 ulps of the exact values, not bit for bit
;; equal to tfjs' kernels.
(module
  (memory (export "memory") 1)

  ;; e^x per lane: x = n·ln2 + r with |r| <= ln2/2, e^r by its Taylor polynomial, then 2^n
  ;; through the exponent bits. x is clamped to [-87, 88], where 2^n stays a normal float.
  (func $exp (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (f32x4.splat (f32.const -87))) (f32x4.splat (f32.const 88))))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504)))))
    ;; ln2 in two parts (Cody and Waite), so n·ln2_high is exact in float32.
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0.693359375)))))
    (local.set $r (f32x4.add (local.get $r) (f32x4.mul (local.get $n) (f32x4.splat (f32.const 2.12194440e-4)))))
    (local.set $p (f32x4.splat (f32.const 1.38888889e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.33333333e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.16666667e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.66666667e-1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0.5))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))

  ;; 1 / (1 + e^-x) per lane.
  (func $sigmoid (param $x v128) (result v128)
    (f32x4.div (f32x4.splat (f32.const 1))
      (f32x4.add (f32x4.splat (f32.const 1)) (call $exp (f32x4.neg (local.get $x))))))

  ;; tanh(x) = 2·sigmoid(2x) − 1 per lane.
  (func $tanh (param $x v128) (result v128)
    (f32x4.sub
      (f32x4.mul (f32x4.splat (f32.const 2)) (call $sigmoid (f32x4.add (local.get $x) (local.get $x))))
      (f32x4.splat (f32.const 1))))

  ;; One step forward for rows 0 to $count − 1. Gate pre-activations are $x plus, when
  ;; $with_product is not 0, $product (both [count, 4·units]). Writes the activations to
  ;; $gates, the previous cell state to $previous_c, tanh of the new one to $tanh_c, and the
  ;; new states over $c and $h ([rows, units]).
  (func (export "cell_forward")
    (param $x i32) (param $product i32) (param $with_product i32) (param $c i32) (param $h i32)
    (param $gates i32) (param $previous_c i32) (param $tanh_c i32) (param $count i32) (param $units i32)
    (local $row i32) (local $d i32) (local $unit_bytes i32) (local $gate_row i32) (local $state_row i32)
    (local $zi v128) (local $zf v128) (local $zo v128) (local $zg v128)
    (local $i v128) (local $f v128) (local $o v128) (local $g v128)
    (local $cell v128) (local $squashed v128)
    (local.set $unit_bytes (i32.shl (local.get $units) (i32.const 2)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $count)))
        (local.set $gate_row (i32.mul (local.get $row) (i32.shl (local.get $unit_bytes) (i32.const 2))))
        (local.set $state_row (i32.mul (local.get $row) (local.get $unit_bytes)))
        (local.set $d (i32.const 0))
        (block $units_done
          (loop $vectors
            (br_if $units_done (i32.ge_u (local.get $d) (local.get $unit_bytes)))
            (local.set $zi (v128.load align=4 (i32.add (i32.add (local.get $x) (local.get $gate_row)) (local.get $d))))
            (local.set $zf (v128.load align=4 (i32.add (i32.add (local.get $x) (local.get $gate_row)) (i32.add (local.get $d) (local.get $unit_bytes)))))
            (local.set $zo (v128.load align=4 (i32.add (i32.add (local.get $x) (local.get $gate_row)) (i32.add (local.get $d) (i32.shl (local.get $unit_bytes) (i32.const 1))))))
            (local.set $zg (v128.load align=4 (i32.add (i32.add (local.get $x) (local.get $gate_row)) (i32.add (local.get $d) (i32.mul (local.get $unit_bytes) (i32.const 3))))))
            (if (local.get $with_product)
              (then
                (local.set $zi (f32x4.add (local.get $zi) (v128.load align=4 (i32.add (i32.add (local.get $product) (local.get $gate_row)) (local.get $d)))))
                (local.set $zf (f32x4.add (local.get $zf) (v128.load align=4 (i32.add (i32.add (local.get $product) (local.get $gate_row)) (i32.add (local.get $d) (local.get $unit_bytes))))))
                (local.set $zo (f32x4.add (local.get $zo) (v128.load align=4 (i32.add (i32.add (local.get $product) (local.get $gate_row)) (i32.add (local.get $d) (i32.shl (local.get $unit_bytes) (i32.const 1)))))))
                (local.set $zg (f32x4.add (local.get $zg) (v128.load align=4 (i32.add (i32.add (local.get $product) (local.get $gate_row)) (i32.add (local.get $d) (i32.mul (local.get $unit_bytes) (i32.const 3)))))))))
            (local.set $i (call $sigmoid (local.get $zi)))
            (local.set $f (call $sigmoid (local.get $zf)))
            (local.set $o (call $sigmoid (local.get $zo)))
            (local.set $g (call $tanh (local.get $zg)))
            (v128.store align=4 (i32.add (i32.add (local.get $gates) (local.get $gate_row)) (local.get $d)) (local.get $i))
            (v128.store align=4 (i32.add (i32.add (local.get $gates) (local.get $gate_row)) (i32.add (local.get $d) (local.get $unit_bytes))) (local.get $f))
            (v128.store align=4 (i32.add (i32.add (local.get $gates) (local.get $gate_row)) (i32.add (local.get $d) (i32.shl (local.get $unit_bytes) (i32.const 1)))) (local.get $o))
            (v128.store align=4 (i32.add (i32.add (local.get $gates) (local.get $gate_row)) (i32.add (local.get $d) (i32.mul (local.get $unit_bytes) (i32.const 3)))) (local.get $g))
            (local.set $cell (v128.load align=4 (i32.add (i32.add (local.get $c) (local.get $state_row)) (local.get $d))))
            (v128.store align=4 (i32.add (i32.add (local.get $previous_c) (local.get $state_row)) (local.get $d)) (local.get $cell))
            (local.set $cell (f32x4.add (f32x4.mul (local.get $f) (local.get $cell)) (f32x4.mul (local.get $i) (local.get $g))))
            (local.set $squashed (call $tanh (local.get $cell)))
            (v128.store align=4 (i32.add (i32.add (local.get $tanh_c) (local.get $state_row)) (local.get $d)) (local.get $squashed))
            (v128.store align=4 (i32.add (i32.add (local.get $c) (local.get $state_row)) (local.get $d)) (local.get $cell))
            (v128.store align=4 (i32.add (i32.add (local.get $h) (local.get $state_row)) (local.get $d)) (f32x4.mul (local.get $o) (local.get $squashed)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $vectors)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))

  ;; One step backward for rows 0 to $count − 1, from the step's saved $gates, $previous_c
  ;; and $tanh_c and the gradients $dh and $dc of its new states ([rows, units]). Writes the
  ;; gradient of the gate pre-activations to $dz ([count, 4·units]) and that of the previous
  ;; cell state over $dc.
  (func (export "cell_backward")
    (param $gates i32) (param $previous_c i32) (param $tanh_c i32) (param $dh i32) (param $dc i32)
    (param $dz i32) (param $count i32) (param $units i32)
    (local $row i32) (local $d i32) (local $unit_bytes i32) (local $gate_row i32) (local $state_row i32)
    (local $i v128) (local $f v128) (local $o v128) (local $g v128)
    (local $squashed v128) (local $dh_value v128) (local $dc_value v128) (local $one v128)
    (local.set $unit_bytes (i32.shl (local.get $units) (i32.const 2)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $count)))
        (local.set $gate_row (i32.mul (local.get $row) (i32.shl (local.get $unit_bytes) (i32.const 2))))
        (local.set $state_row (i32.mul (local.get $row) (local.get $unit_bytes)))
        (local.set $d (i32.const 0))
        (block $units_done
          (loop $vectors
            (br_if $units_done (i32.ge_u (local.get $d) (local.get $unit_bytes)))
            (local.set $i (v128.load align=4 (i32.add (i32.add (local.get $gates) (local.get $gate_row)) (local.get $d))))
            (local.set $f (v128.load align=4 (i32.add (i32.add (local.get $gates) (local.get $gate_row)) (i32.add (local.get $d) (local.get $unit_bytes)))))
            (local.set $o (v128.load align=4 (i32.add (i32.add (local.get $gates) (local.get $gate_row)) (i32.add (local.get $d) (i32.shl (local.get $unit_bytes) (i32.const 1))))))
            (local.set $g (v128.load align=4 (i32.add (i32.add (local.get $gates) (local.get $gate_row)) (i32.add (local.get $d) (i32.mul (local.get $unit_bytes) (i32.const 3))))))
            (local.set $squashed (v128.load align=4 (i32.add (i32.add (local.get $tanh_c) (local.get $state_row)) (local.get $d))))
            (local.set $dh_value (v128.load align=4 (i32.add (i32.add (local.get $dh) (local.get $state_row)) (local.get $d))))
            ;; dc += dh · o · (1 − tanh(c)²)
            (local.set $dc_value
              (f32x4.add
                (v128.load align=4 (i32.add (i32.add (local.get $dc) (local.get $state_row)) (local.get $d)))
                (f32x4.mul (f32x4.mul (local.get $dh_value) (local.get $o))
                  (f32x4.sub (local.get $one) (f32x4.mul (local.get $squashed) (local.get $squashed))))))
            ;; dz_i = dc · g · i · (1 − i)
            (v128.store align=4 (i32.add (i32.add (local.get $dz) (local.get $gate_row)) (local.get $d))
              (f32x4.mul (f32x4.mul (f32x4.mul (local.get $dc_value) (local.get $g)) (local.get $i))
                (f32x4.sub (local.get $one) (local.get $i))))
            ;; dz_f = dc · c_previous · f · (1 − f)
            (v128.store align=4 (i32.add (i32.add (local.get $dz) (local.get $gate_row)) (i32.add (local.get $d) (local.get $unit_bytes)))
              (f32x4.mul
                (f32x4.mul
                  (f32x4.mul (local.get $dc_value) (v128.load align=4 (i32.add (i32.add (local.get $previous_c) (local.get $state_row)) (local.get $d))))
                  (local.get $f))
                (f32x4.sub (local.get $one) (local.get $f))))
            ;; dz_o = dh · tanh(c) · o · (1 − o)
            (v128.store align=4 (i32.add (i32.add (local.get $dz) (local.get $gate_row)) (i32.add (local.get $d) (i32.shl (local.get $unit_bytes) (i32.const 1))))
              (f32x4.mul (f32x4.mul (f32x4.mul (local.get $dh_value) (local.get $squashed)) (local.get $o))
                (f32x4.sub (local.get $one) (local.get $o))))
            ;; dz_g = dc · i · (1 − g²)
            (v128.store align=4 (i32.add (i32.add (local.get $dz) (local.get $gate_row)) (i32.add (local.get $d) (i32.mul (local.get $unit_bytes) (i32.const 3))))
              (f32x4.mul (f32x4.mul (local.get $dc_value) (local.get $i))
                (f32x4.sub (local.get $one) (f32x4.mul (local.get $g) (local.get $g)))))
            ;; The previous cell state's gradient: dc · f.
            (v128.store align=4 (i32.add (i32.add (local.get $dc) (local.get $state_row)) (local.get $d))
              (f32x4.mul (local.get $dc_value) (local.get $f)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $vectors)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows))))
)
