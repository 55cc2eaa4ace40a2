# upflow_import on a real Citus cluster (a coordinator and two workers on
# this machine, a third worker added later), for the application role of
# the README, with results identical to a single server.
#
# On both the cluster and a single server, the same script: the README's
# examples/citus.sql (cluster only) and role recipe exactly as written,
# then, as the application role with SET LOCAL upflow.organization_id in
# each transaction, for three organizations placed on different workers:
# upflow_import (text and bytea) of the example and of a generated
# 50,000-line file, preview_import, error_lines_csv, export_contacts_csv and
# its re-import, a main-contact switch, submit_import / cancel_import and
# the worker, two organizations importing at the same time, bin/upflow-import,
# every cross-tenant refusal; then (cluster) citus_add_node and
# rebalance_table_shards, and the same import again.  Every table's rows
# (by their natural keys) and the history counts must be the same.
#
# Needs Citus installed (tools/install-citus); tools/run-tests reports the
# suite as skipped when it is not.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run;
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{UPFLOW_SOURCE_DIR} // dirname(dirname(File::Spec->rel2abs(__FILE__)));
my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
plan skip_all => 'Citus is not installed' unless -f "$pkglibdir/citus.so";

sub new_node
{
	my ($name, $citus) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	# (citus.local_hostname: a node connects to itself to move shards; the
	# test's nodes listen on a Unix socket only.)
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'citus'\nmax_connections = 100\ncitus.local_hostname = '"
		  . $node->host . "'\n")
	  if $citus;
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus') if $citus;
	return $node;
}

my $coordinator = new_node('coordinator', 1);
my @workers = map { new_node("worker$_", 1) } 1 .. 3;
my $single = new_node('single', 0);
my $host = $coordinator->host;

$coordinator->safe_psql('postgres',
	"SELECT citus_set_coordinator_host('$host', " . $coordinator->port . ')');
$coordinator->safe_psql('postgres', "SELECT citus_add_node('$host', " . $_->port . ')') for @workers[ 0, 1 ];
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM citus_get_active_worker_nodes()'),
	'2', 'a coordinator and two workers');

# --- Set-up, exactly as the README says ----------------------------------------------

