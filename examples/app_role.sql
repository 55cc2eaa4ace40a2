-- The least-privilege application role (README, "Security and roles"):
-- what an application needs to import and read its organizations'
-- contacts, and nothing more.  Run it as the extension's owner:
--   psql -v app_role=upflow_app -f examples/app_role.sql
-- (app_role defaults to upflow_app).  The tests run this very file.
\if :{?app_role}
\else
\set app_role upflow_app
\endif
CREATE ROLE :"app_role" NOLOGIN;
GRANT USAGE ON SCHEMA upflow TO :"app_role";
GRANT SELECT ON upflow.organization, upflow.member TO :"app_role";
GRANT UPDATE (last_import_at) ON upflow.organization TO :"app_role";   -- the per-organization import lock
GRANT SELECT, INSERT, UPDATE ON upflow.customer, upflow.contact TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON upflow.import TO :"app_role";
GRANT SELECT, INSERT ON upflow.import_error TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON upflow.notification TO :"app_role";
GRANT SELECT ON upflow.import_history, upflow.import_errors TO :"app_role";
