package harness

import "github.com/spockchaos/spockchaos/docker"

// pglogical is the default flavor: PostgreSQL 17 + pglogical 2.4 from
// Debian, in the offline-built image. Its static settings
// (shared_preload_libraries, output_plugin_libraries, last_update_wins) live
// in the image's spockchaos.conf.
type pglogical struct{}

func init() { registerFlavor(pglogical{}) }

func (pglogical) Name() string         { return "pglogical" }
func (pglogical) DefaultImage() string { return docker.DefaultImage() }

func (pglogical) ServerSettings(n int) map[string]string { return commonSettings(n) }

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
