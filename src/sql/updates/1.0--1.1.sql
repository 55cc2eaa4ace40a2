/*
 * src/sql/updates/1.0--1.1.sql -- what the update from 1.0 to 1.1 does
 * besides (re)defining the functions, views and comments of src/sql/.
 *
 * Nothing: 1.1 changes no table.  Its new functions (prepare_changed_lines,
 * unchanged_line_count), the new apply_import and run_pending_imports and
 * the comments on every column come from the sources that follow in the
 * generated script.
 */
