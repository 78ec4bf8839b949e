package main

import (
	"fmt"
	"net"
	"os/exec"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// A server that accepts connections and never answers keeps a command
// waiting, with no Docker, until a signal ends it.
var _ = Describe("a command stopped by a signal", func() {
	DescribeTable("exits 128+signal with one line naming the signal",
		func(sig syscall.Signal, name string, code int) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(l.Close)
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					DeferCleanup(c.Close)
				}
			}()
			dsn := fmt.Sprintf("postgres://x@%s/x?connect_timeout=120&sslmode=disable", l.Addr())
			s, err := gexec.Start(exec.Command(binary, "verify", "--dsn", dsn, "--dsn", dsn), GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { s.Kill().Wait(5 * time.Second) })
			Consistently(s).WithTimeout(time.Second).ShouldNot(gexec.Exit(), "verify should wait on the silent server")
			s.Signal(sig)
			Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(code))
			Expect(string(s.Err.Contents())).To(MatchRegexp(`^spockchaos: interrupted by %s: verify: [^\n]*\n$`, name))
		},
		Entry("SIGTERM: 143", syscall.SIGTERM, "SIGTERM", 143),
		Entry("SIGINT: 130", syscall.SIGINT, "SIGINT", 130),
	)
})
