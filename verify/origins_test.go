package verify

import "testing"

func TestOriginDisplayShowsNodeNames(t *testing.T) {
	s := &snapshot{origins: map[string]string{
		"origin 9057":               "n3", // Spock: the origin node's node_id
		"spk_postgres_n1_sub_n2_n1": "n1", // a named origin (reference replay)
		"pgl_postgres_n3_sub_n2_n3": "n3", // pglogical
	}}
	for raw, want := range map[string]string{
		"origin 9057": "n3", "spk_postgres_n1_sub_n2_n1": "n1", "pgl_postgres_n3_sub_n2_n3": "n3",
		"local": "local", "origin 4242": "origin 4242",
	} {
		if got := s.originDisplay(raw); got != want {
			t.Errorf("originDisplay(%q) = %q, want %q", raw, got, want)
		}
	}
}
