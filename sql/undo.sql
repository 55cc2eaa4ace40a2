-- Undo: revert_import puts back what an import changed, field by field,
-- deletes what it created, keeps (and reports) what was changed since
-- unless forced; a dry run and preview_revert write nothing; an import is
-- reverted once; the revert is a row of the history.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture
INSERT INTO upflow.member (organization_id, member_id, email) VALUES
	(1, 10, 'ines@acme.fr'), (1, 11, 'marc@acme.fr');

CREATE VIEW contacts AS
SELECT cu.external_id, c.email, c.first_name, c.phone, c.position, c.is_main,
	   cu.account_manager_id AS manager
  FROM upflow.contact c JOIN upflow.customer cu USING (organization_id, customer_id)
 ORDER BY cu.external_id, c.email;

-- The starting point: two customers, three contacts, ann main of C1.
SELECT import_id AS first_import, status, created_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;First name;Phone;Position;Main contact;Account manager
Alpha;C1;ann@alpha.fr;Ann;01 02 03 02;CFO;1;ines@acme.fr
Alpha;C1;bob@alpha.fr;Bob;01 02 03 03;AP clerk;0;
Beta;C2;cy@beta.fr;Cy;01 02 03 01;CEO;1;
') \gset
-- What it recorded: the ids of what it created, nothing else.
SELECT kind, cardinality(row_ids) AS ids, before, after
  FROM upflow.import_undo WHERE import_id = :first_import ORDER BY kind;

-- An update: Bob's phone and position, Bob becomes the main contact
-- (Ann loses the flag), a new contact for C2, C1's account manager.
SELECT import_id AS second_import, status, created_count, updated_count, unchanged_count
  FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;First name;Phone;Position;Main contact;Account manager
Alpha;C1;bob@alpha.fr;Bob;01 02 03 99;Controller;1;marc@acme.fr
Beta;C2;cy@beta.fr;Cy;01 02 03 01;CEO;1;
Beta;C2;dee@beta.fr;Dee;01 02 03 02;AR;0;
Gamma;C3;eve@gamma.fr;Eve;01 02 03 01;CFO;1;
') \gset
SELECT * FROM contacts;
-- Only what changed: Bob's fields, Ann's flag (no line: demoted), C1's
-- manager, the ids of Dee, Eve and C3.
-- (In chunks: one row per kind here, the rows in id order.)
SELECT kind, line_numbers, before, after, cardinality(row_ids) AS ids
  FROM upflow.import_undo WHERE import_id = :second_import ORDER BY kind;

-- Nothing for an unchanged re-import.
SELECT import_id AS unchanged_import, unchanged_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Phone\nAlpha;C1;bob@alpha.fr;01 02 03 99\n') \gset
SELECT count(*) AS undo_rows FROM upflow.import_undo WHERE import_id = :unchanged_import;

-- The application edits Bob's position after the import.
UPDATE upflow.contact SET position = 'Head of AR', updated_at = now()
 WHERE organization_id = 1 AND email = 'bob@alpha.fr';

-- What a revert of the second import would do, field by field.
SELECT row_kind, external_id, email, line_number, field, action, value_before, value_imported, value_now
  FROM upflow.preview_revert(:second_import);
-- A dry run counts it and writes nothing.
SELECT status, line_count, updated_count, deleted_count, unchanged_count, failed_count
  FROM upflow.revert_import(:second_import, '{"dry_run": true}');
SELECT count(*) AS reverts FROM upflow.import WHERE reverts_import_id IS NOT NULL;
SELECT * FROM contacts;

-- The revert: Bob's phone and flag, Ann's flag, C1's manager back; Dee,
-- Eve and C3 deleted; Bob's position, changed since, kept and reported.
SELECT import_id AS second_revert, status, reverts_import_id, line_count, updated_count,
	   deleted_count, unchanged_count, failed_count, warning_count
  FROM upflow.revert_import(:second_import, '{"submitted_by": 11}') \gset
SELECT status, reverts_import_id, line_count, updated_count, deleted_count, failed_count
  FROM upflow.import_history WHERE import_id = :second_revert;
SELECT * FROM contacts;
SELECT line_number, severity, code, field, message, hint
  FROM upflow.import_errors WHERE import_id = :second_revert;
