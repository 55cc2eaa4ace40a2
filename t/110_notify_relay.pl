# bin/upflow-notify, the notification relay, against a real server, a local
# SMTP sink (python3-aiosmtpd) and a local HTTP server standing in for
# Slack, all on loopback:
#
# * every finished import produces exactly the deliveries its member asked
#   for, and the email and Slack bodies say the right things;
# * SMTP down, then up: delivered later; Slack 500 then 200: delivered once;
#   404: failed with the reason; SMTP 550: failed; 451: retried;
# * killed with kill -9 in the middle of a batch and restarted: every
#   delivery ends sent, none lost, at most the one in flight sent twice;
# * two relays at once: no delivery sent twice;
# * a wake-up (LISTEN) delivers at once; a forged pg_notify sends nothing;
# * SMTP authentication (530 without it, sent with it);
# * a tenant reads its own deliveries only, and no webhook URL.
#
# The relay is the one built in bin/ (UPFLOW_NOTIFY overrides), else the
# installed one.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use IPC::Run;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = dirname(dirname(File::Spec->rel2abs(__FILE__)));
my $relay = $ENV{UPFLOW_NOTIFY};
if (!defined $relay)
{
	my $bindir = `pg_config --bindir`;
	chomp $bindir;
	$relay = -x "$root/bin/upflow-notify" ? "$root/bin/upflow-notify" : "$bindir/upflow-notify";
}
plan skip_all => "no upflow-notify binary ($relay); run make first" unless -x $relay;
plan skip_all => 'python3-aiosmtpd is missing (make deps)'
  unless system('/usr/bin/python3', '-c', 'import aiosmtpd') == 0;

my $node = PostgreSQL::Test::Cluster->new('relay');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION upflow_import;
	INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme'), (2, 'Globex');
	SELECT upflow.enable_csv_import(1), upflow.enable_csv_import(2);
	-- Ana: in-app and email; Ben: Slack only; Cy: email and Slack; Dee: nothing.
	INSERT INTO upflow.member (organization_id, member_id, email, full_name, notify_in_app, notify_email, notify_slack)
	VALUES (1, 10, 'ana@acme.test', 'Ana Lopès', true, true, false),
		   (1, 11, 'ben@acme.test', 'Ben', false, false, true),
		   (1, 12, 'cy@acme.test', 'Cy', false, true, true),
		   (1, 13, 'dee@acme.test', 'Dee', false, false, false),
		   (2, 20, 'homer@globex.test', 'Homer', true, true, true);
});
$node->safe_psql('postgres', "\\set app_role upflow_app\n\\i $root/examples/app_role.sql\n");
$node->safe_psql('postgres', "\\i $root/examples/relay_role.sql\n");
$node->safe_psql('postgres', 'CREATE ROLE acme_web LOGIN IN ROLE upflow_app');

my $dir = PostgreSQL::Test::Utils::tempdir;
my $smtp_port = PostgreSQL::Test::Cluster::get_free_port();
my $http_port = PostgreSQL::Test::Cluster::get_free_port();
my $mail_dir = "$dir/mail";
my $http_dir = "$dir/http";
mkdir $mail_dir;
my $hook = "http://127.0.0.1:$http_port/services";
$node->safe_psql('postgres', "SELECT upflow.set_slack_webhook(1, '$hook/acme'), upflow.set_slack_webhook(2, '$hook/flaky-globex')");

# Wait until $cond returns true, at most $seconds.
sub wait_for
{
	my ($cond, $seconds) = @_;
	my $until = time + $seconds;
	while (time < $until)
	{
		return 1 if $cond->();
		usleep(50_000);
	}
	return $cond->();
}

