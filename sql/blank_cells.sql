-- An empty cell leaves the stored value alone (blank_cells = keep, the
-- default), or clears it (blank_cells = clear); a column that is not in
-- the file is never touched.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS upflow_import CASCADE;
CREATE EXTENSION upflow_import;
RESET client_min_messages;
-- Errors raised inside the extension's functions show without their
-- PL/pgSQL call stack, which changes with every edit of a function.
\set SHOW_CONTEXT never

INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme Finance');
SELECT upflow.enable_csv_import(1);

SELECT status, created_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;First name;Family name;Phone;Position\nAlpha;C1;a@alpha.fr;Anne;Martin;0102030405;DAF\n');

-- Keep: empty first name and phone change nothing; the position changes.
SELECT status, updated_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;First name;Phone;Position\nAlpha;C1;a@alpha.fr;;;CFO\n');
SELECT email, first_name, family_name, phone, position FROM upflow.contact;

-- Keep with only empty cells: unchanged, nothing written.
SELECT status, updated_count, unchanged_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;First name;Phone\nAlpha;C1;a@alpha.fr;;\n');

-- Clear: the empty cells of mapped columns clear the values; the family
-- name, not in the file, stays.
SELECT status, updated_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;First name;Phone;Position\nAlpha;C1;a@alpha.fr;;;CFO\n',
options => '{"blank_cells": "clear"}');
SELECT email, first_name, family_name, phone, position FROM upflow.contact;

SELECT upflow.upflow_import(1, E'Customer;Client ID;Email\n', options => '{"blank_cells": "erase"}');
