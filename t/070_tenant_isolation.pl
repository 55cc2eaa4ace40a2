# One tenant never holds up, starves or spoofs another (the queue, the
# locks, the limits), as the README's application role, with the worker
# run by a role that has statement_timeout and lock_timeout set:
#  1. an import that outlives statement_timeout fails alone: the imports of
#     other organizations in the same run succeed;
#  2. a tenant's own row lock makes its import wait at most the lock budget,
#     then go back to pending (attempts, last_error), and delays no other
#     organization's import; the organization lock is free afterwards;
#  3. a tenant cannot queue an import ahead of its time or put one back in
#     the queue, and one organization's many files do not starve another's;
#  4. (the notification payload: t/030_notify.pl)
#  5. the application role imports with SELECT alone on organization;
#  6. csv_safe_line bounds what it allocates.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{UPFLOW_SOURCE_DIR} // dirname(dirname(File::Spec->rel2abs(__FILE__)));

my $node = PostgreSQL::Test::Cluster->new('tenants');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION upflow_import;
	INSERT INTO upflow.organization (organization_id, name)
	SELECT g, 'org ' || g FROM generate_series(1, 5) g;
	SELECT upflow.enable_csv_import(g) FROM generate_series(1, 5) g;
});
$node->safe_psql('postgres', "\\set app_role upflow_app\n\\i $root/examples/app_role.sql\n");
$node->safe_psql('postgres', q{
	CREATE ROLE tenant LOGIN IN ROLE upflow_app;
	-- The worker: an administrator whose statements have budgets.
	CREATE ROLE worker LOGIN SUPERUSER;
	ALTER ROLE worker SET statement_timeout = '1s';
	ALTER ROLE worker SET lock_timeout = '800ms';
});

# SQL as the tenant of organization $org, in one transaction.
sub as_tenant
{
	my ($org, $sql) = @_;
	return $node->psql('postgres', "BEGIN; SET LOCAL upflow.organization_id = $org; $sql; COMMIT;",
		extra_params => [ '-U', 'tenant', '-v', 'ON_ERROR_STOP=1' ]);
}

sub small_file
{
	my ($org, $n) = @_;
	return "E'Customer name;Client ID;Email;Position\\nOrg $org;C$org;c$n\@org$org.fr;p$n\\n'";
}

sub statuses
{
	return $node->safe_psql('postgres',
		q{SELECT string_agg(organization_id || ':' || status, ' ' ORDER BY import_id) FROM upflow.import});
}

# --- 1. statement_timeout -------------------------------------------------------

# Organization 1 queues a file far too large for the worker's one second;
# organizations 2 and 3 queue small ones after it.
my ($rc, $out, $err) = as_tenant(1, q{SELECT upflow.submit_import(1,
	(SELECT E'Customer name;Client ID;Email\n'
			|| string_agg(format('Customer %s;C%s;u%s@big.fr', g % 5000, g % 5000, g), E'\n')
	   FROM generate_series(1, 400000) g))});
is($rc, 0, 'organization 1 queues a 400,000-line file') or diag $err;
for my $org (2, 3)
{
	($rc, $out, $err) = as_tenant($org, 'SELECT upflow.submit_import(' . $org . ', ' . small_file($org, 1) . ')');
	is($rc, 0, "organization $org queues a small file") or diag $err;
}
($rc, $out, $err) = $node->psql('postgres', 'CALL upflow.run_import_queue()',
	extra_params => [ '-U', 'worker' ]);
is($rc, 0, 'the worker run ends normally, in spite of the timeout') or diag $err;
is(statuses(), '1:failed 2:succeeded 3:succeeded',
	'the large import failed alone; the other organizations\' imports ran in the same run');