my ($smtp, $http);
sub start_smtp
{
	unlink "$mail_dir/ready";
	$smtp = IPC::Run::start(["$root/test/notify/smtp_sink.py", $smtp_port, $mail_dir],
		'>', "$dir/smtp.log", '2>&1');
	wait_for(sub { -e "$mail_dir/ready" }, 20) or die "the SMTP sink did not start: " . slurp_file("$dir/smtp.log");
}
sub stop_smtp { $smtp->signal('TERM'); $smtp->finish; }
sub smtp_setting
{
	my ($name, $value) = @_;
	open my $fh, '>', "$mail_dir/$name" or die $!;
	print $fh $value;
	close $fh;
}

$http = IPC::Run::start(["$root/test/notify/http_sink.py", $http_port, $http_dir], '>', "$dir/http.log", '2>&1');
wait_for(sub { -e "$http_dir/ready" }, 20) or die "the HTTP sink did not start";

# An import by the tenant's role, as the application makes it.
my $file_no = 0;
sub import_as_tenant
{
	my ($org, $member, $failed, $name) = @_;
	$file_no++;
	my $csv = "Customer;Client ID;Email\nCust $file_no;C$file_no;c$file_no\@x.test\n";
	$csv .= "Cust $file_no;C$file_no;not-an-email\n" if $failed;
	$name //= "file-$file_no.csv";
	return $node->safe_psql('postgres', qq{
		BEGIN;
		SET LOCAL upflow.organization_id = $org;
		SELECT import_id FROM upflow.upflow_import($org, \$f\$$csv\$f\$, file_name => '$name', submitted_by => $member);
		COMMIT;
	}, extra_params => ['-U', 'acme_web']);
}

my @relay_args = ('-h', $node->host, '-p', $node->port, '-d', 'postgres', '-U', 'upflow_relay',
	'--smtp', "smtp://127.0.0.1:$smtp_port", '--from', 'Upflow <noreply@upflow.test>',
	'--download-url', 'https://app.upflow.test/{organization_id}/imports/{import_id}/errors',
	'--retry-delay', '1', '--timeout', '5');

# Run the relay with --once; returns (exit status, stdout, stderr).
sub relay_once
{
	my @extra = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([$relay, @relay_args, '--once', @extra], '>', \$out, '2>', \$err,
		IPC::Run::timeout(120));
	return ($? >> 8, $out, $err);
}

sub outbox
{
	my ($where) = @_;
	$where //= 'true';
	return $node->safe_psql('postgres',
		"SELECT string_agg(format('%s/%s %s %s %s', organization_id, import_id, member_id, channel, status), ', '"
		  . " ORDER BY organization_id, import_id, channel) FROM upflow.notification_delivery WHERE $where");
}

sub mails
{
	opendir my $dh, $mail_dir or return ();
	my @files = sort grep { /^\d+\.eml$/ } readdir $dh;
	return map { parse_mail(slurp_file("$mail_dir/$_")) } @files;
}

sub parse_mail
{
	my ($text) = @_;
	my ($head, $body) = split /\r\n\r\n/, $text, 2;
	my %h;
	$h{lc $1} = $2 while $head =~ /^([\w-]+): (.*?)\r$/mg;
	my $subject = $h{subject};
	$subject = decode_base64($1) if $subject =~ /^=\?UTF-8\?B\?(.*)\?=$/;
	return { %h, subject => $subject, body => decode_base64($body) };
}

sub slack_posts
{
	my ($suffix) = @_;
	opendir my $dh, $http_dir or return ();
	my @posts = sort grep { /^\d+-.*\.$suffix$/ } readdir $dh;
	return @posts;
}

# --- Deliveries as asked ----------------------------------------------------

my $ana_import = import_as_tenant(1, 10, 1, 'janvier.csv');
my $ben_import = import_as_tenant(1, 11, 0, 'février.csv');
my $cy_import = import_as_tenant(1, 12, 0);
my $dee_import = import_as_tenant(1, 13, 0);
my $homer_import = import_as_tenant(2, 20, 0, 'globex.csv');
is(outbox(),
	"1/$ana_import 10 email pending, 1/$ana_import 10 in_app sent, 1/$ben_import 11 slack pending, "
	  . "1/$cy_import 12 email pending, 1/$cy_import 12 slack pending, "
	  . "2/$homer_import 20 email pending, 2/$homer_import 20 in_app sent, 2/$homer_import 20 slack pending",
	'each finished import wrote the deliveries its member asked for, nothing for Dee');

