;; int8-scan: the vector index's scoring kernel (indexes/embedded/int8-columns.ts), WebAssembly
;; with 128-bit SIMD. `npm run build:wasm` (scripts/build-wasm.js) assembles it with wabt into
;; indexes/embedded/int8-scan-wasm.ts; a test checks that file against this source.
;;
;; scan(data, cap, n, idx, w, nnz, out):
;;   out[r] = sum over j < nnz of w[j] * data[idx[j] * cap + r], for rows r in [0, n) rounded
;;   up to a multiple of 16 (the block's capacity is one, so the reads stay in the block).
;; data: int8 by dimension (dimension d of row r at d * cap + r); idx: int32 dimensions;
;; w: int32 weights in [-127, 127] (an int8 query: each product fits in int16); out: int32 per
;; row. Rows go in tiles of 1024, so a tile's scores stay in the L1 cache while every query
;; dimension is added in, and each dimension is read as one sequential run per tile.
(module
  (memory (import "env" "memory") 1)
  (func (export "scan") (param $data i32) (param $cap i32) (param $n i32) (param $idx i32) (param $w i32) (param $nnz i32) (param $out i32)
    (local $t i32) (local $tn i32) (local $i i32) (local $j i32) (local $col i32) (local $o i32)
    (local $wv v128) (local $v v128) (local $lo v128) (local $hi v128)
    (block $done
      (loop $tiles
        (br_if $done (i32.ge_u (local.get $t) (local.get $n)))
        ;; rows in this tile, a multiple of 16
        (local.set $tn (i32.sub (local.get $n) (local.get $t)))
        (if (i32.gt_u (local.get $tn) (i32.const 1024)) (then (local.set $tn (i32.const 1024))))
        (local.set $tn (i32.and (i32.add (local.get $tn) (i32.const 15)) (i32.const -16)))
        ;; zero the tile's outputs
        (memory.fill (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 2))) (i32.const 0) (i32.shl (local.get $tn) (i32.const 2)))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $dims
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $nnz)))
            (local.set $wv (i16x8.splat (i32.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $col (i32.add (i32.add (local.get $data)
              (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2)))) (local.get $cap)))
              (local.get $t)))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 2))))
            (local.set $i (i32.const 0))
            (block $idone
              (loop $rows
                (br_if $idone (i32.ge_u (local.get $i) (local.get $tn)))
                (local.set $v (v128.load (i32.add (local.get $col) (local.get $i))))
                (local.set $lo (i16x8.mul (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $wv)))
                (local.set $hi (i16x8.mul (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $wv)))
                (v128.store offset=0 (local.get $o) (i32x4.add (v128.load offset=0 (local.get $o)) (i32x4.extend_low_i16x8_s (local.get $lo))))
                (v128.store offset=16 (local.get $o) (i32x4.add (v128.load offset=16 (local.get $o)) (i32x4.extend_high_i16x8_s (local.get $lo))))
                (v128.store offset=32 (local.get $o) (i32x4.add (v128.load offset=32 (local.get $o)) (i32x4.extend_low_i16x8_s (local.get $hi))))
                (v128.store offset=48 (local.get $o) (i32x4.add (v128.load offset=48 (local.get $o)) (i32x4.extend_high_i16x8_s (local.get $hi))))
                (local.set $o (i32.add (local.get $o) (i32.const 64)))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $rows)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $dims)))
        (local.set $t (i32.add (local.get $t) (i32.const 1024)))
        (br $tiles)))
  )
)
