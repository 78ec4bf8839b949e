package scenarios_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/spockchaos/spockchaos/scenarios"
)

// The scenarios whose parts differ by PostgreSQL major (recovery slots and
// keeper, the recovery stream, process and network faults, restart), on
// the recipe's other majors (17 is the catalog's). Nightly: each major's
// image takes about 4 minutes to build the first time.
var _ = Describe("the scenarios on PostgreSQL 15 and 18", Label("e2e", "nightly", "majors"), func() {
	for _, major := range []int{15, 18} {
		for _, name := range []string{"baseline", "lagged-kill-recovery", "crash-restart", "replication-process-faults", "partition-heal"} {
			It(fmt.Sprintf("%s on PostgreSQL %d", name, major), func(ctx SpecContext) {
				spec, err := scenarios.Lookup(name)
				if err != nil {
					Fail(err.Error())
				}
				runAndCheck(ctx, spec, scenarios.Options{Seed: gateSeed, PG: major})
			}, SpecTimeout(15*time.Minute))
		}
	}
})