# --- SMTP down, Slack 500 ------------------------------------------------------

my ($rc, $out, $err) = relay_once();
is($rc, 0, 'the relay ran with the SMTP server down') or diag $err;
is(outbox("status = 'sent' AND channel <> 'in_app'"), "1/$ben_import 11 slack sent, 1/$cy_import 12 slack sent",
	'Slack messages of Acme went out');
like($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT last_error, ', ') FROM upflow.notification_delivery
	WHERE status = 'pending' AND channel = 'email'}), qr/^SMTP: Failed to connect to 127\.0\.0\.1 port $smtp_port\b[^,]*$/,
	'emails are pending, the reason recorded');
is($node->safe_psql('postgres', q{SELECT last_error FROM upflow.notification_delivery WHERE organization_id = 2 AND channel = 'slack'}),
	'Slack: HTTP 500: internal_error', 'Slack answering 500: pending, with the reason');
my @log = grep { /^\S+ delivery \d+ organization \d+ import \d+ (email|slack): / } split /\n/, $out;
is(scalar @log, 6, 'one log line per delivery tried') or diag $out;
unlike($out . $err, qr/services\/(acme|flaky)/, 'no webhook URL in the log');

# --- ... then up ---------------------------------------------------------------

start_smtp();
sleep 2;    # past the first retry delay (1 s)
($rc, $out, $err) = relay_once();
is($rc, 0, 'the relay ran again') or diag $err;
is(outbox("status <> 'sent'"), '', 'every delivery is sent');
is($node->safe_psql('postgres', q{SELECT attempts FROM upflow.notification_delivery WHERE organization_id = 2 AND channel = 'slack'}),
	'2', 'the Slack message of Globex took two attempts');
is(scalar(slack_posts('refused')), 1, 'Slack refused one post (500)');
is(scalar(grep { /flaky-globex/ } slack_posts('json')), 1, 'and accepted the retry once');

my @mails = mails();
is(scalar @mails, 3, 'three emails') or diag explain \@mails;
my ($ana_mail) = grep { $_->{'x-envelope-to'} eq 'ana@acme.test' } @mails;
my $ana_delivery = $node->safe_psql('postgres', "SELECT delivery_id FROM upflow.notification_delivery WHERE import_id = $ana_import AND channel = 'email'");
is($ana_mail->{'message-id'}, "<upflow-delivery-1-$ana_delivery\@upflow.test>", 'the Message-ID names the delivery');
is($ana_mail->{subject}, "[Acme] Import $ana_import partially succeeded", 'the subject: organization, import, status');
is($ana_mail->{from}, 'Upflow <noreply@upflow.test>', 'From is --from');
is($ana_mail->{'x-envelope-from'}, 'noreply@upflow.test', 'the envelope sender is its address');
like($ana_mail->{body}, qr/^Hello Ana Lopès,\r\n/, 'the body greets the member (UTF-8)');
like($ana_mail->{body},
	qr/Import $ana_import of 'janvier\.csv' partially succeeded: 1 created, 0 updated, 0 unchanged, 1 failed, 0 skipped \(Acme\)\./,
	'the body: file, status, counts, organization');
like($ana_mail->{body}, qr{Download the lines with errors \(1\), each with its reason: https://app\.upflow\.test/1/imports/$ana_import/errors\r\n},
	'the download link from the template');
my ($cy_mail) = grep { $_->{'x-envelope-to'} eq 'cy@acme.test' } @mails;
unlike($cy_mail->{body}, qr/Download/, 'no download link when no line failed');

my ($ben_post) = grep { !/flaky/ } slack_posts('json');
my $payload = decode_json(slurp_file("$http_dir/$ben_post"));
like($payload->{text}, qr/^\*Acme\*: Import (\d+) of '[^']+' succeeded: 1 created, 0 updated, 0 unchanged, 0 failed, 0 skipped\.$/,
	'the Slack message: organization, file, status, counts');

