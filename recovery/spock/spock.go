package spock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
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
func detectAPIOn(ctx context.Context, in recovery.Input) (spockAPI, error) {
	if err := in.SetDefaults(); err != nil {
		return apiNone, err
	}
	var last error
	for _, s := range in.Survivors {
		conn, err := pgnode.ConnectWithTimeout(ctx, s.DSN, in.StepTimeout)
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

// ErrNoSpockAPI means the servers offer none of Spock's recovery APIs, so
// --recovery spock cannot run (auto falls back to reference instead).
var ErrNoSpockAPI = errors.New("no Spock recovery API on the servers (pg_proc has none of: recover_run; find_rescue_source + create_rescue_subscription; coordinate_cluster_recovery + get_recovery_slot_info): --recovery spock cannot run; use --recovery reference or auto")

// DetectAPIOn names the Spock recovery API of the first reachable
// survivor ("" for none): recovery.Auto's choice.
func DetectAPIOn(ctx context.Context, in recovery.Input) (string, error) {
	api, err := detectAPIOn(ctx, in)
	return string(api), err
}

// DetectSpockAPI names the Spock recovery API of the server at dsn ("" for
// none), for a check before a run starts.
func DetectSpockAPI(ctx context.Context, dsn string, timeout time.Duration) (string, error) {
	conn, err := pgnode.ConnectWithTimeout(ctx, dsn, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	api, err := detectAPI(ctx, conn)
	return string(api), err
}

// Spock runs Spock's own recovery runbook for the API the servers have.
// Spock's functions are not trusted: every call runs under a
// statement_timeout (a hang is a finding), a `t` return counts for
// nothing, and the result's numbers are the measured change in what each
// survivor holds of the failed node, counted by the origin Spock really
// stamps (the failed node's node_id). Whatever Spock's calls did, a
// survivor left holding less of the failed node than another is a
// finding, a failure of the system under test: the run goes on to verify
// and fails there. Errors (verdict unknown) are kept for the harness's own
// failures: a survivor it cannot reach or measure.
type Spock struct{}

func (Spock) Name() string { return "spock" }

func (Spock) Recover(ctx context.Context, in recovery.Input) (*recovery.Result, error) {
	rec := recovery.NewRecorder("spock", in)
	if err := in.SetDefaults(); err != nil {
		rec.Fail(err)
		return rec.Result()
	}
	api, err := detectAPIOn(ctx, in)
	if err != nil {
		rec.Fail(err)
		return rec.Result()
	}
	switch api {
	case apiRecoverySlot:
		rec.Note("Spock recovery-slot API detected (coordinate_cluster_recovery)")
		runSpockRunbook(ctx, in, rec, recoverySlotRunbook)
	case apiRescue:
		rec.Note("Spock rescue API detected (find_rescue_source, clone_recovery_slot, create_rescue_subscription)")
		runSpockRunbook(ctx, in, rec, rescueRunbook)
	case apiRecoverRun:
		rec.Note("Spock recover_run API detected")
		runSpockRunbook(ctx, in, rec, recoverRunRunbook)
	default:
		rec.Fail(ErrNoSpockAPI)
	}
	return rec.Result()
}

// spockNode is one survivor during a Spock runbook.
type spockNode struct {
	recovery.Survivor
	conn     *pgx.Conn
	origin   string   // its named origin for the failed node
	roidents []uint32 // what the failed node's commits carry there
	before   originEffect
	after    originEffect
	ok       bool // measured before
}

// runbook is the API-specific part, between the measurements. failedID is
// the failed node's Spock node_id.
type runbook func(ctx context.Context, in recovery.Input, rec *recovery.Recorder, nodes []*spockNode, failedID uint32)

// settleFor bounds the wait, after a runbook, for an asynchronous effect
// (a rescue subscription, forwarding) to level the survivors.
const settleFor = 15 * time.Second

func runSpockRunbook(ctx context.Context, in recovery.Input, rec *recovery.Recorder, rb runbook) {
	cat := pgnode.Catalog{Schema: "spock"}
	var nodes []*spockNode
	defer func() {
		for _, n := range nodes {
			n.conn.Close(context.WithoutCancel(ctx))
		}
	}()
	var failedID uint32
	_ = rec.Phase("connect", func() error {
		for _, sv := range in.Survivors {
			rec.Res.Survivors = append(rec.Res.Survivors, sv.Name)
			conn, err := pgnode.ConnectWithTimeout(ctx, sv.DSN, in.StepTimeout)
			if err == nil {
				_, err = conn.Exec(ctx, fmt.Sprintf("SET statement_timeout = %d", in.StepTimeout.Milliseconds()))
			}
			var origin string
			var origins *pgnode.SpockOrigins
			if err == nil {
				origin, err = cat.OriginName(ctx, conn, pgnode.SubscriptionName(sv.Name, in.Failed))
			}
			if err == nil {
				origins, err = pgnode.FailedOriginsOn(ctx, conn, in.Failed, origin)
			}
			if err != nil {
				if conn != nil {
					conn.Close(context.WithoutCancel(ctx))
				}
				rec.Fail(fmt.Errorf("connect step on %s: %w", sv.Name, err))
				continue
			}
			n := &spockNode{Survivor: sv, conn: conn, origin: origin}
			for id := range origins.IDs {
				n.roidents = append(n.roidents, id)
			}
			failedID = origins.FailedID
			nodes = append(nodes, n)
		}
		return nil
	})
	measure := func(when string, into func(*spockNode) *originEffect) {
		for _, n := range nodes {
			e, err := measureOrigin(ctx, n.conn, n.origin, n.roidents)
			if err != nil {
				rec.Fail(fmt.Errorf("measure step (%s) on %s: %w", when, n.Name, err))
				continue
			}
			*into(n) = e
			rec.Action(n.Name, "measure "+when, fmt.Sprintf("%d rows in %d transactions of %s (origins %v), origin %s progress %s", e.rows, e.txns, in.Failed, n.roidents, e.origin, e.progress), nil)
			if when == "before" {
				n.ok = true
			}
		}
	}
	_ = rec.Phase("measure-before", func() error { measure("before", func(n *spockNode) *originEffect { return &n.before }); return nil })
	if len(nodes) == 0 {
		return
	}
	_ = rec.Phase("runbook", func() error { rb(ctx, in, rec, nodes, failedID); return nil })
	_ = rec.Phase("settle", func() error { settle(ctx, in, rec, nodes); return nil })
	_ = rec.Phase("measure-after", func() error { measure("after", func(n *spockNode) *originEffect { return &n.after }); return nil })
	judge(in, rec, nodes)
}

// settle waits, bounded by settleFor, until the survivors hold the same of
// the failed node: Spock's recovery may act asynchronously (a rescue
// subscription, forwarding). Not settling is no error here; judge says
// what it means.
func settle(ctx context.Context, in recovery.Input, rec *recovery.Recorder, nodes []*spockNode) {
	// Connections of its own: the wait's deadline cancels the query in
	// flight, and pgx closes a connection whose query was cancelled.
	conns := make([]*pgx.Conn, len(nodes))
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	for i, n := range nodes {
		c, err := pgnode.ConnectWithTimeout(ctx, n.DSN, in.StepTimeout)
		if err != nil {
			rec.Action(n.Name, "settle", "", err)
			return
		}
		conns[i] = c
	}
	err := harness.WaitFor(ctx, "survivors to hold the same of "+in.Failed+" after the Spock runbook", settleFor, 500*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			var counts []string
			var first *originEffect
			level := true
			for i, n := range nodes {
				e, err := measureOrigin(ctx, conns[i], n.origin, n.roidents)
				if err != nil {
					return false, "", err
				}
				if first == nil {
					first = &e
				}
				level = level && e.level(*first)
				counts = append(counts, fmt.Sprintf("%s %d rows, progress %s", n.Name, e.rows, e.progress))
			}
			return level, strings.Join(counts, ", "), nil
		})
	rec.Action("", "settle", "", err)
}

// judge turns the measurements into the result: recovered counts per
// survivor (source unknown: Spock does not say), nothing-to-recover only
// when the survivors held the same of the failed node before, and a
// finding when they do not after.
func judge(in recovery.Input, rec *recovery.Recorder, nodes []*spockNode) {
	var measured []*spockNode
	for _, n := range nodes {
		if n.ok && n.after.origin != "" {
			measured = append(measured, n)
		}
	}
	if len(measured) == 0 {
		rec.Fail(fmt.Errorf("judge step: no survivor could be measured before and after"))
		return
	}
	levelBefore, levelAfter := true, true
	var state []string
	var moved int64
	for _, n := range measured {
		b, a := n.before, n.after
		levelBefore = levelBefore && b.level(measured[0].before)
		levelAfter = levelAfter && a.level(measured[0].after)
		state = append(state, fmt.Sprintf("%s %d->%d rows in %d->%d transactions, progress %s->%s", n.Name, b.rows, a.rows, b.txns, a.txns, b.progress, a.progress))
		rec.Res.Progress = append(rec.Res.Progress, recovery.Progress{Node: n.Name, Origin: b.origin, Before: b.progress.String(), After: a.progress.String()})
		rec.Res.Effect = append(rec.Res.Effect, recovery.Effect{Node: n.Name, RowsBefore: b.rows, RowsAfter: a.rows, TxnsBefore: b.txns, TxnsAfter: a.txns,
			ProgressFrom: b.progress.String(), ProgressTo: a.progress.String()})
		if d := a.txns - b.txns; d != 0 || a.rows != b.rows {
			moved += d
			rec.Pair(recovery.Pair{Source: "unknown", Target: n.Name, Transactions: d, Rows: a.rows - b.rows,
				FromLSN: b.progress.String(), ToLSN: a.progress.String()})
		}
	}
	if levelBefore {
		rec.Res.NothingToRecover = true
		rec.Note("every survivor held the same of %s before the runbook: nothing to recover", in.Failed)
	}
	if !levelAfter {
		rec.Finding("after Spock's runbook the survivors still hold different parts of %s's transactions (moved %d transactions): %s",
			in.Failed, moved, strings.Join(state, "; "))
	}
}

// call runs one Spock function on a node, records its output, and names a
// statement timeout a hang.
func call(ctx context.Context, rec *recovery.Recorder, in recovery.Input, n *spockNode, step, sql string, args ...any) (string, error) {
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
		// pgx closed the connection with the cancelled query: the next
		// steps on this node need a new one (the hung backend stays).
		if conn, cerr := pgnode.ConnectWithTimeout(context.WithoutCancel(ctx), n.DSN, in.StepTimeout); cerr == nil {
			if _, cerr = conn.Exec(context.WithoutCancel(ctx), fmt.Sprintf("SET statement_timeout = %d", in.StepTimeout.Milliseconds())); cerr == nil {
				n.conn.Close(context.WithoutCancel(ctx))
				n.conn = conn
			} else {
				conn.Close(context.WithoutCancel(ctx))
			}
		}
	}
	output := strings.Join(out, "\n")
	took := time.Since(start)
	rec.Action(n.Name, fmt.Sprintf("%s: %s (%s)", step, sql, took.Round(time.Millisecond)), output, err)
	c := recovery.Call{Node: n.Name, Function: step, Returned: output, Duration: took}
	if err != nil {
		c.Error = err.Error()
	}
	rec.Call(c)
	if err != nil {
		return output, fmt.Errorf("%s step on %s: %w", step, n.Name, err)
	}
	return output, nil
}

// recoverySlotRunbook (pull request 144's API): coordinate_cluster_recovery
// on every survivor at the same time, then get_recovery_slot_info polled
// until no slot is in recovery, then the clone slots listed and dropped.
// What the calls return is recorded; what they do is measured by judge.
func recoverySlotRunbook(ctx context.Context, in recovery.Input, rec *recovery.Recorder, nodes []*spockNode, failedID uint32) {
	_ = rec.Phase("coordinate", func() error {
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() {
				out, err := call(ctx, rec, in, n, fmt.Sprintf("coordinate_cluster_recovery(%d)", failedID), "SELECT spock.coordinate_cluster_recovery($1::int8::oid)", failedID)
				if err != nil {
					rec.Finding("%v", err)
				} else if out != "true" {
					rec.Finding("coordinate_cluster_recovery(%d) on %s returned %q", failedID, n.Name, out)
				}
			})
		}
		wg.Wait()
		return nil
	})
	_ = rec.Phase("wait-recovery", func() error {
		deadline := time.Now().Add(in.StepTimeout)
		for _, n := range nodes {
			for {
				out, err := call(ctx, rec, in, n, "get_recovery_slot_info()",
					"SELECT count(*) FILTER (WHERE in_recovery), coalesce(string_agg(format('%s %s %s %s', slot_name, restart_lsn, confirmed_flush_lsn, in_recovery), '; '), '') FROM spock.get_recovery_slot_info()")
				if err != nil {
					rec.Finding("%v", err)
					break
				}
				if strings.HasPrefix(out, "0|") {
					break
				}
				if time.Now().After(deadline) {
					rec.Finding("get_recovery_slot_info on %s: slots still in recovery after %s: %s", n.Name, in.StepTimeout, out)
					break
				}
				select {
				case <-ctx.Done():
					// Interrupted: the run ends unknown on ctx's error, which
					// is the harness's, not a finding of the server's.
				case <-time.After(200 * time.Millisecond):
					continue
				}
				break
			}
		}
		return nil
	})
	dropCloneSlots(ctx, in, rec, nodes, "%clone%")
}

