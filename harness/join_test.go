package harness

import (
	"strings"
	"testing"
)

func TestNextNodeNameFollowsTheSchemeAndNeverReusesARemovedName(t *testing.T) {
	for _, tc := range []struct {
		used []string
		want string
	}{
		{[]string{"n1", "n2", "n3"}, "n4"},
		{[]string{"n1", "n3"}, "n4"}, // n2 left: its name is not given again
		{[]string{"n2", "n1"}, "n3"},
		{nil, "n1"},
	} {
		if got := NextNodeName(tc.used); got != tc.want {
			t.Errorf("NextNodeName(%v) = %s, want %s", tc.used, got, tc.want)
		}
	}
}

// The join statements are derived from Subscribe by replacing one option:
// pin that each flavor's derived SQL says what the join needs.
func TestJoinStatementsOfEachFlavor(t *testing.T) {
	sub, prov := Peer{Name: "n4", DSN: "host=n4"}, Peer{Name: "n1", DSN: "host=n1"}
	for _, f := range []joiner{pglogical{}, spock{}} {
		name := f.(Flavor).Name()
		if s := f.SubscribeSync(sub, prov)[0].SQL; !strings.Contains(s, "synchronize_data := true") {
			t.Errorf("%s: sync subscription does not copy data: %s", name, s)
		}
		forJoin := f.SubscribeForJoin(sub, prov)
		all := ""
		for _, st := range forJoin {
			all += st.SQL + "\n"
		}
		if !strings.Contains(all, "synchronize_data := false") {
			t.Errorf("%s: join subscription copies data: %s", name, all)
		}
		switch name {
		case "pglogical":
			for _, want := range []string{"alter_subscription_disable", "sync_status = 'r'", "pg_replication_origin_create"} {
				if !strings.Contains(all, want) {
					t.Errorf("pglogical join subscription lacks %q: %s", want, all)
				}
			}
		case "spock":
			if !strings.Contains(all, "enabled := false") || len(forJoin) != 1 {
				t.Errorf("spock join subscription is not one disabled sub_create: %s", all)
			}
		}
	}
}

func TestNameMentionsMatchesTheNodeAsAWordOnly(t *testing.T) {
	re := nameMentions("n4")
	for name, want := range map[string]bool{
		"pgl_postgres_n4_sub_n1_n4":      true,
		"spock_postgres_recovery_n1_n4":  true,
		"sub_n4_n1":                      true,
		"n4":                             true,
		"pgl_postgres_n1_sub_n2_n1":      false,
		"spock_postgres_recovery_n1_n40": false,
	} {
		if got := re.MatchString(name); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}