# --- Permanent failures, a temporary one -------------------------------------

$node->safe_psql('postgres', "SELECT upflow.set_slack_webhook(1, '$hook/gone-acme')");
my $gone_import = import_as_tenant(1, 11, 0);
smtp_setting('mode', '550');
my $rejected_import = import_as_tenant(1, 10, 0);
($rc, $out) = relay_once();
is($node->safe_psql('postgres', "SELECT status || ': ' || last_error FROM upflow.notification_delivery WHERE import_id = $gone_import"),
	'failed: Slack: HTTP 404: no_service', 'Slack answering 404: failed with the reason');
is($node->safe_psql('postgres', "SELECT status || ': ' || last_error FROM upflow.notification_delivery WHERE import_id = $rejected_import AND channel = 'email'"),
	'failed: SMTP 550 5.1.1 Mailbox unavailable', 'SMTP 550: failed with the server\'s answer');
like($out, qr/delivery \d+ organization 1 import $gone_import slack: failed \(attempt 1\): Slack: HTTP 404: no_service/,
	'the log says so');
smtp_setting('mode', '451');
my $later_import = import_as_tenant(1, 10, 0);
relay_once();
is($node->safe_psql('postgres', "SELECT status || ' ' || attempts || ': ' || last_error FROM upflow.notification_delivery WHERE import_id = $later_import AND channel = 'email'"),
	'pending 1: SMTP 451 4.3.0 Try again later', 'SMTP 451: pending, to retry');
smtp_setting('mode', 'ok');
sleep 2;
relay_once();
is(outbox("import_id = $later_import"), "1/$later_import 10 email sent, 1/$later_import 10 in_app sent", 'and sent on the retry');
$node->safe_psql('postgres', "SELECT upflow.set_slack_webhook(1, '$hook/acme')");

# Message-IDs of the emails received, with how many times each came.
sub message_ids
{
	my %count;
	$count{ $_->{'message-id'} }++ for mails();
	return \%count;
}

# --- kill -9 in the middle of a batch -------------------------------------------

my $before = $node->safe_psql('postgres', 'SELECT max(delivery_id) FROM upflow.notification_delivery');
import_as_tenant(1, 10, 0) for 1 .. 12;
smtp_setting('delay', '0.3');
my ($daemon_out, $daemon_err) = ('', '');
my $daemon = IPC::Run::start([$relay, @relay_args], '>', \$daemon_out, '2>', \$daemon_err);
my $mails_before = scalar(mails());
ok(wait_for(sub { scalar(mails()) >= $mails_before + 3 }, 60), 'the relay is delivering the batch');
$daemon->signal('KILL');
$daemon->finish;
my $left = $node->safe_psql('postgres', "SELECT count(*) FROM upflow.notification_delivery WHERE delivery_id > $before AND status = 'pending'");
ok($left > 0, "killed with deliveries left ($left pending)");
smtp_setting('delay', '0');
($rc, $out, $err) = relay_once();
is($rc, 0, 'a relay restarted after kill -9') or diag $err;
is($node->safe_psql('postgres', "SELECT count(*) FILTER (WHERE status = 'sent') || '/' || count(*) FROM upflow.notification_delivery WHERE delivery_id > $before AND channel = 'email'"),
	'12/12', 'every delivery of the batch is sent, none lost');