my ($rc, $out, $err) = $coordinator->psql('postgres', "\\i $root/examples/citus.sql",
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
is($rc, 0, 'examples/citus.sql runs on the coordinator') or diag $err;
is($coordinator->safe_psql('postgres', q{SELECT count(*) || ' of ' ||
		(SELECT count(*) FROM pg_class WHERE relnamespace = 'upflow'::regnamespace AND relkind = 'r')
	  FROM pg_dist_partition
	WHERE logicalrelid::text LIKE 'upflow.%' AND partmethod = 'h'}),
	'12 of 12', 'every table of the extension is distributed');
$single->safe_psql('postgres', 'CREATE EXTENSION upflow_import');

for my $node ($coordinator, $single)
{
	($rc, $out, $err) = $node->psql('postgres',
		"\\set app_role upflow_app\n\\i $root/examples/app_role.sql\nCREATE ROLE tenant LOGIN IN ROLE upflow_app;",
		extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
	is($rc, 0, $node->name . ': the README\'s role recipe runs as written') or diag $err;
}

# Three organizations on both workers: the first ids whose shards are on
# different workers.
my @placement = split /\n/, $coordinator->safe_psql('postgres', q{
	SELECT o || ' ' || n.nodeport
	  FROM generate_series(1, 30) o
	  JOIN pg_dist_placement p ON p.shardid = get_shard_id_for_distribution_column('upflow.contact', o)
	  JOIN pg_dist_node n ON n.groupid = p.groupid
	 ORDER BY o});
my (%by_port, @orgs);
for (@placement)
{
	my ($o, $port) = split;
	push @{ $by_port{$port} }, $o;
}
my @ports = sort keys %by_port;
@orgs = ($by_port{ $ports[0] }[0], $by_port{ $ports[1] }[0], $by_port{ $ports[0] }[1]);
note "organizations @orgs, on workers @ports";
my ($a, $b, $c) = @orgs;

for my $node ($coordinator, $single)
{
	$node->safe_psql('postgres',
		"INSERT INTO upflow.organization (organization_id, name) VALUES ($a, 'Acme'), ($b, 'Globex'), ($c, 'Initech');"
		  . "INSERT INTO upflow.member (organization_id, member_id, email) VALUES ($a, 1, 'claire\@acme.fr'), ($b, 2, 'homer\@globex.com');"
		  . "SELECT upflow.enable_csv_import(o) FROM unnest(ARRAY[$a, $b, $c]) o;");
}

# --- The script -------------------------------------------------------------------------

my $contacts = slurp_file("$root/examples/contacts.csv");
(my $contacts_sql = $contacts) =~ s/'/''/g;

# SQL as the tenant of $org in one transaction; returns psql's output (and
# the error, in list context).
sub tenant
{
	my ($node, $org, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres',
		"BEGIN;\nSET LOCAL upflow.organization_id = $org;\n$sql\nCOMMIT;",
		extra_params => [ '-U', 'tenant', '-v', 'ON_ERROR_STOP=1' ]);
	return wantarray ? ($out, $err) : $out;
}

my %took;

sub scenario
{
	my ($node) = @_;
	my $name = $node->name;
	my @t;
	for my $org ($a, $b, $c)
	{
		push @t, scalar tenant($node, $org,
			"SELECT status, line_count, created_count, failed_count FROM upflow.upflow_import($org, '$contacts_sql', file_name => 'contacts.csv', submitted_by => "
			  . ($org == $a ? 1 : $org == $b ? 2 : 'NULL') . ');');
		push @t, scalar tenant($node, $org,
			"SELECT status, unchanged_count, failed_count FROM upflow.upflow_import($org, convert_to('$contacts_sql', 'WIN1252'), options => '{\"encoding\": \"WIN1252\"}');");
		push @t, scalar tenant($node, $org,
			"SELECT line_number, action, errors::text FROM upflow.preview_import($org, E'Customer name;Client ID;Email\\nNew;N-1;new\@x.fr\\nNew;N-1;bad\\n');");
		push @t, scalar tenant($node, $org,
			"SELECT min(import_id) AS first FROM upflow.import WHERE organization_id = $org \\gset\nSELECT upflow.error_lines_csv(:first);");
		push @t, scalar tenant($node, $org,
			"SELECT upflow.export_contacts_csv($org) AS export \\gset\nSELECT status, created_count, updated_count, unchanged_count FROM upflow.upflow_import($org, :'export');");
		# (Called at the top level, not inside a query over a distributed
		# table, which Citus would run on a worker: README, "Scaling out".)
		push @t, scalar tenant($node, $org,
			"SELECT contact_id FROM upflow.contact WHERE organization_id = $org AND email = 'compta\@boulangerie-dupre.fr' \\gset\nSELECT upflow.set_main_contact($org, :contact_id);");
		push @t, scalar tenant($node, $org,
			"SELECT status, updated_count FROM upflow.upflow_import($org, E'Customer name;Client ID;Email;Main contact\\nBoulangerie Dupré;CUST-001;marie.dupre\@boulangerie-dupre.fr;1\\n');");
		# Undo of the main-contact switch (a contact changed, one demoted):
		# previewed, dry run, reverted.
		push @t, scalar tenant($node, $org,
			"SELECT max(import_id) AS last FROM upflow.import WHERE organization_id = $org \\gset\n"
			  . "SELECT row_kind, email, field, action, value_before, value_now FROM upflow.preview_revert(:last);"
			  . "SELECT status, line_count, updated_count, deleted_count, failed_count FROM upflow.revert_import(:last, '{\"dry_run\": true}');"
			  . "SELECT status, line_count, updated_count, deleted_count, failed_count FROM upflow.revert_import(:last);");
		# A saved mapping, found again by the headers of the next file.
		push @t, scalar tenant($node, $org,
			"SELECT status, created_count FROM upflow.upflow_import($org, E'Tiers;Ref;Mail\\nLedger;L-1;l1\@l.fr\\n', mapping => '{\"customer_name\": \"Tiers\", \"external_id\": \"Ref\", \"email\": \"Mail\"}', options => '{\"save_mapping\": \"Ledger\"}');"
			  . "SELECT status, created_count, saved_mapping FROM upflow.upflow_import($org, E'MAIL;ref;tiers\\nl2\@l.fr;L-1;Ledger\\n');");
		push @t, scalar tenant($node, $org,
			"SELECT upflow.submit_import($org, E'Customer name;Client ID;Email\\nQ;Q-1;q1\@q.fr\\n') IS NOT NULL AS queued;"
			  . "SELECT upflow.submit_import($org, E'Customer name;Client ID;Email\\nQ;Q-1;q2\@q.fr\\n') AS cancel \\gset\n"
			  . "SELECT upflow.cancel_import(:cancel);");
	}
	push @t, $node->safe_psql('postgres', 'CALL upflow.run_import_queue()');

	# A 50,000-line file (1,000 customers).
	my $start = time;
	push @t, scalar tenant($node, $a, q{SELECT status, created_count, failed_count FROM upflow.upflow_import(}
		  . $a . q{, (SELECT E'Customer name;Client ID;Email;First name;Position;Main contact\n'
				|| string_agg(format('Big %s;B-%s;c%s@big.fr;F%s;P%s;%s', g % 1000, g % 1000, g, g, g % 7,
									 CASE WHEN g % 50 = 0 THEN '1' ELSE '' END), E'\n')
		   FROM generate_series(1, 50000) g));});
	$took{$name} = time - $start;
	# Its undo: 50,000 contacts and 1,000 customers deleted.
	$start = time;
	push @t, scalar tenant($node, $a,
		"SELECT max(import_id) AS big FROM upflow.import WHERE organization_id = $a \\gset\n"
		  . "SELECT status, line_count, deleted_count FROM upflow.revert_import(:big);");
	$took{"$name revert"} = time - $start;

	# Cross-tenant refusals.
	my ($o, $e) = tenant($node, $a, "SELECT upflow.upflow_import($b, E'Customer name;Client ID;Email\\nX;X-1;x\@x.fr\\n');");
	push @t, ($e =~ /(ERROR: .*)/)[0];
	($o, $e) = tenant($node, $a,
		"SELECT upflow.error_lines_csv((SELECT max(import_id) FROM upflow.import));");
	push @t, ($e =~ /(ERROR: .*)/)[0] // $o;
	push @t, scalar tenant($node, $a, "SELECT count(*) FROM upflow.contact WHERE organization_id = $b;");

	# Two organizations at the same time.
	my @sessions = map { $node->background_psql('postgres', extra_params => [ '-U', 'tenant' ]) } 1 .. 2;
	my $i = 0;
	for my $org ($b, $c)
	{
		$sessions[$i]->query_safe('BEGIN');
		$sessions[$i]->query_safe("SET LOCAL upflow.organization_id = $org");
		push @t, $sessions[$i]->query_safe(
			"SELECT status, created_count FROM upflow.upflow_import($org, E'Customer name;Client ID;Email\\nPar;P-$org;p\@par.fr\\n')");
		$i++;
	}
	$_->query_safe('COMMIT') for @sessions;
	$_->quit for @sessions;

	# The command-line importer, as the tenant.
	my $file = PostgreSQL::Test::Utils::tempdir . '/cli.csv';
	open my $fh, '>', $file or die $!;
	print $fh "Customer name;Client ID;Email\nCli;CLI-1;cli\@cli.fr\n";
	close $fh;
	my ($stdout, $stderr) = ('', '');
	IPC::Run::run([ "$root/bin/upflow-import", '-h', $node->host, '-p', $node->port, '-U', 'tenant',
			'-d', 'postgres', '--org', $c, '-q', $file ], '>', \$stdout, '2>', \$stderr);
	push @t, "cli: $stderr";
	return @t;
}

my @on_citus = scenario($coordinator);
my @on_single = scenario($single);
for my $i (0 .. $#on_single)
{
	is($on_citus[$i], $on_single[$i], "step $i: the cluster answers as a single server");
}
note sprintf('50,000-line import: %.2f s on Citus, %.2f s on a single server (%.2f x); its revert %.2f s and %.2f s',
	$took{coordinator}, $took{single}, $took{coordinator} / $took{single},
	$took{'coordinator revert'}, $took{'single revert'});

# --- A new node, shards moved, the same import again ---------------------------------

$coordinator->safe_psql('postgres', "SELECT citus_add_node('$host', " . $workers[2]->port . ')');
($rc, $out, $err) = $coordinator->psql('postgres',
	"SET citus.shard_replication_factor = 1; SELECT rebalance_table_shards(shard_transfer_mode => 'block_writes')");
is($rc, 0, 'rebalance_table_shards onto the third worker') or diag $err;
cmp_ok($coordinator->safe_psql('postgres', q{SELECT count(DISTINCT groupid) FROM pg_dist_placement p
	JOIN pg_dist_shard s USING (shardid) WHERE s.logicalrelid = 'upflow.contact'::regclass}),
	'==', 3, 'the contacts are on three workers now');
for my $node ($coordinator, $single)
{
	my @again = map {
		scalar tenant($node, $_,
			"SELECT status, created_count, updated_count, unchanged_count FROM upflow.upflow_import($_, '$contacts_sql');")
	} ($a, $b, $c);
	push @{ $node->name eq 'single' ? \@on_single : \@on_citus }, @again;
}
is_deeply([ @on_citus[ -3 .. -1 ] ], [ @on_single[ -3 .. -1 ] ], 'after the rebalance, the same import gives the same result');

# --- The notification relay ----------------------------------------------------------

# As the relay role of examples/relay_role.sql, against servers that refuse
# the connection: each email is tried once and left pending, the Slack
# message of the organization with a webhook too, the others fail (no
# webhook).  Claiming (FOR UPDATE SKIP LOCKED) and recording are router
# statements on the cluster.
my $closed_port = PostgreSQL::Test::Cluster::get_free_port();
for my $node ($coordinator, $single)
{
	$node->safe_psql('postgres', "\\i $root/examples/relay_role.sql\n");
	$node->safe_psql('postgres', "SELECT upflow.set_slack_webhook($a, 'http://127.0.0.1:$closed_port/services/x')");
	my ($relay_out, $relay_err) = ('', '');
	IPC::Run::run([ "$root/bin/upflow-notify", '-h', $node->host, '-p', $node->port, '-d', 'postgres',
		'-U', 'upflow_relay', '--smtp', "smtp://127.0.0.1:$closed_port", '--from', 'relay\@upflow.test',
		'--once', '--timeout', '5' ], '>', \$relay_out, '2>', \$relay_err, IPC::Run::timeout(300));
	is($?, 0, $node->name . ': the relay ran through the outbox') or diag $relay_err;
	ok($relay_out =~ /: attempt 1 failed, next at /, $node->name . ': and logged its attempts') or diag $relay_out;
	cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM upflow.notification_delivery WHERE attempts = 1}),
		'>', 0, $node->name . ': deliveries were tried');
}

