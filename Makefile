# vectorx: PGXS build of the extension, its tests and its benchmarks.
#
#   make && make install         build and install into the pg_config found first
#   make installcheck            pg_regress (sql/ + expected/) against a running server
#   scripts/vx-test              the whole suite on a private throwaway cluster (see README)

EXTENSION = vectorx
EXTVERSION = 0.2.0
# Install scripts: 0.1.0's, then one update script per release.  A new
# database gets the newest version by PostgreSQL chaining them (there is
# no install script per version), so an updated database and a new one
# hold the same objects (test/t/072_upgrade.pl).
EXTSCRIPTS = sql/vectorx--0.1.0.sql sql/vectorx--0.1.0--0.2.0.sql

MODULE_big = vectorx
OBJS = \
	src/vectorx.o \
	src/vector.o \
	src/vector_ops.o \
	src/halfvec.o \
	src/halfvec_ops.o \
	src/sparsevec.o \
	src/bitvec.o \
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
	src/common/vxcodec.o \
	src/common/wal.o \
	src/common/waitpoint.o \
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
	src/ivfpq/ivfpqam.o \
	src/ivfpq/ivfpqbuild.o \
	src/ivfpq/ivfpqcheck.o \
	src/ivfpq/ivfpqinsert.o \
	src/ivfpq/ivfpqmeta.o \
	src/ivfpq/ivfpqpage.o \
	src/ivfpq/ivfpqscan.o \
	src/ivfpq/ivfpqtrain.o \
	src/ivfpq/ivfpqutil.o \
	src/ivfpq/ivfpqvacuum.o \
	src/planner/filterexec.o \
	src/planner/filterplan.o \
	src/planner/filterprivate.o \
	src/planner/shard.o \
	src/planner/shardroute.o

DATA = $(EXTSCRIPTS)

# The "vector" extension: vectorx under pgvector's name (sql/alias), so
# that CREATE EXTENSION IF NOT EXISTS vector works.  make install puts it
# beside vectorx unless pgvector's own vector.control is there
# (VECTOR_ALIAS=yes replaces it, VECTOR_ALIAS=no never installs it).
VECTOR_ALIAS ?= auto
ALIAS_SCRIPTS = $(patsubst sql/vectorx--%,sql/alias/vector--%,$(EXTSCRIPTS))
ALIAS_FILES = sql/alias/vector.control $(ALIAS_SCRIPTS)

REGRESS = vector_type vector_ops vector_errors vector_agg vector_storage vector_simd hnsw hnsw_graph hnsw_recall ivfpq monitor filter hardening_order hardening_types hardening_privileges hardening_memory hnsw_vacuum_rules scan_hot hnsw_vacuum_reach hnsw_insert_reach scan_no_direction pgvector_settings bit_functions filter_partial halfvec sparsevec hnsw_bit ivfflat hnsw_sparsevec shard_cluster
REGRESS_OPTS = --load-extension=vectorx
# isolation specs (PostgreSQL's isolation tester): test/isolation/specs/*.spec
# against test/isolation/expected/*.out, run by make installcheck after
# pg_regress
ISOLATION = check_vs_vacuum hnsw_insert_vacuum hnsw_scan_vacuum ivfpq_races build_concurrently
ISOLATION_OPTS = --load-extension=vectorx --inputdir=$(srcdir)/test/isolation

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

EXTRA_CLEAN = results regression.diffs regression.out tmp_check $(ALIAS_SCRIPTS) \
	test/kernels/test_kernels test/kernels/test_kernels_arm64 test/kernels/test_kernels_asan bench/bench_kernels \
	test/fuzz/build

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

# the alias's scripts: vectorx's, named for the vector extension
sql/alias/vector--%.sql: sql/vectorx--%.sql
	sed -e 's/^\\echo Use "CREATE EXTENSION vectorx"/\\echo Use "CREATE EXTENSION vector"/' \
		-e 's/^\\echo Use "ALTER EXTENSION vectorx /\\echo Use "ALTER EXTENSION vector /' \
		-e '1s|^/\*|/* Generated from $< by make: the vector extension (vectorx under pgvector'"'"'s name).\n *|' $< > $@

all: $(ALIAS_SCRIPTS)

.PHONY: install-vector-alias uninstall-vector-alias
install: install-vector-alias
install-vector-alias: $(ALIAS_SCRIPTS)
	@dest='$(DESTDIR)$(datadir)/extension'; \
	if [ '$(VECTOR_ALIAS)' = no ]; then exit 0; fi; \
	if [ -f "$$dest/vector.control" ] && ! grep -q vectorx "$$dest/vector.control" && [ '$(VECTOR_ALIAS)' != yes ]; then \
		echo "pgvector's vector extension is installed in $$dest: vectorx's alias not installed (VECTOR_ALIAS=yes replaces it)"; \
		exit 0; \
	fi; \
	$(INSTALL_DATA) $(ALIAS_FILES) "$$dest/"

uninstall: uninstall-vector-alias
uninstall-vector-alias:
	@dest='$(DESTDIR)$(datadir)/extension'; \
	if [ -f "$$dest/vector.control" ] && grep -q vectorx "$$dest/vector.control"; then \
		rm -f "$$dest/vector.control" $(patsubst sql/alias/%,"$$dest/%",$(ALIAS_SCRIPTS)); \
	fi

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

