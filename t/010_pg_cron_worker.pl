# The queued-import worker scheduled by pg_cron, on a real server with
# shared_preload_libraries = 'pg_cron': upflow.schedule_import_worker
# registers one job (calling it again updates it), the scheduled worker
# picks up a submitted import within its schedule, and the import ends with
# its counts, its contacts and its in-app notification.  In a database
# without pg_cron the extension installs, and scheduling fails with a clear
# error saying how to set pg_cron up.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
# Background workers run the jobs: no libpq connection, so no password or
# pg_hba set-up for pg_cron.
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
});
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
$node->safe_psql('postgres', 'CREATE EXTENSION upflow_import');
my $cron_version = $node->safe_psql('postgres',
	"SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'");
note "pg_cron $cron_version";

# --- Scheduling: one job, updated in place ---------------------------------

my $first_id = $node->safe_psql('postgres',
	q{SELECT upflow.schedule_import_worker('*/5 * * * *')});
like($first_id, qr/^\d+$/, 'schedule_import_worker returns the job id');

# pg_cron 1.5 and later run "N seconds" schedules, which keeps the test
# short; 1.4 (Debian 12) knows only cron syntax: then every minute.
my $schedule = '2 seconds';
my ($rc, $out, $err) = $node->psql('postgres',
	qq{SELECT upflow.schedule_import_worker('$schedule')});
if ($rc != 0)
{
	note "no seconds schedules in pg_cron $cron_version: $err";
	$schedule = '* * * * *';
	$out = $node->safe_psql('postgres',
		qq{SELECT upflow.schedule_import_worker('$schedule')});
}
is($out, $first_id, 'scheduling again updates the same job');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) || ' ' || min(schedule) || ' | ' || min(command) || ' | ' || min(database)
		    FROM cron.job WHERE jobname = 'upflow_import_worker'}),
	"1 $schedule | CALL upflow.run_import_queue() | postgres",
	'one job upflow_import_worker, with the latest schedule, running the worker');
is($node->safe_psql('postgres', 'SELECT count(*) FROM cron.job'),
	'1', 'no other job was created');

# --- The scheduled worker runs a submitted import --------------------------

$node->safe_psql(
	'postgres', q{
	INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme');
	SELECT upflow.enable_csv_import(1);
	INSERT INTO upflow.member (organization_id, member_id, email, notify_in_app)
	VALUES (1, 7, 'claire@acme.fr', true);
});

my $import_id = $node->safe_psql(
	'postgres', q{
	SELECT upflow.submit_import(1,
		E'Customer name;Client ID;Email;First name;Main contact\n'
		'Boulangerie Dupré;C-001;marie@dupre.fr;Marie;1\n'
		'Boulangerie Dupré;C-001;compta@dupre.fr;Jérôme;0\n'
		'Café du Port;C-002;not-an-email;Hélène;\n',
		file_name => 'cron.csv', submitted_by => 7)});
# A second one, submitted by nobody in particular.
my $second_id = $node->safe_psql(
	'postgres', q{
	SELECT upflow.submit_import(1, E'Customer name;Client ID;Email\nCafé du Port;C-002;h.benali@port.fr\n',
								file_name => 'second.csv')});
is( $node->safe_psql(
		'postgres',
		"SELECT string_agg(status, ' ' ORDER BY import_id) FROM upflow.import"),
	'pending pending',
	'submit_import leaves the imports pending');

# Wait for the worker: at most one schedule period plus a margin.
my $limit = $schedule eq '2 seconds' ? 30 : 90;
my $started = time();
my $status = 'pending';
while (time() - $started < $limit)
{
	$status = $node->safe_psql('postgres',
		"SELECT string_agg(status, ' ' ORDER BY import_id) FROM upflow.import");
	last if $status !~ /pending|running/;
	usleep(250_000);
}
my $waited = time() - $started;
note sprintf('the scheduled worker finished the imports after %.1f s', $waited);
is($status, 'partially_succeeded succeeded',
	"the scheduled worker ran both imports within $limit s");

