-- vector_simd: the kernel variant is chosen at load time and can be forced
-- per session; every variant gives the same answers as the scalar one.
SELECT vectorx_simd() IN ('scalar', 'avx2', 'avx512', 'neon') AS known_variant;
SET vectorx.simd = 'scalar';
SELECT vectorx_simd();
CREATE TABLE simd_t AS
  SELECT i, ARRAY(SELECT ((i * 31 + j * 17) % 101 - 50) / 7.0 FROM generate_series(1, 37) j)::vector(37) AS v
  FROM generate_series(1, 50) i;
CREATE TABLE simd_ref AS
  SELECT a.i AS ai, b.i AS bi, a.v <-> b.v AS l2, a.v <#> b.v AS ip, a.v <=> b.v AS cos, a.v <+> b.v AS l1
  FROM simd_t a, simd_t b;
RESET vectorx.simd;
-- the best variant agrees with scalar to float accuracy: relative to the
-- result for L2 and L1 (sums of non-negative terms), to |a||b| for the inner
-- product and cosine (which may cancel)
SELECT count(*) AS disagreements FROM simd_ref r JOIN simd_t a ON a.i = r.ai JOIN simd_t b ON b.i = r.bi
WHERE abs((a.v <-> b.v) - r.l2) > 1e-5 * r.l2
   OR abs((a.v <#> b.v) - r.ip) > 1e-5 * vector_norm(a.v) * vector_norm(b.v)
   OR abs((a.v <=> b.v) - r.cos) > 1e-5
   OR abs((a.v <+> b.v) - r.l1) > 1e-5 * r.l1;
\set VERBOSITY terse
SET vectorx.simd = 'bogus';
\set VERBOSITY default
SET vectorx.simd = 'auto';
SELECT vectorx_simd() <> 'bogus' AS ok;
DROP TABLE simd_t, simd_ref;
