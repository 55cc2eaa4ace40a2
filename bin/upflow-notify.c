/*-------------------------------------------------------------------------
 *
 * upflow-notify.c
 *		The notification relay of upflow_import: delivers the outbox
 *		(upflow.notification_delivery) by email (SMTP) and on Slack
 *		(incoming webhooks), with retries.
 *
 * A finished import writes its deliveries in its own transaction, so none
 * is lost when no relay runs: the relay finds them when it starts.  It
 * LISTENs on channel upflow_import to start at once when an import
 * finishes, and polls too (a wake-up is a hint, never the data: a forged
 * one makes the relay look sooner, nothing more).
 *
 * Each delivery is one transaction: claim it (upflow.claim_delivery locks
 * the row, FOR UPDATE SKIP LOCKED, so several relays never take the same
 * one), send it, record the outcome (upflow.record_delivery), commit.  A
 * delivery can therefore be sent twice only if the relay dies, or loses
 * its connection, between the server's acceptance of the message and that
 * commit; an email then carries the same Message-ID both times.
 *
 * Exit status: 0 done (--once) or stopped by SIGTERM/SIGINT, 2 could not
 * run (usage, connection at start, extension missing).
 *
 * bin/upflow-notify.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "libpq-fe.h"
#include "cli_common.h"

#ifndef UPFLOW_VERSION
#define UPFLOW_VERSION "unknown"
#endif

const char *progname = "upflow-notify";

/* The most of a server's answer kept for last_error and the log. */
#define MAX_REPLY	300

typedef struct relay_options
{
	cli_connection server;
	const char *smtp_url;
	const char *from;			/* as given: "addr" or "Name <addr>" */
	char	   *envelope_from;	/* addr */
	const char *smtp_user;
	const char *smtp_password;	/* from UPFLOW_SMTP_PASSWORD */
	bool		starttls;
	const char *download_url;	/* template, {organization_id} {import_id} */
	bool		once;
	long		poll_interval;	/* seconds */
	long		retry_delay;	/* seconds, doubled per attempt */
	long		max_attempts;
	long		timeout;		/* seconds per send */
	bool		quiet;
} relay_options;

/* What claim_delivery returned: one delivery to send. */
typedef struct delivery
{
	const char *organization_id;
	const char *delivery_id;
	const char *import_id;
	const char *channel;
	int			attempts;		/* before this one */
	const char *recipient;		/* email address or webhook URL; NULL if none */
	const char *subject;
	const char *body;
	const char *slack_payload;
} delivery;

/* The outcome of one attempt, as record_delivery takes it. */
typedef enum
{
	OUTCOME_SENT,
	OUTCOME_TEMPORARY,
	OUTCOME_PERMANENT
} outcome_kind;

typedef struct outcome
{
	outcome_kind kind;
	char		error[MAX_REPLY + 200];
	long		retry_after;	/* seconds the server asked to wait; 0: none */
} outcome;

static const char *const outcome_names[] = {"sent", "temporary", "permanent"};

/* SIGTERM, SIGINT: finish the delivery under way, then exit. */
static volatile sig_atomic_t stop_requested = 0;

static void
handle_stop(int signo)
{
	(void) signo;
	stop_requested = 1;
}

/*
 * Log
 */

/* One line per delivery (and per event of the relay), timestamped, on stdout. */
static void
log_line(const relay_options *opts, const char *fmt,...)
{
	char		stamp[32];
	time_t		now = time(NULL);
	struct tm	tm;
	va_list		ap;

	if (opts->quiet)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s ", stamp);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Keep the first line of a server's text, without control characters. */
static void
copy_reply(char *dst, size_t size, const char *src, size_t len)
{
	size_t		n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++)
	{
		unsigned char ch = (unsigned char) src[i];

		if (ch == '\r' || ch == '\n')
		{
			if (n > 0)
				break;
			continue;
		}
		dst[n++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char) ch;
	}
	dst[n] = '\0';
}

/*
 * Email
 */

