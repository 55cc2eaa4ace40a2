/*-------------------------------------------------------------------------
 *
 * cli_common.h
 *		What the command-line programs (upflow-import, upflow-notify) share:
 *		memory helpers, the password prompt, connecting like psql.
 *
 * bin/cli_common.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef UPFLOW_CLI_COMMON_H
#define UPFLOW_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "libpq-fe.h"

/* Defined by each program: the name its messages start with. */
extern const char *progname;

/* Exit status of a program that could not run (usage, memory, connection). */
#define CLI_EXIT_CANNOT_RUN	2

/* malloc and strdup that exit with a message when memory runs out. */
extern void *pg_malloc(size_t size);
extern char *pg_strdup(const char *s);

/* The server to connect to, as psql's options give it (NULL: libpq's default). */
typedef struct cli_connection
{
	const char *host;
	const char *port;
	const char *username;
	const char *dbname;			/* a database name, a connection string or URI */
	int			prompt_password;	/* -1 never (-w), 0 when needed, 1 always (-W) */
	char	   *password;		/* set when one was prompted for (malloc'd) */
} cli_connection;

/* The long options of the connection, first in each program's table. */
#define CLI_CONNECTION_LONG_OPTIONS \
	{"host", required_argument, NULL, 'h'}, \
	{"port", required_argument, NULL, 'p'}, \
	{"username", required_argument, NULL, 'U'}, \
	{"dbname", required_argument, NULL, 'd'}, \
	{"no-password", no_argument, NULL, 'w'}, \
	{"password", no_argument, NULL, 'W'}
/* Their short options, for getopt_long. */
#define CLI_CONNECTION_SHORT_OPTIONS "h:p:U:d:wW"

/* Take a connection option (getopt's c and optarg); false if c is not one. */
extern bool cli_connection_option(cli_connection *target, int c, const char *arg);

/* The "Connection options" paragraph of --help; user_note after -U's line. */
extern void cli_connection_help(const char *user_note);

/*
 * Connect like psql; NULL after printing libpq's message.  A prompted
 * password is kept in target->password for a later reconnection.
 */
extern PGconn *cli_connect(cli_connection *target);

#endif							/* UPFLOW_CLI_COMMON_H */
