package harness

import (
	"strings"
	"testing"
)

func TestCreatedTableFindsTheCreatedTable(t *testing.T) {
	for sql, want := range map[string]string{
		"CREATE TABLE public.ddl_events (id text PRIMARY KEY)":       "public.ddl_events",
		"  create table if not exists public.t2(id int primary key)": "public.t2",
		"ALTER TABLE public.ledger ADD COLUMN c text":                "",
		"CREATE INDEX i ON public.ledger (origin)":                   "",
		"CREATE TABLE\n\"public\".\"x\" (id int)":                    `"public"."x"`,
	} {
		if got := CreatedTable(sql); got != want {
			t.Errorf("CreatedTable(%q) = %q, want %q", sql, got, want)
		}
	}
}

func TestPglogicalReplicateDDLQueuesTheStatementAndAddsACreatedTable(t *testing.T) {
	alter := pglogical{}.ReplicateDDL("ALTER TABLE public.ledger ADD COLUMN c text")
	if len(alter) != 1 || alter[0].SQL != "SELECT pglogical.replicate_ddl_command($1, ARRAY['ddl_sql'])" ||
		alter[0].Args[0] != "ALTER TABLE public.ledger ADD COLUMN c text" {
		t.Errorf("alter: %+v", alter)
	}
	create := pglogical{}.ReplicateDDL("CREATE TABLE public.t (id int PRIMARY KEY)")
	if len(create) != 1 {
		t.Fatalf("create: want one command (create and add in one transaction everywhere), got %+v", create)
	}
	want := "CREATE TABLE public.t (id int PRIMARY KEY); SELECT pglogical.replication_set_add_table('default', 'public.t', false)"
	if create[0].Args[0] != want {
		t.Errorf("create command:\n got %q\nwant %q", create[0].Args[0], want)
	}
}

func TestSpockReplicateDDLTurnsAutoDDLOnInTheSessionOnly(t *testing.T) {
	stmts := spock{}.ReplicateDDL("CREATE TABLE public.t (id int PRIMARY KEY)")
	if len(stmts) != 2 || stmts[1].SQL != "CREATE TABLE public.t (id int PRIMARY KEY)" {
		t.Fatalf("statements: %+v", stmts)
	}
	for _, want := range []string{"set_config('spock.enable_ddl_replication', 'on', false)", "set_config('spock.include_ddl_repset', 'on', false)"} {
		if !strings.Contains(stmts[0].SQL, want) {
			t.Errorf("session setup lacks %q: %s", want, stmts[0].SQL)
		}
	}
	if strings.Contains(stmts[0].SQL, "ALTER SYSTEM") {
		t.Errorf("AutoDDL must not be switched on for the whole server (the harness's own DDL would replicate): %s", stmts[0].SQL)
	}
	if s := (spock{}).ServerSettings(3); s["spock.include_ddl_repset"] != "on" {
		t.Errorf("peers need spock.include_ddl_repset on to add a created table to a set")
	}
}