/* Base64 of len bytes, lines of 76 characters ending in CRLF when wrap. */
static char *
base64(const char *data, size_t len, bool wrap)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		out_len = (len + 2) / 3 * 4;
	char	   *out = pg_malloc(out_len + (out_len / 76 + 1) * 2 + 1);
	char	   *p = out;
	int			column = 0;

	for (size_t i = 0; i < len; i += 3)
	{
		uint32_t	v = (uint32_t) (unsigned char) data[i] << 16;
		size_t		n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (uint32_t) (unsigned char) data[i + 1] << 8;
		if (n > 2)
			v |= (unsigned char) data[i + 2];
		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = n > 1 ? alphabet[(v >> 6) & 63] : '=';
		*p++ = n > 2 ? alphabet[v & 63] : '=';
		column += 4;
		if (wrap && column == 76)
		{
			*p++ = '\r';
			*p++ = '\n';
			column = 0;
		}
	}
	if (wrap && column > 0)
	{
		*p++ = '\r';
		*p++ = '\n';
	}
	*p = '\0';
	return out;
}

/* Text with its line ends as CRLF, as a text/plain body is sent. */
static char *
crlf_lines(const char *text)
{
	char	   *out = pg_malloc(strlen(text) * 2 + 1);
	char	   *p = out;

	for (const char *s = text; *s; s++)
	{
		if (*s == '\n' && (s == text || s[-1] != '\r'))
			*p++ = '\r';
		*p++ = *s;
	}
	*p = '\0';
	return out;
}

/* The address of "Name <addr>" or "addr"; NULL if it has no '@'. */
static char *
mailbox_address(const char *from)
{
	const char *open = strchr(from, '<');
	const char *close;
	char	   *addr;

	if (open)
	{
		close = strchr(open, '>');
		if (close == NULL)
			return NULL;
		addr = pg_malloc(close - open);
		memcpy(addr, open + 1, close - open - 1);
		addr[close - open - 1] = '\0';
	}
	else
		addr = pg_strdup(from);
	if (strchr(addr, '@') == NULL || strpbrk(addr, " \t\r\n<>") != NULL)
	{
		free(addr);
		return NULL;
	}
	return addr;
}

/* A recipient we send to: one address, no header injection possible. */
static bool
valid_recipient(const char *addr)
{
	const char *at;

	if (addr == NULL || addr[0] == '\0')
		return false;
	for (const char *p = addr; *p; p++)
		if ((unsigned char) *p < 0x21 || *p == 0x7f || *p == '<' || *p == '>' || *p == ',')
			return false;
	at = strchr(addr, '@');
	return at != NULL && at != addr && at[1] != '\0' && strchr(at + 1, '@') == NULL;
}

/* The message: headers (the subject RFC 2047-encoded), body in base64 UTF-8. */
static char *
build_email(const relay_options *opts, const delivery *d)
{
	char		date[64];
	time_t		now = time(NULL);
	struct tm	tm;
	const char *domain = strchr(opts->envelope_from, '@') + 1;
	char	   *subject = base64(d->subject, strlen(d->subject), false);
	char	   *text = crlf_lines(d->body);
	char	   *body = base64(text, strlen(text), true);
	size_t		size;
	char	   *message;

	localtime_r(&now, &tm);
	/* RFC 5322 date, in English whatever the locale. */
	{
		static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
		static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
		char		zone[8];

		strftime(zone, sizeof(zone), "%z", &tm);
		snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d %s",
				 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
				 tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
	}

	size = strlen(subject) + strlen(body) + strlen(opts->from) + strlen(d->recipient) +
		strlen(domain) + 512;
	message = pg_malloc(size);
	snprintf(message, size,
			 "Date: %s\r\n"
			 "From: %s\r\n"
			 "To: <%s>\r\n"
			 "Subject: =?UTF-8?B?%s?=\r\n"
			 "Message-ID: <upflow-delivery-%s-%s@%s>\r\n"
			 "MIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=UTF-8\r\n"
			 "Content-Transfer-Encoding: base64\r\n"
			 "Auto-Submitted: auto-generated\r\n"
			 "\r\n"
			 "%s",
			 date, opts->from, d->recipient, subject,
			 d->organization_id, d->delivery_id, domain, body);
	free(subject);
	free(text);
	free(body);
	return message;
}

