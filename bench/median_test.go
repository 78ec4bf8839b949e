package bench

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("median", func() {
	It("is the middle value of an odd count, without reordering its input", func() {
		ds := []time.Duration{3 * time.Second, time.Second, 2 * time.Second}
		Expect(median(ds)).To(Equal(2 * time.Second))
		Expect(ds).To(Equal([]time.Duration{3 * time.Second, time.Second, 2 * time.Second}))
	})

	It("is the mean of the two middle values of an even count", func() {
		Expect(median([]float64{4, 1, 3, 2})).To(Equal(2.5))
		Expect(median([]time.Duration{time.Second})).To(Equal(time.Second))
	})
})

var _ = Describe("ratio", func() {
	It("is 0 when the baseline measured nothing", func() {
		Expect(ratio(3, 2)).To(Equal(1.5))
		Expect(ratio(3, 0)).To(Equal(0.0))
	})
})
