-- hnsw_vacuum_reach: after VACUUM every live element is reachable (hnsw.h
-- I6), also when the elements that were cut off are reachable only through
-- the DELETED ones that VACUUM frees.  The reconnect pass (V2b) runs between
-- the repair of lists that name DELETED elements and their freeing; it
-- counted as reachable what live elements reach, but searched for each
-- missing element's nearest reachable host through DELETED elements too,
-- met only elements cut off with it, and linked none: 102 of 261 elements
-- were unreachable after this VACUUM.  Found by the randomized
-- differential test (test/diff, seed 86): 1-dimensional vectors, m = 2.
CREATE TABLE vr1 (id int PRIMARY KEY, v vector(1)) WITH (autovacuum_enabled = false);
INSERT INTO vr1 SELECT 1 + n - 1, CASE WHEN x IS NULL THEN NULL ELSE ARRAY[x]::vector(1) END
FROM unnest(ARRAY[
  -0.393, -0.393, 0.566, -0.826, 0.523, 0.047, 0.183, 0.604, -0.807, 0.508,
  -0.927, -0.627, 0.262, NULL, 0.535, -0.385, -0.617, 0.486, -0.497, -0.732,
  -0.573, 0, -0.617, -0.685, 0.367, 0.661, 0.410, 0.934, -0.207, -0.313,
  0.015, -0.197, -0.927, -0.077, -0.437, -0.617, 0.007, -0.748, 0.710,
  0.748, 0.007, 0.917, -0.878, 0.047, -0.308, -0.501, -0.917, 0.597, -0.210,
  NULL, 0.984, 0.163, 0, 0.181, -0.471, -0.979, 0.276, -0.234, 0.228, 0.519,
  -0.199, 0.276, -0.740, -0.612, -0.450, -0.126, 0.771, 0.917, -0.059,
  0.167, -0.754, 0.934, -0.656, 0, 0.744, -0.775, 0.432, -0.717, -0.238,
  -0.296, -0.742, 0.145, 0.363, -0.556, 0.139, 0.896, -0.894, 0.209, 0.373,
  0.500, -0.413, -0.934, -0.137, -0.086, -0.025, -0.481, 0.358, 0.224,
  -0.274, -0.414, -0.296, -0.779, -0.188, -0.379, 0.118, 0.771, -0.531,
  0.421, 0.543, 0.379, 0.935, -0.544, 0.130, 0.754, -0.358, -0.634, -0.088,
  -0.005, 0.517, 0.359, 0.194, -0.671, 0.331, -0.780, 0.492, 0.209, -0.152,
  -0.038, 0.127, 0, 0.973, -0.281, 0.068, -0.033, -0.928, -0.763, -0.080,
  -0.912, 0.005, -0.488, 0.597, 0.772, -0.713, -0.100, 0.118, 0.672, 0.942,
  0.068, 0.139, -0.684, NULL, -0.831, 0.970, -0.857, 0.572, 0.672, 0.379,
  0.115, 0.093, 0.610, -0.974, 0.731, -0.257, 0.326, 0.101, -0.550, 0.356,
  -0.145, -0.928, -0.553, -0.115, -0.009, 0.390, -0.241, -0.648, 0.461,
  -0.626, -0.556, -0.082, 0.946, 0.358, 0.719
]::float4[]) WITH ORDINALITY AS u(x, n);
INSERT INTO vr1 SELECT 183 + n - 1, CASE WHEN x IS NULL THEN NULL ELSE ARRAY[x]::vector(1) END
FROM unnest(ARRAY[
  -0.128, 0.723, 0.590, -0.754, 0.535, 0.946, 0.938, -0.254, -0.460, 0,
  -0.085, -0.160, -0.025, 0.515, 0.762, -0.109, -0.865, 0.698, -0.220,
  0.170, 0.298, -0.277, -0.969, -0.306, 0.068, -0.274, 0.377, -0.343,
  -0.626, -0.916, 0.053, -0.953, -0.522, -0.626, 0.169, -0.346, -0.933,
  -0.317, 0.425, -0.496, 0.799, -0.992, -0.025, -0.745, NULL, -0.394, 0.140,
  0.236, 0, 0.883, -0.497, 0.454, 0.167, -0.585, 0.801, -0.751, -0.894,
  -0.634, 0, -0.512, 0.284, 0, 0.944, 0.063, 0.851, 0.813, -0.135, -0.927,
  -0.867, 0.727, -0.045, 0.660, -0.134, 0.515, 0.472, -0.390, -0.597, 0.545,
  -0.088
]::float4[]) WITH ORDINALITY AS u(x, n);
SET maintenance_work_mem = '1MB';
SET max_parallel_maintenance_workers = 0;
CREATE INDEX vr1_v ON vr1 USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 64);
RESET maintenance_work_mem;
RESET max_parallel_maintenance_workers;
INSERT INTO vr1 SELECT 456 + n - 1, CASE WHEN x IS NULL THEN NULL ELSE ARRAY[x]::vector(1) END
FROM unnest(ARRAY[
  0.104, -0.252, 0.628, 0.978, -0.301, NULL, 0.422, -0.439, -0.732, -0.806,
  -0.444, 0.726, -0.743, 0.567, -0.322, -0.679, 0.010, 0.425, -0.257,
  -0.519, 0.676, 0.607, 0.543, -0.776, 0.813, -0.414, 0.542, -0.272, 0.697,
  -0.175, 0.232, 0.772, 0.171, -0.684, 0.375, 0.285, 0.376, -0.215, -0.484,
  0.162, -0.499, -0.961, 0.753, 0.194, -0.682, 0.768, 0.665, 0.537, -0.066,
  -0.364, 0.425, -0.112, 0.798, -0.370, 0.233, 0.419, 0.276, 0.326, -0.176,
  -0.634, -0.343, -0.394, -0.950, 0.230, 0.475, 0.506, -0.856, -0.557,
  0.589, 0.149, 0.786, 0.001, -1.000, -0.448, -0.531
]::float4[]) WITH ORDINALITY AS u(x, n);
DELETE FROM vr1 WHERE id % 15 = 0;
VACUUM vr1;
SELECT ok, elements, unreachable, problems FROM vectorx_hnsw_check('vr1_v');
-- every row finds itself
SET enable_seqscan = off;
SET hnsw.ef_search = 400;
SELECT count(*) AS self_query_misses FROM vr1 t
WHERE t.v IS NOT NULL
  AND (SELECT t2.v <-> t.v FROM vr1 t2 ORDER BY t2.v <-> t.v LIMIT 1) IS DISTINCT FROM 0;
RESET enable_seqscan;
RESET hnsw.ef_search;
DROP TABLE vr1;
