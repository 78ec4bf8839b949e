package main

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// binary is the spockchaos CLI built once for the CLI specs.
var binary string

func TestCLI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "spockchaos CLI")
}

var _ = SynchronizedBeforeSuite(func() []byte {
	path, err := gexec.Build("github.com/spockchaos/spockchaos/cmd/spockchaos")
	Expect(err).NotTo(HaveOccurred())
	return []byte(path)
}, func(path []byte) {
	binary = string(path)
})

var _ = SynchronizedAfterSuite(func() {}, func() {
	gexec.CleanupBuildArtifacts()
})