typedef struct upload
{
	const char *data;
	size_t		left;
} upload;

static size_t
read_upload(char *buffer, size_t size, size_t nitems, void *arg)
{
	upload	   *u = arg;
	size_t		n = size * nitems;

	if (n > u->left)
		n = u->left;
	memcpy(buffer, u->data, n);
	u->data += n;
	u->left -= n;
	return n;
}

/*
 * The server's last refusal (a 4xx or 5xx reply; SMTP replies come as
 * "headers"), not the "221 Bye" of the QUIT that follows it.
 */
static int
keep_server_reply(CURL *curl, curl_infotype type, char *data, size_t size, void *arg)
{
	(void) curl;
	if (type == CURLINFO_HEADER_IN && size > 0 && (data[0] == '4' || data[0] == '5'))
	{
		char		line[MAX_REPLY];

		copy_reply(line, sizeof(line), data, size);
		if (line[0] != '\0')
			strcpy(arg, line);
	}
	return 0;
}

/*
 * Send one email.  An SMTP 5xx answer is permanent, except 530 and 535
 * (authentication required or refused: the relay's configuration, which
 * an operator fixes, not the message); 4xx, no answer, a refused or
 * timed-out connection are temporary.
 */
static void
send_email(const relay_options *opts, const delivery *d, outcome *out)
{
	CURL	   *curl;
	CURLcode	rc;
	struct curl_slist *rcpt = NULL;
	char		envelope[512];
	char		rcpt_line[512];
	char		errbuf[CURL_ERROR_SIZE] = "";
	char		reply[MAX_REPLY] = "";
	char	   *message;
	upload		u;
	long		code = 0;

	if (!valid_recipient(d->recipient) || strlen(d->recipient) > 254)
	{
		out->kind = OUTCOME_PERMANENT;
		snprintf(out->error, sizeof(out->error), "invalid recipient address \"%s\"",
				 d->recipient ? d->recipient : "");
		return;
	}
	message = build_email(opts, d);
	u.data = message;
	u.left = strlen(message);
	snprintf(envelope, sizeof(envelope), "<%s>", opts->envelope_from);
	snprintf(rcpt_line, sizeof(rcpt_line), "<%s>", d->recipient);
	rcpt = curl_slist_append(rcpt, rcpt_line);

	curl = curl_easy_init();
	if (curl == NULL || rcpt == NULL)
	{
		fprintf(stderr, "%s: error: could not initialize libcurl\n", progname);
		exit(CLI_EXIT_CANNOT_RUN);
	}
	curl_easy_setopt(curl, CURLOPT_URL, opts->smtp_url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, envelope);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
	curl_easy_setopt(curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, opts->timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, opts->timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, keep_server_reply);
	curl_easy_setopt(curl, CURLOPT_DEBUGDATA, (void *) reply);
	if (opts->starttls)
		curl_easy_setopt(curl, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
	if (opts->smtp_user)
	{
		curl_easy_setopt(curl, CURLOPT_USERNAME, opts->smtp_user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, opts->smtp_password ? opts->smtp_password : "");
	}

	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	/* The refusal's code, when there was one (not the QUIT's after it). */
	if (reply[0] != '\0')
		code = strtol(reply, NULL, 10);
	if (rc == CURLE_OK)
		out->kind = OUTCOME_SENT;
	else
	{
		out->kind = (code >= 500 && code != 530 && code != 535) ? OUTCOME_PERMANENT
			: OUTCOME_TEMPORARY;
		if (code > 0 && reply[0] != '\0')
			snprintf(out->error, sizeof(out->error), "SMTP %s", reply);
		else
			snprintf(out->error, sizeof(out->error), "SMTP: %s",
					 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	curl_easy_cleanup(curl);
	curl_slist_free_all(rcpt);
	free(message);
}

/*
 * Slack
 */

typedef struct response_text
{
	char		text[MAX_REPLY];
	size_t		len;
} response_text;

static size_t
keep_response(char *data, size_t size, size_t nitems, void *arg)
{
	response_text *r = arg;
	size_t		n = size * nitems;
	size_t		room = sizeof(r->text) - 1 - r->len;

	memcpy(r->text + r->len, data, n < room ? n : room);
	r->len += n < room ? n : room;
	r->text[r->len] = '\0';
	return size * nitems;
}

/*
 * Post one Slack message to the organization's webhook.  2xx is sent;
 * 429 and 5xx are temporary (Retry-After is honoured); any other answer
 * (a 4xx: the webhook is revoked or wrong, a redirect) is permanent.  The
 * webhook URL is a secret: it is neither logged nor recorded.
 */
static void
send_slack(const relay_options *opts, const delivery *d, outcome *out)
{
	CURL	   *curl;
	CURLcode	rc;
	struct curl_slist *headers = NULL;
	char		errbuf[CURL_ERROR_SIZE] = "";
	response_text response = {"", 0};
	long		code = 0;

	if (d->recipient == NULL || d->recipient[0] == '\0')
	{
		out->kind = OUTCOME_PERMANENT;
		snprintf(out->error, sizeof(out->error),
				 "the organization has no Slack webhook (an administrator sets it with upflow.set_slack_webhook)");
		return;
	}
	curl = curl_easy_init();
	headers = curl_slist_append(headers, "Content-Type: application/json; charset=utf-8");
	if (curl == NULL || headers == NULL)
	{
		fprintf(stderr, "%s: error: could not initialize libcurl\n", progname);
		exit(CLI_EXIT_CANNOT_RUN);
	}
	curl_easy_setopt(curl, CURLOPT_URL, d->recipient);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, d->slack_payload);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_response);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, opts->timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, opts->timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "upflow-notify/" UPFLOW_VERSION);

	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK)
	{
		out->kind = OUTCOME_TEMPORARY;
		snprintf(out->error, sizeof(out->error), "Slack: %s",
				 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	else
	{
		char		text[MAX_REPLY];
		curl_off_t	retry_after = 0;

		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		copy_reply(text, sizeof(text), response.text, response.len);
		if (code >= 200 && code < 300)
			out->kind = OUTCOME_SENT;
		else
		{
			out->kind = (code == 429 || code >= 500) ? OUTCOME_TEMPORARY : OUTCOME_PERMANENT;
			snprintf(out->error, sizeof(out->error), "Slack: HTTP %ld%s%s", code,
					 text[0] ? ": " : "", text);
			if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
				retry_after > 0)
				out->retry_after = (long) (retry_after > 86400 ? 86400 : retry_after);
		}
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
}

/*
 * The database
 */

static PGconn *conn = NULL;

/* Whether a failed statement failed because the connection is gone. */
static bool
connection_lost(void)
{
	return conn == NULL || PQstatus(conn) != CONNECTION_OK;
}

static void
print_error(const char *what, PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : NULL;

	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(conn);
	fprintf(stderr, "%s: error: %s: %s%s", progname, what, msg,
			(msg[0] && msg[strlen(msg) - 1] == '\n') ? "" : "\n");
}

/* Run a command; false (after printing why) if it failed. */
static bool
run_command(const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		print_error(sql, res);
	PQclear(res);
	return ok;
}

/*
 * Connect (again), check the extension and LISTEN.  At start a failure
 * ends the program; afterwards the relay retries with a growing delay.
 */
static bool
open_session(relay_options *opts, bool at_start)
{
	PGresult   *res;

	if (conn)
		PQfinish(conn);
	conn = cli_connect(&opts->server);
	if (conn == NULL)
		return false;
	PQsetErrorContextVisibility(conn, PQSHOW_CONTEXT_NEVER);
	res = PQexec(conn,
				 "SELECT pg_catalog.to_regprocedure('upflow.claim_delivery(bigint,text)') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || strcmp(PQgetvalue(res, 0, 0), "t") != 0)
	{
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			fprintf(stderr, "%s: error: extension upflow_import 1.1 or later is not installed in database \"%s\"\n",
					progname, PQdb(conn));
		else
			print_error("checking the extension", res);
		PQclear(res);
		if (at_start)
			exit(CLI_EXIT_CANNOT_RUN);
		return false;
	}
	PQclear(res);
	return run_command("LISTEN upflow_import");
}

/* Reconnect until it works (or a stop is asked): 1 s, 2 s, ... 30 s apart. */
static bool
reconnect(relay_options *opts)
{
	unsigned int delay = 1;

	while (!stop_requested)
	{
		log_line(opts, "connection to the database lost: reconnecting in %u s", delay);
		sleep(delay);
		if (stop_requested)
			break;
		if (open_session(opts, false))
		{
			log_line(opts, "reconnected");
			return true;
		}
		delay = delay * 2 > 30 ? 30 : delay * 2;
	}
	return false;
}

/* Ids of the deliveries tried in this pass: a pass tries each at most once. */
typedef struct tried_set
{
	char	  **ids;
	int			count;
	int			capacity;
} tried_set;

static bool
tried_before(tried_set *set, const char *org, const char *id)
{
	char		key[64];

	snprintf(key, sizeof(key), "%s/%s", org, id);
	for (int i = 0; i < set->count; i++)
		if (strcmp(set->ids[i], key) == 0)
			return true;
	if (set->count == set->capacity)
	{
		set->capacity = set->capacity ? set->capacity * 2 : 64;
		set->ids = realloc(set->ids, set->capacity * sizeof(char *));
		if (set->ids == NULL)
		{
			fprintf(stderr, "%s: error: out of memory\n", progname);
			exit(CLI_EXIT_CANNOT_RUN);
		}
	}
	set->ids[set->count++] = pg_strdup(key);
	return false;
}

static void
tried_reset(tried_set *set)
{
	for (int i = 0; i < set->count; i++)
		free(set->ids[i]);
	set->count = 0;
}

/*
 * Claim, send and record the organization's next due delivery, in one
 * transaction.  Returns 1 if one was handled, 0 if none is due (or the
 * next one was already tried in this pass), -1 if the database failed.
 */
static int
deliver_next(relay_options *opts, const char *org, tried_set *tried)
{
	const char *claim_params[2] = {org, opts->download_url};
	const char *record_params[7];
	char		max_attempts[16];
	char		retry_delay[32];
	char		retry_after[32];
	PGresult   *claim;
	PGresult   *res;
	delivery	d;
	outcome		out;

	if (!run_command("BEGIN"))
		return -1;
	claim = PQexecParams(conn,
						 "SELECT delivery_id, import_id, channel, attempts, recipient, subject, body, slack_payload"
						 "  FROM upflow.claim_delivery($1::bigint, $2::text)",
						 2, NULL, claim_params, NULL, NULL, 0);
	if (PQresultStatus(claim) != PGRES_TUPLES_OK)
	{
		print_error("claiming a delivery", claim);
		PQclear(claim);
		PQclear(PQexec(conn, "ROLLBACK"));
		return -1;
	}
	if (PQntuples(claim) == 0 || tried_before(tried, org, PQgetvalue(claim, 0, 0)))
	{
		PQclear(claim);
		return run_command("ROLLBACK") ? 0 : -1;
	}

	d.organization_id = org;
	d.delivery_id = PQgetvalue(claim, 0, 0);
	d.import_id = PQgetvalue(claim, 0, 1);
	d.channel = PQgetvalue(claim, 0, 2);
	d.attempts = atoi(PQgetvalue(claim, 0, 3));
	d.recipient = PQgetisnull(claim, 0, 4) ? NULL : PQgetvalue(claim, 0, 4);
	d.subject = PQgetvalue(claim, 0, 5);
	d.body = PQgetvalue(claim, 0, 6);
	d.slack_payload = PQgetvalue(claim, 0, 7);

	memset(&out, 0, sizeof(out));
	if (strcmp(d.channel, "email") == 0)
		send_email(opts, &d, &out);
	else if (strcmp(d.channel, "slack") == 0)
		send_slack(opts, &d, &out);
	else
	{
		out.kind = OUTCOME_PERMANENT;
		snprintf(out.error, sizeof(out.error), "channel %s is not delivered by this relay", d.channel);
	}

	snprintf(max_attempts, sizeof(max_attempts), "%ld", opts->max_attempts);
	snprintf(retry_delay, sizeof(retry_delay), "%ld seconds", opts->retry_delay);
	snprintf(retry_after, sizeof(retry_after), "%ld seconds", out.retry_after);
	record_params[0] = org;
	record_params[1] = d.delivery_id;
	record_params[2] = outcome_names[out.kind];
	record_params[3] = out.kind == OUTCOME_SENT ? NULL : out.error;
	record_params[4] = max_attempts;
	record_params[5] = retry_delay;
	record_params[6] = out.retry_after > 0 ? retry_after : NULL;
	res = PQexecParams(conn,
					   "SELECT status, pg_catalog.to_char(next_attempt_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF')"
					   "  FROM upflow.record_delivery($1::bigint, $2::bigint, $3::text, $4::text,"
					   "                              $5::integer, $6::interval, $7::interval)",
					   7, NULL, record_params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || !run_command("COMMIT"))
	{
		/* Sent but not recorded: the one case a delivery goes out twice. */
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			print_error("recording a delivery", res);
		/* Leave no aborted transaction behind for the next pass. */
		if (!connection_lost())
			PQclear(PQexec(conn, "ROLLBACK"));
		log_line(opts, "delivery %s organization %s import %s %s: %s, NOT RECORDED (it will be tried again)",
				 d.delivery_id, org, d.import_id, d.channel, outcome_names[out.kind]);
		PQclear(res);
		PQclear(claim);
		return -1;
	}
	{
		const char *status = PQgetvalue(res, 0, 0);

		if (strcmp(status, "sent") == 0)
			log_line(opts, "delivery %s organization %s import %s %s: sent (attempt %d)",
					 d.delivery_id, org, d.import_id, d.channel, d.attempts + 1);
		else if (strcmp(status, "pending") == 0)
			log_line(opts, "delivery %s organization %s import %s %s: attempt %d failed, next at %s: %s",
					 d.delivery_id, org, d.import_id, d.channel, d.attempts + 1,
					 PQgetvalue(res, 0, 1), out.error);
		else
			log_line(opts, "delivery %s organization %s import %s %s: failed (attempt %d): %s",
					 d.delivery_id, org, d.import_id, d.channel, d.attempts + 1, out.error);
	}
	PQclear(res);
	PQclear(claim);
	return 1;
}

/*
 * One pass: every due delivery of every organization, each tried once.
 * False if the database connection failed.
 */
static bool
deliver_due(relay_options *opts)
{
	static tried_set tried;
	PGresult   *orgs;
	bool		ok = true;

	tried_reset(&tried);
	orgs = PQexec(conn, "SELECT upflow.due_delivery_organizations()");
	if (PQresultStatus(orgs) != PGRES_TUPLES_OK)
	{
		print_error("listing due deliveries", orgs);
		PQclear(orgs);
		return false;
	}
	for (int i = 0; i < PQntuples(orgs) && ok && !stop_requested; i++)
	{
		int			r = 0;

		while (!stop_requested && (r = deliver_next(opts, PQgetvalue(orgs, i, 0), &tried)) == 1)
			;
		if (!stop_requested && r < 0)
			ok = false;
	}
	PQclear(orgs);
	return ok;
}

/* Milliseconds until the next pending delivery is due, at most the poll interval. */
static int
wait_time_ms(const relay_options *opts)
{
	PGresult   *res = PQexec(conn,
							 "SELECT ceil(extract(epoch FROM min(next_attempt_at) - pg_catalog.now()) * 1000)"
							 "  FROM upflow.notification_delivery WHERE status = 'pending'");
	long		ms = opts->poll_interval * 1000;

	/* At least 250 ms: a due row another relay holds is skipped, not waited for. */
	if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0))
	{
		double		due = atof(PQgetvalue(res, 0, 0));

		if (due < ms)
			ms = due < 250 ? 250 : (long) due;
	}
	PQclear(res);
	return (int) ms;
}

