-- The account manager column assigns the customer's account manager by
-- member email (case-insensitive); an unknown email fails the line with
-- the help page's message and hint.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme Finance'), (2, 'Other');
SELECT upflow.enable_csv_import(1);
INSERT INTO upflow.member (organization_id, member_id, email, full_name)
VALUES (1, 10, 'claire.martin@acme-finance.fr', 'Claire Martin'),
	   (1, 11, 'paul@acme-finance.fr', 'Paul'),
	   (2, 20, 'stranger@other.fr', 'A member of another organization');

SELECT status, created_count, failed_count FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;Account manager email
Alpha;C1;a@alpha.fr;Claire.Martin@ACME-finance.fr
Beta;C2;a@beta.fr;ghost@acme-finance.fr
Gamma;C3;a@gamma.fr;stranger@other.fr
Delta;C4;a@delta.fr;
');

SELECT line_number, severity, code, field, message, hint, raw_line
  FROM upflow.import_errors WHERE import_id = 1;

-- The failed lines created nothing: no customer C2 or C3.
SELECT c.external_id, m.email AS account_manager
  FROM upflow.customer c LEFT JOIN upflow.member m
	ON m.organization_id = c.organization_id AND m.member_id = c.account_manager_id
 ORDER BY c.external_id;

-- A later import changes the account manager; the line counts as updated.
SELECT status, updated_count, unchanged_count FROM upflow.upflow_import(1,
E'Customer name;Client ID;Email;Account manager email\nAlpha;C1;a@alpha.fr;paul@acme-finance.fr\nDelta;C4;a@delta.fr;\n');
SELECT c.external_id, c.account_manager_id FROM upflow.customer c ORDER BY 1;
