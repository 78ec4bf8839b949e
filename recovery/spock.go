package recovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// spockAPI is the Spock recovery API a server offers (DESIGN.md section 4).
type spockAPI string

const (
	apiNone         spockAPI = ""
	apiRecoverySlot spockAPI = "recovery-slot"
	apiRescue       spockAPI = "rescue"
	apiRecoverRun   spockAPI = "recover_run"
)

// detectAPISQL finds the API from pg_proc; when several are present the
// newest wins.
const detectAPISQL = `WITH f AS (SELECT p.proname, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'spock')
SELECT EXISTS (SELECT 1 FROM f WHERE proname = 'recover_run' AND prokind = 'p'),
       EXISTS (SELECT 1 FROM f WHERE proname = 'find_rescue_source') AND EXISTS (SELECT 1 FROM f WHERE proname = 'create_rescue_subscription'),
       EXISTS (SELECT 1 FROM f WHERE proname = 'coordinate_cluster_recovery') AND EXISTS (SELECT 1 FROM f WHERE proname = 'get_recovery_slot_info')`

func detectAPI(ctx context.Context, conn *pgx.Conn) (spockAPI, error) {
	var run, rescue, slots bool
	if err := conn.QueryRow(ctx, detectAPISQL).Scan(&run, &rescue, &slots); err != nil {
		return apiNone, err
	}
	switch {
	case run:
		return apiRecoverRun, nil
	case rescue:
		return apiRescue, nil
	case slots:
		return apiRecoverySlot, nil
	}
	return apiNone, nil
}

// detectAPIOn detects the API on the first reachable survivor.
func detectAPIOn(ctx context.Context, in Input) (spockAPI, error) {
	if err := in.setDefaults(); err != nil {
		return apiNone, err
	}
	var last error
	for _, s := range in.Survivors {
		conn, err := connectWithTimeout(ctx, s.DSN, in.StepTimeout)
		if err != nil {
			last = fmt.Errorf("detect Spock recovery API on %s: %w", s.Name, err)
			continue
		}
		api, err := detectAPI(ctx, conn)
		conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return apiNone, fmt.Errorf("detect Spock recovery API on %s: %w", s.Name, err)
		}
		return api, nil
	}
	return apiNone, last
}

// Spock runs Spock's own recovery runbook for the API the servers have.
// Spock's functions are not trusted: every call runs under a
// statement_timeout (a hang is recorded as an error, a finding), a `t`
// return counts for nothing, and the result's numbers are the measured
// change in what each survivor holds of the failed node.
type Spock struct{}

func (Spock) Name() string { return "spock" }

func (Spock) Recover(ctx context.Context, in Input) (*Result, error) {
	rec := newRecorder("spock", in)
	if err := in.setDefaults(); err != nil {
		rec.fail(err)
		return rec.result()
	}
	api, err := detectAPIOn(ctx, in)
	if err != nil {
		rec.fail(err)
		return rec.result()
	}
	switch api {
	case apiRecoverySlot:
		rec.note("Spock recovery-slot API detected")
		runSpockRunbook(ctx, in, rec, recoverySlotRunbook)
	case apiRecoverRun:
		rec.note("Spock recover_run API detected")
		runSpockRunbook(ctx, in, rec, recoverRunRunbook)
	default:
		why := "no Spock recovery API detected"
		if api == apiRescue {
			why = "Spock rescue API detected, for which no runbook is implemented"
		}
		rec.note("%s: fell back to reference", why)
		runReference(ctx, in, rec)
	}
	return rec.result()
}

// spockNode is one survivor during a Spock runbook.
type spockNode struct {
	Survivor
	conn   *pgx.Conn
	before originEffect
	after  originEffect
	ok     bool // measured before
}

// runbook is the API-specific part, between the measurements.
type runbook func(ctx context.Context, in Input, rec *recorder, nodes []*spockNode)