SELECT member_id, message FROM upflow.notification WHERE import_id = :second_revert;

-- Once only; a revert is not reverted.
SELECT upflow.revert_import(:second_import);
SELECT upflow.revert_import(:second_revert);

-- A conflict, forced: the first import is reverted (its contacts and
-- customers deleted) although Bob was changed since; the force is in the
-- history's options.
SELECT action, count(*) FROM upflow.preview_revert(:first_import) GROUP BY action ORDER BY action;
SELECT status, line_count, deleted_count, failed_count, options
  FROM upflow.revert_import(:first_import, '{"force": true}');
SELECT count(*) AS contacts_left FROM upflow.contact;
SELECT count(*) AS customers_left FROM upflow.customer;

-- Out of order, field by field: import A sets a phone, import B later
-- changes it again and sets a position.  Reverting A first keeps B's
-- phone (reported); reverting B then puts back A's phone and the position.
SELECT import_id AS setup FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Phone;Position\nAlpha;C1;ann@alpha.fr;01 02 03 00;CFO\n') \gset
SELECT import_id AS import_a FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Phone\nAlpha;C1;ann@alpha.fr;01 02 03 11\n') \gset
SELECT import_id AS import_b FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Phone;Position\nAlpha;C1;ann@alpha.fr;01 02 03 22;CEO\n') \gset
SELECT status, updated_count, failed_count FROM upflow.revert_import(:import_a);
SELECT code, field, message FROM upflow.import_errors
 WHERE import_id = (SELECT import_id FROM upflow.import WHERE reverts_import_id = :import_a);
SELECT phone, position FROM contacts;
SELECT status, updated_count FROM upflow.revert_import(:import_b);
SELECT phone, position FROM contacts;

-- A main-contact switch reverted while the application has chosen yet
-- another main contact: kept, unless forced (then that one is demoted).
SELECT count(*) FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact\nAlpha;C1;ann@alpha.fr;1\nAlpha;C1;zoe@alpha.fr;0\nAlpha;C1;yan@alpha.fr;0\n');
SELECT import_id AS switch_import FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact\nAlpha;C1;zoe@alpha.fr;1\n') \gset
UPDATE upflow.contact SET is_main = false WHERE organization_id = 1 AND email = 'zoe@alpha.fr';
UPDATE upflow.contact SET is_main = true WHERE organization_id = 1 AND email = 'yan@alpha.fr';
SELECT email, field, action, value_now FROM upflow.preview_revert(:switch_import);
SELECT email, field, action FROM upflow.preview_revert(:switch_import, '{"force": true}');
SELECT status, updated_count FROM upflow.revert_import(:switch_import, '{"force": true}');
SELECT email, is_main FROM contacts;

-- A contact deleted since: nothing to put back, a warning.
SELECT import_id AS phone_import FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Phone\nAlpha;C1;yan@alpha.fr;01 02 03 77\n') \gset
DELETE FROM upflow.contact WHERE organization_id = 1 AND email = 'yan@alpha.fr';
SELECT status, line_count, unchanged_count, warning_count FROM upflow.revert_import(:phone_import);
SELECT severity, code, message FROM upflow.import_errors
 WHERE import_id = (SELECT import_id FROM upflow.import WHERE reverts_import_id = :phone_import);

-- A customer the import created that has a contact added since is kept.
SELECT import_id AS new_customer_import FROM upflow.upflow_import(1,
E'Customer;Client ID;Email\nDelta;C4;dan@delta.fr\n') \gset
INSERT INTO upflow.contact (organization_id, customer_id, email)
SELECT 1, customer_id, 'later@delta.fr' FROM upflow.customer WHERE external_id = 'C4';
SELECT status, deleted_count, warning_count FROM upflow.revert_import(:new_customer_import);
SELECT code, message FROM upflow.import_errors
 WHERE import_id = (SELECT import_id FROM upflow.import WHERE reverts_import_id = :new_customer_import);
SELECT external_id FROM upflow.customer ORDER BY 1;

