package scenarios_test

import (
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/workload"
)

var _ = Describe("the ddl step", func() {
	It("alters the workload's own table, schema-qualified (pglogical runs DDL with an empty search_path)", func() {
		t, err := scenarios.WorkloadTable(&workload.Ledger{})
		Expect(err).NotTo(HaveOccurred())
		Expect(t).To(Equal("public.ledger"))
		stmts, col, newTable := scenarios.DDLScript(t, "n3_5758")
		Expect(col).To(Equal("ddl_n3_5758"))
		Expect(newTable).To(Equal("public.ddl_n3_5758"))
		Expect(stmts).To(Equal([]string{
			"ALTER TABLE public.ledger ADD COLUMN ddl_n3_5758 text DEFAULT 'added'",
			"CREATE INDEX ledger_ddl_n3_5758_idx ON public.ledger (ddl_n3_5758)",
			"CREATE TABLE public.ddl_n3_5758 (id text PRIMARY KEY, node text NOT NULL, note text DEFAULT 'new')",
			"ALTER TABLE public.ledger ALTER COLUMN ddl_n3_5758 SET DEFAULT 'changed'",
		}))
	})

	It("is a step kind the runner knows", func() {
		Expect(scenarios.StepKindKnown(scenarios.StepDDL)).To(BeTrue())
	})

	Describe("the ddl checker's decision", func() {
		step := scenarios.Step{At: 5 * time.Second, Kind: scenarios.StepDDL, Node: "n1"}
		written := map[string][]string{"n1": {"n1-1", "n1-2"}, "n2": {"n2-1"}}
		all := map[string]bool{"n1-1": true, "n1-2": true, "n2-1": true}

		It("finds nothing when every acknowledged row is on every survivor (no-op control)", func() {
			Expect(scenarios.JudgeDDL(step, "public.t", nil, []string{"n1", "n2"}, written,
				map[string]map[string]bool{"n1": all, "n2": all})).To(BeEmpty())
		})
		It("names the survivor and the ids of acknowledged rows it lacks (planted defect)", func() {
			got := scenarios.JudgeDDL(step, "public.t", nil, []string{"n1", "n2"}, written,
				map[string]map[string]bool{"n1": all, "n2": {"n1-1": true}})
			Expect(got).To(ConsistOf(`n2 lacks 2 acknowledged rows of public.t (step "t+5s ddl n1"): n1-2,n2-1`))
		})
		It("fails on a survivor the DDL never reached, not on a node that failed for good", func() {
			errs := map[string]error{"n2": errors.New("the DDL did not reach n2"), "n3": errors.New("n3 unreachable")}
			got := scenarios.JudgeDDL(step, "public.t", errs, []string{"n1", "n2"}, written,
				map[string]map[string]bool{"n1": all, "n2": all})
			Expect(got).To(ConsistOf("the DDL did not reach n2"))
		})
	})
})
