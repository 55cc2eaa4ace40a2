# Every SQL example of README.md runs, so that the README cannot rot.
#
# The ```sql fenced blocks of README.md are extracted in order and run, in
# one psql session with ON_ERROR_STOP, against a fresh UTF8 database of a
# fresh server (with pg_cron preloaded, when installed, so that scheduling
# examples run too).  Blocks in other languages (```sh, ```json, an
# untagged output block) are not run.
#
# Conventions the README follows for this:
#
# * Blocks run in the order of the README, as a reader would type them
#   from the top: the Installation block creates the extension, Getting
#   started builds on it, and so on.  Every statement ends with ";" (or
#   a psql \gexec, \gset...).
# * The introduction (blocks before the first "## " heading) shows a call
#   that Getting started explains: those blocks run last, in a transaction
#   that is rolled back, when the organization they use exists.
# * Server files are written '/path/to/NAME': the test substitutes its own
#   copies: contacts.csv is examples/contacts.csv, export.csv the same file
#   in Windows-1252 (what Excel writes).  Another name fails the test until
#   it is given a fixture here.
# * Roles the examples create are dropped at the end.
# * Expected output, where the README shows it, is compared:
#   - an untagged block right after the SQL block (blank lines between
#     allowed) is the output of its single query: either a psql table
#     (header, dashes, rows; "(N rows)" optional), compared cell by cell, or
#     the raw text of a single value (as \pset format unaligned prints it;
#     byte order mark and CRLF ignored), compared line by line;
#   - "-- {...}" comment lines right after a query are its JSON result:
#     every key shown must be there with the value shown;
#   - "..." in a cell, a line or a JSON value stands for anything (a line
#     "..." alone: any further lines; "[...]" any array; a ", ..." before
#     a closing brace: any further keys).
#
# UPFLOW_README=path checks another file instead (a draft of the README):
#   UPFLOW_README=/tmp/README.draft.md tools/run-tap t/060_readme_examples.pl
use strict;
use warnings;
use utf8;

use Encode qw(decode encode);
use File::Basename qw(dirname);
use File::Spec;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{UPFLOW_SOURCE_DIR} // dirname(dirname(File::Spec->rel2abs(__FILE__)));
# UPFLOW_README: another file to check (a draft of the README).
my $readme_path = $ENV{UPFLOW_README} // "$root/README.md";
my $tmp = PostgreSQL::Test::Utils::tempdir;

# --- The blocks ------------------------------------------------------------------

my @lines = split /\n/, decode('UTF-8', slurp_file($readme_path));
my (@blocks, $fence, $current, $section);
$section = '';
for my $i (0 .. $#lines)
{
	my $line = $lines[$i];
	if (!defined $fence)
	{
		# (a fence may be indented, in a list item: its lines lose that indent)
		if ($line =~ /^(\s*)(```+|~~~+)\s*([^`\s]*)(.*)$/)
		{
			$fence = $2;
			$current = {
				indent => length $1,
				lang => lc $3,
				info => $3 . $4,
				line => $i + 1,
				section => $section,
				text => '',
				# blank lines since the previous block ended
				follows => (@blocks && !grep { /\S/ } @lines[ $blocks[-1]{end} .. $i - 1 ]) ? $blocks[-1] : undef,
			};
		}
		elsif ($line =~ /^##\s+(.*)/)
		{
			$section = $1;
		}
	}
	elsif ($line =~ /^\s*\Q$fence\E\s*$/)
	{
		$current->{end} = $i + 1;
		push @blocks, $current;
		undef $fence;
	}
	else
	{
		$line =~ s/^ {0,$current->{indent}}//;
		$current->{text} .= "$line\n";
	}
}
BAIL_OUT("README.md: the block opened at line $current->{line} is never closed") if defined $fence;

# An untagged block right after a block is its output.
for my $b (@blocks)
{
	$b->{follows}{output} = $b if $b->{lang} eq '' && $b->{follows};
}
my @sql = grep { $_->{lang} eq 'sql' } @blocks;
note scalar(@sql) . ' sql blocks of ' . scalar(@blocks) . ' fenced blocks in README.md';
cmp_ok(scalar @sql, '>=', 5, 'README.md has SQL examples');

# The role recipe the README shows is examples/app_role.sql (which the
# other tests run) with its role named upflow_app: statement for statement.
{
	my $statements = sub {
		my @s = grep { /\S/ && !/^\s*--/ && !/^\\/ } split /\n/, shift;
		s/\s+--.*$// for @s;
		return join("\n", @s);
	};
	(my $file = decode('UTF-8', slurp_file("$root/examples/app_role.sql"))) =~ s/:"app_role"/upflow_app/g;
	my ($block) = grep { $_->{text} =~ /^CREATE ROLE upflow_app NOLOGIN;/m } @sql;
	ok(defined $block, 'README.md shows the role recipe');
	my $shown = defined $block ? $statements->($block->{text}) : '';
	$shown =~ s/\nCREATE ROLE (?!upflow_app ).*//s;	# the login roles that follow it
	is($shown, $statements->($file), 'the README\'s role recipe is examples/app_role.sql');
}

# --- Fixtures for the server files the examples read -------------------------

my $contacts = slurp_file("$root/examples/contacts.csv");
my %fixture = (
	'contacts.csv' => $contacts,
	'export.csv' => encode('cp1252', decode('UTF-8', $contacts)),
);
for my $name (keys %fixture)
{
	open my $fh, '>:raw', "$tmp/$name" or die "$tmp/$name: $!";
	print $fh $fixture{$name};
	close $fh;
}

# --- The script --------------------------------------------------------------------

my $RS = "\x1e";    # marks our lines in psql's output
my $FS = "\x1f";    # field separator of captured results

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
my $have_cron = -f "$sharedir/extension/pg_cron.control";
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'readme'
cron.use_background_workers = on
max_worker_processes = 16
}) if $have_cron;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE readme');
my $roles_before = $node->safe_psql('postgres', 'SELECT string_agg(rolname, \' \' ORDER BY rolname) FROM pg_roles');

