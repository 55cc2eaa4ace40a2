/*-------------------------------------------------------------------------
 *
 * cli_common.c
 *		What the command-line programs (upflow-import, upflow-notify) share:
 *		memory helpers, the password prompt, connecting like psql.
 *
 * bin/cli_common.c
 *
 *-------------------------------------------------------------------------
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli_common.h"

void *
pg_malloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "%s: error: out of memory\n", progname);
		exit(CLI_EXIT_CANNOT_RUN);
	}
	return p;
}

char *
pg_strdup(const char *s)
{
	size_t		len = strlen(s) + 1;

	return memcpy(pg_malloc(len), s, len);
}

/*
 * Whether a password can be asked for: the prompt goes through /dev/tty,
 * as stdin may be the file itself ("-").
 */
static bool
have_terminal(void)
{
	int			fd = open("/dev/tty", O_RDWR);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Read a password from the terminal, without echo, as psql does. */
static char *
prompt_for_password(const char *user)
{
	FILE	   *tty = fopen("/dev/tty", "r+");
	FILE	   *in = tty ? tty : stdin;
	FILE	   *out = tty ? tty : stderr;
	struct termios t_orig;
	struct termios t;
	bool		echo_off = false;
	char	   *buf = pg_malloc(1024);

	if (user)
		fprintf(out, "Password for user %s: ", user);
	else
		fputs("Password: ", out);
	fflush(out);
	if (tcgetattr(fileno(in), &t_orig) == 0)
	{
		t = t_orig;
		t.c_lflag &= ~ECHO;
		echo_off = tcsetattr(fileno(in), TCSAFLUSH, &t) == 0;
	}
	if (fgets(buf, 1024, in) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (echo_off)
	{
		tcsetattr(fileno(in), TCSAFLUSH, &t_orig);
		fputc('\n', out);
		fflush(out);
	}
	if (tty)
		fclose(tty);
	return buf;
}

bool
cli_connection_option(cli_connection *target, int c, const char *arg)
{
	switch (c)
	{
		case 'h':
			target->host = arg;
			return true;
		case 'p':
			target->port = arg;
			return true;
		case 'U':
			target->username = arg;
			return true;
		case 'd':
			target->dbname = arg;
			return true;
		case 'w':
			target->prompt_password = -1;
			return true;
		case 'W':
			target->prompt_password = 1;
			return true;
		default:
			return false;
	}
}

void
cli_connection_help(const char *user_note)
{
	printf("Connection options (as psql; PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD,\n");
	printf("PGSERVICE and ~/.pgpass apply):\n");
	printf("  -h, --host=HOSTNAME       database server host or socket directory\n");
	printf("  -p, --port=PORT           database server port\n");
	printf("  -U, --username=USERNAME   database user name%s\n", user_note ? user_note : "");
	printf("  -d, --dbname=DBNAME       database name or connection string\n");
	printf("  -w, --no-password         never prompt for password\n");
	printf("  -W, --password            force password prompt\n\n");
}

/*
 * Connect like psql: -d may be a connection string or URI (expanded), and
 * the other options override only what it does not say.  A password is
 * asked for when the server wants one and none came from the environment
 * or the password file.
 */
PGconn *
cli_connect(cli_connection *target)
{
	const char *keywords[7];
	const char *values[7];
	PGconn	   *conn;

	if (target->prompt_password == 1 && target->password == NULL)
		target->password = prompt_for_password(target->username);

	for (;;)
	{
		keywords[0] = "host";
		values[0] = target->host;
		keywords[1] = "port";
		values[1] = target->port;
		keywords[2] = "user";
		values[2] = target->username;
		keywords[3] = "password";
		values[3] = target->password;
		keywords[4] = "dbname";
		values[4] = target->dbname;
		keywords[5] = "fallback_application_name";
		values[5] = progname;
		keywords[6] = NULL;
		values[6] = NULL;

		conn = PQconnectdbParams(keywords, values, 1);
		if (PQstatus(conn) == CONNECTION_OK)
			return conn;
		if (target->password == NULL && PQconnectionNeedsPassword(conn) &&
			target->prompt_password != -1 && have_terminal())
		{
			PQfinish(conn);
			target->password = prompt_for_password(target->username);
			continue;
		}
		fprintf(stderr, "%s: error: %s", progname, PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
}
