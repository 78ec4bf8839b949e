package fault_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/workload/history"
)

// ledgerSchema is the ledger contract's table under a name of this suite,
// plus a deferred trigger that makes COMMIT of a transaction whose first
// row carries payload 'slow-commit' take slowCommit: it widens the window
// between "COMMIT sent" and "COMMIT acknowledged" so that a kill lands in
// it. Apply workers do not fire it (replica role).
const ledgerSchema = `
CREATE TABLE fault_ledger (txn_id text NOT NULL, seq int NOT NULL, origin text NOT NULL, payload text NOT NULL, PRIMARY KEY (txn_id, seq));
CREATE FUNCTION fault_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER fault_slow_commit AFTER INSERT ON fault_ledger
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.seq = 1 AND NEW.payload = 'slow-commit') EXECUTE FUNCTION fault_slow_commit();
`

var txnCounter atomic.Int64

func newTxnID(node string) string {
	return fmt.Sprintf("%s-%d-%d", node, time.Now().UnixNano(), txnCounter.Add(1))
}

// clientThinkTime is how long a loop client's transaction stays open after
// its INSERT: long against the ~20 ms a kill takes through the engine, so
// that the kill lands inside transactions, not between them.
const clientThinkTime = 200 * time.Millisecond

// ledgerTxn records one ledger op of rows rows on conn: fail when it broke
// before COMMIT was sent, info when COMMIT itself failed, ok otherwise.
// The transaction stays open for think before COMMIT; beforeCommit, if
// set, runs right before COMMIT is sent.
func ledgerTxn(conn *pgx.Conn, rec *history.Recorder, process, node, f string, rows int, payload string, think time.Duration, beforeCommit func()) (history.Op, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	txnID := newTxnID(node)
	inv := rec.Invoke(process, node, f, map[string]int{"rows": rows}, txnID)
	tx, err := conn.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, `INSERT INTO fault_ledger (txn_id, seq, origin, payload)
SELECT $1, g, $2, CASE WHEN g = 1 THEN $3 ELSE 'p' END FROM generate_series(1, $4::int) g`, txnID, node, payload, rows)
		if err == nil && think > 0 {
			_, err = tx.Exec(ctx, "SELECT pg_sleep($1)", think.Seconds())
		}
		if err != nil {
			_ = tx.Rollback(ctx)
		}
	}
	if err != nil {
		return rec.Complete(inv, history.Fail, nil, err.Error()), err
	}
	if beforeCommit != nil {
		beforeCommit()
	}
	if err := tx.Commit(ctx); err != nil {
		return rec.Complete(inv, history.Info, nil, err.Error()), err
	}
	return rec.Complete(inv, history.Ok, nil, ""), nil
}

// ledgerClients runs n client loops against node until stop is called,
// each committing small ledger transactions back to back and reconnecting
// after errors. stop waits for every loop to finish its op; acks counts
// the ops that ended ok.
func ledgerClients(node *harness.Node, rec *history.Recorder, n, rows int) (stop func(), acks *atomic.Int64) {
	acks = &atomic.Int64{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		process := fmt.Sprintf("%s-c%d", node.Name, i)
		wg.Go(func() {
			var conn *pgx.Conn
			defer func() {
				if conn != nil {
					conn.Close(context.Background())
				}
			}()
			for {
				select {
				case <-done:
					return
				default:
				}
				if conn == nil || conn.IsClosed() {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					c, err := pgx.Connect(ctx, node.DSN)
					cancel()
					if err != nil {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					conn = c
				}
				_, err := ledgerTxn(conn, rec, process, node.Name, "ledger-txn", rows, "p", clientThinkTime, nil)
				if err == nil {
					acks.Add(1)
				} else if !conn.IsClosed() {
					conn.Close(context.Background())
				}
			}
		})
	}
	return func() { close(done); wg.Wait() }, acks
}

// readHistory flushes rec and reads back every op it wrote to path.
func readHistory(rec *history.Recorder, path string) []history.Op {
	Expect(rec.Flush()).To(Succeed())
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	var ops []history.Op
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var op history.Op
		Expect(json.Unmarshal(sc.Bytes(), &op)).To(Succeed())
		ops = append(ops, op)
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	return ops
}

// faultEvent finds the fault record of kind and phase.
func faultEvent(ops []history.Op, kind string, phase history.FaultPhase) (history.Op, history.FaultEvent, bool) {
	for _, op := range ops {
		if op.Type != history.Fault || op.F != kind {
			continue
		}
		var ev history.FaultEvent
		Expect(json.Unmarshal(op.Value, &ev)).To(Succeed())
		if ev.Phase == phase {
			return op, ev, true
		}
	}
	return history.Op{}, history.FaultEvent{}, false
}

// countRows runs a count query on node.
func countRows(ctx context.Context, node *harness.Node, sql string, args ...any) (int, error) {
	conn, err := node.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// writeLedger commits count ledger transactions of rows rows on node
// (process "<node>-w") and returns their txn ids.
func writeLedger(ctx context.Context, node *harness.Node, rec *history.Recorder, count, rows int) []string {
	conn, err := node.Connect(ctx)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.Background())
	var ids []string
	for range count {
		op, err := ledgerTxn(conn, rec, node.Name+"-w", node.Name, "ledger-txn", rows, "p", 0, nil)
		Expect(err).NotTo(HaveOccurred())
		ids = append(ids, op.TxnID)
	}
	return ids
}

// dumpLogsOnFailure writes the tail of every node's server log to the
// spec's output when the spec failed: the first thing to read.
func dumpLogsOnFailure(ctx context.Context, cluster *harness.Cluster) {
	if cluster == nil || !CurrentSpecReport().Failed() {
		return
	}
	for _, n := range cluster.Nodes {
		rc, err := n.Container.Logs(ctx)
		if err != nil {
			GinkgoWriter.Printf("logs of %s: %v\n", n.Name, err)
			continue
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		GinkgoWriter.Printf("---- last log lines of %s ----\n%s\n", n.Name, strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// startRecordedCluster starts a 3-node cluster with the test ledger and a
// history recorder in a temporary file; both are cleaned up after the
// container of specs.
func startRecordedCluster(ctx SpecContext) (*harness.Cluster, *history.Recorder, string) {
	return startRecordedClusterWith(ctx, harness.Config{})
}

// startRecordedClusterWith is startRecordedCluster with cfg's options
// (link proxies, clock skew); nodes and schema are the suite's.
func startRecordedClusterWith(ctx SpecContext, cfg harness.Config) (*harness.Cluster, *history.Recorder, string) {
	cfg.Nodes, cfg.Schema = 3, ledgerSchema
	cluster, err := harness.Start(ctx, cfg)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	histPath := filepath.Join(GinkgoT().TempDir(), "history.jsonl")
	rec, err := history.Create(histPath)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(rec.Close)
	return cluster, rec, histPath
}
