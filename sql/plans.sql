--
-- Plans that statistics cannot turn bad (README, "Performance").  autovacuum's
-- ANALYZE during a long import counts the import's uncommitted rows as none:
-- pg_class then says the tables are empty while their files hold every row.
-- The foreign-key checks that an import's writes fire are planned then; they
-- must still look a row up by its primary key, not read the organization's
-- whole index for each new contact.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/test/fixtures/acme.sql
-- Rows enough for the indexes to have pages (the planner reads the page
-- count from the files).
INSERT INTO upflow.member (organization_id, email)
SELECT 1, 'member' || g || '@acme-finance.fr' FROM generate_series(1, 2000) g;
INSERT INTO upflow.customer (organization_id, external_id, name)
SELECT 1, 'C-' || g, 'Customer ' || g FROM generate_series(1, 20000) g;
ANALYZE upflow.member, upflow.customer;
-- The statistics such an ANALYZE leaves: pages, no live row.
UPDATE pg_class SET reltuples = 0
 WHERE relnamespace = 'upflow'::regnamespace AND relkind IN ('r', 'i');
SELECT c.relname, c.reltuples, pg_relation_size(c.oid) > 8192 AS has_pages
  FROM pg_class c
 WHERE c.oid IN ('upflow.customer'::regclass, 'upflow.customer_external_id_key'::regclass,
				 'upflow.member'::regclass, 'upflow.member_email_key'::regclass)
 ORDER BY 1;
-- The checks as PostgreSQL writes them (ri_triggers.c), planned as the
-- import plans them: generic plans.
SET plan_cache_mode = force_generic_plan;
-- A new contact's customer.
PREPARE contact_customer_check(bigint, bigint) AS
SELECT 1 FROM ONLY "upflow"."customer" x
 WHERE "organization_id" OPERATOR(pg_catalog.=) $1 AND "customer_id" OPERATOR(pg_catalog.=) $2
   FOR KEY SHARE OF x;
EXPLAIN (COSTS OFF) EXECUTE contact_customer_check(1, 1);
-- A customer's account manager.
PREPARE customer_member_check(bigint, bigint) AS
SELECT 1 FROM ONLY "upflow"."member" x
 WHERE "organization_id" OPERATOR(pg_catalog.=) $1 AND "member_id" OPERATOR(pg_catalog.=) $2
   FOR KEY SHARE OF x;
EXPLAIN (COSTS OFF) EXECUTE customer_member_check(1, 1);
RESET plan_cache_mode;
-- The unique keys, partial, are as unique as before.
INSERT INTO upflow.customer (organization_id, external_id, name) VALUES (1, 'C-7', 'Again');
INSERT INTO upflow.member (organization_id, email) VALUES (1, 'Member7@Acme-Finance.fr');
-- An import into these tables, the statistics still saying they are empty.
SELECT status, line_count, created_count, failed_count
  FROM upflow.upflow_import(1, E'Customer name;Client ID;Email;First name;Account manager\n'
								'Customer 1;C-1;ana@client.fr;Ana;member1@acme-finance.fr\n'
								'Customer 2;C-2;bo@client.fr;Bo;member2@acme-finance.fr\n'
								'New;C-0;cy@client.fr;Cy;nobody@acme-finance.fr\n');
SELECT c.external_id, ct.email, m.email AS account_manager
  FROM upflow.contact ct
  JOIN upflow.customer c USING (organization_id, customer_id)
  LEFT JOIN upflow.member m ON m.organization_id = c.organization_id AND m.member_id = c.account_manager_id
 ORDER BY 1;
-- The import's own statements join without nested loops.
SELECT p.proname, p.proconfig @> '{enable_nestloop=off}' AS no_nested_loops
  FROM pg_proc p
 WHERE p.oid = 'upflow.apply_import(bigint, bigint, text, boolean)'::regprocedure;
