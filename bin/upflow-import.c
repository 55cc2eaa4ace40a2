/*-------------------------------------------------------------------------
 *
 * upflow-import.c
 *		Command-line importer of upflow_import: sends a local CSV file to a
 *		(possibly remote) server and reports what the import did.
 *
 * The file is read on the client and sent as the bytes of a bytea
 * parameter (binary format), so the server decodes it (UTF-8, UTF-16,
 * Windows-1252, ...) exactly as it decodes any upload, and no server-side
 * path is ever involved.  Connections follow libpq's conventions: -h -p -U
 * -d, the PG* environment variables, the password file and service file.
 *
 * On a terminal, a second connection polls pg_stat_progress_copy for the
 * importing backend and draws a progress bar on stderr.  Off a terminal,
 * only the summary is printed, on stdout.
 *
 * Exit status: 0 the import succeeded, 1 it partially succeeded, 2 it
 * failed, was refused, or could not run (usage, connection, file).
 *
 * bin/upflow-import.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libpq-fe.h"
#include "cli_common.h"

#ifndef UPFLOW_VERSION
#define UPFLOW_VERSION "unknown"
#endif

/* Type OIDs of the parameters we send (pg_type.dat; stable across versions). */
#define INT8OID		20
#define TEXTOID		25
#define BYTEAOID	17
#define JSONBOID	3802

#define EXIT_SUCCEEDED	0
#define EXIT_PARTIAL	1
#define EXIT_FAILED		2

/* How often the progress bar and --wait look at the server. */
#define PROGRESS_INTERVAL_MS	200
#define WAIT_INTERVAL_MS		500

const char *progname = "upflow-import";

typedef struct cli_options
{
	cli_connection server;

	/* import */
	const char *org;
	const char *file;
	const char *mapping;		/* JSON text, already read when given as @file */
	const char *delimiter;
	const char *encoding;
	const char *extra_options;	/* --options JSON */
	const char *save_mapping;	/* --save-mapping NAME */
	const char *mapping_name;	/* --mapping-name NAME */
	bool		list_mappings;	/* --list-mappings */
	const char *file_name;
	const char *submitted_by;
	const char *errors_out;
	const char *wait_id;
	const char *revert_id;		/* --revert IMPORT_ID */
	bool		force;			/* --force (with --revert) */
	long		timeout;		/* --timeout seconds for --wait; 0: none */
	bool		dry_run;
	bool		async;
	bool		quiet;
} cli_options;

/*
 * SIGINT during the import cancels the running statement, as in psql: the
 * server rolls the import back.  PQcancel is safe to call from a signal
 * handler.  Elsewhere SIGINT keeps its default action (terminate).
 */
static PGcancel *volatile cancel_handle = NULL;
static volatile sig_atomic_t interrupted = 0;

static void
handle_sigint(int signo)
{
	char		errbuf[256];
	int			save_errno = errno;

	(void) signo;
	interrupted = 1;
	if (cancel_handle != NULL)
		(void) PQcancel(cancel_handle, errbuf, sizeof(errbuf));
	errno = save_errno;
}

/*
 * Progress bar
 */
typedef struct progress
{
	bool		enabled;		/* stderr is a terminal and not --quiet */
	bool		utf8;			/* the terminal's locale is UTF-8 */
	PGconn	   *conn;			/* second connection, NULL if unavailable */
	int			pid;			/* backend running the import */
	bool		seen;			/* its pg_stat_progress_copy row appeared */
	bool		sent;			/* the whole file went out */
	bool		drawn;			/* the bar is on screen */
	size_t		file_size;
	unsigned	spin;
	const char *label;			/* what we wait for, without progress row */
} progress;

static progress bar;

static void
progress_clear(void)
{
	if (bar.drawn)
	{
		fputs("\r\033[K", stderr);
		fflush(stderr);
		bar.drawn = false;
	}
}

static int
terminal_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* A size for people: 512 B, 12.3 kB, 45.6 MB. */
static void
format_size(char *buf, size_t len, double bytes)
{
	if (bytes < 1000)
		snprintf(buf, len, "%.0f B", bytes);
	else if (bytes < 1000 * 1000)
		snprintf(buf, len, "%.1f kB", bytes / 1000);
	else if (bytes < 1000.0 * 1000 * 1000)
		snprintf(buf, len, "%.1f MB", bytes / (1000 * 1000));
	else
		snprintf(buf, len, "%.2f GB", bytes / (1000.0 * 1000 * 1000));
}

static void
progress_draw(const char *line)
{
	int			width = terminal_width() - 1;
	int			len = 0;

	/*
	 * Never wrap: a wrapped line cannot be redrawn with \r.  Columns are
	 * characters, not bytes (the bar and the ellipsis are UTF-8).
	 */
	for (int cols = 0; line[len] != '\0'; len++)
	{
		if (((unsigned char) line[len] & 0xC0) != 0x80 && cols++ == width)
			break;
	}
	fprintf(stderr, "\r%.*s\033[K", len, line);
	fflush(stderr);
	bar.drawn = true;
}

