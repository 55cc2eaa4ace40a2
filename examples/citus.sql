-- examples/citus.sql -- upflow_import on a Citus cluster: every table
-- distributed by organization_id, all of them colocated, so that each
-- organization's rows live together on one worker and every statement of
-- an import runs against one shard group.
--
-- Run with psql, as a superuser, on the coordinator, in the database that
-- has (or will have) the extension:
--
--     psql -X -v ON_ERROR_STOP=1 -d yourdb -f examples/citus.sql
--
-- Requirements
--   * PostgreSQL 15 and Citus 11.2 or later (identity columns on distributed
--     tables, which must be bigint, came in 11.2; row-level security on
--     distributed tables in 11.0); written against Citus 12.1.
--   * upflow_import built and installed (make install) on the coordinator
--     AND on every worker: CREATE EXTENSION below is propagated to the
--     workers, which need its files.
--   * shared_preload_libraries = 'citus' ('citus,pg_cron' on the
--     coordinator if it runs the import worker); citus first.
--   * Tested: make test builds Citus 12.1.12 and runs t/090_citus.pl (a
--     coordinator, two workers, a third added and the shards rebalanced)
--     with this file and examples/app_role.sql exactly as they are.
--
-- Why a row never needs another shard
--   * Every primary key and unique index leads with organization_id, and
--     every foreign key pairs organization_id with organization_id at the
--     same position (sql/schema.sql fails otherwise): the tables can be
--     colocated, the constraints hold within a shard.
--   * organization is distributed too (not a reference table): the row
--     table and upflow.import_lock (the row lock that serializes an
--     organization's imports) are then single-shard writes next to the tenant's
--     data.  As a reference table, every import would write to every node.
--     No table is shared between organizations, so there is no reference
--     table at all (source systems are a CHECK constraint, not a table).
--   * Every statement the extension issues for an import filters on one
--     organization_id (equality with a constant or a parameter): Citus
--     routes it to one shard, including the FOR UPDATE / SKIP LOCKED row
--     locks; organization_id is never updated.
--   * No triggers on data tables (Citus refuses them by default):
--     statements set updated_at themselves.
--   * The main-contact switch demotes, then promotes, in two statements:
--     the one-main partial unique index is not deferrable, and is checked
--     within the shard.
--   * Imports of one organization serialize on its upflow.import_lock row
--     (a row lock, which Citus takes on the shard), not on an advisory lock
--     (advisory locks are per node).
--   * The tenant setting reaches the workers, where row-level security is
--     evaluated on the shards, only through SET LOCAL inside a transaction,
--     and only with citus.propagate_set_commands = 'local' (set below).
--
-- Limits
--   * apply_import stages the file's lines in temporary tables, which exist
--     on the coordinator only.  It reads the organization's customers and
--     contacts into temporary tables by router queries and matches the
--     lines there; the statements that join a temporary table with the
--     tenant's tables are sent with their values written in (Citus plans
--     such a join only without parameters).  New rows reach the shard as
--     one INSERT ... SELECT that reads them from a Citus intermediate
--     result (upflow.insert_routed: a materialized CTE, which Citus sends
--     to the worker holding the shard only): an INSERT ... SELECT from a
--     coordinator table would be a COPY, which row-level security
--     refuses.  Tested with the shards
--     on the workers (the coordinator holding none).
--   * The queue worker (CALL upflow.run_import_queue()) reads every
--     organization's pending imports (one query over all shards), then
--     works one organization at a time, single-shard, with SET LOCAL
--     upflow.organization_id.  Run it, and pg_cron, on the coordinator, as
--     a superuser or a BYPASSRLS role.
--   * cancel_import(import_id), error_lines_csv(import_id) and
--     purge_import_history(interval) run without the tenant setting (an
--     administrator) over all shards; with upflow.organization_id set they
--     read one.
--   * Only SET LOCAL upflow.organization_id reaches the workers (a
--     session-level SET does not): tenant roles set it in each transaction,
--     as bin/upflow-import --org does.
--   * Call the extension's functions at the top level, not inside a query
--     over the distributed tables, which Citus would run on a worker: the
--     grants of the extension's internal functions are not propagated.
--   * LISTEN upflow_import and pg_stat_progress_copy: on the coordinator,
--     where the importing function runs.
--   * Identity columns: bigint (they are); values are drawn on the node that
--     inserts (coordinator, or a worker's own range with Citus MX); the
--     application role needs USAGE on the sequences (the role recipe).
--   * Deleting a member: the foreign keys that refer to it are plain (NO
--     ACTION, since Citus refuses ON DELETE SET NULL on a key holding the
--     distribution column), so clear the references first, in
--     single-shard statements:
--       UPDATE upflow.customer SET account_manager_id = NULL, updated_at = now()
--        WHERE organization_id = $1 AND account_manager_id = $2;
--       UPDATE upflow.import SET submitted_by = NULL
--        WHERE organization_id = $1 AND submitted_by = $2;
--       DELETE FROM upflow.member WHERE organization_id = $1 AND member_id = $2;
--   * pg_dump of the coordinator does not hold the shards' rows: back up a
--     Citus cluster with its own tools.

\set ON_ERROR_STOP 1

-- 1. The extensions (CREATE EXTENSION upflow_import is propagated to the
--    workers).
CREATE EXTENSION IF NOT EXISTS citus;
CREATE EXTENSION IF NOT EXISTS upflow_import;

-- The tenant setting follows SET LOCAL to the workers.
SELECT format('ALTER DATABASE %I SET citus.propagate_set_commands = %L',
			  current_database(), 'local') \gexec

-- 2. Distribute, referenced tables first, all colocated with organization
--    (32 shards by default: citus.shard_count).  Existing rows are copied
--    into the shards.
SELECT create_distributed_table('upflow.organization', 'organization_id');
SELECT create_distributed_table('upflow.member', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.customer', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.contact', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.import', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.import_error', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.notification', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.import_lock', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.saved_mapping', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.import_undo', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.notification_delivery', 'organization_id', colocate_with => 'upflow.organization');
SELECT create_distributed_table('upflow.slack_webhook', 'organization_id', colocate_with => 'upflow.organization');

-- 3. Checks: twelve hash-distributed tables in one colocation group...
SELECT logicalrelid::regclass AS table_name, partmethod, colocationid
  FROM pg_dist_partition
 WHERE logicalrelid::regclass::text LIKE 'upflow.%'
 ORDER BY colocationid, 1;

-- ... and a tenant's query goes to one shard ("Task Count: 1").
EXPLAIN (COSTS OFF)
SELECT ct.email, c.external_id
  FROM upflow.contact ct
  JOIN upflow.customer c USING (organization_id, customer_id)
 WHERE ct.organization_id = 1;

-- 4. The queue worker, on the coordinator (pg_cron there), as a superuser:
--    SELECT upflow.schedule_import_worker('* * * * *');
--
-- An application imports as before, in a transaction that names its
-- tenant:
--    BEGIN;
--    SET LOCAL upflow.organization_id = 42;
--    SELECT * FROM upflow.upflow_import(42, $1, file_name => $2, submitted_by => $3);
--    COMMIT;