# ---- coverage-guided fuzzing outside the server (test/fuzz) ----
# libFuzzer targets built with clang under AddressSanitizer and UBSan from
# the project's own .c files and a shim of the server (test/fuzz/fuzz.h
# says how).  make fuzz builds them; make check-fuzz runs each for
# FUZZ_SECONDS over its committed seeds (test/fuzz/corpus/<target>) and
# fails on any crash, sanitizer report, timeout (10 s for one input) or
# input that needs more than 2 GB; scripts/vx-fuzz runs the long version.
# Debian packages clang-14 and libclang-rt-14-dev (the fuzzer runtime).
FUZZ_CC = clang-14
FUZZ_SECONDS ?= 15
FUZZ_DIR = test/fuzz
FUZZ_BUILD = $(FUZZ_DIR)/build
FUZZ_TARGETS = fuzz_vector_in fuzz_vector_recv fuzz_typmod_in fuzz_array_to_vector fuzz_sparsevec fuzz_hnsw fuzz_ivfpq
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
# as the server is built (-fwrapv, -fno-strict-aliasing), plus the Asserts
# of USE_ASSERT_CHECKING, which Debian's server leaves out
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	-fwrapv -fno-strict-aliasing -Wno-ignored-attributes -DUSE_ASSERT_CHECKING -MMD -MP \
	-I$(srcdir)/src -I$(srcdir)/src/common -I$(srcdir)/src/hnsw -I$(srcdir)/src/ivfpq \
	-I$(srcdir)/$(FUZZ_DIR) -isystem $(shell $(PG_CONFIG) --includedir-server)
# libpgport and libpgcommon: snprintf, qsort, the shortest float output
FUZZ_LIBS = -L$(shell $(PG_CONFIG) --pkglibdir) -lpgcommon_shlib -lpgport_shlib -lm
FUZZ_RUN_FLAGS = -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

FUZZ_SHIM = $(FUZZ_DIR)/shim.c $(FUZZ_DIR)/unreached.c
FUZZ_VECTOR_SRCS = src/vector.c src/floatparse.c src/distance.c src/distance_scalar.c \
	src/distance_avx2.c src/distance_avx512.c src/distance_neon.c
FUZZ_PAGE_SRCS = $(FUZZ_VECTOR_SRCS) src/vector_ops.c src/halfvec.c src/halfvec_ops.c src/bitvec.c src/sparsevec.c src/common/page.c src/common/vxindex.c \
	src/common/vxcache.c src/common/wal.c src/common/inspect.c src/common/querysample.c \
	src/common/allowlist.c src/common/waitpoint.c
FUZZ_HNSW_SRCS = $(FUZZ_PAGE_SRCS) src/hnsw/hnswmeta.c src/hnsw/hnswpage.c src/hnsw/hnswpagegraph.c \
	src/hnsw/hnswstream.c src/common/vxcodec.c src/hnsw/hnswgraph.c src/hnsw/hnswcheck.c \
	src/hnsw/hnswscan.c
FUZZ_IVFPQ_SRCS = $(FUZZ_PAGE_SRCS) src/common/vxcodec.c src/ivfpq/ivfpqmeta.c src/ivfpq/ivfpqpage.c src/ivfpq/ivfpqutil.c \
	src/ivfpq/ivfpqscan.c src/ivfpq/ivfpqtrain.c

fuzz_vector_in_SRCS = $(FUZZ_VECTOR_SRCS)
fuzz_vector_recv_SRCS = $(FUZZ_VECTOR_SRCS) src/halfvec.c
fuzz_typmod_in_SRCS = $(FUZZ_VECTOR_SRCS)
fuzz_array_to_vector_SRCS = $(FUZZ_VECTOR_SRCS)
fuzz_sparsevec_SRCS = $(FUZZ_VECTOR_SRCS) src/halfvec.c src/sparsevec.c
fuzz_hnsw_SRCS = $(FUZZ_HNSW_SRCS)
fuzz_ivfpq_SRCS = $(FUZZ_IVFPQ_SRCS)

fuzz_objs = $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(1))

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

define FUZZ_TARGET_RULE
$(FUZZ_BUILD)/$(1): $$(call fuzz_objs,$(FUZZ_DIR)/$(1).c $(FUZZ_SHIM) $$($(1)_SRCS))
	$$(FUZZ_CC) -fsanitize=fuzzer $$(FUZZ_SAN) -o $$@ $$^ $$(FUZZ_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_TARGET_RULE,$(t))))

-include $(wildcard $(FUZZ_BUILD)/*.d $(FUZZ_BUILD)/*/*.d $(FUZZ_BUILD)/*/*/*.d $(FUZZ_BUILD)/*/*/*/*.d)

.PHONY: fuzz check-fuzz fuzz-targets
fuzz: $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))

fuzz-targets:
	@echo $(FUZZ_TARGETS)

# each target for FUZZ_SECONDS: the seeds first, then mutations; new inputs
# go to $(FUZZ_BUILD)/corpus, crashes to $(FUZZ_BUILD)/artifacts
check-fuzz: fuzz
	@mkdir -p $(FUZZ_BUILD)/artifacts
	@failed=; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		dict=; [ -f $(FUZZ_DIR)/$$t.dict ] && dict=-dict=$(FUZZ_DIR)/$$t.dict; \
		echo "== $$t ($(FUZZ_SECONDS) s)"; \
		if ! $(FUZZ_BUILD)/$$t $(FUZZ_RUN_FLAGS) -max_total_time=$(FUZZ_SECONDS) $$dict \
			-artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
			$(FUZZ_BUILD)/corpus/$$t $(FUZZ_DIR)/corpus/$$t >$(FUZZ_BUILD)/$$t.log 2>&1; then \
			tail -n 40 $(FUZZ_BUILD)/$$t.log; failed="$$failed $$t"; \
		else grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_BUILD)/$$t.log | tail -n 1; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz targets failed:$$failed"; exit 1; fi