/* Look at the importing backend once and redraw the line. */
static void
progress_tick(void)
{
	static const char *const spinner = "|/-\\";
	const char *ellipsis = bar.utf8 ? "\xE2\x80\xA6" : "...";
	char		line[1024];
	char		done[32];
	char		total[32];
	bool		found = false;
	long long	bytes_processed = 0;
	long long	bytes_total = 0;
	long long	lines = 0;
	bool		waiting = false;

	if (!bar.enabled)
		return;
	bar.spin++;

	/* The server cannot start before it has the whole file. */
	if (bar.conn != NULL && (bar.seen || bar.sent))
	{
		char		pidbuf[16];
		const char *values[1] = {pidbuf};
		PGresult   *res;

		snprintf(pidbuf, sizeof(pidbuf), "%d", bar.pid);
		res = PQexecParams(bar.conn,
						   "SELECT bytes_processed, bytes_total, tuples_processed"
						   "  FROM pg_catalog.pg_stat_progress_copy WHERE pid = $1",
						   1, NULL, values, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
			!PQgetisnull(res, 0, 0))
		{
			found = true;
			bytes_processed = atoll(PQgetvalue(res, 0, 0));
			bytes_total = PQgetisnull(res, 0, 1) ? 0 : atoll(PQgetvalue(res, 0, 1));
			lines = PQgetisnull(res, 0, 2) ? 0 : atoll(PQgetvalue(res, 0, 2));
		}
		else if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			/* The bar is a nicety: lose it, never the import. */
			PQfinish(bar.conn);
			bar.conn = NULL;
		}
		PQclear(res);

		/*
		 * No copy under way: is the import waiting for a lock (another import
		 * of the organization, or a session editing its contacts)?
		 */
		if (!found && bar.conn != NULL)
		{
			res = PQexecParams(bar.conn,
							   "SELECT wait_event_type = 'Lock'"
							   "  FROM pg_catalog.pg_stat_activity WHERE pid = $1",
							   1, NULL, values, NULL, NULL, 0);
			waiting = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
				strcmp(PQgetvalue(res, 0, 0), "t") == 0;
			PQclear(res);
		}
	}

	if (found)
		bar.seen = true;

	if (found && bytes_total > 0 && bytes_processed < bytes_total)
	{
		/* Reading the file: a bar by bytes. */
		int			width = terminal_width() - 50;
		int			filled;
		char		cells[3 * 200 + 1];
		int			pos = 0;

		if (width > 200)
			width = 200;
		if (width < 10)
			width = 10;
		filled = (int) ((double) bytes_processed / bytes_total * width);
		for (int i = 0; i < width; i++)
		{
			const char *cell = i < filled ? (bar.utf8 ? "\xE2\x96\x88" : "#")
				: (bar.utf8 ? "\xE2\x96\x91" : "-");

			pos += snprintf(cells + pos, sizeof(cells) - pos, "%s", cell);
		}
		format_size(done, sizeof(done), (double) bytes_processed);
		format_size(total, sizeof(total), (double) bytes_total);
		snprintf(line, sizeof(line), "%s %3d%%  %s / %s  %lld lines",
				 cells, (int) (100.0 * bytes_processed / bytes_total),
				 done, total, lines);
	}
	else if (waiting)
		snprintf(line, sizeof(line),
				 "%c waiting for another import or edit of this organization%s",
				 spinner[bar.spin % 4], ellipsis);
	else if (found)
		snprintf(line, sizeof(line), "%c applying%s %lld lines",
				 spinner[bar.spin % 4], ellipsis, lines);
	else if (bar.seen)
		snprintf(line, sizeof(line), "%c applying%s",
				 spinner[bar.spin % 4], ellipsis);
	else if (!bar.sent)
	{
		format_size(total, sizeof(total), (double) bar.file_size);
		snprintf(line, sizeof(line), "%c sending %s%s",
				 spinner[bar.spin % 4], total, ellipsis);
	}
	else
		snprintf(line, sizeof(line), "%c %s%s",
				 spinner[bar.spin % 4], bar.label, ellipsis);
	progress_draw(line);
}

/* Notices and warnings of the server, printed below a cleared bar. */
static void
notice_processor(void *arg, const char *message)
{
	(void) arg;
	progress_clear();
	fputs(message, stderr);
}

/*
 * Small helpers
 */
static void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: error: ", progname);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry \"%s --help\" for more information.\n", progname);
	exit(EXIT_FAILED);
}

/* A positive bigint, as text: checked here for a clear message. */
static const char *
check_id(const char *value, const char *option)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v <= 0)
	{
		fprintf(stderr, "%s: error: invalid value \"%s\" for option %s: a positive integer is expected\n",
				progname, value, option);
		fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
		exit(EXIT_FAILED);
	}
	return value;
}

/*
 * The whole file, from a path or "-" (stdin).  A parameter length is an
 * int, so 2 GB is the ceiling; the server's upflow_import.max_file_size
 * is far lower and gives the real refusal.
 */
static char *
read_whole_file(const char *path, size_t *length, const char *what)
{
	int			fd;
	struct stat st;
	size_t		cap = 1 << 16;
	size_t		len = 0;
	char	   *buf;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY)) < 0)
	{
		fprintf(stderr, "%s: error: could not open %s \"%s\": %s\n",
				progname, what, path, strerror(errno));
		exit(EXIT_FAILED);
	}
	if (fstat(fd, &st) == 0)
	{
		if (S_ISDIR(st.st_mode))
		{
			fprintf(stderr, "%s: error: %s \"%s\" is a directory\n", progname, what, path);
			exit(EXIT_FAILED);
		}
		/* One read for a regular file; +1 leaves room for a terminator. */
		if (S_ISREG(st.st_mode) && st.st_size > 0)
			cap = (size_t) st.st_size + 1;
	}

	buf = pg_malloc(cap);
	for (;;)
	{
		ssize_t		n;

		if (len == cap)
		{
			if (cap > (size_t) INT_MAX)
				break;
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
			{
				fprintf(stderr, "%s: error: out of memory reading \"%s\"\n", progname, path);
				exit(EXIT_FAILED);
			}
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			fprintf(stderr, "%s: error: could not read %s \"%s\": %s\n",
					progname, what, path, strerror(errno));
			exit(EXIT_FAILED);
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	if (len > (size_t) INT_MAX)
	{
		fprintf(stderr, "%s: error: file \"%s\" is too large (2 GB at most)\n", progname, path);
		exit(EXIT_FAILED);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*length = len;
	return buf;
}

/*
 * Connections
 */

/*
 * Connect like psql: -d may be a connection string or URI (expanded), and
 * the other options override only what it does not say.  A password is
 * asked for when the server wants one and none came from the environment
 * or the password file.
 */
static PGconn *
connect_main(const cli_options *opts)
{
	cli_connection target = opts->server;
	PGconn	   *conn = cli_connect(&target);

	if (conn == NULL)
		exit(EXIT_FAILED);
	free(target.password);

	/* Messages as psql shows them by default, without PL/pgSQL context. */
	PQsetErrorContextVisibility(conn, PQSHOW_CONTEXT_NEVER);
	PQsetNoticeProcessor(conn, notice_processor, NULL);
	return conn;
}

/*
 * The progress connection: the same server and role as the main one,
 * from its effective parameters (after -d expansion, the password file,
 * a prompted password).  A host list is narrowed to the host actually
 * connected, or the backend pid would mean nothing.
 */
static PGconn *
connect_progress(PGconn *main_conn)
{
	PQconninfoOption *info = PQconninfo(main_conn);
	const char **keywords;
	const char **values;
	int			n = 0;
	PGconn	   *conn;
	bool		host_list = false;

	if (info == NULL)
		return NULL;
	for (PQconninfoOption *o = info; o->keyword; o++)
	{
		n++;
		if ((strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0 ||
			 strcmp(o->keyword, "port") == 0) && o->val && strchr(o->val, ',') != NULL)
			host_list = true;
	}
	keywords = pg_malloc((n + 3) * sizeof(char *));
	values = pg_malloc((n + 3) * sizeof(char *));
	n = 0;
	for (PQconninfoOption *o = info; o->keyword; o++)
	{
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (host_list && (strcmp(o->keyword, "host") == 0 ||
						  strcmp(o->keyword, "hostaddr") == 0 ||
						  strcmp(o->keyword, "port") == 0))
			continue;
		if (strcmp(o->keyword, "application_name") == 0 ||
			strcmp(o->keyword, "fallback_application_name") == 0)
			continue;
		keywords[n] = o->keyword;
		values[n++] = o->val;
	}
	if (host_list)
	{
		keywords[n] = "host";
		values[n++] = PQhost(main_conn);
		keywords[n] = "port";
		values[n++] = PQport(main_conn);
	}
	keywords[n] = "application_name";
	values[n++] = "upflow-import progress";
	keywords[n] = NULL;
	values[n] = NULL;

	conn = PQconnectdbParams(keywords, values, 0);
	PQconninfoFree(info);
	free(keywords);
	free(values);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Print a failed statement's error as psql does: message, detail, hint. */
static void
report_result_error(const PGresult *res, PGconn *conn)
{
	const char *msg = res ? PQresultErrorMessage(res) : "";

	progress_clear();
	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(conn);
	fputs(msg, stderr);
	if (msg[0] && msg[strlen(msg) - 1] != '\n')
		fputc('\n', stderr);
}

/*
 * The organization this program sets as the tenant (--org), or NULL when
 * the session already had one.  It is set with SET LOCAL semantics in a
 * transaction around each statement: on Citus only a transaction-level
 * setting reaches the workers, where row-level security is checked.
 */
static const char *local_tenant = NULL;

/* BEGIN, then the tenant for this transaction (when this program sets it). */
static void
begin_tenant_transaction(PGconn *conn)
{
	PGresult   *res;
	char	   *literal;
	char	   *sql;

	if (local_tenant == NULL)
		return;
	/* SET LOCAL, not set_config(): Citus propagates only the former. */
	literal = PQescapeLiteral(conn, local_tenant, strlen(local_tenant));
	if (literal == NULL)
	{
		report_result_error(NULL, conn);
		PQfinish(conn);
		exit(EXIT_FAILED);
	}
	sql = malloc(strlen(literal) + 64);
	if (sql == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(EXIT_FAILED);
	}
	sprintf(sql, "SET LOCAL upflow.organization_id = %s", literal);
	PQfreemem(literal);
	/* Two statements: in one query string Citus would begin twice on the workers. */
	res = PQexec(conn, "BEGIN");
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
	{
		PQclear(res);
		res = PQexec(conn, sql);
	}
	free(sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		report_result_error(res, conn);
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_FAILED);
	}
	PQclear(res);
}

/* COMMIT the transaction begin_tenant_transaction opened (ROLLBACK after an error). */
static void
end_tenant_transaction(PGconn *conn, bool ok)
{
	if (local_tenant == NULL)
		return;
	PQclear(PQexec(conn, ok ? "COMMIT" : "ROLLBACK"));
}

/* Run a statement with binary parameters, result in binary; on error print it and exit. */
static PGresult *
exec_or_exit_params(PGconn *conn, const char *sql, int nparams, const Oid *types,
					const char *const *values, const int *lengths, const int *formats)
{
	PGresult   *res;

	begin_tenant_transaction(conn);
	res = PQexecParams(conn, sql, nparams, types, values, lengths, formats, 1);
	end_tenant_transaction(conn, PQresultStatus(res) == PGRES_TUPLES_OK);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		report_result_error(res, conn);
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_FAILED);
	}
	return res;
}

