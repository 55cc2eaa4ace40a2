-- examples/relay_role.sql -- a role for the notification relay,
-- bin/upflow-notify: it reads every organization's outbox (BYPASSRLS) and
-- nothing else it does not need, and changes only the outbox.
--
--   psql -v relay_role=NAME -f examples/relay_role.sql   (default upflow_relay)
--
-- Give it a password (or a certificate) and a pg_hba.conf line of its own;
-- it is the one role that reads the Slack webhook URLs.
\if :{?relay_role}
\else
\set relay_role upflow_relay
\endif

CREATE ROLE :"relay_role" LOGIN BYPASSRLS;
GRANT USAGE ON SCHEMA upflow TO :"relay_role";
GRANT SELECT ON upflow.organization, upflow.member, upflow.import, upflow.slack_webhook
	TO :"relay_role";
GRANT SELECT, UPDATE ON upflow.notification_delivery TO :"relay_role";
GRANT EXECUTE ON FUNCTION upflow.due_delivery_organizations(), upflow.claim_delivery(bigint, text),
	upflow.record_delivery(bigint, bigint, text, text, integer, interval, interval),
	upflow.import_summary(upflow.import) TO :"relay_role";
