package workload_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// commitAgainst sends BEGIN, then COMMIT through workload.Commit, to a fake
// server whose answer to COMMIT is onCommit; it returns Commit's error.
func commitAgainst(timeout time.Duration, onCommit func(be *pgproto3.Backend, conn net.Conn) bool) error {
	srv := startFakeServer(func(be *pgproto3.Backend, conn net.Conn, sql string) bool {
		if sql == "BEGIN" {
			return answer(be, "BEGIN", 'T')
		}
		return onCommit(be, conn)
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, srv.dsn())
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "BEGIN")
	Expect(err).NotTo(HaveOccurred())
	sent := false
	err = workload.Commit(ctx, conn, func() { sent = true })
	Expect(sent).To(BeTrue())
	return err
}

var _ = Describe("error classification", func() {
	It("says ok for no error", func() {
		Expect(workload.Classify(nil, workload.CommitInFlight).Type).To(Equal(history.Ok))
	})

	It("fails a serialization failure at COMMIT with its reason (a real PgError from pgx)", func() {
		err := commitAgainst(5*time.Second, func(be *pgproto3.Backend, _ net.Conn) bool {
			return answerError(be, "ERROR", "40001", "could not serialize access due to concurrent update")
		})
		var pgErr *pgconn.PgError
		Expect(errors.As(err, &pgErr)).To(BeTrue())
		out := workload.Classify(err, workload.CommitInFlight)
		Expect(out.Type).To(Equal(history.Fail))
		Expect(out.Reason).To(Equal("serialization_failure"))
	})

	It("fails a unique violation with its reason", func() {
		err := commitAgainst(5*time.Second, func(be *pgproto3.Backend, _ net.Conn) bool {
			return answerError(be, "ERROR", "23505", `duplicate key value violates unique constraint "ledger_pkey"`)
		})
		out := workload.Classify(err, workload.CommitInFlight)
		Expect(out.Type).To(Equal(history.Fail))
		Expect(out.Reason).To(Equal("unique_violation"))
	})

	It("fails a COMMIT answered by ROLLBACK", func() {
		err := commitAgainst(5*time.Second, func(be *pgproto3.Backend, _ net.Conn) bool {
			return answer(be, "ROLLBACK", 'I')
		})
		Expect(err).To(MatchError(pgx.ErrTxCommitRollback))
		Expect(workload.Classify(err, workload.CommitInFlight).Type).To(Equal(history.Fail))
	})

	It("says info when the connection is lost while COMMIT is in flight", func() {
		err := commitAgainst(5*time.Second, func(_ *pgproto3.Backend, conn net.Conn) bool {
			return false // hang up without an answer: the node died
		})
		Expect(err).To(HaveOccurred())
		var pgErr *pgconn.PgError
		Expect(errors.As(err, &pgErr)).To(BeFalse())
		out := workload.Classify(err, workload.CommitInFlight)
		Expect(out.Type).To(Equal(history.Info), "error: %v", err)
		Expect(out.Reason).To(Equal("connection_lost_during_commit"))
		Expect(workload.Classify(err, workload.BeforeCommit).Type).To(Equal(history.Fail))
	})

	It("says info when COMMIT times out (context deadline, as pgx wraps it)", func() {
		err := commitAgainst(300*time.Millisecond, func(*pgproto3.Backend, net.Conn) bool {
			time.Sleep(time.Second) // a paused node: no answer
			return false
		})
		Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue(), "error: %v", err)
		out := workload.Classify(err, workload.CommitInFlight)
		Expect(out.Type).To(Equal(history.Info))
		Expect(out.Reason).To(Equal("timeout_during_commit"))
	})

	It("says info for an operator-intervention error during COMMIT, fail before it", func() {
		err := commitAgainst(5*time.Second, func(be *pgproto3.Backend, _ net.Conn) bool {
			answerError(be, "FATAL", "57P01", "terminating connection due to administrator command")
			return false
		})
		Expect(workload.Classify(err, workload.CommitInFlight).Type).To(Equal(history.Info))
		Expect(workload.Classify(err, workload.BeforeCommit).Type).To(Equal(history.Fail))
	})

	It("fails an op whose connection was refused (nothing was sent)", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		ln.Close()
		_, err = pgx.Connect(context.Background(), "postgres://u:p@"+addr+"/db?sslmode=disable&connect_timeout=2")
		Expect(err).To(HaveOccurred())
		out := workload.Classify(err, workload.CommitInFlight)
		Expect(out.Type).To(Equal(history.Fail))
		Expect(out.Reason).To(Equal("connect_failed"))
	})

	DescribeTable("classifies wrapped network errors by phase",
		func(err error) {
			wrapped := fmt.Errorf("commit ledger txn t1 on n1: %w", err)
			Expect(workload.Classify(wrapped, workload.CommitInFlight).Type).To(Equal(history.Info))
			Expect(workload.Classify(wrapped, workload.BeforeCommit).Type).To(Equal(history.Fail))
		},
		Entry("connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}),
		Entry("EOF", io.ErrUnexpectedEOF),
		Entry("plain EOF", io.EOF),
		Entry("deadline", context.DeadlineExceeded),
		Entry("cancelled", context.Canceled),
	)
})
