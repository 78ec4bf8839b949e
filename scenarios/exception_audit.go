package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// CheckExceptionAudit is the exception-audit checker
// (verify.JudgeExceptionAudit): every row Spock wrote to
// spock.exception_log, and every conflict it saved in spock.resolutions,
// is explained by a conflict the workload provokes on purpose.
const CheckExceptionAudit = verify.ExceptionAuditCheckName

// exceptionAuditCheck reads what Spock recorded on the survivors, keeps it
// for observation.json (so `spockchaos check` re-judges it) and judges it
// against the tables the history's workload contends.
func (r *run) exceptionAuditCheck(ctx context.Context, targets []verify.Target) []verify.CheckResult {
	unknown := func(err error) []verify.CheckResult {
		return []verify.CheckResult{{Name: CheckExceptionAudit, Verdict: verify.Unknown, Summary: err.Error()}}
	}
	if err := r.rec.Flush(); err != nil {
		return unknown(fmt.Errorf("exception-audit: flush history: %w", err))
	}
	ops, err := history.Load(r.histPath())
	if err != nil {
		return unknown(fmt.Errorf("exception-audit: load history: %w", err))
	}
	res, capture := exceptionAudit(ctx, r.cluster, targets, ops)
	r.exceptions = capture
	return []verify.CheckResult{res}
}

// exceptionAudit reads and judges the survivors (targets) of c, with the
// contention of the history ops; the capture is nil when it could not be
// read (the result then says why, unknown).
func exceptionAudit(ctx context.Context, c *harness.Cluster, targets []verify.Target, ops []history.Op) (verify.CheckResult, *verify.ExceptionCapture) {
	capture, err := captureExceptions(ctx, c, targets)
	if err != nil {
		return verify.CheckResult{Name: CheckExceptionAudit, Verdict: verify.Unknown, Summary: err.Error()}, nil
	}
	return verify.JudgeExceptionAudit(capture, verify.ContendedTables(ops)), capture
}

// storedExceptionAudit re-judges the capture stored with a run; a run
// that did not run the checker stored none and gets no result.
func storedExceptionAudit(ops []history.Op, obs *verify.Observation, _, _ []string) []verify.CheckResult {
	if obs == nil || obs.Exceptions == nil {
		return nil
	}
	return []verify.CheckResult{verify.JudgeExceptionAudit(obs.Exceptions, verify.ContendedTables(ops))}
}

// captureExceptions reads spock.exception_log (and spock.resolutions where
// spock.save_resolutions is on) on every target. pglogical has neither:
// the capture then says the audit does not apply.
func captureExceptions(ctx context.Context, c *harness.Cluster, targets []verify.Target) (*verify.ExceptionCapture, error) {
	if c == nil || c.Flavor.Name() != "spock" {
		return &verify.ExceptionCapture{NotApplicable: "pglogical has no exception_log or saved resolutions: nothing Spock-style to audit"}, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	out := &verify.ExceptionCapture{}
	for _, t := range targets {
		if err := captureNodeExceptions(ctx, t, out); err != nil {
			return nil, fmt.Errorf("exception-audit: %s: %w", t.Name, err)
		}
	}
	return out, nil
}

// exceptionLogSQL reads exception_log rows with their origin's name and
// the subscriber's subscriptions from it (remote_origin is the origin's
// Spock node_id, as the output plugin's ORIGIN message carries it).
const exceptionLogSQL = `SELECT coalesce(n.node_name::text, e.remote_origin::text),
  coalesce((SELECT string_agg(s.sub_name::text, ',' ORDER BY s.sub_name) FROM spock.subscription s WHERE s.sub_origin = e.remote_origin), ''),
  e.remote_xid, e.remote_commit_ts, coalesce(e.table_name, ''), coalesce(e.operation, ''), e.error_message, e.retry_errored_at
FROM spock.exception_log e LEFT JOIN spock.node n ON n.node_id = e.remote_origin
ORDER BY e.retry_errored_at, e.command_counter
LIMIT $1`

// resolutionsSQL counts spock.resolutions by table, type, resolution and
// origin.
const resolutionsSQL = `SELECT coalesce(r.relname, ''), coalesce(r.conflict_type, ''), coalesce(r.conflict_resolution, ''),
  coalesce(n.node_name::text, r.remote_origin::text, ''), count(*), min(r.log_time), max(r.log_time)
FROM spock.resolutions r LEFT JOIN spock.node n ON n.node_id = r.remote_origin::oid
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`

// captureNodeExceptions adds one node's rows to out.
func captureNodeExceptions(ctx context.Context, t verify.Target, out *verify.ExceptionCapture) error {
	conn, err := pgx.Connect(ctx, t.DSN)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var hasLog, hasRes bool
	var saveRes string
	if err := conn.QueryRow(ctx, `SELECT to_regclass('spock.exception_log') IS NOT NULL, to_regclass('spock.resolutions') IS NOT NULL,
  coalesce(current_setting('spock.save_resolutions', true), '')`).Scan(&hasLog, &hasRes, &saveRes); err != nil {
		return fmt.Errorf("look for spock.exception_log: %w", err)
	}
	if !hasLog {
		return fmt.Errorf("no spock.exception_log on a Spock node: cannot audit")
	}
	out.Nodes = append(out.Nodes, t.Name)
	rows, _ := conn.Query(ctx, exceptionLogSQL, verify.ExceptionRowsRead+1)
	var e verify.ExceptionRow
	n := 0
	if _, err := pgx.ForEachRow(rows, []any{&e.Origin, &e.Subscription, &e.RemoteXID, &e.RemoteCommitTS, &e.Table, &e.Operation, &e.Error, &e.LoggedAt}, func() error {
		if n++; n > verify.ExceptionRowsRead {
			out.Truncated = append(out.Truncated, t.Name)
			return nil
		}
		e.Node = t.Name
		e.RemoteCommitTS, e.LoggedAt = e.RemoteCommitTS.UTC(), e.LoggedAt.UTC()
		out.Exceptions = append(out.Exceptions, e)
		return nil
	}); err != nil {
		return fmt.Errorf("read spock.exception_log: %w", err)
	}
	if !hasRes || (saveRes != "on" && saveRes != "true") {
		return nil
	}
	out.ResolutionsSaved = append(out.ResolutionsSaved, t.Name)
	rows, _ = conn.Query(ctx, resolutionsSQL)
	var g verify.ResolutionGroup
	if _, err := pgx.ForEachRow(rows, []any{&g.Table, &g.ConflictType, &g.Resolution, &g.Origin, &g.Rows, &g.First, &g.Last}, func() error {
		g.Node, g.First, g.Last = t.Name, g.First.UTC(), g.Last.UTC()
		out.Resolutions = append(out.Resolutions, g)
		return nil
	}); err != nil {
		return fmt.Errorf("read spock.resolutions: %w", err)
	}
	return nil
}
