
# Copyright (c) upflow_import contributors
#
# t/040_cli.pl -- the command-line importer bin/upflow-import against a real
# server: exit statuses, the summary, --errors-out, --dry-run, --async and
# --wait, files in other encodings sent as bytes, libpq connection
# conventions (-h -p -d -U, PG* variables, password file), the progress bar
# on a terminal, cancellation, and that no server-side path is ever sent.
#
# Needs the extension installed (make install).  The CLI is the one built
# in bin/ (UPFLOW_IMPORT_CLI overrides), else the installed one.

use strict;
use warnings;
use utf8;

use Digest::SHA qw(sha256_hex);
use Encode qw(encode);
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = dirname(dirname(File::Spec->rel2abs(__FILE__)));
my $cli = $ENV{UPFLOW_IMPORT_CLI};
if (!defined $cli)
{
	my $bindir = `pg_config --bindir`;
	chomp $bindir;
	$cli = -x "$root/bin/upflow-import" ? "$root/bin/upflow-import" : "$bindir/upflow-import";
}
plan skip_all => "no upflow-import binary ($cli); run make first" unless -x $cli;

my $node = PostgreSQL::Test::Cluster->new('cli');
$node->init;
# Every statement and its parameters in the log: what the CLI sends is
# checked below.
$node->append_conf('postgresql.conf', "log_statement = 'all'\n");
# A password-authenticated tenant role, for the password-file test.
{
	my $hba = $node->data_dir . '/pg_hba.conf';
	my $rules = slurp_file($hba);
	open my $fh, '>', $hba or die "could not write $hba: $!";
	print $fh "local all acme_web scram-sha-256\n$rules";
	close $fh;
}
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION upflow_import;
	INSERT INTO upflow.organization (organization_id, name)
	VALUES (1, 'Acme'), (2, 'Not enabled'), (3, 'Dry'), (4, 'Encodings'), (5, 'Queue'), (6, 'Tenant');
	SELECT upflow.enable_csv_import(o) FROM unnest(ARRAY[1, 3, 4, 5, 6]) o;
	INSERT INTO upflow.member (organization_id, member_id, email, full_name)
	VALUES (1, 10, 'ana@acme.test', 'Ana');
});
# The README's role recipe, the file itself.
$node->safe_psql('postgres', "\\set app_role upflow_app\n\\i $root/examples/app_role.sql\n");
$node->safe_psql('postgres', q{
	CREATE ROLE acme_web LOGIN PASSWORD 'web secret' IN ROLE upflow_app;
});

my $dir = PostgreSQL::Test::Utils::tempdir;

sub write_file
{
	my ($name, $bytes) = @_;
	my $path = "$dir/$name";
	open my $fh, '>:raw', $path or die "could not write $path: $!";
	print $fh $bytes;
	close $fh;
	return $path;
}

