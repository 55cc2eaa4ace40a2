# A worker killed in the middle of a large import (kill -9 of its backend):
# the server goes through crash recovery, nothing of the import is left
# (no partial contact, customer, error or notification row; the import is
# still pending), the next worker runs it again, and the result equals a
# clean run of the same file into another organization: same status and
# counts, same contacts, same customers, same errors.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $lines = $ENV{UPFLOW_KILL_LINES} || 200_000;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
# The postmaster reinitializes after a backend crash, as in production
# (PostgreSQL::Test::Cluster turns that off by default).
$node->append_conf('postgresql.conf', q{
restart_after_crash = on
log_statement = none
});
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION upflow_import;
	INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Killed'), (2, 'Clean');
	SELECT upflow.enable_csv_import(1), upflow.enable_csv_import(2);
	INSERT INTO upflow.member (organization_id, member_id, email) VALUES (1, 1, 'a@killed.fr'), (2, 2, 'a@clean.fr');
});

# The file: 10 contacts per customer, the 3rd one main; some lines fail
# (invalid email), some repeat an earlier contact (skipped, with a
# warning), some change a contact the organizations already have.
my $dir = PostgreSQL::Test::Utils::tempdir;
my $path = "$dir/big.csv";
open my $fh, '>', $path or die "cannot write $path: $!";
print $fh "Customer name;Client ID;Email;First name;Family name;Phone;Position;Main contact\n";
for my $i (1 .. $lines)
{
	my $c = int(($i - 1) / 10);
	my $email = $i % 997 == 0 ? "bad-email-$i" : "contact$i\@cust$c.example";
	$email = 'contact' . ($i - 1) . "\@cust$c.example" if $i % 1009 == 0 && $i % 10 != 1;
	my $main = $i % 10 == 3 ? '1' : ($i % 10 == 5 ? '0' : '');
	print $fh "Customer $c;C$c;$email;First$i;Family$i;+33 1 23 45 67 89;Position $i;$main\n";
}
close $fh;
chmod 0644, $path;
my $size = -s $path;
note "file: $lines lines, $size bytes";

# Both organizations start with the same contacts, some of which the file
# changes (their first names, their main flag: customers C0..C99 have
# another main contact, which the file's main contact replaces).
my $seed = "Customer name;Client ID;Email;First name;Main contact\n";
for my $c (0 .. 99)
{
	my $i = $c * 10 + 1;
	$seed .= "Customer $c;C$c;contact$i\@cust$c.example;Old$i;1\n";
	$seed .= "Customer $c;C$c;keep$c\@cust$c.example;Keep;\n";
}
for my $org (1, 2)
{
	$node->safe_psql('postgres',
		"SELECT status FROM upflow.upflow_import($org, \$seed\$$seed\$seed\$)") eq 'succeeded'
	  or die "seed import failed";
}

# The state of organization 1 before the big import, to compare with after
# the crash.
my $snapshot_sql = q{
	SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', ct.contact_id, ct.customer_id, ct.email,
		   ct.first_name, ct.family_name, ct.phone, ct.position, ct.is_main, ct.last_import_id,
		   ct.updated_at), ',' ORDER BY ct.contact_id))
	  FROM upflow.contact ct WHERE ct.organization_id = 1};
my $before = $node->safe_psql('postgres', $snapshot_sql);
my $customers_before = $node->safe_psql('postgres',
	'SELECT count(*) FROM upflow.customer WHERE organization_id = 1');
my $contact_size = $node->safe_psql('postgres',
	q{SELECT pg_relation_size('upflow.contact')});

my $import_id = $node->safe_psql('postgres',
	qq{SELECT upflow.submit_import(1, pg_read_file('$path'), file_name => 'big.csv', submitted_by => 1)});

# --- The worker, killed while it writes the contacts ------------------------

my $worker = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $worker->query_safe('SELECT pg_backend_pid()');
$worker->query_until(qr/started/, "\\echo started\nSELECT upflow.run_pending_imports();\n");

# Parsing first (progress in pg_stat_progress_copy), then the writes: wait
# until the contact table has grown by 2 MB (new rows of the uncommitted
# import), then kill.
my ($progress, $writing) = ('', 0);
my $started = time();
while (time() - $started < 120)
{
	my $row = $node->safe_psql(
		'postgres', qq{
		SELECT concat_ws(' ',
			   coalesce((SELECT concat_ws(' ', p.bytes_total, p.bytes_processed > 0, p.tuples_processed > 0)
						   FROM pg_stat_progress_copy p WHERE p.pid = $pid), 'none'),
			   pg_relation_size('upflow.contact') > $contact_size + 2 * 1024 * 1024)});
	my ($p, $grown) = $row =~ /^(.*) (t|f)$/;
	$progress = $p if $p ne 'none';
	if ($grown eq 't')
	{
		$writing = 1;
		last;
	}
	usleep(50_000);
}
ok($writing, 'the worker is writing contacts');
is($progress, "$size t t",
	'its progress showed in pg_stat_progress_copy (bytes total, bytes and lines processed)');
is( $node->safe_psql(
		'postgres', "SELECT status FROM upflow.import WHERE import_id = $import_id"),
	'pending',
	'meanwhile other sessions see the import pending (claimed, uncommitted)');

