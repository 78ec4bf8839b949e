package harness_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/record"
)

// The capture queries run against a real server once: the catalog views
// they read differ between PostgreSQL versions.
var _ = Describe("capturing a node's replication state", Label("e2e", "harness"), func() {
	It("lists the node's slots and origins with progress, and stores them under nodes/<name>/", func(ctx SpecContext) {
		cluster, err := harness.Start(ctx, harness.Config{Nodes: 2})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(cluster.Remove(ctx)).To(Succeed())
		}, NodeTimeout(time.Minute))

		n1 := cluster.Node("n1")
		st, err := harness.CaptureNodeState(ctx, n1.DSN)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.ServerVersion).To(HavePrefix("17."))
		Expect(st.Slots).NotTo(BeEmpty(), "n2 subscribes to n1: n1 has its slot")
		Expect(st.Slots[0]).To(HaveKey("slot_name"))
		Expect(st.Slots[0]).To(HaveKey("confirmed_flush_lsn"))
		Expect(st.Origins).NotTo(BeEmpty(), "n1 subscribes to n2: n1 has its origin")
		Expect(st.Origins[0]).To(And(HaveKey("name"), HaveKey("remote_lsn")))

		dir := GinkgoT().TempDir()
		Expect(record.WriteNodeState(dir, "n1", record.BeforeFault, st)).To(Succeed())
		b, err := os.ReadFile(filepath.Join(dir, "nodes", "n1", "origins-before-fault.json"))
		Expect(err).NotTo(HaveOccurred())
		var stored struct {
			Origins []map[string]any `json:"origins"`
		}
		Expect(json.Unmarshal(b, &stored)).To(Succeed())
		Expect(stored.Origins).To(HaveLen(len(st.Origins)))

		_, err = harness.CaptureNodeState(ctx, "postgres://postgres:wrong@127.0.0.1:1/postgres?connect_timeout=2")
		Expect(err).To(MatchError(ContainSubstring("capture node state")))
	}, SpecTimeout(5*time.Minute))
})
