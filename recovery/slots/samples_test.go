package slots

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
)

var _ = Describe("the keeper's samples", func() {
	samples := []recovery.OriginSample{{Origin: 0x100, Local: 0xA000}, {Origin: 0x200, Local: 0xB000}, {Origin: 0x300, Local: 0xC000}, {Origin: 0x400, Local: 0xD000}}

	It("keeps the samples from the new position on, so that a later round can still look back to it", func() {
		Expect(dropBefore(samples, 0xB000)).To(Equal(samples[1:]))
		Expect(dropBefore(samples, 0xF000)).To(BeEmpty())
	})
})