# The introduction's blocks run last.
my @intro = grep { $_->{section} eq '' } @sql;
my @ordered = ((grep { $_->{section} ne '' } @sql), @intro);

my $script = "\\set ON_ERROR_STOP 1\n\\pset pager off\n";
my $script_line = 2;
my @problems;
for my $n (0 .. $#ordered)
{
	my $b = $ordered[$n];
	my $text = $b->{text};

	# Server files.
	$text =~ s{'/path/to/([^'/]+)'}{
		if (exists $fixture{$1}) { "'$tmp/$1'" }
		else { push @problems, "README.md line $b->{line}: no fixture for '/path/to/$1' (add one to t/060_readme_examples.pl)"; "'/path/to/$1'" }
	}ge;

	# The statement must be complete: nothing after its last semicolon but
	# comments.
	my $code = sql_code($text);
	push @problems, "README.md line $b->{line}: the block does not end with a semicolon (or a \\g command)"
	  if $code =~ /\S/ && $code !~ /(?:;|^\\g\w*[^\n]*)\s*\z/m;

	# What to compare: a psql table or raw text in the next block, or the
	# JSON in the comments after the query.
	my $statements = () = $code =~ /;/g;
	if ($b->{output} || $b->{text} =~ /;[ \t]*\n(?:--[^\n]*\n)*-- [{\[]/)
	{
		$b->{compare} = $statements == 1;
		note "README.md line $b->{line}: output shown but not compared (several statements)"
		  unless $b->{compare};
	}

	my $pre = "\\echo '${RS}BEGIN $n'\n";
	$pre .= "\\pset format unaligned\n\\pset fieldsep '$FS'\n\\pset recordsep_zero\n\\pset footer off\n\\pset tuples_only off\n"
	  if $b->{compare};
	$pre .= "BEGIN;\n" if $b->{section} eq '';
	my $post = $b->{section} eq '' ? "ROLLBACK;\n" : '';
	$post .= "\\echo '${RS}END $n'\n";
	$post .= "\\pset format aligned\n\\pset fieldsep '|'\n\\pset recordsep '\\n'\n\\pset footer on\n"
	  if $b->{compare};

	my $pre_lines = () = $pre =~ /\n/g;
	$b->{first} = $script_line + $pre_lines + 1;
	$script .= $pre . $text . $post;
	$script_line += $pre_lines + (() = $text =~ /\n/g) + (() = $post =~ /\n/g);
	$b->{last} = $script_line;
	$b->{n} = $n;
}
ok(!@problems, 'every SQL block is complete and every server file has a fixture')
  or diag join "\n", @problems;

open my $fh, '>:encoding(UTF-8)', "$tmp/readme.sql" or die;
print $fh $script;
close $fh;

# --- Run -----------------------------------------------------------------------------

my $started = time;
my ($stdout, $stderr) = ('', '');
my $ok = run_log(
	[
		'psql', '-X', '-q', '-h', $node->host, '-p', $node->port, '-d', 'readme',
		'-v', 'ON_ERROR_STOP=1', '-f', "$tmp/readme.sql"
	],
	'>', \$stdout, '2>', \$stderr);
$stdout = decode('UTF-8', $stdout);
$stderr = decode('UTF-8', $stderr);
note sprintf('the examples ran in %d s', time - $started);
note "psql said on stderr:\n$stderr" if $stderr ne '';

# The error, if any, and the block it comes from.
my ($error_line) = $stderr =~ /^psql:\Q$tmp\E\/readme\.sql:(\d+): ERROR:/m;
my %output;
while ($stdout =~ /${RS}BEGIN (\d+)\n(.*?)${RS}END \1\n/gs)
{
	$output{$1} = $2;
}
for my $b (@ordered)
{
	my $where = "README.md line $b->{line}" . ($b->{section} eq '' ? ' (introduction, run last)' : " ($b->{section})");
	my $failed = defined $error_line && $error_line >= $b->{first} && $error_line <= $b->{last};
	if ($failed)
	{
		fail("$where runs");
		my ($message) = $stderr =~ /^(psql:\Q$tmp\E\/readme\.sql:$error_line: ERROR:.*?)(?=^psql:|\z)/ms;
		diag "$message\nthe block:\n$b->{text}";
		next;
	}
	if (!exists $output{ $b->{n} })
	{
		fail("$where runs");
		diag 'not run: an earlier block failed';
		next;
	}
	pass("$where runs");
	compare_output($b, $output{ $b->{n} }, $where) if $b->{compare};
}
ok($ok, 'psql ran the whole script') or diag $stderr;

# The Windows-1252 fixture was read as such (else its example proves little).
if ($ok && grep { $_->{text} =~ m{'/path/to/export\.csv'} && $_->{section} ne '' } @sql)
{
	is( $node->safe_psql('readme', q{SELECT count(*) > 0 FROM upflow.import WHERE encoding = 'WIN1252'}),
		't', 'the file sent as bytes (export.csv, Windows-1252) was decoded as WIN1252');
}

# --- Roles the examples created --------------------------------------------------------

my $new_roles = $node->safe_psql('postgres',
	"SELECT string_agg(rolname, ' ' ORDER BY rolname) FROM pg_roles WHERE rolname <> ALL (string_to_array('$roles_before', ' '))");
for my $role (split / /, $new_roles)
{
	for my $db (qw(readme postgres))
	{
		$node->safe_psql($db, qq{DROP OWNED BY "$role"});
	}
	$node->safe_psql('postgres', qq{DROP ROLE "$role"});
}
note "dropped the roles the examples created: $new_roles" if $new_roles ne '';
is($node->safe_psql('postgres', 'SELECT string_agg(rolname, \' \' ORDER BY rolname) FROM pg_roles'),
	$roles_before, 'the roles the examples created are dropped');

$node->stop;
done_testing();

# SQL without its comments and literals: what is left shows the statements.
sub sql_code
{
	my ($sql) = @_;
	$sql =~ s{
		  --[^\n]*                              # comment
		| /\*.*?\*/                            # comment
		| (\$(?:[A-Za-z_]\w*)?\$) .*? \1        # dollar-quoted string
		| [Ee]'(?:[^'\\]|\\.|'')*'              # E'' string
		| '(?:[^']|'')*'                        # string
		| "(?:[^"]|"")*"                        # quoted identifier
	}{ }gsx;
	return $sql;
}