/* Run a short statement; on error print it and exit. */
static PGresult *
exec_or_exit(PGconn *conn, const char *sql, int nparams, const Oid *types,
			 const char *const *values, int result_format, ExecStatusType expect)
{
	PGresult   *res;

	begin_tenant_transaction(conn);
	res = PQexecParams(conn, sql, nparams, types, values, NULL, NULL, result_format);
	end_tenant_transaction(conn, PQresultStatus(res) == expect);

	if (PQresultStatus(res) != expect)
	{
		report_result_error(res, conn);
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_FAILED);
	}
	return res;
}

/*
 * The extension must be there, and the session works for the organization:
 * a role under row-level security needs upflow.organization_id set, and a
 * value already set (ALTER ROLE ... SET, PGOPTIONS) is kept, so that the
 * server, not this program, decides whether --org is allowed.
 */
static void
prepare_session(PGconn *conn, const cli_options *opts)
{
	const Oid	types[1] = {TEXTOID};
	const char *values[1] = {opts->org};
	PGresult   *res;

	res = exec_or_exit(conn,
					   "SELECT (SELECT extversion FROM pg_catalog.pg_extension"
					   "         WHERE extname = 'upflow_import'),"
					   "       coalesce(pg_catalog.current_setting('upflow.organization_id', true), '') = ''"
					   "       AND $1 IS NOT NULL",
					   1, types, values, 0, PGRES_TUPLES_OK);
	/* --org, unless the session works for an organization already. */
	if (!PQgetisnull(res, 0, 1) && strcmp(PQgetvalue(res, 0, 1), "t") == 0)
		local_tenant = opts->org;
	if (PQgetisnull(res, 0, 0))
	{
		fprintf(stderr, "ERROR:  extension \"upflow_import\" is not installed in database \"%s\"\n"
				"HINT:  Run CREATE EXTENSION upflow_import; in that database, or connect to another with -d.\n",
				PQdb(conn));
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_FAILED);
	}
	PQclear(res);
}

/* --list-mappings: the organization's saved mappings, one per line. */
static int
list_saved_mappings(PGconn *conn, const cli_options *opts)
{
	const Oid	types[1] = {INT8OID};
	const char *values[1] = {opts->org};
	PGresult   *res;

	res = exec_or_exit(conn,
					   "SELECT s.name, to_char(s.saved_at, 'YYYY-MM-DD HH24:MI'), s.mapping::text"
					   "  FROM upflow.saved_mapping s WHERE s.organization_id = $1"
					   " ORDER BY s.name",
					   1, types, values, 0, PGRES_TUPLES_OK);
	if (PQntuples(res) == 0)
		printf("no saved mapping for organization %s\n", opts->org);
	for (int i = 0; i < PQntuples(res); i++)
		printf("%s\tsaved %s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			   PQgetvalue(res, i, 2));
	PQclear(res);
	return EXIT_SUCCEEDED;
}

/*
 * --mapping and --options must be JSON objects.  The server parses them
 * (this program has no JSON parser), before the file goes out, so that the
 * message names the option instead of a parameter of the import.
 */
static void
check_json_object(PGconn *conn, const char *value, const char *option)
{
	const Oid	types[1] = {TEXTOID};
	const char *values[1] = {value};
	PGresult   *res;

	if (value == NULL)
		return;
	res = PQexecParams(conn,
					   "SELECT pg_catalog.jsonb_typeof($1::pg_catalog.jsonb)",
					   1, types, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

		fprintf(stderr, "upflow-import: %s is not valid JSON: %s%s%s\n",
				option, primary ? primary : PQerrorMessage(conn),
				detail ? ": " : "", detail ? detail : "");
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_FAILED);
	}
	if (strcmp(PQgetvalue(res, 0, 0), "object") != 0)
	{
		fprintf(stderr, "upflow-import: %s must be a JSON object ({...}), not a JSON %s\n",
				option, PQgetvalue(res, 0, 0));
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_FAILED);
	}
	PQclear(res);
}

