package repro_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spockchaos/spockchaos/repro"
	"github.com/spockchaos/spockchaos/scenarios"
)

// goodRunJSON is the part of a real run.json that repro reads.
const goodRunJSON = `{"scenario":"kill-mid-load","seed":7,"flavor":"pglogical","versions":{"go":"go1.26","spockchaos":"devel"},
"config":{"nodes":3,"flavor":"pglogical","image":"","recovery":"auto","load":"10s","clients_per_node":2,
"plan":[{"at":3000000000,"kind":"kill","node":"n2"}]},"nodes":[],"phases":[],"faults":[],"checkers":[{"name":"convergence","verdict":"pass"}],"verdict":"pass"}`

// FuzzLoad: any bytes as run.json give `spockchaos repro DIR` either a run
// it can start (every option accepted by scenarios.Resolve, the stored plan
// on the run's nodes) or a one-line error naming run.json, before any
// container starts; never a panic. Seeds run as ordinary tests; fuzz with
// `go test -run '^$' -fuzz '^FuzzLoad$' -fuzztime 60s ./repro`.
func FuzzLoad(f *testing.F) {
	good := []byte(goodRunJSON)
	for _, b := range [][]byte{
		good, {}, good[:len(good)/2], append([]byte{0xff}, good...),
		bytes.Replace(good, []byte(`"nodes":3`), []byte(`"nodes":"3"`), 1),
		bytes.Replace(good, []byte(`"nodes":3`), []byte(`"nodes":99`), 1),
		bytes.Replace(good, []byte(`"load":"10s"`), []byte(`"load":"-1s"`), 1),
		bytes.Replace(good, []byte(`"node":"n2"`), []byte(`"node":"n9"`), 1),
		bytes.Replace(good, []byte(`"kind":"kill"`), []byte(`"kind":"nuke"`), 1),
		bytes.Replace(good, []byte(`"config":{`), []byte(`"config":[{`), 1),
		bytes.Replace(good, []byte(`"recovery":"auto"`), []byte(`"recovery":"magic"`), 1),
		bytes.Replace(good, []byte(`"scenario":"kill-mid-load"`), []byte(`"scenario":"no-such"`), 1),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "run.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		rec, err := repro.Load(dir)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, "run.json") {
				t.Fatalf("want one line naming run.json, got %q", msg)
			}
			return
		}
		spec, _, err := rec.Spec()
		if err != nil {
			return // an unknown scenario: refused before anything starts
		}
		opts, err := scenarios.Resolve(spec, rec.Options())
		if err != nil {
			return // refused before anything starts, as scenarios.Run does
		}
		if opts.Nodes < 2 || opts.Duration <= 0 {
			t.Fatalf("resolved options would start a run: %+v", opts)
		}
	})
}
