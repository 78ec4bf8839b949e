package main

import (
	"runtime"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("limitProcs", Serial, func() {
	var before int
	BeforeEach(func() {
		before = runtime.GOMAXPROCS(0)
		DeferCleanup(func() { runtime.GOMAXPROCS(before) })
	})

	It("takes a quarter of the Ps, at least one, when GOMAXPROCS is not set", func() {
		GinkgoT().Setenv("GOMAXPROCS", "")
		runtime.GOMAXPROCS(8)
		limitProcs()
		Expect(runtime.GOMAXPROCS(0)).To(Equal(2))
		runtime.GOMAXPROCS(2)
		limitProcs()
		Expect(runtime.GOMAXPROCS(0)).To(Equal(1))
	})

	It("leaves the setting to the GOMAXPROCS environment variable when it is set", func() {
		GinkgoT().Setenv("GOMAXPROCS", "3")
		runtime.GOMAXPROCS(3)
		limitProcs()
		Expect(runtime.GOMAXPROCS(0)).To(Equal(3))
	})
})