/*
 * Run the long statement (the import, the dry run or the submission)
 * without blocking, so that the progress bar keeps moving while the file
 * goes out and while the server works.
 */
static PGresult *
run_long_statement(PGconn *conn, const char *sql, int nparams, const Oid *types,
				   const char *const *values, const int *lengths, const int *formats)
{
	PGresult   *res = NULL;
	PGresult   *r;
	struct timespec last = {0, 0};
	int			flushing = 1;

	bar.pid = PQbackendPID(conn);
	bar.sent = false;
	bar.seen = false;
	cancel_handle = PQgetCancel(conn);
	signal(SIGINT, handle_sigint);

	begin_tenant_transaction(conn);
	if (PQsetnonblocking(conn, 1) != 0 ||
		!PQsendQueryParams(conn, sql, nparams, types, values, lengths, formats, 0))
	{
		report_result_error(NULL, conn);
		exit(EXIT_FAILED);
	}
	/* A Ctrl-C that came before the statement did: cancel it now. */
	if (interrupted)
	{
		char		errbuf[256];

		(void) PQcancel(cancel_handle, errbuf, sizeof(errbuf));
	}

	for (;;)
	{
		struct pollfd pfd;
		struct timespec now;

		if (flushing)
		{
			flushing = PQflush(conn);
			if (flushing < 0)
				break;
			if (flushing == 0)
				bar.sent = true;
		}
		if (!flushing && !PQisBusy(conn))
			break;

		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN | (flushing ? POLLOUT : 0);
		pfd.revents = 0;
		if (poll(&pfd, 1, PROGRESS_INTERVAL_MS) < 0 && errno != EINTR)
			break;
		if ((pfd.revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(conn))
			break;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000
			>= PROGRESS_INTERVAL_MS)
		{
			progress_tick();
			last = now;
		}
	}

	/* Blocking again: the last messages of the statement are short. */
	PQsetnonblocking(conn, 0);
	while ((r = PQgetResult(conn)) != NULL)
	{
		if (res == NULL || PQresultStatus(r) == PGRES_FATAL_ERROR)
		{
			PQclear(res);
			res = r;
		}
		else
			PQclear(r);
	}
	{
		PGcancel   *cancel = cancel_handle;

		/* Out of the handler's reach before it is freed. */
		signal(SIGINT, SIG_DFL);
		cancel_handle = NULL;
		PQfreeCancel(cancel);
	}
	progress_clear();
	end_tenant_transaction(conn, res != NULL && (PQresultStatus(res) == PGRES_TUPLES_OK ||
												  PQresultStatus(res) == PGRES_COMMAND_OK));
	return res;
}

/*
 * Summary
 */

/* Columns of a report; dry runs and finished imports give the same ones. */
enum
{
	R_IMPORT_ID, R_STATUS, R_FILE_NAME, R_ENCODING, R_DELIMITER,
	R_LINES, R_CREATED, R_UPDATED, R_UNCHANGED, R_FAILED, R_SKIPPED,
	R_WARNINGS, R_ERROR,
	R_LINE, R_SEVERITY, R_CODE, R_FIELD, R_MESSAGE, R_HINT, R_TOTAL,
	R_REVERTS, R_DELETED
};

/*
 * The report of a finished import: its history row, with its first
 * problems in file order (the order of the view upflow.import_errors),
 * one row per problem, or one row with NULL problem columns.
 */
static const char *const report_sql =
"SELECT h.import_id, h.status, h.file_name, h.encoding, h.delimiter,"
"       h.line_count, h.created_count, h.updated_count, h.unchanged_count,"
"       h.failed_count, h.skipped_count, h.warning_count, h.error,"
"       e.line_number, e.severity, e.code, e.field, e.message, e.hint, e.total,"
"       h.reverts_import_id, h.deleted_count"
"  FROM upflow.import_history h"
"  LEFT JOIN LATERAL ("
"       SELECT ie.line_number, ie.severity, ie.code, ie.field, ie.message, ie.hint,"
"              count(*) OVER () AS total"
"         FROM upflow.import_errors ie"
"        WHERE ie.organization_id = h.organization_id AND ie.import_id = h.import_id"
"        LIMIT 10) e ON true"
" WHERE h.organization_id = $1 AND h.import_id = $2";

/*
 * The dry run: upflow.preview_import runs the real import and rolls it
 * back, so what it says is what an import would do.  It is read once
 * (MATERIALIZED) and summed up here into the same columns as a finished
 * import's report; the status follows the rule of upflow.apply_import.
 */
static const char *const dry_run_sql =
"WITH opts AS ("
"       SELECT coalesce($6::jsonb, '{}') || jsonb_strip_nulls(jsonb_build_object("
"                  'delimiter', $7::text, 'encoding', $8::text, 'save_mapping', $9::text, 'mapping_name', $10::text)) AS o),"
" f AS MATERIALIZED ("
"       SELECT d.content, d.detected_encoding"
"         FROM opts, upflow.decode_file($2::bytea, coalesce(opts.o->>'encoding', 'auto')) d),"
" p AS MATERIALIZED ("
"       SELECT x.* FROM f, opts, upflow.preview_import($1::bigint, f.content, $3::jsonb, opts.o) x),"
" problems AS ("
"       SELECT p.line_number, e.problem, e.ord"
"         FROM p, jsonb_array_elements(p.errors) WITH ORDINALITY AS e(problem, ord)),"
" c AS ("
"       SELECT count(*) FILTER (WHERE p.line_number IS NOT NULL) AS lines,"
"              count(*) FILTER (WHERE p.action = 'created') AS created,"
"              count(*) FILTER (WHERE p.action = 'updated') AS updated,"
"              count(*) FILTER (WHERE p.action = 'unchanged') AS unchanged,"
"              count(*) FILTER (WHERE p.action = 'failed') AS failed,"
"              count(*) FILTER (WHERE p.action = 'skipped') AS skipped,"
"              (SELECT count(*) FROM problems WHERE problem->>'severity' = 'warning') AS warnings"
"         FROM p)"
"SELECT NULL::bigint,"
"       CASE WHEN c.failed = 0 THEN 'succeeded'"
"            WHEN c.created + c.updated + c.unchanged + c.skipped = 0 THEN 'failed'"
"            ELSE 'partially_succeeded' END,"
"       $4::text, f.detected_encoding,"
"       upflow.detect_mapping(f.content, $3::jsonb, opts.o)->>'delimiter',"
"       c.lines, c.created, c.updated, c.unchanged, c.failed, c.skipped, c.warnings, NULL::text,"
"       e.line_number, e.problem->>'severity', e.problem->>'code', e.problem->>'field',"
"       e.problem->>'message', e.problem->>'hint', e.total, NULL::bigint, 0"
"  FROM c, f, opts"
"  LEFT JOIN LATERAL ("
"       SELECT pr.line_number, pr.problem, count(*) OVER () AS total"
"         FROM problems pr ORDER BY pr.line_number NULLS FIRST, pr.ord"
"        LIMIT 10) e ON true";

