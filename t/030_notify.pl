# pg_notify('upflow_import', payload) when an import finishes: a session
# that LISTENs gets one wake-up per finished import (synchronous or run by
# the worker), at commit, carrying the organization, the import and the
# status and nothing else (any role can LISTEN: no file name, no email, no
# message, no counts); nothing for a rolled-back import or a dry run.  The
# submitter's in-app notification (when they want one) holds the message.
# Forging: notify_import_finished is not executable by PUBLIC, and a forged
# pg_notify carries nothing a relay would send (it reads the tables).
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

my @keys = sort qw(organization_id import_id status);

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
is_deeply($p, { organization_id => 1, import_id => $id, status => 'partially_succeeded' },
	'organization, import and status only');
is( $node->safe_psql(
		'postgres', "SELECT member_id || ': ' || message FROM upflow.notification WHERE import_id = $id"),
	"1: Import $id of 'contacts.csv' partially succeeded: 2 created, 0 updated, 0 unchanged, 1 failed, 0 skipped.",
	'the readable message is the in-app notification');

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
	[ map { [ $_->{import_id}, $_->{status} ] } @got ],
	[ [ $id2, 'partially_succeeded' ], [ $id3, 'partially_succeeded' ], [ $id4, 'partially_succeeded' ] ],
	'worker wake-ups: one per import, with its status');
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
is_deeply([ $got[0]{import_id}, $got[0]{status} ], [ $id5, 'failed' ], 'status failed');
like($node->safe_psql('postgres', "SELECT error FROM upflow.import WHERE import_id = $id5"),
	qr/not enabled/i, 'with the reason in the history, not in the wake-up');

# --- Transactions --------------------------------------------------------------

my $session = $node->background_psql('postgres');
$session->query_safe('BEGIN');
my $id6 = $session->query_safe(
	"SELECT import_id FROM upflow.upflow_import(1, \$f\$$file\$f\$, file_name => 'tx.csv')");
is_deeply([ received() ], [], 'nothing before the importing transaction commits');
$session->query_safe('COMMIT');
@got = received();
is_deeply([ map { $_->{import_id} } @got ], [ $id6 ], 'the notification arrives at commit');

$session->query_safe('BEGIN');
$session->query_safe("SELECT upflow.upflow_import(1, \$f\$$file\$f\$, file_name => 'rolled-back.csv')");
$session->query_safe('ROLLBACK');
$session->query_safe(
	"SELECT upflow.upflow_import(1, \$f\$$file\$f\$, file_name => 'dry.csv', options => '{\"dry_run\": true}')");
is_deeply([ received() ], [], 'nothing for a rolled-back import or a dry run');
$session->quit;

# --- A long file name ------------------------------------------------------------

# The wake-up never holds the file name, so no name can make it too long
# for pg_notify (8000 bytes); the in-app notification keeps all of it.
my $long_name = ('é' x 3000) . '.csv';
my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT status FROM upflow.upflow_import(1, \$f\$$file\$f\$, file_name => '$long_name', submitted_by => 1)");
is($rc, 0, 'an import with a 6000-byte file name succeeds') or diag $err;
@got = received();
is_deeply([ sort keys %{ $got[0] // {} } ], \@keys, 'its wake-up has the same three keys');
is( $node->safe_psql(
		'postgres', 'SELECT message FROM upflow.notification ORDER BY notification_id DESC LIMIT 1'),
	"Import $got[0]{import_id} of '$long_name' partially succeeded: 0 created, 0 updated, 2 unchanged, 1 failed, 0 skipped.",
	'the in-app notification keeps the whole name');

# --- Who can listen, who can forge ------------------------------------------------

# A login role with no privilege at all may LISTEN (PostgreSQL lets any
# role): it learns that organization 1 finished an import, nothing more.
$node->safe_psql('postgres', 'CREATE ROLE nobody LOGIN');
my $spy = $node->background_psql('postgres', extra_params => [ '-U', 'nobody' ]);
$spy->query_safe('LISTEN upflow_import');
my $id7 = $node->safe_psql('postgres',
	"SELECT import_id FROM upflow.upflow_import(1, \$f\$$file\$f\$, file_name => 'secret-name.csv', submitted_by => 1)");
received();
my $spied = $spy->query_safe('SELECT 1');
like($spied, qr/with payload "\{"organization_id" : 1, "import_id" : $id7, "status" : "partially_succeeded"\}"/,
	'a role without privileges hears ids and a status');
unlike($spied, qr/secret-name|claire|created/, 'and no file name, email or count');
($rc, $out, $err) = $node->psql('postgres',
	"SELECT upflow.notify_import_finished(i) FROM upflow.import i LIMIT 1", extra_params => [ '-U', 'nobody' ]);
like($err, qr/permission denied for (function notify_import_finished|schema upflow)/,
	'it cannot call notify_import_finished');
$spy->quit;

$listener->quit;
$node->stop;
done_testing();
