package harness

import (
	"strings"
	"testing"

	"github.com/spockchaos/spockchaos/docker"
)

func TestCheckMajor(t *testing.T) {
	for _, tc := range []struct {
		name   string
		flavor Flavor
		image  string
		major  int
		want   string // "" = accepted
	}{
		{"no --pg", pglogical{}, "", 0, ""},
		{"pglogical 15 built", pglogical{}, "", 15, ""},
		{"pglogical 18 built", pglogical{}, "", 18, ""},
		{"16 is not built", pglogical{}, "", 16, "built for PostgreSQL 15, 17 or 18 only"},
		{"spock has no recipe", spock{}, "", 15, "flavor spock has no image recipe"},
		{"spock image of unknown major: checked at start", spock{}, "spockpriv:6.0", 15, ""},
		{"a recipe image of the same major", pglogical{}, docker.ImageFor(18), 18, ""},
		{"a recipe image of another major", pglogical{}, docker.ImageFor(17), 15, "disagree: that image is PostgreSQL 17"},
	} {
		err := CheckMajor(tc.flavor, tc.image, tc.major)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestImageFor(t *testing.T) {
	if got := ImageFor(pglogical{}, 0); got != docker.DefaultImage() {
		t.Errorf("pglogical without --pg: %s", got)
	}
	if got := ImageFor(pglogical{}, 15); got != docker.ImageFor(15) {
		t.Errorf("pglogical --pg 15: %s", got)
	}
	if got := ImageFor(spock{}, 15); got != "" {
		t.Errorf("spock --pg 15: %s", got)
	}
}

func TestImageMajor(t *testing.T) {
	for _, tc := range []struct {
		name string
		ref  string
		env  []string
		want int // 0 = unknown
	}{
		{"recipe tag", docker.ImageFor(15), nil, 15},
		{"official postgres image", "postgres:17", []string{"PATH=/usr/local/sbin:/usr/bin", "PG_MAJOR=17", "PG_VERSION=17.2-1.pgdg120+1"}, 17},
		{"Debian layout on PATH", "x:1", []string{"PATH=/usr/lib/postgresql/18/bin:/usr/bin"}, 18},
		{"PGDG RPM layout (pgEdge)", "pgedge:17", []string{"PATH=/usr/pgsql-16/bin:/usr/bin", "PGDATA=/var/lib/pgsql/16/data"}, 16},
		{"nothing says", "x:1", []string{"PATH=/usr/local/bin:/usr/bin"}, 0},
		{"an old recipe tag says nothing by itself", "spockchaos-node:pg15-000000000000", nil, 0},
	} {
		got, ok := docker.ImageMajor(tc.ref, tc.env)
		if got != tc.want || ok != (tc.want != 0) {
			t.Errorf("%s: got %d %v, want %d", tc.name, got, ok, tc.want)
		}
	}
}

func TestServerMajorError(t *testing.T) {
	for _, tc := range []struct {
		name      string
		num, want int
		err       string
	}{
		{"17, nothing asked", 170012, 0, ""},
		{"15 asked and run", 150018, 15, ""},
		{"unknown version passes", 0, 15, ""},
		{"14 is not supported", 140010, 0, "image img: PostgreSQL 14 is not supported"},
		{"19 is not supported", 190000, 0, "PostgreSQL 19 is not supported"},
		{"asked 15, runs 17", 170012, 15, "--pg 15 but image img runs PostgreSQL 17"},
	} {
		err := serverMajorError("img", tc.num, tc.want)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.err)
		}
	}
}
