package fault

import (
	"context"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The kill check needs "refused", the pause check "timed out": each must
// recognise its own error and not the other's.
var _ = Describe("probe error classes", func() {
	It("calls a connection to a closed port refused, not timed out", func(ctx SpecContext) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := l.Addr().String()
		Expect(l.Close()).To(Succeed())
		_, err = pgx.Connect(ctx, "postgres://u:p@"+addr+"/db?sslmode=disable&connect_timeout=2")
		Expect(err).To(HaveOccurred())
		Expect(refused(err)).To(BeTrue(), "%v", err)
		Expect(timedOut(err)).To(BeFalse(), "%v", err)
	})

	It("calls a server that accepts but never answers timed out, not refused", func(ctx SpecContext) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close() // hold it open, say nothing: a frozen server
			}
		}()
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err = pgx.Connect(cctx, "postgres://u:p@"+l.Addr().String()+"/db?sslmode=disable")
		Expect(err).To(HaveOccurred())
		Expect(timedOut(err)).To(BeTrue(), "%v", err)
		Expect(refused(err)).To(BeFalse(), "%v", err)
	})
})
