package fault_test

import (
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/workload/history"
)

// The replication-process faults on the Spock image of
// SPOCKCHAOS_SPOCK_IMAGE (make spock). Spock names its processes unlike
// pglogical: the walsender serving sub_n3_n2 on n2 has application_name
// spk_postgres_n2_sub_n3_n2 (the slot name), the apply worker is backend
// type 'spock apply <db oid>:<sub id>'. Without the image every spec is
// skipped, saying why.
var _ = Describe("replication-process faults on a Spock image", Label("e2e", "spock", "faults"), Ordered, func() {
	var (
		cluster  *harness.Cluster
		rec      *history.Recorder
		histPath string
	)

	BeforeAll(func(ctx SpecContext) {
		image := os.Getenv(recoverytest.SpockImageEnv)
		if image == "" {
			Skip(recoverytest.SpockSkipReason)
		}
		flavor, err := harness.LookupFlavor("spock")
		Expect(err).NotTo(HaveOccurred())
		cluster, rec, histPath = startRecordedClusterWith(ctx, harness.Config{Flavor: flavor, Image: image})
	}, NodeTimeout(5*time.Minute))

	AfterEach(func(ctx SpecContext) {
		if cluster != nil {
			dumpLogsOnFailure(ctx, cluster)
		}
	}, NodeTimeout(30*time.Second))

	effective := func(ctx SpecContext, f *fault.Fault) map[string]any {
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		ops := readHistory(rec, histPath)
		_, ev, ok := faultEvent(ops, f.Mode().Kind(), history.FaultEffective)
		Expect(ok).To(BeTrue(), "no effective event of %s", f)
		GinkgoWriter.Printf("%s effective: %v\n", f, ev.Detail)
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		return ev.Detail
	}

	It("kills only the walsender serving one peer, found by its slot", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.KillWalsender(cluster, "n2", "n3"), rec))
		Expect(d).To(HaveKeyWithValue("gone_from", "pg_stat_replication"))
	}, SpecTimeout(3*time.Minute))

	It("kills only one apply worker", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.KillApply(cluster, "n2", "n1"), rec))
		Expect(d).To(HaveKeyWithValue("gone_from", "pg_stat_activity"))
	}, SpecTimeout(3*time.Minute))

	It("freezes one apply worker: its link stalls while its subscription still says replicating", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.StopApply(cluster, "n1", "n3"), rec))
		Expect(d).To(HaveKeyWithValue("process_state", "T"))
		Expect(d).To(HaveKeyWithValue("subscription_status", harness.Replicating))
	}, SpecTimeout(3*time.Minute))

	It("a no-op kill of a Spock walsender fails its effect check", func(ctx SpecContext) {
		f := fault.New(noopInject{fault.KillWalsender(cluster, "n1", "n2")}, rec)
		f.EffectTimeout = 3 * time.Second
		Expect(f.Inject(ctx)).To(Succeed())
		Expect(f.WaitEffective(ctx)).To(MatchError(fault.ErrNotEffective))
	}, SpecTimeout(time.Minute))
})
