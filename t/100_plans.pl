# Every plan of an import under hostile statistics (README, "Performance").
# The tables of the organization hold rows, but pg_class says they are
# empty, as autovacuum's ANALYZE leaves them while a long import runs (it
# counts the import's uncommitted rows as none); the import's working tables
# have no statistics at all.  auto_explain logs the plan of every statement
# the import runs, the foreign-key checks of its writes included, and none
# may depend on those numbers:
#   * no nested loop reads a table again for each row of its outer side
#     (only set-returning functions over the row, such as
#     jsonb_array_elements, may be nested);
#   * no filter searches a parameter array (element by element, for each
#     row: quadratic with a file's worth of keys; a literal array is hashed);
#   * every foreign-key check finds its row by the referenced primary key
#     (in a table of more than a few pages).
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('plans');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;

my $customers = 1500;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION upflow_import;
	INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme'), (2, 'Other');
	SELECT upflow.enable_csv_import(1), upflow.enable_csv_import(2);
	INSERT INTO upflow.member (organization_id, email)
	SELECT o, 'm' || g || '\@acme.fr' FROM generate_series(1, 5000) g, generate_series(1, 2) o;
});

# Both organizations: $customers customers, 2 contacts each, the first main.
my $seed = "Customer name;Client ID;Email;Position;Main contact\n"
  . join('', map { my $c = $_; map { "Customer $c;C$c;k$_.c$c\@s.fr;p0;" . ($_ == 1 ? '1' : '') . "\n" } 1 .. 2 } 1 .. $customers);
for my $org (1, 2)
{
	is($node->safe_psql('postgres',
			"SELECT status || ' ' || created_count FROM upflow.upflow_import($org, \$f\$$seed\$f\$)"),
		'succeeded ' . 2 * $customers, "organization $org holds " . 2 * $customers . ' contacts');
}

# The file: new contacts of existing customers, new customers, changed
# positions, moved main contacts, account managers, and failing lines.
my $file = "Customer name;Client ID;Email;Position;Main contact;Account manager\n";
for my $c (1 .. 400)
{
	$file .= "Customer $c;C$c;new.c$c\@s.fr;p1;;m" . (1 + $c % 300) . "\@acme.fr\n";
	$file .= "Customer $c;C$c;k2.c$c\@s.fr;p2;" . ($c % 2 ? '1' : '') . ";\n";
	$file .= "New $c;N$c;a.n$c\@s.fr;p1;1;\n";
	$file .= "Customer $c;C$c;not-an-email;p1;;\n" if $c % 10 == 0;
	$file .= "Customer $c;C$c;b.c$c\@s.fr;p1;;nobody\@acme.fr\n" if $c % 20 == 0;
}

my $hostile = q{
	ANALYZE;
	UPDATE pg_class SET reltuples = 0
	 WHERE relnamespace = 'upflow'::regnamespace AND relkind IN ('r', 'i');
};
$node->safe_psql('postgres', $hostile);
my $big_tables = $node->safe_psql('postgres',
		q{SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
		   WHERE relnamespace = 'upflow'::regnamespace AND relkind = 'r' AND reltuples = 0 AND relpages > 10});
is($big_tables, 'contact,customer,member', 'the statistics say the tables holding rows are empty');

my ($rc, $out, $err) = $node->psql('postgres', qq{
	LOAD 'auto_explain';
	SET auto_explain.log_min_duration = 0;
	SET auto_explain.log_nested_statements = on;
	SET auto_explain.log_format = json;
	SET auto_explain.log_level = notice;
	SELECT status, created_count, updated_count, failed_count
	  FROM upflow.upflow_import(1, \$f\$$file\$f\$);
});
is($rc, 0, 'the import ran');
is($out, 'partially_succeeded|800|400|60', 'its counts: 800 created, 400 updated, 60 failed');

# The plans, one JSON document after each "plan:".
my @plans;
my $json = JSON::PP->new;
while ($err =~ /NOTICE:\s+duration: [0-9.]+ ms\s+plan:\s*/g)
{
	my ($plan) = $json->decode_prefix(substr($err, pos($err)));
	push @plans, $plan;
}
cmp_ok(scalar(@plans), '>', 800, 'auto_explain logged every statement, checks included (' . scalar(@plans) . ')');

my %big = map { $_ => 1 } split /,/, $big_tables;
my (@nested, @checks, @bad_checks, @array_filters);
sub walk
{
	my ($node, $query, $in_check) = @_;
	if ($node->{'Node Type'} eq 'Nested Loop')
	{
		my $inner = $node->{Plans}[1];
		push @nested, "$inner->{'Node Type'} in: $query"
		  unless $inner->{'Node Type'} =~ /^(Function Scan|Result|Values Scan)$/;
	}
	for my $filter (grep { defined } @$node{ 'Filter', 'Join Filter' })
	{
		push @array_filters, "$filter in: $query" if $filter =~ /ANY \(\$\d+\)/;
	}
	# (A table of a few pages is read whole, the right plan.)
	if ($in_check && defined $node->{'Relation Name'} && $big{ $node->{'Relation Name'} })
	{
		my $index = $node->{'Index Name'} // '(none)';
		push @bad_checks, "$node->{'Node Type'} on $node->{'Relation Name'} using $index"
		  unless $index eq "$node->{'Relation Name'}_pkey";
	}
	walk($_, $query, $in_check) for @{ $node->{Plans} // [] };
}
for my $p (@plans)
{
	my $query = $p->{'Query Text'} // '';
	my $check = $query =~ /^SELECT 1 FROM ONLY/;
	push @checks, $query if $check;
	walk($p->{Plan}, substr($query, 0, 200), $check);
}
my %checked = map { /FROM ONLY "upflow"\."(\w+)"/ ? ($1 => 1) : () } @checks;
is(join(',', sort keys %checked), 'customer,import,member,organization',
	'the foreign-key checks of customers, contacts and problems were planned');
is_deeply(\@bad_checks, [], 'every foreign-key check uses the primary key');
is_deeply(\@nested, [], 'no nested loop reads a table per row');
is_deeply(\@array_filters, [], 'no filter searches a parameter array');

$node->stop;
done_testing();
