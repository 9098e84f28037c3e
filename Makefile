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
	src/distance.o

DATA = sql/vectorx--$(EXTVERSION).sql

REGRESS = vector_type vector_ops vector_errors vector_agg
REGRESS_OPTS = --load-extension=vectorx

PG_CONFIG ?= pg_config

# The server headers are included as system headers so that -Wextra reports
# our code, not PostgreSQL's own macros (PG_FUNCTION_ARGS, ARR_DIMS).
PG_CPPFLAGS = -I$(srcdir)/src -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CFLAGS = -Wall -Wextra

# Optional libnuma: index builds interleave their shared arena across NUMA
# nodes when the library is there (a no-op on a one-node machine).
HAVE_NUMA := $(shell printf '\#include <numa.h>\nint main(void){return numa_available();}\n' | \
	$(CC) -x c - -lnuma -o /dev/null >/dev/null 2>&1 && echo yes)
ifeq ($(HAVE_NUMA),yes)
PG_CPPFLAGS += -DVX_HAVE_NUMA
SHLIB_LINK += -lnuma
endif

EXTRA_CLEAN = results regression.diffs regression.out tmp_check

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: numa-status
numa-status:
	@echo "libnuma: $(if $(HAVE_NUMA),found,not found)"
