-- Mapping a file's columns to contact fields: automatic recognition of
-- English and French headers, explicit mapping by header name or column
-- number, and the single ERROR that lists every mapping problem.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture

-- The seed headers of the help page.
SELECT upflow.detect_mapping(E'Customer name;Client ID (External Id);Contact email address;First name;Family name;Phone number;Position;Main contact\n');

-- French headers, with accents, odd case, spaces and a no-break space.
SELECT upflow.detect_mapping(E' NOM DU CLIENT ;Identifiant client;Adresse e-mail;Prénom;Nom;Téléphone;Poste;Contact principal;Chargé de compte\u00a0\n');

-- An explicit mapping wins over recognition; by name (case- and
-- accent-insensitive) or by 1-based column number; null leaves a field out.
SELECT upflow.detect_mapping(E'Société;Code;Courriel;Fonction;Remarque\n',
							 '{"customer_name": "SOCIETE", "external_id": 2, "email": "courriel", "position": null, "first_name": "Remarque"}');

-- A file without a header line: columns by number only.
SELECT upflow.detect_mapping(E'Acme;C1;a@acme.fr\n', '{"customer_name": 1, "external_id": 2, "email": 3}', '{"header": false}');

-- Importing with French headers and an explicit mapping stores the
-- fields where they belong.
SELECT status, created_count, failed_count
  FROM upflow.upflow_import(1, E'Société;Code;Courriel;Fonction;Remarque\nAcme;C1;jean@acme.fr;DAF;Jean\n',
							'{"customer_name": "Société", "external_id": "Code", "email": "Courriel", "first_name": "Remarque"}');
SELECT email, first_name, position FROM upflow.contact;
SELECT jsonb_pretty(mapping) FROM upflow.import;

-- Mapping problems: one ERROR listing them all and the file's headers;
-- nothing is written.
\set SHOW_CONTEXT never
SELECT upflow.upflow_import(1, E'Client;Courriel\nAcme;a@acme.fr\n');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, E'Client;Code;Courriel\nAcme;C1;a@acme.fr\n', '{"email": "E-mail address"}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, E'Client;Code;Courriel\nAcme;C1;a@acme.fr\n', '{"external_id": "Client"}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, E'Client;Code;Email;E-mail\nAcme;C1;a@acme.fr;b@acme.fr\n');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, E'Client;Code;Email\nAcme;C1;a@acme.fr\n', '{"email": 7}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, E'Client;Code;Email\n', '{"email": "Email"}', options => '{"header": false}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, E'Client;Code;Email\n', '{"emial": "Email"}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, E'Client;Code;Email\n', '{"email": 0}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, E'Client;Code;Email\n', '{"email": true}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, '');
\echo :LAST_ERROR_SQLSTATE

SELECT count(*) AS imports FROM upflow.import;

-- CRM and accounting exports are recognized without a mapping: Salesforce
-- (Account Name, Account ID), HubSpot (Associated Company, Associated
-- Company ID, Job Title, Phone Number), a French accounting tool (Code
-- tiers, Nom du tiers).
SELECT upflow.detect_mapping(E'Account Name,Account ID,First Name,Last Name,Email,Title,Phone\n')->'mapping' AS salesforce;
SELECT upflow.detect_mapping(E'Record ID,First Name,Last Name,Email,Job Title,Phone Number,Associated Company,Associated Company ID\n')->'mapping' AS hubspot;
SELECT upflow.detect_mapping(E'Code tiers;Nom du tiers;Courriel;Fonction\n')->'mapping' AS accounting;
