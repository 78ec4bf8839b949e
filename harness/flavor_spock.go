package harness

// spock drives pgEdge Spock (5.0.x / 6.0) in an image the user names. It
// follows the Spock API facts of DESIGN.md section 4 and is built and tested
// here only by the SQL it issues: no Spock server can be built offline.
//
// Decisions: conflict resolution is Spock's only one (last_update_wins), so
// nothing is set for it. output_plugin_libraries (PostgreSQL 17.11 has it,
// default 'pgoutput, test_decoding'; without spock_output every Spock
// subscription stays down with 'library "spock_output" may not be used as
// an output plugin') exists only on newer minors, so it is not passed at
// start (an unknown setting stops the server) but is a ListSetting, set at
// run time by ALTER SYSTEM when the server has it. Checked on real Spock
// 5.0.11 and 6.0.0 builds (PostgreSQL 17.11).
type spock struct{}

func init() { registerFlavor(spock{}) }

func (spock) Name() string         { return "spock" }
func (spock) DefaultImage() string { return "" }

func (spock) ServerSettings(n int) map[string]string {
	s := commonSettings(n)
	s["shared_preload_libraries"] = "spock"
	// A peer's apply worker adds a table AutoDDL created to a replication
	// set only with this on (ReplicateDDL); without AutoDDL it does nothing.
	s["spock.include_ddl_repset"] = "on"
	return s
}

// ListSettings: the decoding plugins Spock and the harness use. The
// recovery slots are pgoutput's; spock_output is Spock's own.
func (spock) ListSettings() []ListSetting {
	return []ListSetting{{Name: "output_plugin_libraries", Items: []string{"pgoutput", "test_decoding", "spock_output"}}}
}

func (spock) CreateNode(self Peer) []Statement {
	return []Statement{
		{SQL: "CREATE EXTENSION IF NOT EXISTS spock"},
		{SQL: "SELECT spock.node_create(node_name := $1, dsn := $2)", Args: []any{self.Name, self.DSN}},
	}
}

// ReplicateTables uses spock.repset_add_all_tables(set, schemas, sync),
// inherited from pglogical, whose version skips tables already in the set.
func (spock) ReplicateTables(schemas []string) []Statement {
	return []Statement{{
		SQL:  "SELECT spock.repset_add_all_tables('default', $1::text[], false)",
		Args: []any{schemas},
	}}
}

func (spock) SubscriptionName(subscriber, provider string) string {
	return "sub_" + subscriber + "_" + provider
}

func (f spock) Subscribe(subscriber, provider Peer) []Statement {
	return []Statement{{
		SQL: `SELECT spock.sub_create(
  subscription_name := $1, provider_dsn := $2,
  replication_sets := ARRAY['default', 'default_insert_only', 'ddl_sql'],
  synchronize_structure := false, synchronize_data := false,
  forward_origins := '{}'::text[], enabled := true)`,
		Args: []any{f.SubscriptionName(subscriber.Name, provider.Name), provider.DSN},
	}}
}

func (spock) SubscriptionStatusQuery() string {
	return "SELECT subscription_name::text, status::text, provider_node::text FROM spock.sub_show_status()"
}

// DisableSubscription uses spock.sub_disable(name, immediate).
func (spock) DisableSubscription(name string) []Statement {
	return []Statement{{SQL: "SELECT spock.sub_disable($1, true)", Args: []any{name}}}
}

// EnableSubscription uses spock.sub_enable(name, immediate).
func (spock) EnableSubscription(name string) []Statement {
	return []Statement{{SQL: "SELECT spock.sub_enable($1, true)", Args: []any{name}}}
}

// SlotNameQuery reads spock.subscription.sub_slot_name
// (spk_<database>_<provider>_<subscription>). Spock's apply worker connects
// to its provider with application_name = that slot name
// (spock_connect_replica(dsn, slot_name, NULL) in spock_apply.c), not the
// subscription name as pglogical does: on Spock 6.0 n2's walsender for
// sub_n3_n2 is application_name spk_postgres_n2_sub_n3_n2.
func (spock) SlotNameQuery() string {
	return "SELECT sub_slot_name::text FROM spock.subscription WHERE sub_name = $1"
}

// ApplyWorkerQuery: Spock names an apply worker's backend type (and its
// application_name) 'spock apply <database oid>:<subscription id>', e.g.
// 'spock apply 5:1' on Spock 6.0.
func (spock) ApplyWorkerQuery() string {
	return `SELECT a.pid FROM pg_stat_activity a, spock.subscription s, pg_database d
WHERE d.datname = current_database() AND s.sub_name = $1
  AND a.backend_type = 'spock apply ' || d.oid || ':' || s.sub_id`
}