// dropCloneSlots lists the slots like pattern on every node and drops the
// inactive ones: what a runbook cloned must not retain WAL afterwards.
func dropCloneSlots(ctx context.Context, in recovery.Input, rec *recovery.Recorder, nodes []*spockNode, pattern string) {
	_ = rec.Phase("cleanup-clones", func() error {
		for _, n := range nodes {
			out, err := call(ctx, rec, in, n, "list clone slots", "SELECT slot_name, active FROM pg_replication_slots WHERE slot_name LIKE $1 AND slot_name NOT LIKE $2 ORDER BY 1", pattern, recovery.OwnSlotPattern)
			if err != nil {
				rec.Finding("%v", err)
				continue
			}
			for _, line := range strings.Split(out, "\n") {
				slot, active, ok := strings.Cut(line, "|")
				if !ok {
					continue
				}
				ci := rec.Clone(n.Name, slot)
				if active == "true" {
					rec.Finding("cleanup-clones on %s: clone slot %s is still active", n.Name, slot)
					continue
				}
				if _, err := call(ctx, rec, in, n, "drop clone slot", "SELECT pg_drop_replication_slot($1)", slot); err != nil {
					rec.Finding("%v", err)
					continue
				}
				rec.CloneRemoved(ci)
			}
		}
		return nil
	})
}

