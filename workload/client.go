package workload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/workload/history"
)

// client is one sequential client: one process id, one connection, one
// random source. It talks to nodes[at] and may fail over to the next.
type client struct {
	process string
	nodes   []Target
	at      int
	rng     *rand.Rand
	conn    *pgx.Conn
	cfg     *RunConfig
	stats   *counters
	log     *slog.Logger
}

func (c *client) node() Target { return c.nodes[c.at] }

// do records the invoke of spec, runs it on the client's connection and
// records its completion. It returns the outcome.
func (c *client) do(ctx context.Context, spec opSpec) Outcome {
	node := c.node().Name
	inv := c.cfg.Recorder.Invoke(c.process, node, spec.F, spec.Value, spec.TxnID)
	// An op in flight is not cut by the run's cancellation (a normal stop),
	// only by its own timeout: its outcome is then honest.
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.OpTimeout)
	defer cancel()
	phase := BeforeCommit
	err := spec.Exec(opCtx, c.conn, func() { phase = CommitInFlight })
	out := Classify(err, phase)
	if errors.Is(err, errNoEffect) {
		// It committed and changed nothing: certainly not done, whatever
		// the phase (it used to be info once the statement was sent).
		out.Type, out.Reason = history.Fail, "no_effect"
	}
	if spec.ReadOnly && out.Type == history.Info {
		out.Type = history.Fail
	}
	errText := ""
	if err != nil {
		errText = out.Reason + ": " + err.Error()
	}
	var result any
	if spec.Result != nil && out.Type == history.Ok {
		result = spec.Result()
	}
	c.cfg.Recorder.Complete(inv, out.Type, result, errText)
	c.stats.complete(node, out)
	if err != nil && c.conn.IsClosed() {
		c.dropConn()
	} else if err != nil && !isServerError(err) && !errors.Is(err, errNoEffect) {
		// A broken exchange leaves the connection in an unknown state.
		c.dropConn()
	}
	return out
}

func isServerError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) || errors.Is(err, pgx.ErrTxCommitRollback)
}

func (c *client) dropConn() {
	if c.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.conn.Close(ctx)
		cancel()
		c.conn = nil
	}
}

// ensureConn connects to the client's node, retrying for cfg.Reconnect;
// with Failover it then tries the other nodes in order. It returns false
// when the client should stop (no node, or ctx done).
func (c *client) ensureConn(ctx context.Context) bool {
	if c.conn != nil {
		return true
	}
	for tried := 0; tried < len(c.nodes); tried++ {
		if c.connectFor(ctx, c.cfg.Reconnect) {
			return true
		}
		if ctx.Err() != nil || !c.cfg.Failover {
			break
		}
		c.stats.clients(c.node().Name, -1)
		c.at = (c.at + 1) % len(c.nodes)
		c.stats.clients(c.node().Name, +1)
		c.log.Info("client fails over", "process", c.process, "to", c.node().Name)
	}
	if ctx.Err() == nil {
		c.log.Warn("client gives up: node refuses connections", "process", c.process, "node", c.node().Name)
		c.stats.gaveUp()
	}
	return false
}

func (c *client) connectFor(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	backoff := 50 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := pgx.Connect(cctx, c.node().dsn())
		cancel()
		if err == nil {
			c.conn = conn
			return true
		}
		c.log.Debug("connect failed", "process", c.process, "node", c.node().Name, "err", err)
		if time.Now().Add(backoff).After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

func (c *client) String() string { return fmt.Sprintf("%s@%s", c.process, c.node().Name) }
