/*-------------------------------------------------------------------------
 *
 * worker.c
 *		Budgets of the queue worker (upflow.run_pending_imports).
 *
 * The worker runs many imports in one statement (and, as the procedure
 * upflow.run_import_queue, in many transactions).  PostgreSQL arms
 * statement_timeout once per statement: without help, the first import
 * would use up the budget of all of them, and one tenant's large file
 * would make every later import of the run fail.  So the worker restarts
 * the timer before each import: every import gets the worker's whole
 * statement_timeout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "storage/proc.h"
#include "utils/timeout.h"

#include "upflow_import.h"

PG_FUNCTION_INFO_V1(upflow_restart_statement_timeout);

/*
 * upflow.restart_statement_timeout(): statement_timeout counts again from
 * now, for the rest of the statement.  Returns whether there is one.
 */
Datum
upflow_restart_statement_timeout(PG_FUNCTION_ARGS)
{
	if (StatementTimeout <= 0)
		PG_RETURN_BOOL(false);
	enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
	PG_RETURN_BOOL(true);
}
