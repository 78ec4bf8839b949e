package scenarios

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// CheckDoubleApply is the double-apply checker (verify.JudgeDoubleApply):
// no survivor committed one remote transaction twice, read from the WAL
// each has on disk.
const CheckDoubleApply = verify.DoubleApplyCheckName

// doubleApplyCheck reads every survivor's WAL, keeps the capture for
// observation.json and judges it.
func (r *run) doubleApplyCheck(ctx context.Context, targets []verify.Target) []verify.CheckResult {
	if r.cluster == nil {
		return []verify.CheckResult{{Name: CheckDoubleApply, Verdict: verify.Unknown, Summary: "no cluster to read the WAL of"}}
	}
	capture := &verify.WALCapture{}
	for _, t := range targets {
		n := r.cluster.Node(t.Name)
		if n == nil {
			capture.Nodes = append(capture.Nodes, verify.WALNodeCapture{Node: t.Name, Error: "not a node of the cluster"})
			continue
		}
		nc, err := walNodeCapture(ctx, n, r.pinnedReplays())
		if errors.Is(err, harness.ErrNoWALDump) {
			capture = &verify.WALCapture{NotApplicable: err.Error()}
			break
		}
		if err != nil {
			nc = verify.WALNodeCapture{Node: t.Name, Error: err.Error()}
		}
		capture.Nodes = append(capture.Nodes, nc)
	}
	r.wal = capture
	return []verify.CheckResult{verify.JudgeDoubleApply(capture)}
}

// pinnedReplays are the reference recovery's replays on Spock, whose
// commits all carry the target's origin progress from before the replay
// (recovery/reference: Spock's stream has no origin LSN), from the
// recovery's measured progress.
func (r *run) pinnedReplays() []verify.PinnedReplay {
	if r.recovered == nil || r.cluster == nil || r.cluster.Flavor.Name() != "spock" {
		return nil
	}
	var out []verify.PinnedReplay
	for _, p := range r.recovered.Progress {
		out = append(out, verify.PinnedReplay{Node: p.Node, Origin: p.Origin, LSN: p.Before})
	}
	return out
}

// storedDoubleApply re-judges the capture stored with a run; a run that
// did not run the checker stored none and gets no result.
func storedDoubleApply(_ []history.Op, obs *verify.Observation, _, _ []string) []verify.CheckResult {
	if obs == nil || obs.WAL == nil {
		return nil
	}
	return []verify.CheckResult{verify.JudgeDoubleApply(obs.WAL)}
}

// walNodeCapture reads one node's WAL commits and names their origins,
// over one connection to it.
func walNodeCapture(ctx context.Context, n *harness.Node, pinned []verify.PinnedReplay) (verify.WALNodeCapture, error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return verify.WALNodeCapture{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	seg, out, err := harness.ReadWALCommits(ctx, n, conn)
	if err != nil {
		return verify.WALNodeCapture{}, err
	}
	names, err := originNames(ctx, n.Name, conn)
	if err != nil {
		return verify.WALNodeCapture{}, err
	}
	own, err := ownRels(ctx, n.Name, conn)
	if err != nil {
		return verify.WALNodeCapture{}, err
	}
	commits, stop := verify.ParseWALCommits(out)
	return verify.CaptureWALNode(n.Name, seg, stop, commits, names, own, pinned), nil
}

// ownRelsSQL lists the relfilenodes of the replication system's own
// tables, their indexes and TOAST tables (spock's, pglogical's schemas).
const ownRelsSQL = `SELECT pg_relation_filenode(c.oid)::bigint FROM pg_class c
WHERE pg_relation_filenode(c.oid) IS NOT NULL AND (c.relnamespace::regnamespace::text IN ('spock', 'pglogical')
  OR c.oid IN (SELECT reltoastrelid FROM pg_class t WHERE t.relnamespace::regnamespace::text IN ('spock', 'pglogical')))`

// ownRels reads node's replication system's own relfilenodes (ownRelsSQL).
func ownRels(ctx context.Context, node string, conn *pgx.Conn) (map[uint32]bool, error) {
	rows, _ := conn.Query(ctx, ownRelsSQL)
	own := map[uint32]bool{}
	var f int64
	if _, err := pgx.ForEachRow(rows, []any{&f}, func() error {
		own[uint32(f)] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list the replication system's tables on %s: %w", node, err)
	}
	return own, nil
}

// originNames maps node's origin ids to names: pg_replication_origin's,
// and on Spock its node ids (the origins its commits carry).
func originNames(ctx context.Context, node string, conn *pgx.Conn) (map[int]string, error) {
	var hasSpock bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('spock.node') IS NOT NULL`).Scan(&hasSpock); err != nil {
		return nil, fmt.Errorf("name origins on %s: %w", node, err)
	}
	q := `SELECT roident::int, roname::text FROM pg_replication_origin`
	if hasSpock {
		q += ` UNION ALL SELECT node_id::int, node_name::text FROM spock.node`
	}
	rows, _ := conn.Query(ctx, q)
	names := map[int]string{}
	var id int
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		names[id] = name
		return nil
	}); err != nil {
		return nil, fmt.Errorf("name origins on %s: %w", node, err)
	}
	return names, nil
}