/* Wait for a wake-up, the next due time or the poll interval; false if the connection broke. */
static bool
wait_for_work(const relay_options *opts)
{
	struct pollfd pfd;
	int			timeout = wait_time_ms(opts);
	PGnotify   *notify;

	if (connection_lost())
		return false;
	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	if (timeout > 0 && poll(&pfd, 1, timeout) < 0 && errno != EINTR)
		return false;
	if (!PQconsumeInput(conn))
		return false;
	/* The payload is not trusted: whatever it says, the pass reads the outbox. */
	while ((notify = PQnotifies(conn)) != NULL)
		PQfreemem(notify);
	return true;
}

/*
 * Options
 */

static long
parse_seconds(const char *value, const char *option, long min)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > 86400 * 7)
	{
		fprintf(stderr, "%s: error: invalid value \"%s\" for option %s: an integer from %ld is expected\n",
				progname, value, option, min);
		fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
		exit(CLI_EXIT_CANNOT_RUN);
	}
	return v;
}

static void
usage_error(const char *message)
{
	fprintf(stderr, "%s: error: %s\n", progname, message);
	fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
	exit(CLI_EXIT_CANNOT_RUN);
}

static void
help(void)
{
	printf("%s delivers upflow_import's notifications (the outbox upflow.notification_delivery)\n", progname);
	printf("by email and on Slack.\n\n");
	printf("Usage:\n");
	printf("  %s [OPTION]... --smtp URL --from ADDRESS [--download-url TEMPLATE] [--once]\n\n", progname);
	printf("Delivery options:\n");
	printf("      --smtp=URL            SMTP server, smtp://host[:port] or smtps://host[:port]\n");
	printf("      --starttls            require STARTTLS on an smtp:// server\n");
	printf("      --smtp-user=USER      authenticate as USER (password: environment variable\n");
	printf("                            UPFLOW_SMTP_PASSWORD)\n");
	printf("      --from=ADDRESS        sender, \"addr@example.com\" or \"Name <addr@example.com>\"\n");
	printf("      --download-url=TEMPLATE\n");
	printf("                            where members download the lines with errors;\n");
	printf("                            {organization_id} and {import_id} are replaced\n");
	printf("      --once                deliver what is due, then exit (cron, tests)\n");
	printf("      --poll-interval=SECS  look for due deliveries at least every SECS (default 30)\n");
	printf("      --retry-delay=SECS    first retry after SECS, doubled each time, at most\n");
	printf("                            6 hours (default 60)\n");
	printf("      --max-attempts=N      give up (failed) after N attempts (default 8)\n");
	printf("      --timeout=SECS        limit of one send (default 30)\n");
	printf("  -q, --quiet               no log line per delivery\n");
	printf("  -V, --version             output version information, then exit\n");
	printf("  -?, --help                show this help, then exit\n\n");
	cli_connection_help(" (a role like examples/relay_role.sql)");
	printf("One line per delivery on stdout.  SIGTERM finishes the delivery under way and exits.\n");
	printf("Exit status: 0 done or stopped, 2 could not run.\n");
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		CLI_CONNECTION_LONG_OPTIONS,
		{"quiet", no_argument, NULL, 'q'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 1},
		{"smtp", required_argument, NULL, 2},
		{"from", required_argument, NULL, 3},
		{"download-url", required_argument, NULL, 4},
		{"once", no_argument, NULL, 5},
		{"starttls", no_argument, NULL, 6},
		{"smtp-user", required_argument, NULL, 7},
		{"poll-interval", required_argument, NULL, 8},
		{"retry-delay", required_argument, NULL, 9},
		{"max-attempts", required_argument, NULL, 10},
		{"timeout", required_argument, NULL, 11},
		{NULL, 0, NULL, 0}
	};
	relay_options opts;
	struct sigaction sa;
	int			c;
	int			status = 0;

	memset(&opts, 0, sizeof(opts));
	opts.poll_interval = 30;
	opts.retry_delay = 60;
	opts.max_attempts = 8;
	opts.timeout = 30;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0))
	{
		help();
		exit(0);
	}
	while ((c = getopt_long(argc, argv, CLI_CONNECTION_SHORT_OPTIONS "qV?", long_options, NULL)) != -1)
	{
		if (cli_connection_option(&opts.server, c, optarg))
			continue;
		switch (c)
		{
			case 'q':
				opts.quiet = true;
				break;
			case 'V':
				printf("%s (upflow_import) %s\n", progname, UPFLOW_VERSION);
				exit(0);
			case 1:
				help();
				exit(0);
			case 2:
				opts.smtp_url = optarg;
				break;
			case 3:
				opts.from = optarg;
				break;
			case 4:
				opts.download_url = optarg;
				break;
			case 5:
				opts.once = true;
				break;
			case 6:
				opts.starttls = true;
				break;
			case 7:
				opts.smtp_user = optarg;
				break;
			case 8:
				opts.poll_interval = parse_seconds(optarg, "--poll-interval", 1);
				break;
			case 9:
				opts.retry_delay = parse_seconds(optarg, "--retry-delay", 1);
				break;
			case 10:
				opts.max_attempts = parse_seconds(optarg, "--max-attempts", 1);
				break;
			case 11:
				opts.timeout = parse_seconds(optarg, "--timeout", 1);
				break;
			default:
				if (strcmp(argv[optind - 1], "-?") == 0)
				{
					help();
					exit(0);
				}
				fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
				exit(CLI_EXIT_CANNOT_RUN);
		}
	}
	if (optind < argc)
		usage_error("too many command-line arguments");
	if (opts.smtp_url == NULL)
		usage_error("--smtp URL is required (smtp://host:port)");
	if (strncmp(opts.smtp_url, "smtp://", 7) != 0 && strncmp(opts.smtp_url, "smtps://", 8) != 0)
		usage_error("--smtp must be an smtp:// or smtps:// URL");
	if (opts.from == NULL)
		usage_error("--from ADDRESS is required");
	if (strpbrk(opts.from, "\r\n") != NULL || (opts.envelope_from = mailbox_address(opts.from)) == NULL)
		usage_error("--from must be an email address, \"addr@example.com\" or \"Name <addr@example.com>\"");
	if (opts.download_url && strpbrk(opts.download_url, "\r\n") != NULL)
		usage_error("--download-url must be one line");
	opts.smtp_password = getenv("UPFLOW_SMTP_PASSWORD");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handle_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal interrupts the wait at once. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		fprintf(stderr, "%s: error: could not initialize libcurl\n", progname);
		exit(CLI_EXIT_CANNOT_RUN);
	}
	if (!open_session(&opts, true))
		exit(CLI_EXIT_CANNOT_RUN);
	if (!opts.once)
		log_line(&opts, "relay started: database \"%s\", polling every %ld s", PQdb(conn), opts.poll_interval);

	while (!stop_requested)
	{
		bool		ok = deliver_due(&opts);

		if (opts.once)
		{
			status = ok ? 0 : CLI_EXIT_CANNOT_RUN;
			break;
		}
		if (stop_requested)
			break;
		if (!ok && !connection_lost())
		{
			/* A statement failed (a missing grant, say): not in a tight loop. */
			sleep((unsigned int) opts.retry_delay);
			continue;
		}
		if (ok && wait_for_work(&opts))
			continue;
		if (connection_lost() && !reconnect(&opts))
			break;
	}
	if (!opts.once)
		log_line(&opts, "relay stopped");
	PQfinish(conn);
	curl_global_cleanup();
	return status;
}
