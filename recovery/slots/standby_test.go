package slots

import (
	"bytes"
	"context"
	"log/slog"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
)

var _ = Describe("Standby rounds", func() {
	// Port 1 on the loopback refuses at once: every login attempt fails
	// and is logged, so the log tells whether a round tried.
	refused := []recovery.Survivor{{Name: "n1", DSN: "postgres://u:p@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2"}}
	newStandby := func(logs *bytes.Buffer) *Standby {
		return &Standby{Members: func() []recovery.Survivor { return refused }, RefillAfter: time.Hour,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	}

	It("try to open what a member lacks, and keep nothing that failed", func(ctx SpecContext) {
		var logs bytes.Buffer
		s := newStandby(&logs)
		s.Round(ctx)
		Expect(logs.String()).To(ContainSubstring("could not connect"))
		Expect(logs.String()).To(ContainSubstring("node=n1"))
		Expect(s.Take("n1")).To(BeNil())
	})

	It("open nothing for RefillAfter once a pair was taken: a recovery has just begun", func(ctx SpecContext) {
		var logs bytes.Buffer
		s := newStandby(&logs)
		Expect(s.Take("n1")).To(BeNil())
		s.Round(ctx)
		Expect(logs.String()).To(BeEmpty(), "a round logged in right after a take")

		s.RefillAfter = time.Millisecond
		Expect(s.Take("n1")).To(BeNil())
		time.Sleep(5 * time.Millisecond)
		s.Round(context.WithoutCancel(ctx))
		Expect(logs.String()).To(ContainSubstring("could not connect"), "the round after RefillAfter tried again")
	})

	It("is a no-op to take from when nil (no standby given)", func() {
		var s *Standby
		Expect(s.Take("n1")).To(BeNil())
	})
})
