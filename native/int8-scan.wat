;; int8-scan: the vector index's scoring kernel (indexes/embedded/int8-columns.ts), WebAssembly
;; with 128-bit SIMD. `npm run build:wasm` (scripts/build-wasm.js) assembles it with wabt into
;; indexes/embedded/int8-scan-wasm.ts; a test checks that file against this source.
;;
;; scan(data, cap, n, idx, w, nnz, out):
;;   out[r] = sum over j < nnz of w[j] * data[idx[j] * cap + r], for rows r in [0, n) rounded
;;   up to a multiple of 16 (the block's capacity is one, so the reads stay in the block).
;; data: int8 by dimension (dimension d of row r at d * cap + r); idx: int32 dimensions;
;; w: int32 weights in [-127, 127] (an int8 query); out: int32 per row.
;;
;; How: rows go 16 at a time (one v128 of int8 per dimension), with the 16 sums in four i32x4
;; registers. Dimensions go in pairs: each product of two int8 in [-127, 127] is at most 16129
;; in size, so the sum of two fits in int16 before it is widened to int32 (half the widening
;; work). Dimensions go in groups of 32: a group's columns are the only cache lines in use while
;; its stripes run (a dense query of 2048 dimensions would otherwise evict its own columns),
;; and the sums go to `out` between groups. Measured on 100k rows: 1.0 ms for 63 dimensions,
;; 2.2 ms for 121, 44 ms for all 2048 (the first version, one dimension at a time with the sums
;; in memory: 1.8, 3.4 and 89 ms).
(module
  (memory (import "env" "memory") 1)
  (func (export "scan") (param $data i32) (param $cap i32) (param $n i32) (param $idx i32) (param $w i32) (param $nnz i32) (param $out i32)
    (local $i i32) (local $j i32) (local $pairs i32) (local $c1 i32) (local $c2 i32) (local $o i32) (local $g i32) (local $gEnd i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $v1 v128) (local $v2 v128) (local $w1 v128) (local $w2 v128) (local $lo v128) (local $hi v128)
    (block $gdone
     (loop $groups
      (br_if $gdone (i32.ge_u (local.get $g) (local.get $nnz)))
      (local.set $gEnd (i32.add (local.get $g) (i32.const 32)))
      (if (i32.gt_u (local.get $gEnd) (local.get $nnz)) (then (local.set $gEnd (local.get $nnz))))
      (local.set $pairs (i32.add (local.get $g) (i32.and (i32.sub (local.get $gEnd) (local.get $g)) (i32.const -2))))
      (local.set $o (local.get $out))
      (local.set $i (i32.const 0))
      (block $done
      (loop $stripes
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eqz (local.get $g))
          (then
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0)))
          (else
            (local.set $a0 (v128.load offset=0 (local.get $o)))
            (local.set $a1 (v128.load offset=16 (local.get $o)))
            (local.set $a2 (v128.load offset=32 (local.get $o)))
            (local.set $a3 (v128.load offset=48 (local.get $o)))))
        (local.set $j (local.get $g))
        (block $pdone
          (loop $pairloop
            (br_if $pdone (i32.ge_u (local.get $j) (local.get $pairs)))
            (local.set $c1 (i32.load (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $c2 (i32.load offset=4 (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $w1 (i8x16.splat (i32.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $w2 (i8x16.splat (i32.load offset=4 (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $v1 (v128.load (i32.add (i32.add (local.get $data) (i32.mul (local.get $c1) (local.get $cap))) (local.get $i))))
            (local.set $v2 (v128.load (i32.add (i32.add (local.get $data) (i32.mul (local.get $c2) (local.get $cap))) (local.get $i))))
            ;; two products of at most 127 * 127 each: their sum fits in int16
            (local.set $lo (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $v1) (local.get $w1)) (i16x8.extmul_low_i8x16_s (local.get $v2) (local.get $w2))))
            (local.set $hi (i16x8.add (i16x8.extmul_high_i8x16_s (local.get $v1) (local.get $w1)) (i16x8.extmul_high_i8x16_s (local.get $v2) (local.get $w2))))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.extend_low_i16x8_s (local.get $lo))))
            (local.set $a1 (i32x4.add (local.get $a1) (i32x4.extend_high_i16x8_s (local.get $lo))))
            (local.set $a2 (i32x4.add (local.get $a2) (i32x4.extend_low_i16x8_s (local.get $hi))))
            (local.set $a3 (i32x4.add (local.get $a3) (i32x4.extend_high_i16x8_s (local.get $hi))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairloop)))
        ;; an odd last dimension of the group
        (if (i32.lt_u (local.get $pairs) (local.get $gEnd))
          (then
            (local.set $c1 (i32.load (i32.add (local.get $idx) (i32.shl (local.get $pairs) (i32.const 2)))))
            (local.set $w1 (i8x16.splat (i32.load (i32.add (local.get $w) (i32.shl (local.get $pairs) (i32.const 2))))))
            (local.set $v1 (v128.load (i32.add (i32.add (local.get $data) (i32.mul (local.get $c1) (local.get $cap))) (local.get $i))))
            (local.set $lo (i16x8.extmul_low_i8x16_s (local.get $v1) (local.get $w1)))
            (local.set $hi (i16x8.extmul_high_i8x16_s (local.get $v1) (local.get $w1)))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.extend_low_i16x8_s (local.get $lo))))
            (local.set $a1 (i32x4.add (local.get $a1) (i32x4.extend_high_i16x8_s (local.get $lo))))
            (local.set $a2 (i32x4.add (local.get $a2) (i32x4.extend_low_i16x8_s (local.get $hi))))
            (local.set $a3 (i32x4.add (local.get $a3) (i32x4.extend_high_i16x8_s (local.get $hi))))))
        (v128.store offset=0 (local.get $o) (local.get $a0))
        (v128.store offset=16 (local.get $o) (local.get $a1))
        (v128.store offset=32 (local.get $o) (local.get $a2))
        (v128.store offset=48 (local.get $o) (local.get $a3))
        (local.set $o (i32.add (local.get $o) (i32.const 64)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $stripes)))
      (local.set $g (local.get $gEnd))
      (br $groups)))
  )
)
