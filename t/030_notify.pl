# pg_notify('upflow_import', payload) when an import finishes: a session
# that LISTENs gets one JSON payload per finished import (synchronous or
# run by the worker), at commit, with the organization, the import, the
# file name, the status, the counts and the channels the submitter asked
# for (member.notify_email, member.notify_slack); nothing for a rolled-back
# import or a dry run; a payload that would exceed pg_notify's 8000 bytes
# is shortened instead of failing the import.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Encode qw(encode);

my $node = PostgreSQL::Test::Cluster->new('notify');
$node->init;
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION upflow_import;
	INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme');
	SELECT upflow.enable_csv_import(1);
	-- Member 1 wants everything, member 2 only Slack (no in-app
	-- notification), member 3 only email.
	INSERT INTO upflow.member (organization_id, member_id, email, notify_in_app, notify_email, notify_slack)
	VALUES (1, 1, 'claire@acme.fr', true, true, true),
		   (1, 2, 'bob@acme.fr', false, false, true),
		   (1, 3, 'eve@acme.fr', true, true, false);
});

my @keys = sort qw(organization_id import_id file_name status line_count created_count
  updated_count unchanged_count failed_count warning_count skipped_count error
  member_id member_email channels message);

my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN upflow_import');

# The payloads the listener has received since the last call.  psql prints
# notifications after the next command it runs.
sub received
{
	my $out = $listener->query_safe('SELECT 1');
	my @payloads;
	while ($out =~ /^Asynchronous notification "upflow_import" with payload "(.*)" received from server process with PID \d+\.$/mg)
	{
		push @payloads, decode_json($1);
	}
	return @payloads;
}

my $file = "Customer name;Client ID;Email;First name;Main contact\n"
  . "Boulangerie Dupre;C-001;marie\@dupre.fr;Marie;1\n"
  . "Boulangerie Dupre;C-001;compta\@dupre.fr;Jerome;0\n"
  . "Cafe du Port;C-002;not-an-email;Helene;\n";

# --- A synchronous import ----------------------------------------------------

my $id = $node->safe_psql('postgres',
	"SELECT import_id FROM upflow.upflow_import(1, \$f\$$file\$f\$, file_name => 'contacts.csv', submitted_by => 1)");
my @got = received();
is(scalar @got, 1, 'a synchronous import sends one notification');
my $p = $got[0];
is_deeply([ sort keys %$p ], \@keys, 'the payload has the documented keys');
is_deeply(
	{ map { $_ => $p->{$_} } qw(organization_id import_id file_name status line_count created_count
		  updated_count unchanged_count failed_count warning_count skipped_count error member_id member_email) },
	{
		organization_id => 1, import_id => $id, file_name => 'contacts.csv',
		status => 'partially_succeeded', line_count => 3, created_count => 2,
		updated_count => 0, unchanged_count => 0, failed_count => 1, warning_count => 0,
		skipped_count => 0, error => undef, member_id => 1, member_email => 'claire@acme.fr'
	},
	'organization, import, file name, status, counts and submitter');
is_deeply($p->{channels}, [ 'email', 'slack' ],
	'channels: email and slack, as member 1 asked');
is($p->{message},
	"Import $id of 'contacts.csv' partially succeeded: 2 created, 0 updated, 0 unchanged, 1 failed, 0 skipped.",
	'a readable message');
is( $node->safe_psql(
		'postgres', "SELECT member_id || ': ' || message FROM upflow.notification WHERE import_id = $id"),
	"1: $p->{message}",
	'and the same message as an in-app notification');

# --- Queued imports run by the worker ----------------------------------------

my $id2 = $node->safe_psql('postgres',
	"SELECT upflow.submit_import(1, \$f\$$file\$f\$, file_name => 'bob.csv', submitted_by => 2)");
my $id3 = $node->safe_psql('postgres',
	"SELECT upflow.submit_import(1, \$f\$$file\$f\$, file_name => 'eve.csv', submitted_by => 3)");
my $id4 = $node->safe_psql('postgres',
	"SELECT upflow.submit_import(1, \$f\$$file\$f\$)");
is_deeply([ received() ], [], 'nothing when an import is only submitted');
is($node->safe_psql('postgres', 'SELECT upflow.run_pending_imports()'),
	'3', 'the worker runs the three imports');