my $ids = message_ids();
my @batch = split /\n/, $node->safe_psql('postgres', "SELECT delivery_id FROM upflow.notification_delivery WHERE delivery_id > $before AND channel = 'email'");
my @missing = grep { !$ids->{"<upflow-delivery-1-$_\@upflow.test>"} } @batch;
is("@missing", '', 'every one reached the SMTP server');
my @twice = grep { $ids->{"<upflow-delivery-1-$_\@upflow.test>"} > 1 } @batch;
ok(@twice <= 1, 'at most the one in flight when killed went twice (' . scalar(@twice) . ')');

# --- Two relays at once ---------------------------------------------------------

$before = $node->safe_psql('postgres', 'SELECT max(delivery_id) FROM upflow.notification_delivery');
my @cy_imports = map { import_as_tenant(1, 12, 0) } 1 .. 10;    # Cy: email and Slack, 20 deliveries
smtp_setting('delay', '0.1');
my @relays = map {
	my ($o, $e) = ('', '');
	[ IPC::Run::start([$relay, @relay_args, '--once'], '>', \$o, '2>', \$e, IPC::Run::timeout(120)), \$o ]
} 1 .. 2;
$_->[0]->finish for @relays;
smtp_setting('delay', '0');
is($node->safe_psql('postgres', "SELECT count(*) FILTER (WHERE status = 'sent') || '/' || count(*) FROM upflow.notification_delivery WHERE delivery_id > $before"),
	'20/20', 'two relays at once delivered everything');