# Run the CLI off a terminal; PGHOST/PGPORT/PGDATABASE name the node unless
# the test says otherwise.  Returns (exit status, stdout, stderr).
sub cli
{
	my ($args, %o) = @_;
	my ($in, $out, $err) = ($o{stdin} // '', '', '');
	local %ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port,
		PGDATABASE => 'postgres', %{ $o{env} // {} });
	delete $ENV{$_} for @{ $o{unset} // [] };
	IPC::Run::run([ $cli, @$args ], '<', \$in, '>', \$out, '2>', \$err,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	return ($? >> 8, $out, $err);
}

# A query's result, as characters.
sub query { return Encode::decode('UTF-8', $node->safe_psql('postgres', shift)); }

# The summary's "name: value" lines as a hash.
sub summary
{
	my %s;
	for (split /\n/, shift)
	{
		$s{$1} = $2 if /^(\w+):\s+(.*)$/;
	}
	return \%s;
}

my $header = "Customer name;Client ID (External Id);Contact email address;First name;Family name;Phone number;Position;Main contact\n";
my $clean = write_file('clean.csv', $header
	  . "Alpha;A-1;one\@alpha.test;Ann;One;;Boss;1\n"
	  . "Alpha;A-1;two\@alpha.test;Bob;Two;;;0\n");
my $broken = write_file('broken.csv', $header
	  . "Beta;B-1;ok\@beta.test;Bea;Ok;;;\n"
	  . "Beta;B-1;not-an-email;Ben;Bad;;;\n"
	  . "Beta;B-1;\"unclosed\@beta.test;Bo;Quote;;;\n"
	  . "Beta;B-1;last\@beta.test;Lu;Last;;;\n");
my $all_bad = write_file('all_bad.csv', $header . "Gamma;G-1;nope;G;H;;;\n");

my $log_offset = -s $node->logfile;

#
# Options and usage
#
my ($rc, $out, $err) = cli(['--help']);
is($rc, 0, '--help exits 0');
like($out, qr/--org=ID .*required.*--errors-out=FILE.*Exit status: 0 succeeded, 1 partially succeeded, 2 failed/s,
	'--help documents options and exit statuses');
($rc, $out) = cli(['--version']);
like($out, qr/^upflow-import \(upflow_import\) \d+\.\d+/, '--version');
($rc, $out, $err) = cli([$clean]);
is($rc, 2, 'no --org: exit 2');
like($err, qr/--org is required/, 'no --org: says so');
($rc, $out, $err) = cli([ '--org', '1' ]);
is($rc, 2, 'no FILE: exit 2');
($rc, $out, $err) = cli([ '--org', '1', '--dry-run', '--async', $clean ]);
like($err, qr/cannot be combined/, '--async with --dry-run is refused');
($rc, $out, $err) = cli([ '--org', '1', "$dir/missing.csv" ]);
is($rc, 2, 'missing file: exit 2');
like($err, qr/could not open file .*missing\.csv/, 'missing file: says so');

#
# Exit statuses and the summary
#
($rc, $out, $err) = cli([ '--org', '1', $clean ]);
is($rc, 0, 'clean file: exit 0');
is($err, '', 'off a terminal, nothing on stderr');
my $s = summary($out);
is($s->{status}, 'succeeded', 'clean file: status succeeded');
is_deeply([ @$s{qw(lines created failed)} ], [ 2, 2, 0 ], 'clean file: counts');
is($s->{file}, 'clean.csv', 'file name is the basename');
is(query("SELECT file_name || ' ' || status FROM upflow.import_history WHERE import_id = $s->{import}"),
	'clean.csv succeeded', 'the history has the import under its basename');

($rc, $out, $err) = cli([ '--org', '1', $broken ]);
is($rc, 1, 'broken file: exit 1 (partially succeeded)');
$s = summary($out);
my $broken_id = $s->{import};
is($s->{status}, 'partially_succeeded', 'broken file: status');
is_deeply([ @$s{qw(lines created failed)} ], [ 4, 2, 2 ], 'broken file: counts');
is(query("SELECT concat_ws(',', line_count, created_count, updated_count, unchanged_count, failed_count, skipped_count, warning_count)
			FROM upflow.import_history WHERE import_id = $broken_id"),
	join(',', @$s{qw(lines created updated unchanged failed skipped warnings)}),
	'summary counts are the history row');
like($out, qr/^line 3: error invalid_email \(email\): .*\n  hint: .+\nline 4: error malformed_csv: /m,
	'summary lists the first problems in file order, with hints');

($rc, $out, $err) = cli([ '--org', '1', $all_bad ]);
is($rc, 2, 'every line failed: exit 2');
is(summary($out)->{status}, 'failed', 'every line failed: status failed');

($rc, $out, $err) = cli([ '--org', '1', '--quiet', $broken ]);
is($rc, 1, '--quiet keeps the exit status');
is($out . $err, '', '--quiet prints nothing');

# examples/contacts.csv: a broken line and invalid values.
($rc, $out, $err) = cli([ '--org', '1', "$root/examples/contacts.csv" ]);
is($rc, 1, 'examples/contacts.csv: exit 1');
like($out, qr/^status:\s+partially_succeeded$/m, 'examples/contacts.csv: partially succeeded');
like($out, qr/^line \d+: error malformed_csv/m, 'examples/contacts.csv: the broken line is listed');

#
# Refusals: the server's message, detail and hint, nothing written
#
my $imports_before = query('SELECT count(*) FROM upflow.import');
($rc, $out, $err) = cli([ '--org', '2', $clean ]);
is($rc, 2, 'organization not enabled: exit 2');
like($err, qr/^ERROR:  CSV import is not enabled for organization 2\nDETAIL:  .+\nHINT:  An administrator enables it with: SELECT upflow\.enable_csv_import\(2\);\n\z/,
	'organization not enabled: message, detail and hint as psql shows them');
is($out, '', 'refusal: no summary');
($rc, $out, $err) = cli([ '--org', '99', $clean ]);
is($rc, 2, 'unknown organization: exit 2');
like($err, qr/^ERROR:  organization 99 does not exist/, 'unknown organization: message');
($rc, $out, $err) = cli([ '--org', '1', '--options', '{"bogus": true}', $clean ]);
is($rc, 2, 'unknown option: exit 2');
like($err, qr/unknown option "bogus"/, 'unknown option: message');
($rc, $out, $err) = cli([ '--org', '1', '--mapping', '{"email": "Courriel"', $clean ]);
is($rc, 2, '--mapping that is not JSON: exit 2');
like($err, qr/^upflow-import: --mapping is not valid JSON: invalid input syntax for type json/,
	'--mapping that is not JSON: the message names the option');
($rc, $out, $err) = cli([ '--org', '1', '--options', '["dry_run"]', $clean ]);
is($rc, 2, '--options that is not an object: exit 2');
like($err, qr/^upflow-import: --options must be a JSON object \(\{\.\.\.\}\), not a JSON array$/,
	'--options that is not an object: says so');
($rc, $out, $err) = cli([ '--org', '1', '--mapping', '{"email": "Courriel"}', $clean ]);
is($rc, 2, 'mapping to a missing header: exit 2');
like($err, qr/HINT:  /, 'mapping refusal: hint shown');
is(query('SELECT count(*) FROM upflow.import'), $imports_before, 'refusals wrote nothing');

#
# --errors-out: the bytes of upflow.error_lines_csv
#
my $errors_file = "$dir/errors.csv";
($rc, $out, $err) = cli([ '--org', '1', '--errors-out', $errors_file, $broken ]);
is($rc, 1, '--errors-out: exit status of the import');
my $errors_id = summary($out)->{import};
my $written = slurp_file($errors_file);
is(unpack('H*', $written),
	query("SELECT encode(convert_to(upflow.error_lines_csv($errors_id), 'UTF8'), 'hex')"),
	'--errors-out writes upflow.error_lines_csv byte for byte');
like($written, qr/^\xEF\xBB\xBFCustomer name;.*;Error\r\n/, 'error file: BOM, header with Error column, CRLF');
is(scalar(() = $written =~ /\r\n/g), 3, 'error file: header and the two failed lines');
like($written, qr/^Beta;B-1;not-an-email;/m, 'error file: a failed line as uploaded');
($rc, $out, $err) = cli([ '--org', '1', '--errors-out', $errors_file, '--quiet', $clean ]);
is(scalar(() = slurp_file($errors_file) =~ /\r\n/g), 1, 'error file of a clean import: the header only');

($rc, $out, $err) = cli([ '--org', '1', '--errors-out', $errors_file, $broken ]);
like($err, qr/: 2 failed lines written to \Q$errors_file\E$/m, '--errors-out says how many lines it wrote');
($rc, $out, $err) = cli([ '--org', '1', '--errors-out', $errors_file, $clean ]);
like($err, qr/: no failed line: \Q$errors_file\E holds the header only$/m,
	'--errors-out says when the file holds the header only');

#
# --dry-run: the preview, nothing written
#
my $counts = q{SELECT (SELECT count(*) FROM upflow.import) || '/' || (SELECT count(*) FROM upflow.contact)
					|| '/' || (SELECT count(*) FROM upflow.customer) || '/' || (SELECT count(*) FROM upflow.import_error)};
my $before = query($counts);
($rc, $out, $err) = cli([ '--org', '3', '--dry-run', $broken ]);
is($rc, 1, '--dry-run: exit status the import would have');
$s = summary($out);
is($s->{import}, 'dry run, nothing written', '--dry-run: says it wrote nothing');
is_deeply([ @$s{qw(status lines created failed)} ], [ 'partially_succeeded', 4, 2, 2 ],
	'--dry-run: the counts an import would have');
like($out, qr/^line 3: error invalid_email/m, '--dry-run: the first errors');
is(query($counts), $before, '--dry-run wrote nothing (imports, contacts, customers, errors)');
my $dry_errors = "$dir/dry-errors.csv";
($rc, $out, $err) = cli([ '--org', '3', '--dry-run', '--errors-out', $dry_errors, $broken ]);
is($rc, 1, '--dry-run --errors-out: exit status the import would have');
like($err, qr/: 2 failed lines written to \Q$dry_errors\E$/m, '--dry-run --errors-out: says what it wrote');
is(query($counts), $before, '--dry-run --errors-out wrote nothing to the tables');
($rc, $out, $err) = cli([ '--org', '3', $broken ]);
$s = summary($out);
is_deeply([ @$s{qw(status lines created failed)} ], [ 'partially_succeeded', 4, 2, 2 ],
	'the real import does what the dry run said');
is(unpack('H*', slurp_file($dry_errors)),
	query("SELECT encode(convert_to(upflow.error_lines_csv($s->{import}), 'UTF8'), 'hex')"),
	'--dry-run --errors-out wrote the file the real import offers, byte for byte');
($rc, $out, $err) = cli([ '--org', '2', '--dry-run', $clean ]);
is($rc, 2, '--dry-run of a refused import: exit 2');
like($err, qr/not enabled/, '--dry-run of a refused import: the message');

#
# Encodings: the file goes as bytes, the server decodes it
#
# Strings of this file are characters (use utf8); files get bytes.
my $enc_header = "Nom du client;ID client;Email;Prénom;Nom\r\n";
my $enc_rows = "Crêperie Bréhat;W-1;anne\@crepe.test;Anne;Lé Goff\r\nŒuvres & Cie;W-2;zoe\@oeuvres.test;Zoë;Müller\r\n";
my $cp1252 = write_file('win.csv', encode('cp1252', $enc_header . $enc_rows));
($rc, $out) = cli([ '--org', '4', $cp1252 ]);
is($rc, 0, 'Windows-1252 file: exit 0');
is(summary($out)->{encoding}, 'WIN1252', 'Windows-1252 file: detected');
is(query(q{SELECT string_agg(first_name || ' ' || family_name, ', ' ORDER BY email) FROM upflow.contact WHERE organization_id = 4}),
	'Anne Lé Goff, Zoë Müller', 'Windows-1252 file: accents and Œ stored right');

my $utf16 = write_file('utf16.csv', encode('UTF-16LE', "\x{FEFF}Customer name,Client ID (External Id),Contact email address,First name\r\n山田商事,J-1,taro\@yamada.test,太郎\r\n"));
($rc, $out) = cli([ '--org', '4', $utf16 ]);
is($rc, 0, 'UTF-16 file: exit 0');
is(summary($out)->{encoding}, 'UTF-16LE', 'UTF-16 file: detected by its BOM');
is(query(q{SELECT first_name FROM upflow.contact WHERE organization_id = 4 AND email = 'taro@yamada.test'}),
	'太郎', 'UTF-16 file: stored right');

my $latin9 = write_file('latin9.csv', encode('iso-8859-15', "Customer name;Client ID (External Id);Contact email address;Position\nEuro SA;E-1;euro\@sa.test;Trésorier €\n"));
($rc, $out) = cli([ '--org', '4', '--encoding', 'LATIN9', $latin9 ]);
is($rc, 0, '--encoding LATIN9: exit 0');
is(summary($out)->{encoding}, 'LATIN9', '--encoding is passed on');
is(query(q{SELECT position FROM upflow.contact WHERE organization_id = 4 AND email = 'euro@sa.test'}),
	'Trésorier €', '--encoding: decoded by the server as asked');

my $utf8 = slurp_file($clean);	# bytes
($rc, $out) = cli([ '--org', '4', '--file-name', 'from-stdin.csv', '--delimiter', ';', '-' ], stdin => $utf8);
is($rc, 0, 'FILE "-" reads stdin');
$s = summary($out);
is($s->{file}, 'from-stdin.csv', '--file-name is kept');
# Saved mappings: --save-mapping, found again by the headers, --list-mappings, --mapping-name.
my $ledger1 = write_file('ledger1.csv', "Tiers;Ref;Mail\nLedger SA;L-1;l1\@ledger.test\n");
my $ledger2 = write_file('ledger2.csv', "MAIL;ref;tiers\nl2\@ledger.test;L-1;Ledger SA\n");
($rc, $out, $err) = cli([ '--org', '4', '--mapping', '{"customer_name": "Tiers", "external_id": "Ref", "email": "Mail"}',
	'--save-mapping', 'Monthly ledger', $ledger1 ]);
is($rc, 0, '--save-mapping: exit 0') or diag $err;
($rc, $out, $err) = cli([ '--org', '4', '--list-mappings' ]);
is($rc, 0, '--list-mappings: exit 0');
like($out, qr/^Monthly ledger\tsaved \d{4}-\d\d-\d\d \d\d:\d\d\t\{"email": "Mail", "external_id": "Ref", "customer_name": "Tiers"\}$/m,
	'--list-mappings: the name, when, the mapping');
($rc, $out, $err) = cli([ '--org', '4', $ledger2 ]);
is($rc, 0, 'the same headers in another order and case: imported without a mapping') or diag $err;
is(query('SELECT saved_mapping FROM upflow.import WHERE import_id = ' . summary($out)->{import}), 'Monthly ledger',
	'the history names the saved mapping used');
($rc, $out, $err) = cli([ '--org', '4', '--mapping-name', 'Nope', $ledger2 ]);
is($rc, 2, '--mapping-name of no saved mapping: exit 2');
like($err, qr/^ERROR:  saved mapping "Nope" does not exist\nDETAIL:  The organization's saved mappings are: "Monthly ledger"\./m,
	'--mapping-name of no saved mapping: says which there are');
($rc, $out, $err) = cli([ '--org', '4', '--mapping-name', 'Monthly ledger', $ledger2 ]);
is($rc, 0, '--mapping-name: exit 0') or diag $err;

# --revert: the ledger import undone; --dry-run shows it first, field by
# field; a value changed since is kept unless --force.
my $ledger_import = summary($out)->{import};
my $r;
my $ledger3 = write_file('ledger3.csv', "Tiers;Ref;Mail;Fonction\nLedger SA;L-1;l1\@ledger.test;Comptable\nLedger SA;L-1;l3\@ledger.test;\n");
($rc, $out, $err) = cli([ '--org', '4', '--mapping-name', 'Monthly ledger', $ledger3 ]);
is($rc, 0, 'a third ledger file: a position set, a contact created') or diag $err;
my $to_revert = summary($out)->{import};
query(q{UPDATE upflow.contact SET position = 'Chef comptable', updated_at = now() WHERE organization_id = 4 AND email = 'l1@ledger.test'});
($rc, $out, $err) = cli([ '--org', '4', '--revert', $to_revert, '--dry-run' ]);
is($rc, 1, '--revert --dry-run: exit 1, a value would be kept, a contact deleted') or diag $err;
like($out, qr/^kept: line 2, contact "l1\@ledger\.test" of customer "L-1", position: now "Chef comptable", the import wrote "Comptable", before it empty\n/m,
	'--revert --dry-run: the kept value, with what the import wrote and what was before');
like($out, qr/^delete: contact "l3\@ledger\.test" of customer "L-1", created by the import$/m,
	'--revert --dry-run: the contact it created would be deleted');
$r = summary($out);
is("$r->{import} $r->{reverts} $r->{deleted} $r->{kept}", "dry run, nothing written $to_revert 1 1",
	'--revert --dry-run: the counts of the revert, nothing written');
is(query("SELECT count(*) FROM upflow.import WHERE reverts_import_id IS NOT NULL"), '0', '--dry-run wrote no revert');
($rc, $out, $err) = cli([ '--org', '4', '--revert', $to_revert, '--force', '--submitted-by', '10' ]);
like($err, qr/member 10 of organization 4 does not exist/, '--revert --submitted-by: a member of another organization is refused');
($rc, $out, $err) = cli([ '--org', '4', '--revert', $to_revert, '--force' ]);
is($rc, 0, '--revert --force: exit 0') or diag $err;
$r = summary($out);
is("$r->{status} $r->{reverts} $r->{restored} $r->{deleted} $r->{kept}", "succeeded $to_revert 1 1 0",
	'--revert --force: the position put back, the contact deleted');
is(query(q{SELECT coalesce(position, 'empty') FROM upflow.contact WHERE organization_id = 4 AND email = 'l1@ledger.test'}),
	'empty', 'the position is the one from before the import');
($rc, $out, $err) = cli([ '--org', '4', '--revert', $to_revert ]);
is($rc, 2, 'a second --revert: exit 2');
like($err, qr/^ERROR:  import $to_revert was already reverted\nDETAIL:  Import $r->{import} reverted it\./m,
	'a second --revert: refused, naming the revert');
($rc, $out, $err) = cli([ '--org', '4', '--revert', $to_revert, $ledger3 ]);
like($err, qr/--revert takes no FILE/, '--revert takes no FILE');
($rc, $out, $err) = cli([ '--org', '4', '--force', $ledger3 ]);
like($err, qr/--force goes with --revert/, '--force without --revert is refused');
($rc, $out, $err) = cli([ '--org', '1', '--revert', $ledger_import ]);
like($err, qr/^ERROR:  import $ledger_import does not exist/m, 'another organization\'s import cannot be reverted');

my $tabbed = write_file('tabbed.csv', "Customer name\tClient ID\tEmail\nTab SA\tT-1\ttab\@sa.test\n");
($rc, $out) = cli([ '--org', '4', $tabbed ]);
is(summary($out)->{delimiter}, 'tab', 'a tab separator is printed as "tab"');
is(query("SELECT file_sha256 FROM upflow.import WHERE import_id = $s->{import}"), sha256_hex($utf8),
	'the server got the bytes of the file (sha256)');

my $mapping = write_file('mapping.json', '{"customer_name": 1, "external_id": "Client ID (External Id)", "email": 3}');
($rc, $out) = cli([ '--org', '1', '--mapping', "\@$mapping", '--submitted-by', '10', $clean ]);
is($rc, 0, '--mapping @file and --submitted-by');
$s = summary($out);
is(query("SELECT submitted_by || ' ' || (mapping->>'customer_name' IS NOT NULL) FROM upflow.import WHERE import_id = $s->{import}"),
	'10 true', '--submitted-by and the mapping are recorded');

#
# --async and --wait
#
($rc, $out, $err) = cli([ '--org', '5', '--async', $broken ]);
is($rc, 0, '--async: exit 0');
like($out, qr/^\d+\n\z/, '--async prints the import id only');
chomp(my $queued = $out);
is(query("SELECT status FROM upflow.import_history WHERE import_id = $queued"), 'pending', '--async: pending');

my ($wout, $werr) = ('', '');
my $waiter;
{
	local %ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port, PGDATABASE => 'postgres');
	$waiter = IPC::Run::start([ $cli, '--org', '5', '--wait', $queued, '--errors-out', "$dir/queued-errors.csv" ],
		'<', \'', '>', \$wout, '2>', \$werr,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
}
sleep 2;
$waiter->pump_nb;
ok($waiter->pumpable, '--wait is still waiting while the import is pending');
is(query('SELECT upflow.run_pending_imports()'), '1', 'the worker ran the queued import');
$waiter->finish;
is($waiter->result(0), 1, '--wait: exit status of the finished import');
$s = summary($wout);
is_deeply([ @$s{qw(import status lines created failed)} ], [ $queued, 'partially_succeeded', 4, 2, 2 ],
	'--wait: the summary of the finished import');
is(unpack('H*', slurp_file("$dir/queued-errors.csv")),
	query("SELECT encode(convert_to(upflow.error_lines_csv($queued), 'UTF8'), 'hex')"),
	'--wait --errors-out writes the error lines');
($rc, $out, $err) = cli([ '--org', '5', '--wait', $queued ]);
is($rc, 1, '--wait on a finished import reports it at once');
($rc, $out, $err) = cli([ '--org', '5', '--wait', '999999' ]);
is($rc, 2, '--wait on an unknown import: exit 2');
like($err, qr/import 999999 does not exist/, '--wait on an unknown import: message');
($rc, $out, $err) = cli([ '--org', '1', '--wait', $queued ]);
is($rc, 2, '--wait on another organization\'s import: exit 2');
like($werr, qr/import $queued is pending and pg_cron is not installed in database "postgres": no worker is scheduled here/,
	'--wait says when no worker is scheduled');
# --timeout: the waiting stops, the import goes on.
($rc, $out, $err) = cli([ '--org', '5', '--async', $broken ]);
chomp(my $late = $out);
($rc, $out, $err) = cli([ '--org', '5', '--wait', $late, '--timeout', '1' ]);
is($rc, 2, '--wait --timeout: exit 2 when the import is not finished in time');
like($err, qr/stopped waiting after 1 s; import $late is still pending and goes on/, '--wait --timeout: message');
is(query("SELECT status FROM upflow.import_history WHERE import_id = $late"), 'pending', '--wait --timeout: the import is still pending');
($rc, $out, $err) = cli([ '--org', '5', '--timeout', '1', $broken ]);
is($rc, 2, '--timeout without --wait is a usage error');
query("SELECT upflow.cancel_import($late)");

#
# Connection conventions: -h -p -d -U, PG* variables, password file
#
my @no_env = (unset => [qw(PGHOST PGPORT PGDATABASE PGSERVICE)]);
($rc, $out, $err) = cli([ '-h', $node->host, '-p', $node->port, '-d', 'postgres', '--org', '1', '-q', $clean ], @no_env);
is($rc, 0, '-h -p -d');
($rc, $out, $err) = cli([ '--host', $node->host, '--port', $node->port, '--dbname', 'postgres', '--org', '1', '-q', $clean ], @no_env);
is($rc, 0, '--host --port --dbname');
($rc, $out, $err) = cli([ '-d', $node->connstr('postgres'), '--org', '1', '-q', $clean ], @no_env);
is($rc, 0, '-d with a connection string');
($rc, $out, $err) = cli([ '-d', 'postgresql:///postgres?host=' . $node->host . '&port=' . $node->port, '--org', '1', '-q', $clean ], @no_env);
is($rc, 0, '-d with a URI');
($rc, $out, $err) = cli([ '--org', '1', '-q', $clean ]);
is($rc, 0, 'PGHOST, PGPORT, PGDATABASE');
($rc, $out, $err) = cli([ '-d', 'nosuchdb', '--org', '1', $clean ]);
is($rc, 2, 'unknown database: exit 2');
like($err, qr/^upflow-import: error: .*database "nosuchdb" does not exist/, 'unknown database: libpq\'s message');
$node->safe_psql('postgres', 'CREATE DATABASE plain');
($rc, $out, $err) = cli([ '-d', 'plain', '--org', '1', $clean ]);
is($rc, 2, 'database without the extension: exit 2');
like($err, qr/extension "upflow_import" is not installed.*\nHINT:  Run CREATE EXTENSION/, 'database without the extension: says so');

my $pgpass = write_file('pgpass', '*:*:*:acme_web:web secret' . "\n");
chmod 0600, $pgpass;
($rc, $out, $err) = cli([ '-U', 'acme_web', '-w', '--org', '6', $clean ], env => { PGPASSFILE => "$dir/nopass" });
is($rc, 2, 'password needed, none given, -w: exit 2');
like($err, qr/password/, 'password needed: libpq says so');
($rc, $out, $err) = cli([ '-U', 'acme_web', '--org', '6', $clean ], env => { PGPASSFILE => $pgpass });
is($rc, 0, '-U with the password file: a tenant role imports into its organization');
is(query("SELECT count(*) FROM upflow.contact WHERE organization_id = 6"), '2', 'tenant import: contacts stored');
($rc, $out, $err) = cli([ '-U', 'acme_web', '--org', '1', $clean ],
	env => { PGPASSFILE => $pgpass, PGOPTIONS => '-c upflow.organization_id=6' });
is($rc, 2, 'a tenant already set is kept: another --org is refused');
like($err, qr/^ERROR:  permission denied for organization 1/, 'another organization: insufficient privilege');

#
# No server-side path: the statements carry the bytes, never a path
#
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/upflow\.upflow_import\(\$1, \$2, /, 'the log has the statements the CLI sent');
like($log, qr/parameters: \$1 = '1', \$2 = '\\x[0-9a-f]+', \$3 = NULL, \$4 = 'clean\.csv'/,
	'and their parameters: the file as bytea, its name without a path');
unlike($log, qr/\Q$dir\E/, 'no statement or parameter names a path of the client');
unlike($log, qr/pg_read_(binary_)?file|lo_import|\bCOPY\b/i, 'no server-side file reading');

#
# On a terminal: a progress bar on stderr; Ctrl-C cancels
#
my $big = "$dir/big.csv";
{
	open my $fh, '>', $big or die;
	print $fh $header;
	printf $fh "Client %d;P-%06d;c%d\@p%d.test;First;Last;+33 1 23 45 67 89;Buyer;%s\n",
	  int($_ / 3), int($_ / 3), $_, int($_ / 3), ($_ % 3 ? '' : '1')
	  for 1 .. 100000;
	close $fh;
}
SKIP:
{
	skip 'script(1) is needed for the terminal test', 6
	  unless system('script -V >/dev/null 2>&1') == 0;
	my $tty_out = '';
	local %ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port, PGDATABASE => 'postgres');
	IPC::Run::run([ 'script', '-qec', "$cli --org 1 $big", '/dev/null' ], '<', \'',
		'>', \$tty_out, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	is($? >> 8, 0, 'on a terminal: exit 0');
	like($tty_out, qr/\r[^\r\n]*applying[^\r\n]*\e\[K/, 'on a terminal: the progress line is drawn and redrawn');
	like($tty_out, qr/\r\e\[Kimport:\s+\d+/, 'on a terminal: the bar is cleared before the summary');
	like($tty_out, qr/^lines:\s+100000\r?$/m, 'on a terminal: the summary follows');

	# Another import of the organization holds its lock: the bar says so.
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('BEGIN');
	$holder->query_safe('SELECT upflow.take_import_lock(1, true)');
	$tty_out = '';
	my $h = IPC::Run::start([ 'script', '-qec', "$cli --org 1 $clean", '/dev/null' ], '<', \'',
		'>', \$tty_out, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	$node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity
		   WHERE query LIKE '%upflow.upflow_import(%' AND wait_event_type = 'Lock'})
	  or die 'the import never waited for the lock';
	$h->pump until $tty_out =~ /waiting for another import/;
	$holder->query_safe('COMMIT');
	$holder->quit;
	$h->finish;
	is($h->result(0), 0, 'after the wait for the lock: exit 0');
	like($tty_out, qr/\r[^\r\n]*waiting for another import or edit of this organization/,
		'on a terminal: a wait for the organization\'s lock is shown');
}

$before = query($counts);
{
	my ($cout, $cerr) = ('', '');
	local %ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port, PGDATABASE => 'postgres');
	my $h = IPC::Run::start([ $cli, '--org', '3', $big ], '<', \'', '>', \$cout, '2>', \$cerr,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	$node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM pg_stat_progress_copy})
	  or die 'the import never showed in pg_stat_progress_copy';
	$h->signal('INT');
	$h->finish;
	is($h->result(0), 2, 'Ctrl-C: exit 2');
	like($cerr, qr/canceling statement due to user request/, 'Ctrl-C cancels the statement on the server');
}
is(query($counts), $before, 'Ctrl-C: the import was rolled back');

$node->stop;
done_testing();