static int
exit_status_for(const char *status)
{
	if (strcmp(status, "succeeded") == 0)
		return EXIT_SUCCEEDED;
	if (strcmp(status, "partially_succeeded") == 0)
		return EXIT_PARTIAL;
	return EXIT_FAILED;
}

static const char *
value_or(const PGresult *res, int row, int col, const char *fallback)
{
	return PQgetisnull(res, row, col) ? fallback : PQgetvalue(res, row, col);
}

/*
 * The summary on stdout: one "name: value" line each, then the first
 * problems, one line each (with its hint below).  Returns the exit status.
 */
static int
print_report(const PGresult *res, const cli_options *opts)
{
	const char *status = PQgetvalue(res, 0, R_STATUS);
	long		total = 0;

	if (opts->quiet)
		return exit_status_for(status);

	if (PQgetisnull(res, 0, R_IMPORT_ID))
		printf("import:    dry run, nothing written\n");
	else
		printf("import:    %s\n", PQgetvalue(res, 0, R_IMPORT_ID));
	printf("status:    %s\n", status);
	if (!PQgetisnull(res, 0, R_REVERTS))
	{
		/* A revert: rows of the import, not lines of a file. */
		printf("reverts:   %s\n", PQgetvalue(res, 0, R_REVERTS));
		printf("file:      %s\n", value_or(res, 0, R_FILE_NAME, "-"));
		printf("rows:      %s\n", PQgetvalue(res, 0, R_LINES));
		printf("restored:  %s\n", PQgetvalue(res, 0, R_UPDATED));
		printf("deleted:   %s\n", PQgetvalue(res, 0, R_DELETED));
		printf("unchanged: %s\n", PQgetvalue(res, 0, R_UNCHANGED));
		printf("kept:      %s\n", PQgetvalue(res, 0, R_FAILED));
		printf("warnings:  %s\n", PQgetvalue(res, 0, R_WARNINGS));
	}
	else
	{
		printf("file:      %s\n", value_or(res, 0, R_FILE_NAME, "-"));
		printf("encoding:  %s\n", value_or(res, 0, R_ENCODING, "-"));
		{
			const char *delimiter = value_or(res, 0, R_DELIMITER, "-");

			printf("delimiter: %s\n", strcmp(delimiter, "\t") == 0 ? "tab" : delimiter);
		}
		printf("lines:     %s\n", PQgetvalue(res, 0, R_LINES));
		printf("created:   %s\n", PQgetvalue(res, 0, R_CREATED));
		printf("updated:   %s\n", PQgetvalue(res, 0, R_UPDATED));
		printf("unchanged: %s\n", PQgetvalue(res, 0, R_UNCHANGED));
		printf("failed:    %s\n", PQgetvalue(res, 0, R_FAILED));
		printf("skipped:   %s\n", PQgetvalue(res, 0, R_SKIPPED));
		printf("warnings:  %s\n", PQgetvalue(res, 0, R_WARNINGS));
	}
	if (!PQgetisnull(res, 0, R_ERROR))
		printf("error:     %s\n", PQgetvalue(res, 0, R_ERROR));

	for (int i = 0; i < PQntuples(res); i++)
	{
		if (PQgetisnull(res, i, R_SEVERITY))
			continue;
		total = atol(PQgetvalue(res, i, R_TOTAL));
		if (PQgetisnull(res, i, R_LINE))
			printf("%s: ", PQgetisnull(res, 0, R_REVERTS) ? "file" : "revert");
		else
			printf("line %s: ", PQgetvalue(res, i, R_LINE));
		printf("%s %s", PQgetvalue(res, i, R_SEVERITY), PQgetvalue(res, i, R_CODE));
		if (!PQgetisnull(res, i, R_FIELD))
			printf(" (%s)", PQgetvalue(res, i, R_FIELD));
		printf(": %s\n", PQgetvalue(res, i, R_MESSAGE));
		if (!PQgetisnull(res, i, R_HINT))
			printf("  hint: %s\n", PQgetvalue(res, i, R_HINT));
	}
	if (total > PQntuples(res))
		printf("... %ld more problems: %s\n",
			   total - PQntuples(res),
			   !PQgetisnull(res, 0, R_REVERTS) ? "see upflow.import_errors" :
			   PQgetisnull(res, 0, R_IMPORT_ID) ?
			   "write the lines that would fail with --dry-run --errors-out FILE" :
			   "see upflow.import_errors, or write the failed lines with --errors-out FILE");
	fflush(stdout);
	return exit_status_for(status);
}

static PGresult *
fetch_report(PGconn *conn, const cli_options *opts, const char *import_id)
{
	const Oid	types[2] = {INT8OID, INT8OID};
	const char *values[2] = {opts->org, import_id};

	return exec_or_exit(conn, report_sql, 2, types, values, 0, PGRES_TUPLES_OK);
}

/*
 * --errors-out: upflow.error_lines_csv as UTF-8 bytes (binary result of
 * convert_to), written unchanged, whatever the client encoding.
 */
static void
write_error_file(PGconn *conn, PGresult *res, const char *path, bool quiet)
{
	size_t		len = (size_t) PQgetlength(res, 0, 0);
	const char *bytes = PQgetvalue(res, 0, 0);
	long		lines = -1;		/* the header is not a failed line */
	FILE	   *out;

	for (size_t i = 0; i + 1 < len; i++)
		if (bytes[i] == '\r' && bytes[i + 1] == '\n')
			lines++;
	out = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
	if (out == NULL ||
		fwrite(bytes, 1, len, out) != len ||
		(out == stdout ? fflush(out) : fclose(out)) != 0)
	{
		fprintf(stderr, "%s: error: could not write \"%s\": %s\n",
				progname, path, strerror(errno));
		PQclear(res);
		PQfinish(conn);
		exit(EXIT_FAILED);
	}
	if (!quiet)
	{
		if (lines <= 0)
			fprintf(stderr, "%s: no failed line: %s holds the header only\n", progname, path);
		else
			fprintf(stderr, "%s: %ld failed line%s written to %s\n", progname, lines,
					lines == 1 ? "" : "s", path);
	}
	PQclear(res);
}

