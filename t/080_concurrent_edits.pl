# Imports and the application's own edits side by side, under load: three
# editors (pgbench, as the README's application role) run short
# transactions on random customers of a 10,000-contact organization while
# imports of the same organization run, synchronous and queued:
#   * "switch": moves a main contact by hand, demote then promote, with no
#     customer lock (ignoring the README's discipline);
#   * "set_main": moves it with upflow.set_main_contact (the discipline);
#   * "position": changes one contact's position (a single-row edit).
# Every import must succeed, no deadlock may be detected, each customer
# keeps at most one main contact, and every import's counts add up.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{UPFLOW_SOURCE_DIR} // dirname(dirname(File::Spec->rel2abs(__FILE__)));
my $customers = 2000;
my $seconds = 20;

my $node = PostgreSQL::Test::Cluster->new('edits');
$node->init;
$node->append_conf('postgresql.conf', "deadlock_timeout = '100ms'\nlog_lock_waits = on\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION upflow_import;
	INSERT INTO upflow.organization (organization_id, name) VALUES (6, 'Busy');
	SELECT upflow.enable_csv_import(6);
});
$node->safe_psql('postgres', "\\set app_role upflow_app\n\\i $root/examples/app_role.sql\n");
$node->safe_psql('postgres', 'CREATE ROLE tenant LOGIN IN ROLE upflow_app');

# A file of $n random lines: random positions, and one line in five
# designating its contact as main.
sub file
{
	my ($n, $seed) = @_;
	srand($seed);
	my $f = "Customer name;Client ID;Email;Position;Main contact\n";
	for (1 .. $n)
	{
		my $c = 1 + int(rand($customers));
		my $k = 1 + int(rand(5));
		my $main = rand() < 0.2 ? '1' : '';
		$f .= "Customer $c;C$c;k$k.c$c\@s.fr;pos " . int(rand(1000)) . ";$main\n";
	}
	return $f;
}

# The organization: 2,000 customers, 5 contacts each, the first one main.
my $seed_file = "Customer name;Client ID;Email;Position;Main contact\n"
  . join('', map { my $c = $_; map { "Customer $c;C$c;k$_.c$c\@s.fr;p0;" . ($_ == 1 ? '1' : '') . "\n" } 1 .. 5 } 1 .. $customers);
is($node->safe_psql('postgres',
		"SELECT status || ' ' || created_count FROM upflow.upflow_import(6, \$f\$$seed_file\$f\$)"),
	'succeeded 10000', 'the organization has 10,000 contacts');

my $dir = PostgreSQL::Test::Utils::tempdir;
my %script = (
	switch => q{\set c random(1, 2000)
\set k random(1, 5)
BEGIN;
SET LOCAL upflow.organization_id = 6;
DO $$ BEGIN
	UPDATE upflow.contact SET is_main = false, updated_at = now()
	 WHERE organization_id = 6 AND is_main
	   AND customer_id = (SELECT customer_id FROM upflow.customer WHERE organization_id = 6 AND external_id = 'C:c');
	UPDATE upflow.contact SET is_main = true, updated_at = now()
	 WHERE organization_id = 6 AND email = 'k:k.c:c@s.fr';
EXCEPTION WHEN unique_violation THEN
	NULL;	-- an import promoted another contact meanwhile: the edit loses
END $$;
COMMIT;
},
	set_main => q{\set c random(1, 2000)
\set k random(1, 5)
BEGIN;
SET LOCAL upflow.organization_id = 6;
SELECT upflow.set_main_contact(6, contact_id) FROM upflow.contact
 WHERE organization_id = 6 AND email = 'k:k.c:c@s.fr';
COMMIT;
},
	position => q{\set c random(1, 2000)
\set k random(1, 5)
\set p random(1, 1000)
BEGIN;
SET LOCAL upflow.organization_id = 6;
UPDATE upflow.contact SET position = 'edit :p', updated_at = now()
 WHERE organization_id = 6 AND email = 'k:k.c:c@s.fr';
COMMIT;
},
);
my @editors;
for my $name (sort keys %script)
{
	# (psql variables in DO bodies are not expanded: pgbench's :c and :k are)
	open my $fh, '>', "$dir/$name.sql" or die $!;
	print $fh $script{$name};
	close $fh;
	my ($out, $err) = ('', '');
	push @editors,
	  [
		$name,
		IPC::Run::start(
			[
				'pgbench', '-n', '-h', $node->host, '-p', $node->port, '-U', 'tenant',
				'-T', $seconds, '-f', "$dir/$name.sql", 'postgres'
			],
			'>', \$out, '2>', \$err),
		\$out, \$err
	  ];
}

# Meanwhile: synchronous imports, and queued ones run by the worker.
my $start = time;
my ($sync, $queued) = (0, 0);
my $round = 0;
while (time - $start < $seconds - 2)
{
	$round++;
	my $f = file(2000, $round);
	my ($rc, $out, $err) = $node->psql('postgres',
		"BEGIN; SET LOCAL upflow.organization_id = 6; SELECT status FROM upflow.upflow_import(6, \$f\$$f\$f\$); COMMIT;",
		extra_params => [ '-U', 'tenant' ]);
	diag "synchronous import $round: $err" if $rc != 0;
	$sync++;
	$f = file(2000, 1000 + $round);
	$node->psql('postgres',
		"BEGIN; SET LOCAL upflow.organization_id = 6; SELECT upflow.submit_import(6, \$f\$$f\$f\$); COMMIT;",
		extra_params => [ '-U', 'tenant' ]);
	$node->psql('postgres', 'CALL upflow.run_import_queue()');
	$queued++;
}
my $transactions = 0;
for my $e (@editors)
{
	my ($name, $h, $out, $err) = @$e;
	$h->finish;
	my ($n) = $$out =~ /number of transactions actually processed: (\d+)/;
	$n //= 0;
	note "editor $name: $n transactions";
	cmp_ok($n, '>', 100, "editor $name ran its transactions") or diag $$err;
	$transactions += $n;
}
$node->psql('postgres', 'CALL upflow.run_import_queue()');
note "$sync synchronous and $queued queued imports, $transactions edits";

is($node->safe_psql('postgres', q{SELECT count(*) FROM upflow.import}),
	1 + $sync + $queued, 'every import was recorded');
is($node->safe_psql('postgres',
		q{SELECT string_agg(import_id || ' ' || status || ' ' || coalesce(error, last_error, ''), E'\n')
		    FROM upflow.import WHERE status <> 'succeeded' OR attempts > 0}),
	'', 'every import succeeded, at its first attempt');
is($node->safe_psql('postgres', q{SELECT count(*) FROM upflow.import
	WHERE line_count <> created_count + updated_count + unchanged_count + failed_count + skipped_count}),
	'0', 'every import\'s counts add up');
is($node->safe_psql('postgres', q{SELECT count(*) FROM (SELECT customer_id FROM upflow.contact
	WHERE organization_id = 6 AND is_main GROUP BY customer_id HAVING count(*) > 1) x}),
	'0', 'at most one main contact per customer');
my $log = slurp_file($node->logfile);
unlike($log, qr/deadlock detected/, 'no deadlock detected');
unlike($log, qr/contact_one_main_key.*\n.*upflow_import/, 'no import failed on the one-main index');

$node->stop;
done_testing();