is( $node->safe_psql(
		'postgres', qq{
	SELECT concat_ws(' ', line_count, created_count, updated_count, unchanged_count,
					 failed_count, skipped_count, started_at IS NOT NULL,
					 finished_at >= started_at, error IS NULL)
	  FROM upflow.import WHERE import_id = $import_id}),
	'3 2 0 0 1 0 t t t',
	'counts: 3 lines, 2 created, 1 failed; started and finished');

is( $node->safe_psql(
		'postgres', q{
	SELECT string_agg(concat_ws(' ', c.external_id, ct.email, ct.first_name, ct.is_main), ', '
					  ORDER BY ct.email)
	  FROM upflow.contact ct JOIN upflow.customer c USING (organization_id, customer_id)
	 WHERE ct.organization_id = 1}),
	'C-001 compta@dupre.fr Jérôme f, C-002 h.benali@port.fr f, C-001 marie@dupre.fr Marie t',
	'the contacts of the valid lines were created');

is( $node->safe_psql(
		'postgres', qq{
	SELECT string_agg(line_number || ' ' || code, ', ')
	  FROM upflow.import_errors WHERE import_id = $import_id}),
	'4 invalid_email',
	'the invalid line is recorded');

is( $node->safe_psql(
		'postgres', qq{
	SELECT count(*) || ' ' || min(member_id) || ' ' || min(message)
	  FROM upflow.notification WHERE import_id = $import_id}),
	"1 7 Import $import_id of 'cron.csv' partially succeeded: 2 created, 0 updated, 0 unchanged, 1 failed, 0 skipped.",
	'the submitter got one in-app notification');
is($node->safe_psql('postgres', 'SELECT count(*) FROM upflow.notification'),
	'1', 'no notification for the import without a submitter');

# pg_cron's own record of the run.
ok( $node->poll_query_until(
		'postgres', q{
	SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	 WHERE j.jobname = 'upflow_import_worker' AND d.status = 'succeeded'}),
	'cron.job_run_details shows a succeeded run of the job');

# --- Without pg_cron ----------------------------------------------------------

# A database other than cron.database_name: the extension installs, and
# scheduling says where and how to schedule the worker instead.
$node->safe_psql('postgres', 'CREATE DATABASE nocron');
($rc, $out, $err) =
  $node->psql('nocron', 'CREATE EXTENSION upflow_import');
is($rc, 0, 'the extension installs in a database without pg_cron');

($rc, $out, $err) = $node->psql(
	'nocron', q{SELECT upflow.schedule_import_worker()},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, 'schedule_import_worker fails in a database without pg_cron');
like($err, qr/ERROR:  42704: pg_cron is not installed in this database/,
	'error: undefined_object, "pg_cron is not installed in this database"');
like($err, qr/DETAIL:  The import worker is scheduled with pg_cron, which this server runs from database postgres\./,
	'detail names the database pg_cron runs from');
like(
	$err,
	qr/HINT:  In database postgres, run: SELECT cron\.schedule_in_database\('upflow_import_worker', '\* \* \* \* \*', 'CALL upflow\.run_import_queue\(\)', 'nocron'\);/,
	'hint: the command that schedules the worker from there');
$node->stop;

# A server without pg_cron at all: the hint says how to install and preload it.
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
($rc, $out, $err) = $plain->psql('postgres', 'CREATE EXTENSION upflow_import');
is($rc, 0, 'the extension installs on a server without pg_cron');
($rc, $out, $err) = $plain->psql(
	'postgres', q{SELECT upflow.schedule_import_worker()},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  42704: pg_cron is not installed in this database/,
	'the same error there');
like($err, qr/DETAIL:  The import worker is scheduled with pg_cron\./,
	'detail says what pg_cron is for');
like(
	$err,
	qr/HINT:  Install postgresql-15-cron; in postgresql\.conf set shared_preload_libraries = 'pg_cron', cron\.database_name = 'postgres' and cron\.use_background_workers = on; restart the server, then run CREATE EXTENSION pg_cron in this database\./,
	'hint says how to install and preload pg_cron');
$plain->stop;

done_testing();