static void
write_error_lines(PGconn *conn, const char *import_id, const char *path, bool quiet)
{
	const Oid	types[1] = {INT8OID};
	const char *values[1] = {import_id};

	write_error_file(conn,
					 exec_or_exit(conn,
								  "SELECT pg_catalog.convert_to(upflow.error_lines_csv($1), 'UTF8')",
								  1, types, values, 1, PGRES_TUPLES_OK),
					 path, quiet);
}

/*
 * --wait: poll the history until the import is finished.  A queued import
 * is run by the worker (upflow.run_pending_imports, usually from pg_cron).
 */
static void
wait_for_import(PGconn *conn, const cli_options *opts)
{
	const Oid	types[2] = {INT8OID, INT8OID};
	const char *values[2] = {opts->org, opts->wait_id};
	char		line[128];
	struct timespec start;
	bool		told = false;

	clock_gettime(CLOCK_MONOTONIC, &start);
	/* Ctrl-C stops the waiting, not the import: say how to resume. */
	signal(SIGINT, handle_sigint);
	for (;;)
	{
		struct timespec now;
		PGresult   *res;
		const char *status;

		res = exec_or_exit(conn,
						   "SELECT status FROM upflow.import_history"
						   " WHERE organization_id = $1 AND import_id = $2",
						   2, types, values, 0, PGRES_TUPLES_OK);
		if (PQntuples(res) == 0)
		{
			progress_clear();
			fprintf(stderr, "ERROR:  import %s does not exist in organization %s\n"
					"HINT:  Look up your imports in upflow.import_history.\n",
					opts->wait_id, opts->org);
			PQclear(res);
			PQfinish(conn);
			exit(EXIT_FAILED);
		}
		status = PQgetvalue(res, 0, 0);
		if (strcmp(status, "pending") != 0 && strcmp(status, "running") != 0)
		{
			PQclear(res);
			progress_clear();
			signal(SIGINT, SIG_DFL);
			return;
		}
		/* A pending import with no worker scheduled would wait forever. */
		if (!told && strcmp(status, "pending") == 0)
		{
			PGresult   *job = PQexec(conn,
									 "SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')");

			told = true;
			if (PQresultStatus(job) == PGRES_TUPLES_OK && strcmp(PQgetvalue(job, 0, 0), "t") == 0)
			{
				progress_clear();
				fprintf(stderr, "%s: import %s is pending and pg_cron is not installed in database \"%s\": "
						"no worker is scheduled here; an administrator runs CALL upflow.run_import_queue(); "
						"or SELECT upflow.schedule_import_worker();\n",
						progname, opts->wait_id, PQdb(conn));
			}
			PQclear(job);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (opts->timeout > 0 && now.tv_sec - start.tv_sec >= opts->timeout)
		{
			PQclear(res);
			progress_clear();
			fprintf(stderr, "%s: stopped waiting after %ld s; import %s is still %s and goes on (%s --org %s --wait %s)\n",
					progname, opts->timeout, opts->wait_id, status, progname, opts->org, opts->wait_id);
			PQfinish(conn);
			exit(EXIT_FAILED);
		}
		if (bar.enabled)
		{
			snprintf(line, sizeof(line), "%c waiting for import %s: %s%s",
					 "|/-\\"[bar.spin++ % 4], opts->wait_id, status,
					 bar.utf8 ? "\xE2\x80\xA6" : "...");
			progress_draw(line);
		}
		PQclear(res);
		usleep(WAIT_INTERVAL_MS * 1000);
		if (interrupted)
		{
			progress_clear();
			fprintf(stderr, "%s: stopped waiting; import %s goes on (%s --org %s --wait %s)\n",
					progname, opts->wait_id, progname, opts->org, opts->wait_id);
			PQfinish(conn);
			exit(EXIT_FAILED);
		}
	}
}

/*
 * --revert: upflow.revert_import, then the revert's report.  With
 * --dry-run, what the revert would do, row by row and field by field
 * (upflow.preview_revert), then the counts of the revert, rolled back.
 */
static const char *const revert_preview_sql =
"SELECT p.action || ': ' || concat_ws(', ',"
"         'line ' || p.line_number,"
"         CASE WHEN p.row_kind = 'contact'"
"              THEN 'contact \"' || p.email || '\" of customer \"' || p.external_id || '\"'"
"              ELSE 'customer \"' || p.external_id || '\"' END,"
"         CASE WHEN p.field IS NOT NULL"
"              THEN p.field || ': now ' || coalesce(nullif(p.value_now::text, 'null'), 'empty')"
"                   || ', the import wrote ' || coalesce(nullif(p.value_imported::text, 'null'), 'empty')"
"                   || ', before it ' || coalesce(nullif(p.value_before::text, 'null'), 'empty')"
"              WHEN p.action <> 'gone' THEN 'created by the import' END)"
"  FROM upflow.preview_revert($1::bigint, $2::jsonb) p";

static const char *const revert_dry_run_sql =
"SELECT NULL::bigint, r.status, r.file_name, NULL::text, NULL::text,"
"       r.line_count, r.created_count, r.updated_count, r.unchanged_count,"
"       r.failed_count, r.skipped_count, r.warning_count, r.error,"
"       NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint,"
"       r.reverts_import_id, r.deleted_count"
"  FROM upflow.revert_import($1::bigint, $2::jsonb || '{\"dry_run\": true}') r";

static int
revert(PGconn *conn, const cli_options *opts)
{
	const Oid	types[2] = {INT8OID, JSONBOID};
	char		options[128];
	const char *values[2] = {opts->revert_id, options};
	PGresult   *res;
	int			rc;

	/* (--submitted-by is checked to be digits.) */
	snprintf(options, sizeof(options), "{\"force\": %s%s%s}",
			 opts->force ? "true" : "false",
			 opts->submitted_by ? ", \"submitted_by\": " : "",
			 opts->submitted_by ? opts->submitted_by : "");

	if (opts->dry_run)
	{
		res = exec_or_exit(conn, revert_preview_sql, 2, types, values, 0, PGRES_TUPLES_OK);
		if (!opts->quiet)
		{
			for (int i = 0; i < PQntuples(res); i++)
				printf("%s\n", PQgetvalue(res, i, 0));
		}
		PQclear(res);
		res = exec_or_exit(conn, revert_dry_run_sql, 2, types, values, 0, PGRES_TUPLES_OK);
		rc = print_report(res, opts);
		PQclear(res);
		return rc;
	}

	res = exec_or_exit(conn, "SELECT r.import_id FROM upflow.revert_import($1::bigint, $2::jsonb) r",
					   2, types, values, 0, PGRES_TUPLES_OK);
	{
		char	   *revert_id = pg_strdup(PQgetvalue(res, 0, 0));

		PQclear(res);
		res = fetch_report(conn, opts, revert_id);
		free(revert_id);
	}
	rc = print_report(res, opts);
	PQclear(res);
	return rc;
}

static void
help(void)
{
	printf("%s imports a contacts CSV file from this machine into upflow_import.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... --org ID FILE\n", progname);
	printf("  %s [OPTION]... --org ID --wait IMPORT_ID\n", progname);
	printf("  %s [OPTION]... --org ID --revert IMPORT_ID [--dry-run] [--force]\n\n", progname);
	printf("FILE is read here and sent as bytes (\"-\" reads stdin); the server decodes it.\n\n");
	printf("Import options:\n");
	printf("      --org=ID              organization to import into (required)\n");
	printf("      --mapping=JSON|@FILE  mapping {\"field\": \"header\" | column_number}\n");
	printf("      --delimiter=CHAR      separator (; , | or tab; default: detected)\n");
	printf("      --save-mapping=NAME   save the file's mapping under NAME for the organization\n");
	printf("      --mapping-name=NAME   use the organization's saved mapping NAME\n");
	printf("                            (without a mapping, one saved for the same headers is used)\n");
	printf("      --list-mappings       list the organization's saved mappings and exit\n");
	printf("      --encoding=NAME       encoding of FILE (default: auto: UTF-8, UTF-16\n");
	printf("                            with BOM, else Windows-1252)\n");
	printf("      --options=JSON        other import options, e.g. '{\"blank_cells\": \"clear\"}'\n");
	printf("      --file-name=NAME      name kept in the history (default: FILE's basename)\n");
	printf("      --submitted-by=ID     member submitting the import (notified when done)\n");
	printf("      --dry-run             show what the import would do, write nothing\n");
	printf("      --async               queue the import, print its id and exit\n");
	printf("      --wait=IMPORT_ID      wait for a queued import to finish, then report it\n");
	printf("      --timeout=SECONDS     with --wait: give up waiting after SECONDS (the import goes on)\n");
	printf("      --errors-out=FILE     write the failed lines (CSV, UTF-8) to FILE (\"-\": stdout)\n");
	printf("      --revert=IMPORT_ID    undo an import: put back what it changed, delete what it\n");
	printf("                            created (with --dry-run: show what it would do)\n");
	printf("      --force               with --revert: put back values changed since the import too\n");
	printf("  -q, --quiet               print no summary and no progress\n");
	printf("  -V, --version             output version information, then exit\n");
	printf("  -?, --help                show this help, then exit\n\n");
	cli_connection_help(NULL);
	printf("On a terminal, a progress bar is drawn on stderr.  The summary goes to stdout:\n");
	printf("one \"name: value\" line per count, then the first problems.\n\n");
	printf("Exit status: 0 succeeded, 1 partially succeeded, 2 failed or refused\n");
	printf("(the server's message, detail and hint are printed on stderr).\n");
	printf("A dry run exits with the status the import would have.\n");
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		CLI_CONNECTION_LONG_OPTIONS,
		{"quiet", no_argument, NULL, 'q'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 12},
		{"org", required_argument, NULL, 1},
		{"mapping", required_argument, NULL, 2},
		{"delimiter", required_argument, NULL, 3},
		{"encoding", required_argument, NULL, 4},
		{"save-mapping", required_argument, NULL, 40},
		{"mapping-name", required_argument, NULL, 41},
		{"list-mappings", no_argument, NULL, 42},
		{"dry-run", no_argument, NULL, 5},
		{"async", no_argument, NULL, 6},
		{"wait", required_argument, NULL, 7},
		{"errors-out", required_argument, NULL, 8},
		{"file-name", required_argument, NULL, 9},
		{"submitted-by", required_argument, NULL, 10},
		{"options", required_argument, NULL, 11},
		{"timeout", required_argument, NULL, 13},
		{"revert", required_argument, NULL, 14},
		{"force", no_argument, NULL, 15},
		{NULL, 0, NULL, 0}
	};
	cli_options opts;
	PGconn	   *conn;
	PGresult   *res;
	int			c;
	int			rc;
	char	   *content = NULL;
	size_t		content_len = 0;
	char	   *import_id;

	memset(&opts, 0, sizeof(opts));
	setlocale(LC_CTYPE, "");

	/* --help and --version alone, as PostgreSQL's programs take them. */
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0))
	{
		help();
		exit(0);
	}
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
	{
		printf("%s (upflow_import) %s\n", progname, UPFLOW_VERSION);
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
			case 12:
				help();
				exit(0);
			case '?':
				/* getopt returns '?' for -? and for an unknown option alike. */
				if (strcmp(argv[optind - 1], "-?") == 0)
				{
					help();
					exit(0);
				}
				fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
				exit(EXIT_FAILED);
			case 1:
				opts.org = check_id(optarg, "--org");
				break;
			case 2:
				if (optarg[0] == '@')
				{
					size_t		len;
					char	   *text = read_whole_file(optarg + 1, &len, "mapping file");

					text[len] = '\0';	/* room left by read_whole_file */
					opts.mapping = text;
				}
				else
					opts.mapping = optarg;
				break;
			case 3:
				opts.delimiter = optarg;
				break;
			case 4:
				opts.encoding = optarg;
				break;
			case 40:
				opts.save_mapping = optarg;
				break;
			case 41:
				opts.mapping_name = optarg;
				break;
			case 42:
				opts.list_mappings = true;
				break;
			case 5:
				opts.dry_run = true;
				break;
			case 6:
				opts.async = true;
				break;
			case 7:
				opts.wait_id = check_id(optarg, "--wait");
				break;
			case 13:
				{
					char	   *end;

					errno = 0;
					opts.timeout = strtol(optarg, &end, 10);
					if (errno != 0 || *end != '\0' || opts.timeout <= 0)
						usage_error("--timeout takes a number of seconds, not \"%s\"", optarg);
				}
				break;
			case 8:
				opts.errors_out = optarg;
				break;
			case 14:
				opts.revert_id = check_id(optarg, "--revert");
				break;
			case 15:
				opts.force = true;
				break;
			case 9:
				opts.file_name = optarg;
				break;
			case 10:
				opts.submitted_by = check_id(optarg, "--submitted-by");
				break;
			case 11:
				opts.extra_options = optarg;
				break;
			default:
				fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
				exit(EXIT_FAILED);
		}
	}

	if (opts.org == NULL)
		usage_error("%s", "--org is required");
	if (opts.timeout > 0 && opts.wait_id == NULL)
		usage_error("%s", "--timeout goes with --wait");
	if (opts.wait_id != NULL)
	{
		if (optind < argc)
			usage_error("--wait takes no FILE (\"%s\")", argv[optind]);
		if (opts.async || opts.dry_run || opts.mapping || opts.delimiter ||
			opts.encoding || opts.extra_options || opts.file_name || opts.submitted_by)
			usage_error("%s", "--wait reports an import already submitted: it takes no import option");
	}
	else if (opts.revert_id != NULL)
	{
		if (optind < argc)
			usage_error("--revert takes no FILE (\"%s\")", argv[optind]);
		if (opts.async || opts.mapping || opts.delimiter || opts.encoding || opts.extra_options ||
			opts.file_name || opts.save_mapping || opts.mapping_name || opts.errors_out ||
			opts.list_mappings)
			usage_error("%s", "--revert undoes an import already made: it takes no import option but --dry-run, --force and --submitted-by");
	}
	else if (opts.list_mappings)
	{
		if (optind < argc)
			usage_error("--list-mappings takes no FILE (\"%s\")", argv[optind]);
	}
	else
	{
		if (optind >= argc)
			usage_error("%s", "no FILE to import");
		if (optind + 1 < argc)
			usage_error("too many arguments (first extra: \"%s\")", argv[optind + 1]);
		opts.file = argv[optind];
	}
	if (opts.force && opts.revert_id == NULL)
		usage_error("%s", "--force goes with --revert");
	if (opts.async && opts.dry_run)
		usage_error("%s", "--async and --dry-run cannot be combined");
	if (opts.async && opts.errors_out)
		usage_error("%s", "--errors-out needs a finished import: use it with --wait after --async");

	/* The history keeps a name, never a path of this machine. */
	if (opts.file != NULL && opts.file_name == NULL && strcmp(opts.file, "-") != 0)
	{
		const char *slash = strrchr(opts.file, '/');

		opts.file_name = slash ? slash + 1 : opts.file;
	}

	bar.enabled = isatty(STDERR_FILENO) && !opts.quiet;
	if (bar.enabled)
	{
		const char *codeset = nl_langinfo(CODESET);

		bar.utf8 = codeset != NULL && strcmp(codeset, "UTF-8") == 0;
	}

	/* Read the file before connecting: a typo costs no connection. */
	if (opts.file != NULL)
		content = read_whole_file(opts.file, &content_len, "file");

	conn = connect_main(&opts);
	prepare_session(conn, &opts);
	if (opts.revert_id != NULL)
	{
		int			rc = revert(conn, &opts);

		PQfinish(conn);
		return rc;
	}
	if (opts.list_mappings)
	{
		int			rc = list_saved_mappings(conn, &opts);

		PQfinish(conn);
		return rc;
	}
	check_json_object(conn, opts.mapping, "--mapping");
	check_json_object(conn, opts.extra_options, "--options");
	if (bar.enabled && opts.wait_id == NULL)
		bar.conn = connect_progress(conn);

	if (opts.wait_id != NULL)
	{
		wait_for_import(conn, &opts);
		import_id = pg_strdup(opts.wait_id);
	}
	else
	{
		const Oid	types[10] = {INT8OID, BYTEAOID, JSONBOID, TEXTOID, INT8OID,
		JSONBOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		const char *values[10] = {opts.org, content, opts.mapping, opts.file_name,
			opts.submitted_by, opts.extra_options, opts.delimiter, opts.encoding,
		opts.save_mapping, opts.mapping_name};
		int			lengths[10] = {0, (int) content_len, 0, 0, 0, 0, 0, 0, 0, 0};
		const int	formats[10] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
		const char *sql;

		if (opts.dry_run)
		{
			sql = dry_run_sql;
			bar.label = "checking";
		}
		else if (opts.async)
		{
			sql = "SELECT upflow.submit_import($1, $2, $3, $4, $5,"
				" coalesce($6, '{}') || jsonb_strip_nulls(jsonb_build_object("
				"     'delimiter', $7, 'encoding', $8, 'save_mapping', $9, 'mapping_name', $10)))";
			bar.label = "queueing";
		}
		else
		{
			sql = "SELECT i.import_id"
				"  FROM upflow.upflow_import($1, $2, $3, $4, $5,"
				"       coalesce($6, '{}') || jsonb_strip_nulls(jsonb_build_object("
				"           'delimiter', $7, 'encoding', $8, 'save_mapping', $9, 'mapping_name', $10))) i";
			bar.label = "preparing";
		}
		bar.file_size = content_len;
		res = run_long_statement(conn, sql, 10, types, values, lengths, formats);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			report_result_error(res, conn);
			PQclear(res);
			PQfinish(conn);
			exit(EXIT_FAILED);
		}

		if (opts.dry_run)
		{
			rc = print_report(res, &opts);
			PQclear(res);
			/* The lines to fix, before anything is imported. */
			if (opts.errors_out != NULL)
				write_error_file(conn,
								 exec_or_exit_params(conn,
													 "SELECT pg_catalog.convert_to(upflow.preview_error_lines_csv($1::bigint, d.content, $3::jsonb,"
													 "       coalesce($6::jsonb, '{}') || jsonb_strip_nulls(jsonb_build_object("
													 "           'delimiter', $7::text, 'encoding', $8::text, 'save_mapping', $9::text, 'mapping_name', $10::text))), 'UTF8')"
													 "  FROM upflow.decode_file($2::bytea, coalesce($6::jsonb->>'encoding', $8::text, 'auto')) d",
													 10, types, values, lengths, formats),
								 opts.errors_out, opts.quiet);
			free(content);
			PQfinish(bar.conn);
			PQfinish(conn);
			return rc;
		}
		free(content);
		import_id = pg_strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
		if (opts.async)
		{
			/* The id is the result: printed even with --quiet. */
			printf("%s\n", import_id);
			PQfinish(bar.conn);
			PQfinish(conn);
			return EXIT_SUCCEEDED;
		}
	}

	res = fetch_report(conn, &opts, import_id);
	if (PQntuples(res) == 0)
	{
		/* The row went away (purged meanwhile): say so rather than guess. */
		fprintf(stderr, "ERROR:  import %s is no longer in upflow.import_history\n", import_id);
		rc = EXIT_FAILED;
	}
	else
		rc = print_report(res, &opts);
	PQclear(res);

	if (opts.errors_out != NULL)
		write_error_lines(conn, import_id, opts.errors_out, opts.quiet);

	free(import_id);
	PQfinish(bar.conn);
	PQfinish(conn);
	return rc;
}
