package workload

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// opSpec is one client operation, chosen before it runs (so that Plan can
// print choices without a database).
type opSpec struct {
	F     string
	Value any
	TxnID string
	// ReadOnly ops have no effect, so any error is Fail, never Info.
	ReadOnly bool
	// Exec runs the op on conn. It calls sent right before it sends the
	// COMMIT, or the single autocommit statement, whose answer decides
	// whether the op happened.
	Exec func(ctx context.Context, conn *pgx.Conn, sent func()) error
	// Result, if set, is the Value of an ok completion (e.g. the commit
	// timestamp Exec read); other completions repeat the invoke's Value.
	Result func() any
}

// autocommit is an Exec of one statement that is its own transaction;
// check, if set, vets the command tag (e.g. the rows it touched).
func autocommit(sql string, args []any, check func(tag string, rows int64) error) func(context.Context, *pgx.Conn, func()) error {
	return func(ctx context.Context, conn *pgx.Conn, sent func()) error {
		if conn.IsClosed() {
			return pgconn.ErrConnClosed // known before sending: nothing sent
		}
		sent()
		tag, err := conn.Exec(ctx, sql, args...)
		if err != nil {
			return err
		}
		if check != nil {
			return check(tag.String(), tag.RowsAffected())
		}
		return nil
	}
}

// errNoEffect marks an op that committed but changed nothing it meant to
// (e.g. an update of a missing key): recorded as Fail.
var errNoEffect = errors.New("no effect")

// Commit sends COMMIT on conn, calls sent once it is on the wire, and waits
// for the answer. A COMMIT answered with ROLLBACK (the transaction had
// failed) returns pgx.ErrTxCommitRollback.
func Commit(ctx context.Context, conn *pgx.Conn, sent func()) error {
	if conn.IsClosed() {
		return pgconn.ErrConnClosed // known before sending: nothing sent
	}
	mrr := conn.PgConn().Exec(ctx, "COMMIT")
	if sent != nil {
		sent()
	}
	results, err := mrr.ReadAll()
	if err != nil {
		return err
	}
	if len(results) == 1 && results[0].CommandTag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}
