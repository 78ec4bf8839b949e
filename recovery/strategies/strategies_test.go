package strategies

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
)

func TestStrategies(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "recovery/strategies")
}

var _ = Describe("strategy lookup", func() {
	It("knows reference, spock, none and auto, and refuses other names", func() {
		for _, n := range []string{"reference", "spock", "none", "auto"} {
			s, err := Lookup(n)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Name()).To(Equal(n))
		}
		_, err := Lookup("magic")
		Expect(err).To(MatchError(ContainSubstring("unknown recovery strategy")))
	})

	It("none never claims there was nothing to recover", func() {
		res, err := recovery.None{}.Recover(context.TODO(), recovery.Input{Failed: "n1", Survivors: []recovery.Survivor{{Name: "n2"}}})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.NothingToRecover).To(BeFalse())
		Expect(res.Note).To(ContainSubstring("not attempted"))
	})
})