func runSpockRunbook(ctx context.Context, in Input, rec *recorder, rb runbook) {
	cat := catalog{schema: "spock"}
	var nodes []*spockNode
	defer func() {
		for _, n := range nodes {
			n.conn.Close(context.WithoutCancel(ctx))
		}
	}()
	_ = rec.phase("connect", func() error {
		for _, sv := range in.Survivors {
			rec.res.Survivors = append(rec.res.Survivors, sv.Name)
			conn, err := connectWithTimeout(ctx, sv.DSN, in.StepTimeout)
			if err == nil {
				_, err = conn.Exec(ctx, fmt.Sprintf("SET statement_timeout = %d", in.StepTimeout.Milliseconds()))
			}
			if err != nil {
				rec.fail(fmt.Errorf("connect step on %s: %w", sv.Name, err))
				continue
			}
			nodes = append(nodes, &spockNode{Survivor: sv, conn: conn})
		}
		return nil
	})
	measure := func(when string, into func(*spockNode) *originEffect) {
		for _, n := range nodes {
			origin, err := cat.originName(ctx, n.conn, subscriptionName(n.Name, in.Failed))
			if err == nil {
				*into(n), err = measureOrigin(ctx, n.conn, origin)
			}
			if err != nil {
				rec.fail(fmt.Errorf("measure step (%s) on %s: %w", when, n.Name, err))
				continue
			}
			e := *into(n)
			rec.action(n.Name, "measure "+when, fmt.Sprintf("origin %s progress %s, %d rows in %d transactions", e.origin, e.progress, e.rows, e.txns), nil)
			if when == "before" {
				n.ok = true
			}
		}
	}
	_ = rec.phase("measure-before", func() error { measure("before", func(n *spockNode) *originEffect { return &n.before }); return nil })
	if len(nodes) > 0 {
		rb(ctx, in, rec, nodes)
	}
	_ = rec.phase("measure-after", func() error { measure("after", func(n *spockNode) *originEffect { return &n.after }); return nil })
	judge(in, rec, nodes)
}

// judge turns the measurements into the result: recovered counts per
// survivor (source unknown: Spock does not say), nothing-to-recover only
// when the survivors were provably level before, and an error when they
// are not level after.
func judge(in Input, rec *recorder, nodes []*spockNode) {
	var measured []*spockNode
	for _, n := range nodes {
		if n.ok && n.after.origin != "" {
			measured = append(measured, n)
		}
	}
	if len(measured) == 0 {
		rec.fail(fmt.Errorf("judge step: no survivor could be measured before and after"))
		return
	}
	levelBefore, levelAfter := true, true
	var state []string
	for _, n := range measured {
		levelBefore = levelBefore && n.before.progress == measured[0].before.progress
		levelAfter = levelAfter && n.after.progress == measured[0].after.progress
		state = append(state, fmt.Sprintf("%s %s->%s", n.Name, n.before.progress, n.after.progress))
		rec.res.Progress = append(rec.res.Progress, Progress{Node: n.Name, Origin: n.before.origin, Before: n.before.progress.String(), After: n.after.progress.String()})
		if d := n.after.txns - n.before.txns; d != 0 || n.after.rows != n.before.rows {
			rec.pair(Pair{Source: "unknown", Target: n.Name, Transactions: d, Rows: n.after.rows - n.before.rows,
				FromLSN: n.before.progress.String(), ToLSN: n.after.progress.String()})
		}
	}
	if levelBefore {
		rec.res.NothingToRecover = true
		rec.note("every survivor had applied %s up to %s before the runbook: nothing to recover", in.Failed, measured[0].before.progress)
	}
	if !levelAfter {
		rec.fail(fmt.Errorf("judge step: survivors' progress for %s still differs after the Spock runbook (%s)", in.Failed, strings.Join(state, ", ")))
	}
}

// call runs one Spock function on a node, records its output, and names a
// statement timeout a hang.
func call(ctx context.Context, rec *recorder, in Input, n *spockNode, step, sql string, args ...any) (string, error) {
	start := time.Now()
	// Backstop for waits statement_timeout cannot interrupt (a lock wait
	// inside the server, as seen with clone_recovery_slot).
	ctx, cancel := context.WithTimeout(ctx, in.StepTimeout+5*time.Second)
	defer cancel()
	rows, err := n.conn.Query(ctx, sql, args...)
	var out []string
	if err == nil {
		for rows.Next() {
			vals, verr := rows.Values()
			if verr != nil {
				err = verr
				break
			}
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = fmt.Sprint(v)
			}
			out = append(out, strings.Join(cells, "|"))
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "57014" {
		err = fmt.Errorf("hang: no answer within %s (statement_timeout), a finding: %w", in.StepTimeout, err)
	} else if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("hang: no answer within %s (client deadline), a finding: %w", in.StepTimeout+5*time.Second, err)
	}
	output := strings.Join(out, "\n")
	rec.action(n.Name, fmt.Sprintf("%s: %s (%s)", step, sql, time.Since(start).Round(time.Millisecond)), output, err)
	if err != nil {
		return output, fmt.Errorf("%s step on %s: %w", step, n.Name, err)
	}
	return output, nil
}

