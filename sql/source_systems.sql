-- What a CSV may change depends on the organization's source system
-- (SPEC section 5): every cell of the table.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

-- One organization per case; each has customer C1 with contact
-- old@c1.fr (first name Old, phone 0100000000, position Old, main).
INSERT INTO upflow.organization (organization_id, name, source_system, api_overrules_csv, csv_import_enabled)
VALUES (1, 'none', 'none', false, true),
	   (2, 'native', 'native', false, true),
	   (3, 'api', 'api', false, true),
	   (4, 'api overrules', 'api', true, true),
	   (5, 'salesforce native', 'salesforce_native', false, true),
	   (6, 'salesforce api', 'salesforce_api', false, true),
	   (7, 'salesforce api overrules', 'salesforce_api', true, true);
INSERT INTO upflow.customer (organization_id, external_id, name)
SELECT organization_id, 'C1', 'Customer one' FROM upflow.organization;
INSERT INTO upflow.contact (organization_id, customer_id, email, first_name, phone, position, is_main)
SELECT organization_id, customer_id, 'old@c1.fr', 'Old', '0100000000', 'Old', true FROM upflow.customer;
INSERT INTO upflow.contact (organization_id, customer_id, email, first_name, phone, position, is_main)
SELECT organization_id, customer_id, 'second@c1.fr', 'Second', NULL, NULL, false FROM upflow.customer;

-- The file changes the existing contacts' names, phones and positions,
-- makes second@c1.fr the main contact, adds a contact to C1 and one to a
-- new customer C2.
\set file 'Customer;Client ID;Email;First name;Phone;Position;Main contact\nCustomer one;C1;old@c1.fr;New;0200000000;New;\nCustomer one;C1;second@c1.fr;Second;;Boss;1\nCustomer one;C1;added@c1.fr;Added;;Clerk;\nCustomer two;C2;first@c2.fr;First;;;\n'

SELECT o.organization_id, o.source_system, o.api_overrules_csv, i.status, i.created_count,
	   i.updated_count, i.unchanged_count, i.failed_count, i.warning_count
  FROM upflow.organization o, LATERAL upflow.upflow_import(o.organization_id, :'file') i
 ORDER BY o.organization_id;

SELECT c.organization_id, cu.external_id, c.email, c.first_name, c.phone, c.position, c.is_main
  FROM upflow.contact c JOIN upflow.customer cu USING (organization_id, customer_id)
 ORDER BY c.organization_id, c.contact_id;

SELECT i.organization_id, e.line_number, e.severity, e.code, e.field, e.message
  FROM upflow.import_errors e JOIN upflow.import i USING (organization_id, import_id)
 ORDER BY i.organization_id, e.line_number NULLS FIRST, e.code;

-- Asking to create customers where the integration owns them is refused.
SELECT upflow.upflow_import(2, :'file', options => '{"create_customers": true}');