// sourceOf is the survivor that holds the most of the failed node (ties:
// the first).
func sourceOf(nodes []*spockNode) *spockNode {
	source := nodes[0]
	for _, n := range nodes[1:] {
		if n.ok && n.before.txns > source.before.txns {
			source = n
		}
	}
	return source
}

// behind lists the survivors that hold less of the failed node than source.
func behind(nodes []*spockNode, source *spockNode) []*spockNode {
	var out []*spockNode
	for _, n := range nodes {
		if n != source && n.ok && n.before.txns < source.before.txns {
			out = append(out, n)
		}
	}
	return out
}

// recoverRunRunbook (pull request 277): the survivor that holds most of
// the failed node is the source; recover_run is called on every survivor
// behind it, with both nodes' node-to-node DSNs.
func recoverRunRunbook(ctx context.Context, in recovery.Input, rec *recovery.Recorder, nodes []*spockNode, _ uint32) {
	source := sourceOf(nodes)
	_ = rec.Phase("recover_run", func() error {
		for _, n := range behind(nodes, source) {
			if source.NetworkDSN == "" || n.NetworkDSN == "" {
				rec.Fail(fmt.Errorf("recover_run step on %s: node-to-node DSNs unknown (Survivor.NetworkDSN)", n.Name))
				continue
			}
			if _, err := call(ctx, rec, in, n, fmt.Sprintf("recover_run(%s, %s, ..., %s, ...)", in.Failed, source.Name, n.Name),
				"CALL spock.recover_run($1, $2, $3, $4, $5, true)",
				in.Failed, source.Name, source.NetworkDSN, n.Name, n.NetworkDSN); err != nil {
				rec.Finding("%v", err)
			}
		}
		return nil
	})
}

