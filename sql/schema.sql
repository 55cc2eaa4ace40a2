-- The data model of SPEC section 3: tenant-scoped keys, the one-main-contact
-- rule, defaults, views, row-level security and pg_dump registration.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

-- Tables and their columns.
SELECT c.relname AS table_name,
	   string_agg(a.attname, ', ' ORDER BY a.attnum) AS columns
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'upflow'::regnamespace AND c.relkind = 'r'
 GROUP BY c.relname
 ORDER BY c.relname;

-- Every primary key and unique index leads with organization_id (no row
-- may come out of this query).
SELECT i.indexrelid::regclass AS offending_index
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace = 'upflow'::regnamespace
   AND (i.indisunique OR i.indisprimary)
   AND (SELECT attname FROM pg_attribute
		 WHERE attrelid = i.indrelid AND attnum = i.indkey[0]) IS DISTINCT FROM 'organization_id';

-- The unique indexes, for review.
SELECT indexrelid::regclass AS index_name, pg_get_indexdef(indexrelid) LIKE '%WHERE is_main%' AS partial_on_is_main
  FROM pg_index
 WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'upflow'::regnamespace)
   AND indisunique
 ORDER BY indexrelid::regclass::text;

-- Foreign keys never leave the organization: each one pairs organization_id
-- with organization_id, at the same position on both sides, as Citus needs
-- for a foreign key between tables colocated by organization_id (no row
-- may come out).
SELECT c.conrelid::regclass AS table_name, c.conname AS offending_foreign_key
  FROM pg_constraint c
 WHERE c.contype = 'f' AND c.connamespace = 'upflow'::regnamespace
   AND NOT EXISTS (SELECT 1 FROM generate_subscripts(c.conkey, 1) k
					WHERE (SELECT attname FROM pg_attribute
							WHERE attrelid = c.conrelid AND attnum = c.conkey[k]) = 'organization_id'
					  AND (SELECT attname FROM pg_attribute
							WHERE attrelid = c.confrelid AND attnum = c.confkey[k]) = 'organization_id')
 ORDER BY 1, 2;

-- Foreign-key actions Citus refuses when the distribution column is in the
-- key: ON DELETE SET NULL / SET DEFAULT (even limited to other columns, as
-- PostgreSQL 15 allows), ON UPDATE anything but NO ACTION / RESTRICT.
-- create_distributed_table would fail on a table listed here: no row may
-- come out.
SELECT c.conrelid::regclass AS table_name, c.conname AS foreign_key,
	   c.confdeltype AS on_delete, c.confupdtype AS on_update
  FROM pg_constraint c
 WHERE c.contype = 'f' AND c.connamespace = 'upflow'::regnamespace
   AND (c.confdeltype IN ('n', 'd') OR c.confupdtype NOT IN ('a', 'r'))
 ORDER BY 1, 2;

-- Every table has the distribution column, organization_id bigint NOT NULL,
-- and its identity columns are bigint (Citus: identity columns of
-- distributed tables must be bigint); no row may come out.
SELECT c.relname AS table_name, a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_class c
  LEFT JOIN pg_attribute a
	ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   AND (a.attname = 'organization_id' OR a.attidentity <> '')
 WHERE c.relnamespace = 'upflow'::regnamespace AND c.relkind = 'r'
   AND (a.attname IS NULL OR a.atttypid <> 'bigint'::regtype
		OR (a.attname = 'organization_id' AND NOT a.attnotnull))
 ORDER BY 1, 2;

-- No triggers on data tables (Citus refuses them by default; statements
-- set updated_at themselves); no row may come out.
SELECT tgrelid::regclass AS table_name, tgname AS trigger_name
  FROM pg_trigger
 WHERE NOT tgisinternal
   AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'upflow'::regnamespace)
 ORDER BY 1, 2;

-- Row-level security is on, and forced (a non-superuser owner obeys it
-- too), for every table.
SELECT relname, relrowsecurity, relforcerowsecurity
  FROM pg_class
 WHERE relnamespace = 'upflow'::regnamespace AND relkind = 'r'
 ORDER BY relname;

-- Data tables and sequences are dumped by pg_dump.
SELECT unnest(extconfig)::regclass::text AS dumped
  FROM pg_extension WHERE extname = 'upflow_import'
 ORDER BY 1;

-- Defaults: CSV import is off, the source system is none.
INSERT INTO upflow.organization (name) VALUES ('Acme')
RETURNING organization_id, name, source_system, csv_import_enabled, main_contact_from_integration,
		  api_overrules_csv, created_at IS NOT NULL AS has_created_at;
\set VERBOSITY terse
INSERT INTO upflow.organization (name, source_system) VALUES ('Bad', 'sap');
\set VERBOSITY default

-- Identifiers may be supplied by the application.
INSERT INTO upflow.organization (organization_id, name) VALUES (1000, 'Supplied id');
INSERT INTO upflow.customer (organization_id, external_id, name)
VALUES (1000, 'C1', 'Customer one') RETURNING organization_id, customer_id, external_id;

-- One contact per customer and email, whatever its case.
INSERT INTO upflow.contact (organization_id, customer_id, email)
VALUES (1000, 1, 'Jane@Example.com');
INSERT INTO upflow.contact (organization_id, customer_id, email)
VALUES (1000, 1, 'jane@example.COM');

-- At most one main contact per customer: promoting a second one without
-- demoting the first fails; demote, then promote, works.
INSERT INTO upflow.contact (organization_id, customer_id, email, is_main)
VALUES (1000, 1, 'main@example.com', true), (1000, 1, 'other@example.com', false);
UPDATE upflow.contact SET is_main = true WHERE email = 'other@example.com';
UPDATE upflow.contact SET is_main = false WHERE email = 'main@example.com';
UPDATE upflow.contact SET is_main = true WHERE email = 'other@example.com';
SELECT email, is_main FROM upflow.contact ORDER BY contact_id;

-- A foreign key cannot point into another organization.
INSERT INTO upflow.organization (organization_id, name) VALUES (2000, 'Other');
INSERT INTO upflow.contact (organization_id, customer_id, email) VALUES (2000, 1, 'x@example.com');

-- Import counts must add up.
\set VERBOSITY terse
INSERT INTO upflow.import (organization_id, line_count, created_count) VALUES (1000, 2, 1);
\set VERBOSITY default

-- The views show what a user reads, not the file content.
SELECT attname FROM pg_attribute
 WHERE attrelid = 'upflow.import_history'::regclass AND attnum > 0 ORDER BY attnum;
SELECT attname FROM pg_attribute
 WHERE attrelid = 'upflow.import_errors'::regclass AND attnum > 0 ORDER BY attnum;
SELECT relname, reloptions FROM pg_class
 WHERE relnamespace = 'upflow'::regnamespace AND relkind = 'v' ORDER BY relname;

-- Every function runs with the caller's rights.
SELECT proname FROM pg_proc
 WHERE pronamespace = 'upflow'::regnamespace AND prosecdef;
