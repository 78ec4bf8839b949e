package bench

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The specs here need no containers: they test the benches' own logic
// (medians, the injected differences, the naive merge, pgbench's output)
// and that bad options are refused before anything starts.
func TestBench(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "bench")
}