my $log_offset = -s $node->logfile;
kill 'KILL', $pid or die "cannot kill $pid: $!";
note "killed backend $pid after " . sprintf('%.1f', time() - $started) . ' s';
eval { $worker->quit };

# The postmaster notices, restarts every backend and recovers.
my $log = '';
$started = time();
while (time() - $started < 60)
{
	$log = slurp_file($node->logfile, $log_offset);
	last if $log =~ /all server processes terminated; reinitializing.*database system is ready to accept connections/s;
	usleep(100_000);
}
# (A psql started while the postmaster reinitializes can exit before it
# reads its query: IPC::Run then dies of EPIPE.  Retried when it died, not
# when the poll answered or timed out.)
my $recovered;
for (my $try = 0; $try < 60; $try++)
{
	$recovered = eval { $node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') };
	last if defined $recovered;
	usleep(500_000);
}
ok($recovered, 'the server accepts connections again');
$log = slurp_file($node->logfile, $log_offset);
like($log, qr/server process \(PID $pid\) was terminated by signal 9/,
	'the log shows the killed worker');
like($log, qr/database system was not properly shut down; automatic recovery in progress/,
	'the server went through crash recovery');

# --- Right after the crash: nothing partial ---------------------------------

is( $node->safe_psql(
		'postgres', qq{
	SELECT concat_ws(' ', status, started_at IS NULL, finished_at IS NULL, line_count, created_count, failed_count)
	  FROM upflow.import WHERE import_id = $import_id}),
	'pending t t 0 0 0',
	'the import is pending again, without counts');
is($node->safe_psql('postgres', $snapshot_sql),
	$before, 'the contacts are exactly as before the import');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM upflow.contact WHERE last_import_id = $import_id"),
	'0',
	'no contact row carries the killed import');
is( $node->safe_psql(
		'postgres', 'SELECT count(*) FROM upflow.customer WHERE organization_id = 1'),
	$customers_before,
	'no customer was added');
is( $node->safe_psql(
		'postgres', qq{
	SELECT (SELECT count(*) FROM upflow.import_error WHERE import_id = $import_id)
		   + (SELECT count(*) FROM upflow.notification WHERE import_id = $import_id)}),
	'0',
	'no error rows, no notification');

# --- The next worker runs it again -------------------------------------------

is($node->safe_psql('postgres', 'SELECT upflow.run_pending_imports()'),
	'1', 'the next worker runs the import');

# The clean run: the same file, into organization 2, by a worker too.
my $clean_id = $node->safe_psql('postgres',
	qq{SELECT upflow.submit_import(2, pg_read_file('$path'), file_name => 'big.csv', submitted_by => 2)});
is($node->safe_psql('postgres', 'SELECT upflow.run_pending_imports()'),
	'1', 'the clean run');

my $counts_sql = q{
	SELECT concat_ws(' ', status, line_count, created_count, updated_count, unchanged_count,
					 failed_count, skipped_count, warning_count,
					 line_count = created_count + updated_count + unchanged_count + failed_count + skipped_count,
					 finished_at IS NOT NULL)
	  FROM upflow.import WHERE import_id = };
my $recovered = $node->safe_psql('postgres', $counts_sql . $import_id);
my $clean = $node->safe_psql('postgres', $counts_sql . $clean_id);
like($recovered, qr/^partially_succeeded $lines \d+ \d+ \d+ \d+ \d+ \d+ t t$/,
	"the recovered import ended partially_succeeded, with all $lines lines counted");
is($recovered, $clean, 'same status and counts as the clean run');
note "counts (status lines created updated unchanged failed skipped warnings): $recovered";

# Contacts, customers and errors of both organizations, compared as sets.
my %compare = (
	contacts => q{
		SELECT c.external_id, c.name, lower(ct.email) AS email, ct.first_name, ct.family_name,
			   ct.phone, ct.position, ct.is_main
		  FROM upflow.contact ct JOIN upflow.customer c USING (organization_id, customer_id)
		 WHERE ct.organization_id = %d},
	customers => q{
		SELECT external_id, name, account_manager_id FROM upflow.customer WHERE organization_id = %d},
	errors => q{
		SELECT line_number, severity, code, field, message, raw_line
		  FROM upflow.import_error WHERE organization_id = %d},);
for my $what (sort keys %compare)
{
	my $one = sprintf($compare{$what}, 1);
	my $two = sprintf($compare{$what}, 2);
	is( $node->safe_psql(
			'postgres', qq{
		SELECT (SELECT count(*) FROM ($one) a) || ' ' || (SELECT count(*) FROM ($two) b) || ' '
			   || (SELECT count(*) FROM (($one) EXCEPT ALL ($two)) x) || ' '
			   || (SELECT count(*) FROM (($two) EXCEPT ALL ($one)) y)}) =~ s/^(\d+) \1 0 0$/same/r,
		'same',
		"the $what equal those of the clean run");
}

is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM (SELECT customer_id FROM upflow.contact
						   WHERE organization_id = 1 AND is_main
						   GROUP BY customer_id HAVING count(*) > 1) x}),
	'0',
	'at most one main contact per customer');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM upflow.notification WHERE import_id = $import_id"),
	'1',
	'the submitter is notified once');

$node->stop;
done_testing();