my @done = map { my $o = ${ $_->[1] }; scalar(() = $o =~ /: sent \(attempt/g) } @relays;
ok($done[0] > 0 && $done[1] > 0, "both relays took part (@done)");
$ids = message_ids();
@batch = split /\n/, $node->safe_psql('postgres', "SELECT delivery_id FROM upflow.notification_delivery WHERE delivery_id > $before AND channel = 'email'");
is(join(',', map { $ids->{"<upflow-delivery-1-$_\@upflow.test>"} // 0 } @batch), join(',', (1) x 10),
	'each email went exactly once');
my %posts;
for my $post (slack_posts('json'))
{
	$posts{$1}++ if decode_json(slurp_file("$http_dir/$post"))->{text} =~ /Import (\d+) of/;
}
is(join(',', map { $posts{$_} // 0 } @cy_imports), join(',', (1) x 10), 'each Slack message went exactly once');
is($node->safe_psql('postgres', "SELECT max(attempts) FROM upflow.notification_delivery WHERE delivery_id > $before"), '1',
	'no delivery was tried twice');

# --- Wake-ups, forged ones ---------------------------------------------------

($daemon_out, $daemon_err) = ('', '');
$daemon = IPC::Run::start([$relay, @relay_args, '--poll-interval', '600'], '>', \$daemon_out, '2>', \$daemon_err);
ok(wait_for(sub { $daemon->pump_nb; $daemon_out =~ /relay started/ }, 20), 'a long-running relay started');
my $mail_count = scalar(mails());
my $t0 = time;
my $woken_import = import_as_tenant(1, 10, 0);
ok(wait_for(sub { scalar(mails()) > $mail_count }, 20), 'an import\'s wake-up delivers at once, not at the next poll');
note sprintf('delivered %.2f s after the import', time - $t0);

my $http_count = scalar(slack_posts('json')) + scalar(slack_posts('refused'));
$mail_count = scalar(mails());
my $outbox_before = $node->safe_psql('postgres', 'SELECT md5(string_agg(d::text, \',\' ORDER BY organization_id, delivery_id)) FROM upflow.notification_delivery d');
$node->safe_psql('postgres', q{
	SELECT pg_notify('upflow_import', '{"organization_id": 2, "import_id": 999, "status": "failed"}');
	SELECT pg_notify('upflow_import', '{"channel": "email", "recipient": "victim@evil.test", "body": "pay here"}');
	SELECT pg_notify('upflow_import', 'not json');
}, extra_params => ['-U', 'acme_web']);
sleep 2;
$daemon->pump_nb;
is(scalar(mails()), $mail_count, 'a forged wake-up sent no email');
is(scalar(slack_posts('json')) + scalar(slack_posts('refused')), $http_count, 'and no Slack message');
is($node->safe_psql('postgres', 'SELECT md5(string_agg(d::text, \',\' ORDER BY organization_id, delivery_id)) FROM upflow.notification_delivery d'),
	$outbox_before, 'and changed nothing in the outbox');
$daemon->signal('TERM');
ok($daemon->finish, 'SIGTERM stops the relay cleanly (exit status 0)') or diag $daemon_err;
like($daemon_out, qr/relay stopped\n$/, 'and it says so');

# --- SMTP authentication ------------------------------------------------------

{
	my $auth_port = PostgreSQL::Test::Cluster::get_free_port();
	my $auth_dir = "$dir/auth-mail";
	my $auth_sink = IPC::Run::start(["$root/test/notify/smtp_sink.py", $auth_port, $auth_dir, 'relay:s3cret'],
		'>', "$dir/auth-smtp.log", '2>&1');
	wait_for(sub { -e "$auth_dir/ready" }, 20) or die 'the authenticating SMTP sink did not start';
	my @auth_args = map { $_ eq "smtp://127.0.0.1:$smtp_port" ? "smtp://127.0.0.1:$auth_port" : $_ } @relay_args;
	my $auth_import = import_as_tenant(1, 10, 0);
	my ($o, $e) = ('', '');
	IPC::Run::run([$relay, @auth_args, '--once'], '>', \$o, '2>', \$e, IPC::Run::timeout(60));
	is($node->safe_psql('postgres', "SELECT status || ': ' || last_error FROM upflow.notification_delivery WHERE import_id = $auth_import AND channel = 'email'"),
		'pending: SMTP 530 5.7.0 Authentication required',
		'a server that requires authentication: 530, temporary (the relay\'s configuration)');
	sleep 2;
	local $ENV{UPFLOW_SMTP_PASSWORD} = 's3cret';
	IPC::Run::run([$relay, @auth_args, '--once', '--smtp-user', 'relay'], '>', \$o, '2>', \$e, IPC::Run::timeout(60));
	is($node->safe_psql('postgres', "SELECT status FROM upflow.notification_delivery WHERE import_id = $auth_import AND channel = 'email'"),
		'sent', 'with --smtp-user and UPFLOW_SMTP_PASSWORD: sent');
	opendir my $dh, $auth_dir;
	is(scalar(grep { /\.eml$/ } readdir $dh), 1, 'the authenticated server got the email');
	unlike($o . $e, qr/s3cret/, 'the password is not logged');
	$auth_sink->signal('TERM');
	$auth_sink->finish;
}

# --- What a tenant sees -------------------------------------------------------

my $tenant = sub {
	my ($sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql('postgres', "BEGIN; SET LOCAL upflow.organization_id = 1; $sql; COMMIT;",
		extra_params => ['-U', 'acme_web']);
	return $ret == 0 ? $stdout : $stderr;
};
is($tenant->('SELECT count(*) FROM upflow.notification_delivery WHERE organization_id <> 1'), '0',
	'a tenant reads no other organization\'s deliveries');
ok($tenant->('SELECT count(*) FROM upflow.notification_delivery') > 0, 'and reads its own');
like($tenant->('SELECT url FROM upflow.slack_webhook'), qr/permission denied for table slack_webhook/, 'nor any webhook URL');
like($tenant->('SELECT * FROM upflow.claim_delivery(2)'), qr/permission denied for function claim_delivery/,
	'nor claim a delivery (which returns the URL)');
like($tenant->("SELECT upflow.set_slack_webhook(1, 'https://evil.test/x')"), qr/permission denied for function set_slack_webhook/,
	'nor set one');
like($tenant->("UPDATE upflow.notification_delivery SET status = 'pending', sent_at = NULL"),
	qr/permission denied for table notification_delivery/, 'nor resend a delivery');

stop_smtp();
$http->kill_kill;
$node->stop;
done_testing();