// recoverySlotRunbook: the failed node's id from spock.node, then
// coordinate_cluster_recovery on every survivor at the same time, then
// get_recovery_slot_info polled until no slot is in recovery, then the
// clone slots listed and dropped.
func recoverySlotRunbook(ctx context.Context, in Input, rec *recorder, nodes []*spockNode) {
	var failedID uint32
	err := rec.phase("lookup-failed-node", func() error {
		out, err := call(ctx, rec, in, nodes[0], "lookup failed node", "SELECT node_id FROM spock.node WHERE node_name = $1", in.Failed)
		if err != nil {
			return err
		}
		if out == "" {
			return fmt.Errorf("lookup failed node step on %s: %s is not in spock.node", nodes[0].Name, in.Failed)
		}
		if _, err := fmt.Sscan(out, &failedID); err != nil {
			return fmt.Errorf("lookup failed node step on %s: node_id %q: %w", nodes[0].Name, out, err)
		}
		return nil
	})
	if err != nil {
		rec.fail(err)
		return
	}
	_ = rec.phase("coordinate", func() error {
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := call(ctx, rec, in, n, "coordinate_cluster_recovery", "SELECT spock.coordinate_cluster_recovery($1::oid)", failedID)
				if err != nil {
					rec.fail(err)
				} else if out != "true" {
					rec.fail(fmt.Errorf("coordinate_cluster_recovery step on %s: returned %q", n.Name, out))
				}
			}()
		}
		wg.Wait()
		return nil
	})
	_ = rec.phase("wait-recovery", func() error {
		deadline := time.Now().Add(in.StepTimeout)
		for _, n := range nodes {
			for {
				out, err := call(ctx, rec, in, n, "get_recovery_slot_info",
					"SELECT count(*) FILTER (WHERE in_recovery), coalesce(string_agg(format('%s %s %s %s', slot_name, restart_lsn, confirmed_flush_lsn, in_recovery), '; '), '') FROM spock.get_recovery_slot_info()")
				if err != nil {
					rec.fail(err)
					break
				}
				if strings.HasPrefix(out, "0|") {
					break
				}
				if time.Now().After(deadline) {
					rec.fail(fmt.Errorf("wait-recovery step on %s: slots still in recovery after %s: %s", n.Name, in.StepTimeout, out))
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		return nil
	})
	_ = rec.phase("cleanup-clones", func() error {
		for _, n := range nodes {
			out, err := call(ctx, rec, in, n, "list clone slots", "SELECT slot_name, active FROM pg_replication_slots WHERE slot_name LIKE '%clone%' ORDER BY 1")
			if err != nil {
				rec.fail(err)
				continue
			}
			for _, line := range strings.Split(out, "\n") {
				slot, active, ok := strings.Cut(line, "|")
				if !ok {
					continue
				}
				ci := rec.clone(n.Name, slot)
				if active == "true" {
					rec.fail(fmt.Errorf("cleanup-clones step on %s: clone slot %s is still active", n.Name, slot))
					continue
				}
				if _, err := call(ctx, rec, in, n, "drop clone slot", "SELECT pg_drop_replication_slot($1)", slot); err != nil {
					rec.fail(err)
					continue
				}
				rec.cloneRemoved(ci)
			}
		}
		return nil
	})
}

// recoverRunRunbook: the survivor that applied most of the failed node is
// the source; recover_run is called on every survivor behind it.
func recoverRunRunbook(ctx context.Context, in Input, rec *recorder, nodes []*spockNode) {
	source := nodes[0]
	for _, n := range nodes[1:] {
		if n.ok && n.before.progress > source.before.progress {
			source = n
		}
	}
	_ = rec.phase("recover_run", func() error {
		for _, n := range nodes {
			if n == source || (n.ok && n.before.progress >= source.before.progress) {
				continue
			}
			if source.NetworkDSN == "" || n.NetworkDSN == "" {
				rec.fail(fmt.Errorf("recover_run step on %s: node-to-node DSNs unknown (Survivor.NetworkDSN)", n.Name))
				continue
			}
			if _, err := call(ctx, rec, in, n, "recover_run", "CALL spock.recover_run($1, $2, $3, $4, $5, true)",
				in.Failed, source.Name, source.NetworkDSN, n.Name, n.NetworkDSN); err != nil {
				rec.fail(err)
			}
		}
		return nil
	})
}
