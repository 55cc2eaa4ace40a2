--
-- Saved mappings: an organization saves the mapping of an export under a
-- name; a later file with the same headers (any order, case or accents)
-- uses it without a mapping; an explicit mapping still wins; a different
-- header set does not use it; the option mapping_name asks for one.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/test/fixtures/acme.sql
INSERT INTO upflow.organization (organization_id, name) VALUES (2, 'Beta Corp');
SELECT upflow.enable_csv_import(2) \gset
-- An accounting tool's export whose headers are not recognized: refused
-- without a mapping.
SELECT status FROM upflow.upflow_import(1, E'Tiers;Réf;Mail contact;Fonction\nAcme;C1;ann@acme.fr;CFO\n');
-- Imported with a mapping, saved as "Pennylane export"; the position is
-- recognized by its header (Fonction) and saved with the rest.
SELECT status, created_count, saved_mapping
  FROM upflow.upflow_import(1, E'Tiers;Réf;Mail contact;Fonction\nAcme;C1;ann@acme.fr;CFO\n',
	mapping => '{"customer_name": "Tiers", "external_id": "Réf", "email": "Mail contact"}',
	options => '{"save_mapping": "Pennylane export"}');
SELECT organization_id, name, header_keys, mapping FROM upflow.saved_mapping;
-- Next month: the same headers in another order, case and accents, no
-- mapping: the saved one is used, and the history says so.
SELECT status, created_count, updated_count, saved_mapping
  FROM upflow.upflow_import(1, E'MAIL CONTACT;tiers;REF;fonction\nbob@acme.fr;Acme;C1;Buyer\n');
SELECT email, position FROM upflow.contact ORDER BY email;
SELECT import_id, saved_mapping, mapping->>'email' AS email_column FROM upflow.import_history ORDER BY import_id;
-- detect_mapping for the organization shows it; without the organization
-- it cannot know it.
SELECT d->'mapping' AS mapping, d->>'saved_mapping' AS saved_mapping
  FROM upflow.detect_mapping_for(1, E'MAIL CONTACT;tiers;REF;fonction\nbob@acme.fr;Acme;C1;Buyer\n') d;
SELECT upflow.detect_mapping(E'MAIL CONTACT;tiers;REF;fonction\nbob@acme.fr;Acme;C1;Buyer\n');
-- A different header set (one more column) does not use it.
SELECT status FROM upflow.upflow_import(1, E'Tiers;Réf;Mail contact;Fonction;Téléphone\nAcme;C1;ann@acme.fr;CFO;+33 1 23 45 67 89\n');
-- Another organization never uses it.
SELECT status FROM upflow.upflow_import(2, E'Tiers;Réf;Mail contact;Fonction\nBeta;B1;bo@beta.fr;CFO\n');
-- An explicit mapping wins over the saved one.
SELECT status, saved_mapping, mapping->>'customer_name' AS customer_name_column
  FROM upflow.upflow_import(1, E'Tiers;Réf;Mail contact;Fonction\nAcme;C1;ann@acme.fr;CFO\n',
	mapping => '{"customer_name": 1, "external_id": 2, "email": 3, "position": null}');
-- By name, for a file with other headers: the saved fields, the others
-- recognized automatically (the phone by its header Téléphone).
SELECT status, updated_count, saved_mapping
  FROM upflow.upflow_import(1, E'Tiers;Réf;Mail contact;Fonction;Téléphone\nAcme;C1;ann@acme.fr;CFO;+33 1 23 45 67 89\n',
	options => '{"mapping_name": "Pennylane export"}');
SELECT email, phone FROM upflow.contact WHERE email = 'ann@acme.fr';
-- An unknown name: refused with the names there are.
SELECT status FROM upflow.upflow_import(1, E'Tiers;Réf\nAcme;C1\n', options => '{"mapping_name": "Sage"}');
\echo :LAST_ERROR_SQLSTATE
SELECT status FROM upflow.upflow_import(2, E'Tiers;Réf\nBeta;B1\n', options => '{"mapping_name": "Sage"}');
SELECT status FROM upflow.upflow_import(1, E'Tiers;Réf\nAcme;C1\n', options => '{"mapping_name": ""}');
-- A preview saves the mapping it is asked to (and writes nothing else);
-- saving a name again replaces it.
SELECT action, count(*)
  FROM upflow.preview_import(2, E'Société;Identifiant;Courriel\nBeta;B1;bo@beta.fr\n',
	mapping => '{"external_id": "Identifiant"}', options => '{"save_mapping": "CRM"}')
 GROUP BY action;
SELECT count(*) AS beta_contacts FROM upflow.contact WHERE organization_id = 2;
SELECT organization_id, name, header_keys, mapping FROM upflow.saved_mapping ORDER BY 1, 2;
SELECT status, created_count, saved_mapping
  FROM upflow.upflow_import(2, E'Identifiant;Courriel;Société\nB1;bo@beta.fr;Beta\n');
-- A queued import finds it when it is submitted.
SELECT upflow.submit_import(2, E'Identifiant;Courriel;Société\nB2;cy@beta.fr;Beta Two\n') AS queued \gset
SELECT status, saved_mapping FROM upflow.import WHERE import_id = :queued;
-- A file without a header line cannot save its mapping.
SELECT status FROM upflow.upflow_import(1, E'Acme;C1;ann@acme.fr\n',
	mapping => '{"customer_name": 1, "external_id": 2, "email": 3}',
	options => '{"header": false, "save_mapping": "No header"}');
SELECT count(*) AS saved_mappings FROM upflow.saved_mapping;
-- Tenancy: the application role of organization 2 sees and uses only its
-- own saved mappings, and cannot save one for organization 1.
\set app_role regress_saved_mapping_app
\set ECHO none
\i :abs_srcdir/examples/app_role.sql
\set ECHO all
SET ROLE regress_saved_mapping_app;
SET upflow.organization_id = 2;
SELECT organization_id, name FROM upflow.saved_mapping ORDER BY 1, 2;
SELECT status FROM upflow.upflow_import(2, E'Tiers;Réf;Mail contact;Fonction\nBeta;B1;bo@beta.fr;CFO\n',
	options => '{"mapping_name": "Pennylane export"}');
SELECT status FROM upflow.upflow_import(1, E'Tiers;Réf;Mail contact;Fonction\nAcme;C1;ann@acme.fr;CFO\n',
	options => '{"save_mapping": "Pennylane export"}');
INSERT INTO upflow.saved_mapping (organization_id, name, header_keys, mapping)
VALUES (1, 'Spoofed', '{a}', '{}');
RESET upflow.organization_id;
RESET ROLE;
SELECT organization_id, name FROM upflow.saved_mapping ORDER BY 1, 2;
DROP OWNED BY regress_saved_mapping_app;
DROP ROLE regress_saved_mapping_app;
