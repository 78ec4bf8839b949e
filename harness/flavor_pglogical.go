package harness

import "github.com/spockchaos/spockchaos/docker"

// pglogical is the default flavor: PostgreSQL 17 (or 15 or 18, Config.PGMajor)
// + pglogical 2.4 from Debian, in the offline-built image. The image's
// spockchaos.conf holds its static settings, but every setting the flavor
// needs is passed at start too (and output_plugin_libraries at run time,
// as for spock), so that an image with pglogical installed and nothing
// configured works: one laid out like pgEdge's, whose entrypoint runs
// initdb at first start.
type pglogical struct{}

func init() { registerFlavor(pglogical{}) }

func (pglogical) Name() string         { return "pglogical" }
func (pglogical) DefaultImage() string { return docker.DefaultImage() }

func (pglogical) ServerSettings(n int) map[string]string {
	s := commonSettings(n)
	s["shared_preload_libraries"] = "pglogical"
	s["pglogical.conflict_resolution"] = "last_update_wins"
	return s
}

// ListSettings: pglogical's output plugin must be allowed where the
// server has output_plugin_libraries (17.11 and later minors), which an
// unknown setting at start would break on older ones.
func (pglogical) ListSettings() []ListSetting {
	return []ListSetting{{Name: "output_plugin_libraries", Items: []string{"pgoutput", "test_decoding", "pglogical_output"}}}
}

func (pglogical) CreateNode(self Peer) []Statement {
	return []Statement{
		{SQL: "CREATE EXTENSION IF NOT EXISTS pglogical"},
		{SQL: "SELECT pglogical.create_node(node_name := $1, dsn := $2)", Args: []any{self.Name, self.DSN}},
	}
}

// ReplicateTables uses replication_set_add_all_tables, which skips tables
// already in the set (checked on pglogical 2.4.5), so it is idempotent.
func (pglogical) ReplicateTables(schemas []string) []Statement {
	return []Statement{{
		SQL:  "SELECT pglogical.replication_set_add_all_tables('default', $1::text[], false)",
		Args: []any{schemas},
	}}
}

func (pglogical) SubscriptionName(subscriber, provider string) string {
	return "sub_" + subscriber + "_" + provider
}

func (f pglogical) Subscribe(subscriber, provider Peer) []Statement {
	return []Statement{{
		SQL: `SELECT pglogical.create_subscription(
  subscription_name := $1, provider_dsn := $2,
  replication_sets := ARRAY['default', 'default_insert_only', 'ddl_sql'],
  synchronize_structure := false, synchronize_data := false,
  forward_origins := '{}'::text[])`,
		Args: []any{f.SubscriptionName(subscriber.Name, provider.Name), provider.DSN},
	}}
}

func (pglogical) SubscriptionStatusQuery() string {
	return "SELECT subscription_name::text, status::text, provider_node::text FROM pglogical.show_subscription_status()"
}

// DisableSubscription: immediate, so the apply worker exits now.
func (pglogical) DisableSubscription(name string) []Statement {
	return []Statement{{SQL: "SELECT pglogical.alter_subscription_disable($1, true)", Args: []any{name}}}
}

// EnableSubscription updates the catalog, which signals the database's
// manager at commit.
func (pglogical) EnableSubscription(name string) []Statement {
	return []Statement{{SQL: "SELECT pglogical.alter_subscription_enable($1, true)", Args: []any{name}}}
}

// SlotNameQuery reads pglogical.subscription.sub_slot_name.
func (pglogical) SlotNameQuery() string {
	return "SELECT sub_slot_name::text FROM pglogical.subscription WHERE sub_name = $1"
}

// ApplyWorkerQuery: pglogical names an apply worker's backend type
// 'pglogical apply <database oid>:<subscription id>' (checked on 2.4.5).
func (pglogical) ApplyWorkerQuery() string {
	return `SELECT a.pid FROM pg_stat_activity a, pglogical.subscription s, pg_database d
WHERE d.datname = current_database() AND s.sub_name = $1
  AND a.backend_type = 'pglogical apply ' || d.oid || ':' || s.sub_id`
}

// wakeManagerSQL reports how many enabled subscriptions of this node have
// no apply worker yet and, when some have one and others wait, wakes the
// database's pglogical manager. The manager starts a node's workers one at
// a time and, after each, waits on its latch for up to a second for the
// worker to attach (wait_for_worker_startup); nothing sets that latch when
// the worker attaches, so every worker but the first starts a second late.
// Any procsignal sets the latch; pg_log_backend_memory_contexts is the one
// a superuser can send to a background worker, at the price of one memory
// context dump in the server log per wake.
const wakeManagerSQL = `WITH db AS (SELECT oid FROM pg_database WHERE datname = current_database()),
subs AS (
  SELECT EXISTS (SELECT 1 FROM pg_stat_activity a, db
                 WHERE a.backend_type = 'pglogical apply ' || db.oid || ':' || s.sub_id) AS running
  FROM pglogical.subscription s WHERE s.sub_enabled)
SELECT count(*) FILTER (WHERE NOT running),
  CASE WHEN bool_or(running) AND NOT bool_and(running) THEN
    coalesce((SELECT bool_or(pg_log_backend_memory_contexts(a.pid)) FROM pg_stat_activity a, db
              WHERE a.backend_type = 'pglogical manager ' || db.oid), false)
  ELSE false END
FROM subs`

// WakeManager is wakeManagerSQL (see workerStarter in setup.go).
func (pglogical) WakeManager() Statement { return Statement{SQL: wakeManagerSQL} }
