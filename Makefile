# upflow_import -- PGXS build of the extension, plus the project's own
# targets: deps, test, demo, unit, fuzz, bench.
#
# The file must work before PostgreSQL's development files exist: `make test`
# and `make demo` first install what is missing (tools/install-deps), then
# call make again, which then finds PGXS.

EXTENSION = upflow_import
MODULE_big = upflow_import
EXTVERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" upflow_import.control)

# SQL: every object has one source in src/sql/.  The tables are DDL that
# runs once: schema.sql (the tables of 1.0), then each version's changes,
# src/sql/updates/FROM--TO.sql, in version order; a new installation runs
# them all, an update only its own.  Functions, views, comments and grants
# are written with CREATE OR REPLACE (or may run again) and are run by both.
# The current version's scripts are built (DATA_built); released ones are
# committed and frozen (DATA; checksums in test/upgrade/).  CONTRIBUTING.md
# says how to add a function, a column and a release.
SQL_SCHEMA_CHANGES := $(shell ls src/sql/updates/*.sql | sort -V)
SQL_SCHEMA = src/sql/schema.sql $(SQL_SCHEMA_CHANGES)
SQL_REPLACEABLE = src/sql/tenant_setting.sql src/sql/comments.sql \
	src/sql/csv.sql src/sql/tenancy.sql src/sql/prepare.sql \
	src/sql/notifications.sql src/sql/saved_mappings.sql src/sql/apply.sql src/sql/history.sql \
	src/sql/queue.sql src/sql/undo.sql
# In the order the full script runs them: the policies of schema.sql call
# tenant_setting.sql's function.
SQL_SOURCES = src/sql/tenant_setting.sql $(SQL_SCHEMA) $(filter-out src/sql/tenant_setting.sql,$(SQL_REPLACEABLE))
SQL_UPDATES = $(wildcard src/sql/updates/*--$(EXTVERSION).sql)
DATA_built = $(EXTENSION)--$(EXTVERSION).sql \
	$(patsubst src/sql/updates/%.sql,$(EXTENSION)--%.sql,$(SQL_UPDATES))
DATA = $(filter-out $(DATA_built),$(wildcard $(EXTENSION)--*.sql))
PGFILEDESC = "upflow_import - import customer contacts from CSV files"

CORE_OBJS = src/csv_reader.o src/contact_fields.o
OBJS = src/upflow_import.o src/csv_functions.o src/import_options.o src/prepare.o \
	src/decode.o src/worker.o $(CORE_OBJS)
SHLIB_LINK = -lcsv

# The standard PGXS suites: `make installcheck` runs the regression tests
# (sql/, expected/) and the isolation specs (specs/) against the server
# the PG* variables name, then the TAP tests (t/), which start their own
# servers (as a user other than root).  One suite alone:
# `make installcheck ISOLATION= TAP_TESTS=` (regression),
# `make installcheck REGRESS= TAP_TESTS=` (isolation),
# `make installcheck REGRESS= ISOLATION= PROVE_TESTS=t/030_notify.pl` (TAP).
# `make test` runs every suite against throwaway servers instead
# (tools/run-tests), as root too.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=.
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
TAP_TESTS = 1

# Warnings are errors in every build of this project's own code.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare

# Set before PGXS is included: pgxs.mk only cleans EXTRA_CLEAN if it is
# defined by then (later += still count).
EXTRA_CLEAN = test/test_csv_reader test/test_contact_fields test/test_regressions \
	results regression.diffs regression.out tmp_check output_iso

PG_MAJOR ?= 15
PG_CONFIG ?= /usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config

ifneq ($(wildcard $(PG_CONFIG)),)
PGXS := $(shell $(PG_CONFIG) --pgxs)
endif

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL $(PG_MAJOR) development files are missing: run 'make deps' (as root) first." >&2
	@exit 1
endif

.PHONY: deps test demo unit fuzz bench bench-citus

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_SOURCES) tools/build-install-script upflow_import.control
	tools/build-install-script full $(EXTVERSION) $(SQL_SOURCES) >$@.tmp && mv $@.tmp $@

$(EXTENSION)--%--$(EXTVERSION).sql: src/sql/updates/%--$(EXTVERSION).sql $(SQL_REPLACEABLE) \
		tools/build-install-script upflow_import.control
	tools/build-install-script update $* $(EXTVERSION) $< $(SQL_REPLACEABLE) >$@.tmp && mv $@.tmp $@

deps:
	@tools/install-deps

test: deps
	@tools/run-tests

demo: deps
	@$(MAKE) --no-print-directory install >/dev/null
	@tools/demo

# Unit tests of the pure-C core (no PostgreSQL needed, only libcsv and cmocka).
UNIT_TESTS = test/test_csv_reader test/test_contact_fields test/test_regressions
UNIT_CFLAGS = -std=gnu99 -Wall -Wextra -Werror -g -O1 -Isrc

test/test_csv_reader: test/test_csv_reader.c src/csv_reader.c src/csv_reader.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/test_csv_reader.c src/csv_reader.c -lcsv -lcmocka

test/test_contact_fields: test/test_contact_fields.c src/contact_fields.c src/contact_fields.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/test_contact_fields.c src/contact_fields.c -lcmocka

test/test_regressions: test/test_regressions.c src/csv_reader.c src/contact_fields.c src/csv_reader.h src/contact_fields.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/test_regressions.c src/csv_reader.c src/contact_fields.c -lcsv -lcmocka

unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done


# bin/upflow-import: the command-line importer, a libpq client; bin/upflow-notify,
# the notification relay.  Built by
# `all` and installed into PostgreSQL's bindir by `make install`; only when
# PGXS (hence pg_config and libpq-fe.h) is there, so that a machine without
# the development files still gets the message above.
ifneq ($(wildcard $(PGXS)),)
CLI_CFLAGS = -std=gnu99 -Wall -Wextra -Werror -g -O2 \
	-I$(shell $(PG_CONFIG) --includedir) -DUPFLOW_VERSION='"$(EXTVERSION)"'
CLI_LDFLAGS = -L$(shell $(PG_CONFIG) --libdir) -lpq
CLI_COMMON = bin/cli_common.c bin/cli_common.h

all: bin/upflow-import bin/upflow-notify

bin/upflow-import: bin/upflow-import.c $(CLI_COMMON) upflow_import.control
	$(CC) $(CLI_CFLAGS) -o $@ bin/upflow-import.c bin/cli_common.c $(CLI_LDFLAGS)

# The notification relay: libcurl sends the email (SMTP) and Slack (HTTPS).
bin/upflow-notify: bin/upflow-notify.c $(CLI_COMMON) upflow_import.control
	$(CC) $(CLI_CFLAGS) -o $@ bin/upflow-notify.c bin/cli_common.c $(CLI_LDFLAGS) -lcurl

.PHONY: install-cli uninstall-cli
install: install-cli
install-cli: bin/upflow-import bin/upflow-notify
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) bin/upflow-import '$(DESTDIR)$(bindir)/upflow-import'
	$(INSTALL_PROGRAM) bin/upflow-notify '$(DESTDIR)$(bindir)/upflow-notify'

uninstall: uninstall-cli
uninstall-cli:
	rm -f '$(DESTDIR)$(bindir)/upflow-import' '$(DESTDIR)$(bindir)/upflow-notify'

# A rule, not EXTRA_CLEAN: pgxs.mk tests EXTRA_CLEAN with ifdef when it is
# included, before anything set below the include.
.PHONY: clean-cli
clean: clean-cli
clean-cli:
	rm -f bin/upflow-import bin/upflow-notify
endif

# Fuzzing of the pure-C core (test/fuzz/).  `make fuzz` needs clang with
# libFuzzer (installed by `tools/install-deps fuzz`, never by `make test`):
# it builds each harness with -fsanitize=fuzzer,address,undefined and runs
# it FUZZ_SECONDS seconds on its seed corpus, keeping new inputs in
# test/fuzz/work/ and crashes as test/fuzz/crash-*; `make -j3 fuzz` runs
# the harnesses in parallel.  FUZZ_LIBCSV_SRC=path/to/libcsv.c compiles
# libcsv in, instrumented, so that its states guide the fuzzer too.
# `make fuzz-replay` (part of `make test`) only replays the corpus once,
# with gcc and ASan/UBSan (tools/run-fuzz-replay).
FUZZ_HARNESSES = fuzz_csv_reader fuzz_detect_delimiter fuzz_contact_fields
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_CFLAGS = -std=gnu99 -g -O1 -Wall -Wextra -Werror -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
ifdef FUZZ_LIBCSV_SRC
FUZZ_LIBCSV = $(FUZZ_LIBCSV_SRC) -I$(dir $(FUZZ_LIBCSV_SRC))
else
FUZZ_LIBCSV = -lcsv
endif
FUZZ_OPTS_fuzz_csv_reader = -max_len=4096 -dict=test/fuzz/csv.dict
FUZZ_OPTS_fuzz_detect_delimiter = -max_len=4096 -dict=test/fuzz/csv.dict
FUZZ_OPTS_fuzz_contact_fields = -max_len=1024

.PHONY: fuzz fuzz-deps fuzz-build fuzz-replay

fuzz-deps:
	@tools/install-deps fuzz

# (fuzz_csv_reader.c includes src/csv_reader.c, to inject allocation failures)
test/fuzz/fuzz_csv_reader: test/fuzz/fuzz_csv_reader.c src/csv_reader.c src/csv_reader.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_csv_reader.c $(FUZZ_LIBCSV)

test/fuzz/fuzz_detect_delimiter: test/fuzz/fuzz_detect_delimiter.c src/csv_reader.c src/csv_reader.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_detect_delimiter.c src/csv_reader.c $(FUZZ_LIBCSV)

test/fuzz/fuzz_contact_fields: test/fuzz/fuzz_contact_fields.c src/contact_fields.c src/contact_fields.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_contact_fields.c src/contact_fields.c

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(addprefix test/fuzz/,$(FUZZ_HARNESSES))

fuzz-run-%: fuzz-build
	@mkdir -p test/fuzz/work/$*
	./test/fuzz/$* -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-artifact_prefix=test/fuzz/ -print_final_stats=1 $(FUZZ_OPTS_$*) \
		test/fuzz/work/$* test/fuzz/corpus/$*

fuzz: $(addprefix fuzz-run-,$(FUZZ_HARNESSES))

fuzz-replay:
	@tools/run-fuzz-replay

EXTRA_CLEAN += $(addprefix test/fuzz/,$(FUZZ_HARNESSES)) test/fuzz/*-replay

# Benchmark (bench/run): upflow_import against COPY and a hand-written SQL
# pipeline, on generated files of 10k, 100k and 1M lines, in one throwaway
# server; writes bench/out/results.csv and prints the table.  BENCH_SIZES,
# BENCH_RUNS and the other knobs are described in bench/run.  Not part of
# `make test` (no timing assertion there).  Then, where Citus is installed
# or its source is in ../shared/citus/, bench/citus: a 50,000-line import
# through a Citus coordinator against one server (`make bench-citus` alone).
bench: deps
	@$(MAKE) --no-print-directory install >/dev/null
	@bench/run
	@bench/citus || test $$? -eq 3

bench-citus: deps
	@$(MAKE) --no-print-directory install >/dev/null
	@bench/citus