-- Refusals: an unknown import, bad options, a failed import, a pending one,
-- an import applied before its before-images existed.
SELECT upflow.revert_import(999999);
SELECT upflow.revert_import(:phone_import, '{"dry": true}');
SELECT upflow.revert_import(:phone_import, '{"force": "yes"}');
SELECT upflow.revert_import(:setup, '{"submitted_by": 404}');
SELECT import_id AS failed_import, status FROM upflow.upflow_import(1,
E'Customer;Client ID;Email\nNobody;C9;x@y.fr\n', options => '{"create_customers": false}') \gset
SELECT upflow.revert_import(:failed_import);
SELECT upflow.submit_import(1, E'Customer;Client ID;Email\nAlpha;C1;q@alpha.fr\n') AS queued \gset
SELECT upflow.revert_import(:queued);
SELECT upflow.cancel_import(:queued);
UPDATE upflow.import SET undo_recorded = false WHERE import_id = :setup;
SELECT upflow.revert_import(:setup);

-- Purging an import removes its before-images.
SELECT count(*) > 0 AS has_undo FROM upflow.import_undo WHERE import_id = :setup;
UPDATE upflow.import SET finished_at = now() - interval '100 days' WHERE import_id = :setup;
SELECT upflow.purge_import_history(interval '90 days') >= 1 AS purged;
SELECT count(*) AS undo_rows FROM upflow.import_undo WHERE import_id = :setup;

-- Tenancy: the application role of organization 2 reverts its own import,
-- cannot see organization 1's, nor its before-images.
INSERT INTO upflow.organization (organization_id, name) VALUES (2, 'Beta Corp');
SELECT upflow.enable_csv_import(2);
\set app_role regress_undo_app
\set ECHO none
\i :abs_srcdir/examples/app_role.sql
\set ECHO all
SET ROLE regress_undo_app;
SET upflow.organization_id = 2;
SELECT import_id AS tenant_import, created_count FROM upflow.upflow_import(2,
E'Customer;Client ID;Email;Main contact\nBeta;B1;bo@beta.fr;1\n') \gset
SELECT status, deleted_count FROM upflow.revert_import(:tenant_import);
SELECT count(*) AS contacts, (SELECT count(*) FROM upflow.customer) AS customers FROM upflow.contact;
SELECT upflow.revert_import(:new_customer_import);
SELECT count(*) AS foreign_undo_rows FROM upflow.import_undo WHERE organization_id = 1;
INSERT INTO upflow.import_undo (organization_id, import_id, kind, row_id)
VALUES (1, :new_customer_import, 'contact_changed', 1);
RESET upflow.organization_id;
RESET ROLE;

-- The form the writes of an import take on Citus (insert_routed), run on
-- one server: the ids drawn in the rows' order, their undo row written by
-- the same statement, and a row of another organization refused.
BEGIN;
CREATE TEMP TABLE routed_line (line_number integer, external_id text, name text);
INSERT INTO routed_line VALUES (2, 'R2', 'Second'), (1, 'R1', 'First'), (3, 'R3', 'Third');
SELECT upflow.insert_routed(2, 'upflow.customer', 'organization_id, external_id, name',
	'SELECT 2::bigint AS organization_id, l.external_id, l.name FROM pg_temp.routed_line l ORDER BY l.line_number',
	:tenant_import, 'customers_created') AS inserted;
SELECT c.external_id, c.name, c.customer_id - min(c.customer_id) OVER () AS drawn
  FROM upflow.customer c WHERE c.organization_id = 2 AND c.external_id LIKE 'R_' ORDER BY c.customer_id;
SELECT u.kind, u.row_ids = array_agg(c.customer_id ORDER BY c.customer_id) AS ids_recorded,
	   u.row_id = min(c.customer_id) AS keyed_by_first
  FROM upflow.import_undo u, upflow.customer c
 WHERE u.organization_id = 2 AND u.import_id = :tenant_import AND u.kind = 'customers_created'
   AND c.organization_id = 2 AND c.external_id LIKE 'R_' AND c.customer_id = ANY (u.row_ids)
 GROUP BY u.kind, u.row_ids, u.row_id;
SELECT upflow.insert_routed(2, 'upflow.customer', 'organization_id, external_id, name',
	'SELECT 1::bigint AS organization_id, ''R4'' AS external_id, ''Fourth'' AS name');
ROLLBACK;
DROP OWNED BY regress_undo_app;
DROP ROLE regress_undo_app;