// rescueRunbook (branch RECOVERY-SLOT; its runbook is in pull request
// 269's samples): find_rescue_source(failed) on every survivor; on the
// source it names, clone_recovery_slot() (the clone of spk_recovery_<db>);
// on every survivor behind the source, create_rescue_subscription(target,
// source, clone, NULL, stop_lsn, NULL) with stop_lsn = the source's WAL
// end, after which the rescue subscription (spock_rescue_sub_<target>_<source>)
// is meant to drop itself and the clone. Its effect is awaited (settle);
// whatever is left is dropped: rescue subscriptions by spock.sub_drop,
// clone slots on the source. Read on that branch: find_rescue_source
// calls a function no ref defines, and the rescue subscription forwards no
// origins, so expect findings, not recovery.
func rescueRunbook(ctx context.Context, in recovery.Input, rec *recovery.Recorder, nodes []*spockNode, _ uint32) {
	byID := map[string]*spockNode{}
	for _, n := range nodes {
		if id, err := pgnode.SpockNodeID(ctx, n.conn, n.Name); err == nil {
			byID[fmt.Sprint(id)] = n
		}
	}
	var source *spockNode
	_ = rec.Phase("find_rescue_source", func() error {
		for _, n := range nodes {
			out, err := call(ctx, rec, in, n, fmt.Sprintf("find_rescue_source(%s)", in.Failed),
				"SELECT coalesce(source_node_id::text, ''), coalesce(last_lsn::text, ''), coalesce(confidence_level, '') FROM spock.find_rescue_source($1) LIMIT 1", in.Failed)
			if err != nil {
				rec.Finding("%v", err)
				continue
			}
			if parts := strings.Split(out, "|"); source == nil && byID[parts[0]] != nil {
				source = byID[parts[0]]
			}
		}
		if source == nil {
			source = sourceOf(nodes)
			rec.Finding("find_rescue_source(%s) named no surviving source; %s (holds most of %s) used", in.Failed, source.Name, in.Failed)
		}
		return nil
	})
	targets := behind(nodes, source)
	if len(targets) == 0 {
		return
	}
	var clone, stopLSN string
	_ = rec.Phase("clone_recovery_slot", func() error {
		out, err := call(ctx, rec, in, source, "clone_recovery_slot()",
			"SELECT coalesce(cloned_slot_name, ''), coalesce(success, false), coalesce(message, ''), pg_current_wal_lsn()::text FROM spock.clone_recovery_slot()")
		if err != nil {
			rec.Finding("%v", err)
			return nil
		}
		parts := strings.SplitN(out, "|", 4)
		if len(parts) < 4 || parts[1] != "true" || parts[0] == "" {
			rec.Finding("clone_recovery_slot() on %s did not clone: %s", source.Name, out)
			return nil
		}
		clone, stopLSN = parts[0], parts[3]
		return nil
	})
	if clone != "" {
		_ = rec.Phase("create_rescue_subscription", func() error {
			for _, t := range targets {
				if _, err := call(ctx, rec, in, t, fmt.Sprintf("create_rescue_subscription(%s, %s, %s, stop_lsn %s)", t.Name, source.Name, clone, stopLSN),
					"SELECT spock.create_rescue_subscription($1, $2, $3, NULL, $4::pg_lsn, NULL)", t.Name, source.Name, clone, stopLSN); err != nil {
					rec.Finding("%v", err)
				}
			}
			return nil
		})
		_ = rec.Phase("rescue-settle", func() error { settle(ctx, in, rec, nodes); return nil })
	}
	_ = rec.Phase("cleanup-rescue", func() error {
		for _, t := range targets {
			out, err := call(ctx, rec, in, t, "list rescue subscriptions", "SELECT sub_name FROM spock.subscription WHERE sub_name LIKE 'spock\\_rescue\\_sub\\_%' ORDER BY 1")
			if err != nil {
				rec.Finding("%v", err)
				continue
			}
			for _, sub := range strings.Fields(out) {
				if _, err := call(ctx, rec, in, t, "sub_drop("+sub+")", "SELECT spock.sub_drop($1)", sub); err != nil {
					rec.Finding("%v", err)
				}
			}
		}
		return nil
	})
	dropCloneSlots(ctx, in, rec, []*spockNode{source}, "%clone%")
}
