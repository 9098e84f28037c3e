# vectorx: PGXS build of the extension, its tests and its benchmarks.
#
#   make && make install         build and install into the pg_config found first
#   make installcheck            pg_regress (sql/ + expected/) against a running server
#   scripts/vx-test              the whole suite on a private throwaway cluster (see README)

EXTENSION = vectorx
EXTVERSION = 0.1.0

MODULE_big = vectorx
OBJS = \
	src/vectorx.o \
	src/vector.o \
	src/vector_ops.o \
	src/vector_storage.o \
	src/distance.o \
	src/distance_scalar.o \
	src/floatparse.o \
	src/monitor.o \
	src/common/sample.o \
	src/registry.o \
	src/common/allowlist.o \
	src/common/inspect.o \
	src/common/querysample.o \
	src/distance_avx2.o \
	src/distance_avx512.o \
	src/distance_neon.o \
	src/common/vxindex.o \
	src/common/vxcache.o \
	src/common/page.o \
	src/common/wal.o \
	src/hnsw/hnswam.o \
	src/hnsw/hnswbuild.o \
	src/hnsw/hnswcheck.o \
	src/hnsw/hnswgraph.o \
	src/hnsw/hnswinsert.o \
	src/hnsw/hnswmeta.o \
	src/hnsw/hnswpage.o \
	src/hnsw/hnswpagegraph.o \
	src/hnsw/hnswneighbors.o \
	src/hnsw/hnswreconnect.o \
	src/hnsw/hnswscan.o \
	src/hnsw/hnswstream.o \
	src/hnsw/hnswvacuum.o \
	src/hnsw/hnswvec.o \
	src/ivfpq/ivfpqam.o \
	src/ivfpq/ivfpqbuild.o \
	src/ivfpq/ivfpqinsert.o \
	src/ivfpq/ivfpqmeta.o \
	src/ivfpq/ivfpqpage.o \
	src/ivfpq/ivfpqscan.o \
	src/ivfpq/ivfpqtrain.o \
	src/ivfpq/ivfpqutil.o \
	src/ivfpq/ivfpqvacuum.o \
	src/planner/filterexec.o \
	src/planner/filterplan.o \
	src/planner/filterprivate.o

DATA = sql/vectorx--$(EXTVERSION).sql

REGRESS = vector_type vector_ops vector_errors vector_agg vector_storage vector_simd hnsw hnsw_graph hnsw_recall ivfpq monitor filter hardening_order hardening_types hardening_privileges hardening_memory hnsw_vacuum_rules
REGRESS_OPTS = --load-extension=vectorx

PG_CONFIG ?= pg_config

# The server headers are included as system headers so that -Wextra reports
# our code, not PostgreSQL's own macros (PG_FUNCTION_ARGS, ARR_DIMS).
PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/common -I$(srcdir)/src/hnsw -I$(srcdir)/src/ivfpq -I$(srcdir)/src/planner -isystem $(shell $(PG_CONFIG) --includedir-server)
# -Wextra minus unused-parameter: callback signatures are fixed by PostgreSQL
# (GUC hooks, index AM and executor callbacks) and often ignore arguments.
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter

# Optional libnuma: index builds interleave their shared arena across NUMA
# nodes when the library is there (a no-op on a one-node machine).
HASH := \#
HAVE_NUMA := $(shell printf '$(HASH)include <numa.h>\nint main(void){return numa_available();}\n' | \
	$(CC) -x c - -lnuma -o /dev/null >/dev/null 2>&1 && echo yes)
ifeq ($(HAVE_NUMA),yes)
PG_CPPFLAGS += -DVX_HAVE_NUMA
SHLIB_LINK += -lnuma
endif

EXTRA_CLEAN = results regression.diffs regression.out tmp_check \
	test/kernels/test_kernels test/kernels/test_kernels_arm64 test/kernels/test_kernels_asan bench/bench_kernels

# No LLVM bitcode: JIT inlining gains nothing for functions called through
# fmgr, and the SIMD files would need clang to agree with gcc's target
# attributes.
override with_llvm = no

# Rebuild objects when a header they include changes (.deps/*.Po files).
override autodepend = yes

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# IVF-PQ's training, encoding and lookup-table loops (straight loops over
# 256 sub-centroids) are written for the auto-vectorizer, which -O2's
# "very cheap" cost model leaves scalar; they are compiled per CPU level
# with target_clones (ivfpqtrain.c).
src/ivfpq/ivfpqtrain.o: CFLAGS += -ftree-vectorize -fvect-cost-model=dynamic

.PHONY: numa-status
numa-status:
	@echo "libnuma: $(if $(HAVE_NUMA),found,not found)"

# ---- the distance kernels outside the server ----
KERNEL_SRCS = src/distance.c src/distance_scalar.c src/distance_avx2.c src/distance_avx512.c src/distance_neon.c src/floatparse.c
KERNEL_CFLAGS = -O2 -g -Wall -Wextra -I$(srcdir)/src

test/kernels/test_kernels: test/kernels/test_kernels.c $(KERNEL_SRCS) src/distance.h
	$(CC) $(KERNEL_CFLAGS) -o $@ test/kernels/test_kernels.c $(KERNEL_SRCS) -lm

.PHONY: check-kernels check-kernels-arm64 check-kernels-asan
check-kernels: test/kernels/test_kernels
	test/kernels/test_kernels

# every variant under AddressSanitizer and UBSan (scripts/vx-memcheck); GCC's
# -fsanitize=undefined leaves out float-cast-overflow, named here
check-kernels-asan:
	$(CC) $(KERNEL_CFLAGS) -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer \
		-o test/kernels/test_kernels_asan test/kernels/test_kernels.c $(KERNEL_SRCS) -lm
	test/kernels/test_kernels_asan

# The NEON variant, cross-compiled and run under qemu-user (Debian packages
# gcc-aarch64-linux-gnu and qemu-user).
ARM64_CC = aarch64-linux-gnu-gcc
check-kernels-arm64:
	$(ARM64_CC) $(KERNEL_CFLAGS) -o test/kernels/test_kernels_arm64 test/kernels/test_kernels.c $(KERNEL_SRCS) -lm
	qemu-aarch64 -L /usr/aarch64-linux-gnu test/kernels/test_kernels_arm64

# ---- benchmarks (reported figures, not tests) ----
bench/bench_kernels: bench/bench_kernels.c $(KERNEL_SRCS) src/distance.h
	$(CC) $(KERNEL_CFLAGS) -o $@ bench/bench_kernels.c $(KERNEL_SRCS) -lm

.PHONY: bench-kernels
bench-kernels: bench/bench_kernels
	/usr/bin/python3 bench/kernels.py
