-- A re-import compares most lines in C (upflow.prepare_changed_lines):
-- a valid line whose contact is stored with the same values is only
-- counted.  Whatever the path, the outcome is the one SQL would decide:
-- these cases are the edges of that shortcut.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme Finance'), (2, 'Other');
SELECT upflow.enable_csv_import(1);
SELECT upflow.enable_csv_import(2);
INSERT INTO upflow.member (organization_id, member_id, email, full_name)
VALUES (1, 10, 'claire@acme-finance.fr', 'Claire'),
	   (1, 11, 'paul@acme-finance.fr', 'Paul');

-- The first import creates everything; phone of Bob is blank.
SELECT status, line_count, created_count, updated_count, unchanged_count, failed_count
  FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;First name;Phone;Main contact
Alpha;C1;ann@alpha.fr;Ann;+33 1 00 00 00 01;1
Alpha;C1;bob@alpha.fr;Bob;;
Beta;C2;cid@beta.fr;Cid;+33 1 00 00 00 03;
');

-- The row versions before the re-imports: unchanged rows keep theirs.
CREATE TEMP TABLE before AS
SELECT contact_id, xmin::text AS version FROM upflow.contact WHERE organization_id = 1;

-- The same file again (other case in an email): no line is returned for
-- SQL to compare, every line is unchanged, no row is written.
SELECT count(*) AS lines_returned
  FROM upflow.prepare_changed_lines(1,
E'Customer name;Client ID;Email;First name;Phone;Main contact
Alpha;C1;ann@alpha.fr;Ann;+33 1 00 00 00 01;1
Alpha;C1;BOB@alpha.fr;Bob;;
Beta;C2;cid@beta.fr;Cid;+33 1 00 00 00 03;
', NULL, '{}');
SELECT upflow.unchanged_line_count();
SELECT status, line_count, created_count, updated_count, unchanged_count, failed_count, warning_count
  FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;First name;Phone;Main contact
Alpha;C1;ann@alpha.fr;Ann;+33 1 00 00 00 01;1
Alpha;C1;BOB@alpha.fr;Bob;;
Beta;C2;cid@beta.fr;Cid;+33 1 00 00 00 03;
');
SELECT count(*) AS rows_rewritten
  FROM upflow.contact c JOIN before b USING (contact_id) WHERE c.xmin::text <> b.version;

-- Each line but the first differs in one way: a field, the main flag, a
-- new contact, an unknown customer.  Only the first is left out.
SELECT line_number, customer_name, first_name, is_main, failed
  FROM upflow.prepare_changed_lines(1,
E'Customer name;Client ID;Email;First name;Phone;Main contact
Alpha;C1;ann@alpha.fr;Ann;+33 1 00 00 00 01;1
Alpha;C1;bob@alpha.fr;Robert;;
Beta;C2;cid@beta.fr;Cid;+33 1 00 00 00 03;1
Beta;C2;dan@beta.fr;Dan;;
Gamma;C3;eve@gamma.fr;Eve;;
', NULL, '{}') ORDER BY line_number;
SELECT upflow.unchanged_line_count();

-- Another customer name (a warning for the line), or the same contact on
-- another line of the file (the earlier line is skipped): returned.
SELECT line_number, customer_name, supersedes
  FROM upflow.prepare_changed_lines(1,
E'Customer name;Client ID;Email;First name;Phone\nAlpha Renamed;C1;ann@alpha.fr;Ann;+33 1 00 00 00 01\n', NULL, '{}');
SELECT line_number, customer_name, supersedes
  FROM upflow.prepare_changed_lines(1,
E'Customer name;Client ID;Email;First name;Phone\nAlpha;C1;ann@alpha.fr;Ann;+33 1 00 00 00 01\nAlpha;C1;ann@alpha.fr;Ann;+33 1 00 00 00 01\n', NULL, '{}')
 ORDER BY line_number;

-- Another organization's contacts are not this one's: everything is new.
SELECT count(*) AS lines_returned
  FROM upflow.prepare_changed_lines(2,
E'Customer name;Client ID;Email;First name\nAlpha;C1;ann@alpha.fr;Ann\n', NULL, '{}');
SELECT upflow.unchanged_line_count();

-- A blank cell with "keep" changes nothing even when a value is stored:
-- SQL compares that line and counts it unchanged; with "clear" it empties
-- the stored value.
UPDATE upflow.contact SET phone = '+33 1 99 99 99 99' WHERE email = 'bob@alpha.fr';
SELECT count(*) AS lines_returned
  FROM upflow.prepare_changed_lines(1,
E'Customer name;Client ID;Email;First name;Phone\nAlpha;C1;bob@alpha.fr;Bob;\n', NULL, '{}');
SELECT status, updated_count, unchanged_count FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;First name;Phone\nAlpha;C1;bob@alpha.fr;Bob;\n');
SELECT status, updated_count, unchanged_count FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;First name;Phone\nAlpha;C1;bob@alpha.fr;Bob;\n',
options => '{"blank_cells": "clear"}');
SELECT email, phone FROM upflow.contact WHERE email = 'bob@alpha.fr';

-- Two lines naming one contact: the earlier is skipped with a warning,
-- even when it alone would change nothing and was first left out (it is
-- read again from the file); the later is applied.
SELECT status, line_count, updated_count, unchanged_count, skipped_count, warning_count
  FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;First name;Phone
Beta;C2;cid@beta.fr;Cid;+33 1 00 00 00 03
Alpha;C1;ann@alpha.fr;Ann;+33 1 00 00 00 01
Beta;C2;CID@beta.fr;Cidney;+33 1 00 00 00 03
');
SELECT line_number, code, message, raw_line FROM upflow.import_errors
 WHERE import_id = (SELECT max(import_id) FROM upflow.import) ORDER BY line_number;
SELECT first_name FROM upflow.contact WHERE email = 'cid@beta.fr';

-- Both lines unchanged: still the earlier is skipped, the later counted.
SELECT status, line_count, updated_count, unchanged_count, skipped_count, warning_count
  FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;First name\nBeta;C2;cid@beta.fr;Cidney\nBeta;C2;cid@beta.fr;Cidney\n');

-- Main-contact lines are decided when the file ends: an unchanged
-- designation is left out, an overridden one keeps its warning.
SELECT status, line_count, updated_count, unchanged_count, warning_count
  FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;Main contact\nAlpha;C1;ann@alpha.fr;1\n');
SELECT status, line_count, updated_count, unchanged_count, warning_count
  FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;Main contact\nAlpha;C1;bob@alpha.fr;1\nAlpha;C1;ann@alpha.fr;1\n');
SELECT email, is_main FROM upflow.contact WHERE organization_id = 1 ORDER BY email;

-- Account managers: the last line of a customer naming one decides, even
-- when that line changes nothing.  Line 1 would move C1 to Paul; line 2,
-- unchanged, names Claire, who manages C1 already: Claire stays.
SELECT status, updated_count, unchanged_count FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;Account manager email\nAlpha;C1;ann@alpha.fr;claire@acme-finance.fr\n');
SELECT status, updated_count, unchanged_count FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;First name;Account manager email
Alpha;C1;bob@alpha.fr;Bobby;paul@acme-finance.fr
Alpha;C1;ann@alpha.fr;Ann;claire@acme-finance.fr
');
SELECT c.external_id, m.email AS account_manager
  FROM upflow.customer c LEFT JOIN upflow.member m
	ON m.organization_id = c.organization_id AND m.member_id = c.account_manager_id
 WHERE c.organization_id = 1 ORDER BY 1;

-- The counts add up in the history of every import above.
SELECT import_id, line_count, created_count + updated_count + unchanged_count
	   + failed_count + skipped_count AS counted
  FROM upflow.import ORDER BY import_id;