# --- Comparing outputs ---------------------------------------------------------------

# A pattern from a text where "..." stands for anything.
sub ellipsis_pattern
{
	my ($text) = @_;
	return '^' . join('.*', map { quotemeta } split /\.\.\./, $text, -1) . '$';
}

sub compare_output
{
	my ($b, $out, $where) = @_;
	my @records = split /\0/, $out;
	my @header = split /$FS/, shift(@records) // '', -1;
	my @rows = map { [ split /$FS/, $_, -1 ] } @records;

	if (!$b->{output})
	{
		# JSON in the comments after the query.
		my ($comment) = $b->{text} =~ /;[ \t]*\n((?:--[^\n]*\n)+)/;
		(my $json = $comment) =~ s/^--\s?//mg;
		$json =~ s/\[\s*\.\.\.\s*\]/"\\u0000ANY"/g;
		$json =~ s/,\s*\.\.\.\s*([}\]])/$1/g;
		$json =~ s/:\s*\.\.\.\s*([,}])/: "\\u0000ANY"$1/g;
		my $expected = eval { JSON::PP->new->decode($json) };
		if (!defined $expected)
		{
			fail("$where: the JSON shown in comments parses");
			diag "$@\n$json";
			return;
		}
		my $actual = eval { JSON::PP->new->decode($rows[0][0] // '') };
		my @diff = json_subset($expected, $actual, '');
		ok(@rows == 1 && @header == 1 && !@diff, "$where: the JSON result is as shown")
		  or diag join("\n", @diff) . "\ngot: " . ($rows[0][0] // '(no row)');
		return;
	}

	my @shown = split /\n/, $b->{output}{text};
	if (@shown >= 2 && $shown[1] =~ /^-+(\+-+)*$/)
	{
		# A psql table.
		my @want_header = map { s/^\s+|\s+$//gr } split /\|/, $shown[0], -1;
		my @want_rows;
		my $open_ended = 0;
		for my $line (@shown[ 2 .. $#shown ])
		{
			next if $line =~ /^\(\d+ rows?\)$/ || $line !~ /\S/;
			if ($line =~ /^\s*\.\.\.\s*$/)
			{
				$open_ended = 1;
				last;
			}
			push @want_rows, [ map { s/^\s+|\s+$//gr } split /\|/, $line, -1 ];
		}
		is_deeply(\@header, \@want_header, "$where: the columns are as shown");
		my @diff;
		push @diff, sprintf('%d rows shown, %d returned', scalar @want_rows, scalar @rows)
		  if $open_ended ? @rows < @want_rows : @rows != @want_rows;
		for my $r (0 .. $#want_rows)
		{
			for my $c (0 .. $#{ $want_rows[$r] })
			{
				my $want = $want_rows[$r][$c];
				my $got = $rows[$r][$c] // '(missing)';
				$got =~ s/\s+$//;
				my $pattern = ellipsis_pattern($want);
				push @diff, sprintf("row %d, column %s: shown \"%s\", got \"%s\"", $r + 1, $want_header[$c] // $c + 1, $want, $got)
				  unless $got =~ /$pattern/s;
			}
		}
		ok(!@diff, "$where: the rows are as shown") or diag join "\n", @diff;
		return;
	}

	# Raw text: the values, one after the other.
	my $text = join "\n", map { join "\t", @$_ } @rows;
	$text =~ s/^\x{FEFF}//;
	$text =~ s/\r\n?/\n/g;
	my @got = split /\n/, $text;
	my @diff;
	for my $i (0 .. $#shown)
	{
		last if $shown[$i] =~ /^\s*\.\.\.\s*$/;
		my $pattern = ellipsis_pattern($shown[$i]);
		push @diff, sprintf("line %d: shown \"%s\", got \"%s\"", $i + 1, $shown[$i], $got[$i] // '(missing)')
		  unless defined $got[$i] && $got[$i] =~ /$pattern/s;
		if ($i == $#shown && @got > @shown)
		{
			push @diff, sprintf('%d lines shown, %d returned', scalar @shown, scalar @got);
		}
	}
	ok(!@diff, "$where: the text is as shown") or diag join "\n", @diff;
}

# Differences between a JSON value shown (a subset: objects may have more
# keys) and the actual one.
sub json_subset
{
	my ($want, $got, $path) = @_;
	return () if !ref $want && defined $want && $want eq "\0ANY";
	if (ref $want eq 'HASH')
	{
		return ("$path: an object is shown, got " . (defined $got ? encode_json([$got]) : 'null'))
		  unless ref $got eq 'HASH';
		return map { exists $got->{$_} ? json_subset($want->{$_}, $got->{$_}, "$path.$_") : ("$path.$_: missing") }
		  sort keys %$want;
	}
	if (ref $want eq 'ARRAY')
	{
		return ("$path: an array is shown") unless ref $got eq 'ARRAY' && @$got == @$want;
		return map { json_subset($want->[$_], $got->[$_], "$path\[$_]") } 0 .. $#$want;
	}
	my ($w, $g) = map { !defined $_ ? 'null' : JSON::PP::is_bool($_) ? ($_ ? 'true' : 'false') : ref $_ ? encode_json($_) : $_ }
	  ($want, $got);
	return $w eq $g ? () : ("$path: shown $w, got $g");
}
