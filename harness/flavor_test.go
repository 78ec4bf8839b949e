package harness

import (
	"strings"
	"testing"
)

// These pin the SQL each flavor issues. The spock flavor cannot run here
// (Spock needs pgEdge-patched PostgreSQL), so its SQL is checked against
// the API facts of DESIGN.md section 4 statement by statement.

func TestSpockCreateNodeUsesNodeCreate(t *testing.T) {
	stmts := spock{}.CreateNode(Peer{Name: "n2", DSN: "host=n2 port=5432"})
	if len(stmts) != 2 {
		t.Fatalf("want 2 statements, got %d", len(stmts))
	}
	if stmts[0].SQL != "CREATE EXTENSION IF NOT EXISTS spock" {
		t.Errorf("first statement: %q", stmts[0].SQL)
	}
	for _, s := range stmts {
		if strings.Contains(s.SQL, "ALTER SYSTEM") {
			t.Errorf("ALTER SYSTEM in a CreateNode statement (it cannot run in a function or DO block on real Spock): %q", s.SQL)
		}
	}
	last := stmts[1]
	if last.SQL != "SELECT spock.node_create(node_name := $1, dsn := $2)" {
		t.Errorf("node statement: %q", last.SQL)
	}
	if len(last.Args) != 2 || last.Args[0] != "n2" || last.Args[1] != "host=n2 port=5432" {
		t.Errorf("node args: %v", last.Args)
	}
}

func TestSpockNeedsSpockOutputInOutputPluginLibraries(t *testing.T) {
	ls := spock{}.ListSettings()
	if len(ls) != 1 || ls[0].Name != "output_plugin_libraries" || strings.Join(ls[0].Items, ",") != "pgoutput,test_decoding,spock_output" {
		t.Errorf("list settings: %+v", ls)
	}
}

func TestMergeListKeepsWhatIsThereAndAddsWhatLacks(t *testing.T) {
	want := []string{"pgoutput", "test_decoding", "spock_output"}
	if got := mergeList("pgoutput, test_decoding", want); strings.Join(got, ",") != "pgoutput,test_decoding,spock_output" {
		t.Errorf("17.11 default: %v", got)
	}
	if got := mergeList(`"spock_output", pgoutput,test_decoding`, want); got != nil {
		t.Errorf("already complete, want nil: %v", got)
	}
	if got := mergeList("wal2json", want); strings.Join(got, ",") != "wal2json,pgoutput,test_decoding,spock_output" {
		t.Errorf("another plugin must stay: %v", got)
	}
}

func TestLastErrorFindsTheLastErrorLine(t *testing.T) {
	log := []byte("2026 LOG: started\n2026 ERROR:  library \"spock_output\" may not be used as an output plugin\n2026 LOG: retry\n")
	if got := LastError(log); !strings.Contains(got, `library "spock_output" may not be used`) {
		t.Errorf("got %q", got)
	}
	if got := LastError([]byte("LOG: fine\n")); got != "" {
		t.Errorf("no error line, got %q", got)
	}
}

func TestSpockSubscribeUsesSubCreateWithoutForwarding(t *testing.T) {
	stmts := spock{}.Subscribe(Peer{Name: "n3"}, Peer{Name: "n1", DSN: "host=n1"})
	if len(stmts) != 1 {
		t.Fatalf("want 1 statement, got %d", len(stmts))
	}
	s := stmts[0]
	for _, want := range []string{
		"spock.sub_create(", "subscription_name := $1", "provider_dsn := $2",
		"replication_sets := ARRAY['default', 'default_insert_only', 'ddl_sql']",
		"synchronize_structure := false", "synchronize_data := false",
		"forward_origins := '{}'::text[]", "enabled := true",
	} {
		if !strings.Contains(s.SQL, want) {
			t.Errorf("sub_create statement lacks %q:\n%s", want, s.SQL)
		}
	}
	if s.Args[0] != "sub_n3_n1" || s.Args[1] != "host=n1" {
		t.Errorf("args: %v", s.Args)
	}
}

func TestSpockReplicateTablesUsesRepsetAddAllTables(t *testing.T) {
	stmts := spock{}.ReplicateTables([]string{"public", "app"})
	if len(stmts) != 1 || stmts[0].SQL != "SELECT spock.repset_add_all_tables('default', $1::text[], false)" {
		t.Fatalf("statements: %+v", stmts)
	}
	if got := stmts[0].Args[0].([]string); strings.Join(got, ",") != "public,app" {
		t.Errorf("schemas: %v", got)
	}
}

func TestSpockStatusReadsSubShowStatus(t *testing.T) {
	q := spock{}.SubscriptionStatusQuery()
	if !strings.Contains(q, "FROM spock.sub_show_status()") || !strings.Contains(q, "subscription_name") || !strings.Contains(q, "status") {
		t.Errorf("status query: %q", q)
	}
}

func TestSpockSettingsPreloadSpockAndSizeForN(t *testing.T) {
	s := spock{}.ServerSettings(5)
	if s["shared_preload_libraries"] != "spock" || s["track_commit_timestamp"] != "on" || s["wal_level"] != "logical" {
		t.Errorf("settings: %v", s)
	}
	if s["max_replication_slots"] != "30" {
		t.Errorf("max_replication_slots for 5 nodes: %s", s["max_replication_slots"])
	}
	if _, ok := s["output_plugin_libraries"]; ok {
		t.Error("output_plugin_libraries must not be passed at start: older Spock minors lack it and would not start")
	}
}