like($node->safe_psql('postgres', 'SELECT error FROM upflow.import WHERE organization_id = 1'),
	qr/longer than the worker's statement_timeout \(1s\)/, 'with the reason');
is($node->safe_psql('postgres', 'SELECT count(*) FROM upflow.contact WHERE organization_id = 1'),
	'0', 'nothing of the failed import was applied');

# The same as one function call (one transaction, one statement).
$node->safe_psql('postgres', 'DELETE FROM upflow.import');
as_tenant(1, q{SELECT upflow.submit_import(1,
	(SELECT E'Customer name;Client ID;Email\n'
			|| string_agg(format('Customer %s;C%s;u%s@big.fr', g % 5000, g % 5000, g), E'\n')
	   FROM generate_series(1, 400000) g))});
as_tenant(2, 'SELECT upflow.submit_import(2, ' . small_file(2, 2) . ')');
($rc, $out, $err) = $node->psql('postgres', 'SELECT upflow.run_pending_imports()',
	extra_params => [ '-U', 'worker' ]);
is($out, '2', 'run_pending_imports: every import gets its own time budget') or diag $err;
is(statuses(), '1:failed 2:succeeded', 'run_pending_imports: the large import failed alone');

# --- 2. a tenant's row lock --------------------------------------------------------

$node->safe_psql('postgres', 'DELETE FROM upflow.import');
my $holder = $node->background_psql('postgres', extra_params => [ '-U', 'tenant' ]);
$holder->query_safe('BEGIN');
$holder->query_safe('SET LOCAL upflow.organization_id = 2');
$holder->query_safe("SELECT FROM upflow.contact WHERE organization_id = 2 AND email = 'c1\@org2.fr' FOR UPDATE");
as_tenant(2, 'SELECT upflow.submit_import(2, ' . small_file(2, 1) =~ s/p1/p-changed/r . ')');
as_tenant(4, 'SELECT upflow.submit_import(4, ' . small_file(4, 1) . ')');
as_tenant(5, 'SELECT upflow.submit_import(5, ' . small_file(5, 1) . ')');
($rc, $out, $err) = $node->psql('postgres', 'CALL upflow.run_import_queue()',
	extra_params => [ '-U', 'worker' ]);
is($rc, 0, 'the worker run ends while organization 2 holds its contact') or diag $err;
is(statuses(), '2:pending 4:succeeded 5:succeeded',
	'organizations 4 and 5 imported and committed; organization 2\'s import is pending again');
like($node->safe_psql('postgres', q{SELECT attempts || ' ' || last_error || ' ' || (next_attempt_at > now())
	FROM upflow.import WHERE organization_id = 2}),
	qr/^1 canceling statement due to lock timeout\. .*true$/, 'with its attempt, its last error and its next attempt');
($rc, $out, $err) = as_tenant(4, 'SELECT status FROM upflow.upflow_import(4, ' . small_file(4, 2) . ')');
is($rc, 0, "organization 4's own synchronous import does not wait") or diag $err;
$holder->query_safe('COMMIT');
$holder->quit;
$node->safe_psql('postgres', q{UPDATE upflow.import SET next_attempt_at = now() WHERE status = 'pending'});
$node->psql('postgres', 'CALL upflow.run_import_queue()', extra_params => [ '-U', 'worker' ]);
is($node->safe_psql('postgres', q{SELECT status || ' ' || attempts || ' ' || updated_count
	FROM upflow.import WHERE organization_id = 2}),
	'succeeded 1 1', 'once the lock is gone, the retried import succeeds');

# --- 3. the queue's order is the server's ----------------------------------------------

($rc, $out, $err) = as_tenant(1,
	"INSERT INTO upflow.import (organization_id, status, submitted_at, file_content) VALUES (1, 'pending', '2000-01-01', 'x')");
like($err, qr/new row violates row-level security policy/, 'a tenant cannot queue an import in the past');
($rc, $out, $err) = as_tenant(1,
	"INSERT INTO upflow.import (organization_id, status, attempts, file_content) VALUES (1, 'pending', 3, 'x')");
like($err, qr/new row violates row-level security policy/, 'nor one with attempts');
($rc, $out, $err) = as_tenant(2, "UPDATE upflow.import SET status = 'pending' WHERE organization_id = 2");
like($err, qr/new row violates row-level security policy/, 'nor put a finished import back in the queue');
($rc, $out, $err) = as_tenant(1, 'SELECT upflow.run_pending_imports()');
like($err, qr/permission denied for function run_pending_imports/, 'nor run the worker');

# Organization 3 queues five files, then organization 5 one: a run of two
# imports runs one of each.
$node->safe_psql('postgres', 'DELETE FROM upflow.import');
as_tenant(3, 'SELECT upflow.submit_import(3, ' . small_file(3, $_) . ')') for 1 .. 5;
as_tenant(5, 'SELECT upflow.submit_import(5, ' . small_file(5, 9) . ')');
$node->psql('postgres', 'CALL upflow.run_import_queue(2)', extra_params => [ '-U', 'worker' ]);
is($node->safe_psql('postgres',
		q{SELECT string_agg(organization_id || ':' || status, ' ' ORDER BY organization_id, import_id) FROM upflow.import}),
	'3:succeeded 3:pending 3:pending 3:pending 3:pending 5:succeeded',
	'one organization\'s five files do not make another\'s one wait');

# --- 5. and 6. ------------------------------------------------------------------------

is($node->safe_psql('postgres', q{SELECT string_agg(privilege_type, ',' ORDER BY privilege_type)
	FROM information_schema.role_table_grants WHERE grantee = 'upflow_app' AND table_name = 'organization'}),
	'SELECT', 'the application role has SELECT alone on organization (and imported above)');
($rc, $out, $err) = $node->psql('postgres', q{SELECT upflow.csv_safe_line('a;b', ';', 2000000000)},
	extra_params => [ '-U', 'tenant' ]);
like($err, qr/columns must be between 0 and 100000/, 'csv_safe_line refuses to pad a line to 2e9 cells');

$node->stop;
done_testing();
