package workload

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Phase is how far an op got when its error happened.
type Phase int

const (
	// BeforeCommit: COMMIT (or the autocommit statement) was not sent yet,
	// so whatever happened, the transaction did not commit.
	BeforeCommit Phase = iota
	// CommitInFlight: COMMIT (or an autocommit write) was sent and its
	// answer not read; the transaction may or may not have committed.
	CommitInFlight
)

// SQLSTATE codes named in outcomes.
const (
	sqlstateSerializationFailure = "40001"
	sqlstateDeadlockDetected     = "40P01"
	sqlstateUniqueViolation      = "23505"
)

// Outcome is the classification of an op's error.
type Outcome struct {
	Type   history.Type // Ok, Fail or Info
	Reason string       // short, stable: "serialization_failure", "connection_lost", ...
	Error  string       // the error text, empty for Ok
}

// Classify turns an op's error into its history completion:
//   - nil: Ok.
//   - a server error (*pgconn.PgError) is a definite answer: Fail, except an
//     operator-intervention (57xxx), connection (08xxx), system (58xxx) or
//     internal (XX) error while COMMIT is in flight, which may come after
//     the commit record was written: Info.
//   - COMMIT answered ROLLBACK (pgx.ErrTxCommitRollback): Fail.
//   - anything else (connection lost, reset, EOF, timeout, cancellation):
//     Fail before COMMIT was sent (the server aborts the transaction), Info
//     while it is in flight.
func Classify(err error, phase Phase) Outcome {
	if err == nil {
		return Outcome{Type: history.Ok}
	}
	text := err.Error()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if phase == CommitInFlight && ambiguousAtCommit(pgErr.Code) {
			return Outcome{Type: history.Info, Reason: "server_error_during_commit_" + pgErr.Code, Error: text}
		}
		return Outcome{Type: history.Fail, Reason: pgReason(pgErr), Error: text}
	}
	if errors.Is(err, pgx.ErrTxCommitRollback) {
		return Outcome{Type: history.Fail, Reason: "rolled_back", Error: text}
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return Outcome{Type: history.Fail, Reason: "connect_failed", Error: text}
	}
	// pgconn.SafeToRetry is not used: pgx v5.12 reports a connection lost
	// while reading COMMIT's answer as "conn closed", which it marks safe
	// to retry (the read error is swallowed and the next lock fails). The
	// classify spec "connection lost while COMMIT is in flight" shows it.
	reason := "connection_lost"
	if pgconn.Timeout(err) {
		reason = "timeout"
	}
	if phase == CommitInFlight {
		return Outcome{Type: history.Info, Reason: reason + "_during_commit", Error: text}
	}
	return Outcome{Type: history.Fail, Reason: reason + "_before_commit", Error: text}
}

func ambiguousAtCommit(code string) bool {
	if len(code) < 2 {
		return true
	}
	switch code[:2] {
	case "08", "57", "58", "XX":
		return true
	}
	return false
}

func pgReason(e *pgconn.PgError) string {
	switch e.Code {
	case sqlstateSerializationFailure:
		return "serialization_failure"
	case sqlstateUniqueViolation:
		return "unique_violation"
	case sqlstateDeadlockDetected:
		return "deadlock_detected"
	}
	return fmt.Sprintf("sqlstate_%s", e.Code)
}

// String is "type (reason)" for logs.
func (o Outcome) String() string {
	if o.Reason == "" {
		return string(o.Type)
	}
	return fmt.Sprintf("%s (%s)", o.Type, o.Reason)
}