func TestEveryFlavorPassesWhatAnUnconfiguredImageLacks(t *testing.T) {
	for _, tc := range []struct {
		flavor  Flavor
		preload string
	}{{pglogical{}, "pglogical"}, {spock{}, "spock"}} {
		s := tc.flavor.ServerSettings(3)
		if s["listen_addresses"] != "*" || s["shared_preload_libraries"] != tc.preload || s["wal_level"] != "logical" {
			t.Errorf("%s settings: %v", tc.flavor.Name(), s)
		}
	}
	if s := (pglogical{}).ServerSettings(3); s["pglogical.conflict_resolution"] != "last_update_wins" {
		t.Errorf("pglogical conflict resolution: %v", s)
	}
	ls := pglogical{}.ListSettings()
	if len(ls) != 1 || ls[0].Name != "output_plugin_libraries" || strings.Join(ls[0].Items, ",") != "pgoutput,test_decoding,pglogical_output" {
		t.Errorf("pglogical list settings: %+v", ls)
	}
}

func TestPglogicalSubscribeFullMeshArgs(t *testing.T) {
	stmts := pglogical{}.Subscribe(Peer{Name: "n2"}, Peer{Name: "n3", DSN: "host=n3"})
	s := stmts[0]
	for _, want := range []string{"pglogical.create_subscription(", "forward_origins := '{}'::text[]", "synchronize_data := false"} {
		if !strings.Contains(s.SQL, want) {
			t.Errorf("create_subscription lacks %q", want)
		}
	}
	if s.Args[0] != "sub_n2_n3" {
		t.Errorf("subscription name %v", s.Args[0])
	}
}

func TestLookupFlavorRejectsUnknown(t *testing.T) {
	if _, err := LookupFlavor("bdr"); err == nil || !strings.Contains(err.Error(), "pglogical, spock") {
		t.Errorf("want an error listing the known flavors, got %v", err)
	}
}

func TestConfigRejectsNodeCountsOutsideRange(t *testing.T) {
	for _, n := range []int{1, 10, -3} {
		cfg := Config{Nodes: n}
		if err := cfg.setDefaults(); err == nil {
			t.Errorf("nodes=%d accepted", n)
		}
	}
	cfg := Config{Flavor: spock{}}
	if err := cfg.setDefaults(); err == nil || !strings.Contains(err.Error(), "--image") {
		t.Errorf("spock without an image: %v", err)
	}
}

func TestSubscriptionSwitches(t *testing.T) {
	for _, c := range []struct {
		got  []Statement
		want string
	}{
		{pglogical{}.DisableSubscription("sub_n2_n1"), "SELECT pglogical.alter_subscription_disable($1, true)"},
		{pglogical{}.EnableSubscription("sub_n2_n1"), "SELECT pglogical.alter_subscription_enable($1, true)"},
		{spock{}.DisableSubscription("sub_n2_n1"), "SELECT spock.sub_disable($1, true)"},
		{spock{}.EnableSubscription("sub_n2_n1"), "SELECT spock.sub_enable($1, true)"},
	} {
		if len(c.got) != 1 || c.got[0].SQL != c.want || c.got[0].Args[0] != "sub_n2_n1" {
			t.Errorf("want %q, got %+v", c.want, c.got)
		}
	}
}

// The replication-process faults find a link's walsender through the slot
// the subscriber's catalog names and its apply worker by backend type. On
// Spock the walsender's application_name is the slot name, not the
// subscription name (measured on Spock 6.0: spk_postgres_n2_sub_n3_n2 on
// n2 for sub_n3_n2), so a lookup by subscription name found nothing there.
func TestFlavorsFindReplicationProcessesInTheirOwnCatalog(t *testing.T) {
	for _, c := range []struct {
		f                    Flavor
		slot, apply, backend string
	}{
		{pglogical{}, "FROM pglogical.subscription WHERE sub_name = $1", "FROM pg_stat_activity a, pglogical.subscription s", "'pglogical apply ' || d.oid || ':' || s.sub_id"},
		{spock{}, "FROM spock.subscription WHERE sub_name = $1", "FROM pg_stat_activity a, spock.subscription s", "'spock apply ' || d.oid || ':' || s.sub_id"},
	} {
		if q := c.f.SlotNameQuery(); !strings.Contains(q, "sub_slot_name") || !strings.Contains(q, c.slot) {
			t.Errorf("%s slot name query: %q", c.f.Name(), q)
		}
		q := c.f.ApplyWorkerQuery()
		for _, want := range []string{c.apply, c.backend, "s.sub_name = $1"} {
			if !strings.Contains(q, want) {
				t.Errorf("%s apply worker query lacks %q:\n%s", c.f.Name(), want, q)
			}
		}
		if strings.Contains(q, "application_name") {
			t.Errorf("%s apply worker query must not rely on application_name:\n%s", c.f.Name(), q)
		}
	}
}
