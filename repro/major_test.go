package repro

import (
	"testing"

	"github.com/spockchaos/spockchaos/docker"
)

func TestReplayMajor(t *testing.T) {
	for _, tc := range []struct {
		name      string
		asked     int
		image     string
		ran, want int
	}{
		{"asked --pg 15", 15, "", 15, 15},
		{"default image, today's default major", 0, "", docker.DefaultMajor, 0},
		{"default image of another major than today's", 0, "", 16, 16},
		{"an image named: its own major", 0, "spockpriv:6.0", 15, 0},
		{"an old run.json without the major", 0, "", 0, 0},
	} {
		if got := replayMajor(tc.asked, tc.image, tc.ran); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}