# --- Every row, by its natural key ----------------------------------------------------

my %rows = (
	customers => q{SELECT c.organization_id, c.external_id, c.name, m.email
		FROM upflow.customer c LEFT JOIN upflow.member m
		  ON m.organization_id = c.organization_id AND m.member_id = c.account_manager_id
		ORDER BY 1, 2},
	contacts => q{SELECT c.organization_id, c.external_id, lower(ct.email), ct.first_name, ct.family_name,
			ct.phone, ct.position, ct.is_main
		FROM upflow.contact ct JOIN upflow.customer c USING (organization_id, customer_id)
		ORDER BY 1, 2, 3},
	imports => q{SELECT organization_id, file_name, status, line_count, created_count, updated_count,
			unchanged_count, failed_count, warning_count, skipped_count, error, saved_mapping,
			deleted_count, reverts_import_id IS NOT NULL AS is_revert
		FROM upflow.import ORDER BY organization_id, import_id},
	# (Without ids, which the cluster draws its own way; created rows
	# counted per import: the cluster writes their ids per 25,000.)
	undo => q{SELECT organization_id, dense_rank() OVER (PARTITION BY organization_id ORDER BY import_id),
			kind, line_numbers, before, after, created
		FROM (SELECT organization_id, import_id, kind, line_numbers, before, after, NULL::numeric AS created
				FROM upflow.import_undo WHERE kind LIKE '%_changed'
			  UNION ALL
			  SELECT organization_id, import_id, kind, NULL, NULL, NULL, sum(cardinality(row_ids))
				FROM upflow.import_undo WHERE kind LIKE '%_created' GROUP BY organization_id, import_id, kind) u
		ORDER BY organization_id, import_id, kind, line_numbers::text, before::text},
	import_errors => q{SELECT e.organization_id, e.line_number, e.severity, e.code, e.field, e.message
		FROM upflow.import_error e JOIN upflow.import i USING (organization_id, import_id)
		ORDER BY e.organization_id, e.import_id, e.import_error_id},
	notifications => q{SELECT organization_id, member_id,
			regexp_replace(message, '^(Import|Revert) \d+( of import \d+)?', '\1 N')
		FROM upflow.notification ORDER BY organization_id, notification_id},
	deliveries => q{SELECT organization_id, member_id, channel, status, attempts,
			regexp_replace(last_error, ' port .*', '')
		FROM upflow.notification_delivery ORDER BY organization_id, import_id, channel},
	saved_mappings => q{SELECT organization_id, name, header_keys, mapping
		FROM upflow.saved_mapping ORDER BY organization_id, name},
);
for my $what (sort keys %rows)
{
	my $citus_rows = $coordinator->safe_psql('postgres', $rows{$what});
	is($citus_rows, $single->safe_psql('postgres', $rows{$what}), "$what: the same rows on the cluster and on a single server");
}
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM upflow.customer WHERE external_id LIKE 'B-%'}), '0',
	'the revert of the 50,000-line import deleted its 1,000 customers');

$_->stop for ($coordinator, @workers, $single);
done_testing();
