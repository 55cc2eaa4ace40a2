-- An empty cell leaves the stored value alone (blank_cells = keep, the
-- default), or clears it (blank_cells = clear); a column that is not in
-- the file is never touched.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture

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
