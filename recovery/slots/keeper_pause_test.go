package slots

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// A member whose server accepts the connection and never answers keeps a
// keeper round waiting for it: the pause must cut that round short, hold
// off every round while paused, and let them run again once resumed.
var _ = Describe("a paused recovery slot keeper", func() {
	It("cuts the round in progress short, runs none while paused, and runs again when resumed", func(ctx SpecContext) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ln.Close)
		accepted, closed := make(chan struct{}, 16), make(chan struct{}, 16)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- struct{}{}
				go func() {
					_, _ = io.Copy(io.Discard, c) // until the keeper lets go
					c.Close()
					closed <- struct{}{}
				}()
			}
		}()
		dsn := fmt.Sprintf("postgres://postgres:x@%s/postgres?sslmode=disable", ln.Addr())
		k := &Keeper{Flavor: "pglogical", Every: time.Millisecond, Timeout: time.Minute,
			Members: func() []KeeperNode { return []KeeperNode{{Name: "n1", DSN: dsn}} }}
		kctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); k.Run(kctx) }()
		DeferCleanup(func() { stop(); <-done })

		Eventually(accepted).WithTimeout(10*time.Second).Should(Receive(), "a round connects to n1")
		resume := k.Pause()
		Eventually(closed).WithTimeout(5*time.Second).Should(Receive(), "the pause cuts the round's connection short, long before its one-minute timeout")
		Consistently(accepted).WithTimeout(300*time.Millisecond).ShouldNot(Receive(), "no round runs while paused")

		again := k.Pause() // pauses nest
		resume()
		resume() // resuming twice counts once
		Consistently(accepted).WithTimeout(200*time.Millisecond).ShouldNot(Receive(), "still paused once")
		again()
		Eventually(accepted).WithTimeout(10*time.Second).Should(Receive(), "rounds run again once resumed")
	})

	It("is a no-op on a nil keeper", func() {
		var k *Keeper
		Expect(func() { k.Pause()() }).NotTo(Panic())
	})
})