@got = sort { $a->{import_id} <=> $b->{import_id} } received();
is(scalar @got, 3, 'one notification per import the worker ran');
is_deeply(
	[ map { [ $_->{import_id}, $_->{file_name}, $_->{status}, $_->{line_count}, $_->{unchanged_count}, $_->{failed_count}, $_->{member_id}, $_->{channels} ] } @got ],
	[
		[ $id2, 'bob.csv', 'partially_succeeded', 3, 2, 1, 2, ['slack'] ],
		[ $id3, 'eve.csv', 'partially_succeeded', 3, 2, 1, 3, ['email'] ],
		[ $id4, undef, 'partially_succeeded', 3, 2, 1, undef, [] ],
	],
	'worker payloads: the channels each submitter asked for (none without a submitter)');
is($got[2]{message},
	"Import $id4 of a file partially succeeded: 0 created, 0 updated, 2 unchanged, 1 failed, 0 skipped.",
	'the message of an import without a file name');
is( $node->safe_psql(
		'postgres', "SELECT string_agg(import_id || ':' || member_id, ' ' ORDER BY import_id) FROM upflow.notification WHERE import_id > $id"),
	"$id3:3",
	'in-app notifications only for members with notify_in_app');

# A queued import that fails as a whole (CSV import disabled meanwhile).
my $id5 = $node->safe_psql('postgres',
	"SELECT upflow.submit_import(1, \$f\$$file\$f\$, file_name => 'late.csv', submitted_by => 1)");
$node->safe_psql('postgres', 'SELECT upflow.enable_csv_import(1, false)');
$node->safe_psql('postgres', 'SELECT upflow.run_pending_imports()');
$node->safe_psql('postgres', 'SELECT upflow.enable_csv_import(1, true)');
@got = received();
is(scalar @got, 1, 'a failed import notifies too');
is_deeply([ $got[0]{import_id}, $got[0]{status}, $got[0]{line_count} ],
	[ $id5, 'failed', 0 ], 'status failed, nothing counted');
like($got[0]{error}, qr/not enabled/i, 'with the reason in error');

# --- Transactions --------------------------------------------------------------

my $session = $node->background_psql('postgres');
$session->query_safe('BEGIN');
my $id6 = $session->query_safe(
	"SELECT import_id FROM upflow.upflow_import(1, \$f\$$file\$f\$, file_name => 'tx.csv')");
is_deeply([ received() ], [], 'nothing before the importing transaction commits');
$session->query_safe('COMMIT');
@got = received();
is_deeply([ map { [ $_->{import_id}, $_->{file_name} ] } @got ],
	[ [ $id6, 'tx.csv' ] ], 'the notification arrives at commit');

$session->query_safe('BEGIN');
$session->query_safe("SELECT upflow.upflow_import(1, \$f\$$file\$f\$, file_name => 'rolled-back.csv')");
$session->query_safe('ROLLBACK');
$session->query_safe(
	"SELECT upflow.upflow_import(1, \$f\$$file\$f\$, file_name => 'dry.csv', options => '{\"dry_run\": true}')");
is_deeply([ received() ], [], 'nothing for a rolled-back import or a dry run');
$session->quit;

# --- A payload too long for pg_notify ------------------------------------------

# pg_notify refuses 8000 bytes or more; the import must not fail for it.
my $long_name = ('é' x 3000) . '.csv';
my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT status FROM upflow.upflow_import(1, \$f\$$file\$f\$, file_name => '$long_name', submitted_by => 1)");
is($rc, 0, 'an import with a 6000-byte file name succeeds') or diag $err;
my ($raw) = $listener->query_safe('SELECT 1') =~ /with payload "(.*)" received/;
ok(defined $raw && length($raw) < 8000, 'its payload stays under 8000 bytes');
my $long = defined $raw ? decode_json($raw) : {};
my $short_name = encode('UTF-8', $long->{file_name} // '');
ok(length($short_name) > 1000 && index($long_name, $short_name) == 0,
	'the file name is shortened (its first characters)');
is_deeply([ @$long{qw(status line_count unchanged_count failed_count member_email)} ],
	[ 'partially_succeeded', 3, 2, 1, 'claire@acme.fr' ],
	'status, counts and member email intact');
like(encode('UTF-8', $long->{message}), qr/^Import \d+ of '(?:é)+' partially succeeded: 0 created, 0 updated, 2 unchanged, 1 failed, 0 skipped\.$/,
	'the message names the shortened file');
is( $node->safe_psql(
		'postgres', 'SELECT message FROM upflow.notification ORDER BY notification_id DESC LIMIT 1'),
	"Import $long->{import_id} of '$long_name' partially succeeded: 0 created, 0 updated, 2 unchanged, 1 failed, 0 skipped.",
	'the in-app notification keeps the whole name');

$listener->quit;
$node->stop;
done_testing();
