# upflow_import -- PGXS build of the extension, plus the project's own
# targets: deps, test, demo, unit, fuzz, bench.
#
# The file must work before PostgreSQL's development files exist: `make test`
# and `make demo` first install what is missing (tools/install-deps), then
# call make again, which then finds PGXS.

EXTENSION = upflow_import
MODULE_big = upflow_import
DATA = upflow_import--1.0.sql
PGFILEDESC = "upflow_import - import customer contacts from CSV files"

CORE_OBJS = src/csv_reader.o src/contact_fields.o
OBJS = src/upflow_import.o src/csv_functions.o src/import_options.o src/prepare.o \
	src/decode.o $(CORE_OBJS)
SHLIB_LINK = -lcsv

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=.

# Warnings are errors in every build of this project's own code.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare

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

.PHONY: deps test demo unit fuzz bench

deps:
	@tools/install-deps

test: deps
	@tools/run-tests

demo: deps
	@$(MAKE) --no-print-directory install >/dev/null
	@tools/demo

# Unit tests of the pure-C core (no PostgreSQL needed, only libcsv and cmocka).
UNIT_TESTS = test/test_csv_reader test/test_contact_fields
UNIT_CFLAGS = -std=gnu99 -Wall -Wextra -Werror -g -O1 -Isrc

test/test_csv_reader: test/test_csv_reader.c src/csv_reader.c src/csv_reader.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/test_csv_reader.c src/csv_reader.c -lcsv -lcmocka

test/test_contact_fields: test/test_contact_fields.c src/contact_fields.c src/contact_fields.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/test_contact_fields.c src/contact_fields.c -lcmocka

unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done

EXTRA_CLEAN = $(UNIT_TESTS) results regression.diffs regression.out tmp_check output_iso
