package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// StepDDL: Node runs a DDL script on the workload's table through the
// flavor's DDL replication (harness.Cluster.ReplicateDDL), under the load:
// add a column with a default, index it, create a table, change the
// column's default. Then Node writes rows into the new table and, in the
// background, each other node does once the whole script has reached it
// (and, under the ledger, sets the new column on rows it wrote itself).
const StepDDL = "ddl"

// FDDL is the history op of one DDL statement (Value {"sql": ...}).
const FDDL = "ddl"

const (
	// ddlRows is how many rows each node writes into the new table.
	ddlRows = 20
	// ddlArrivalWait bounds the wait for the script to reach a node,
	// including a crash-restart of it or of the issuing node.
	ddlArrivalWait = 3 * time.Minute
	// ddlPoll is how often a node is asked whether the script arrived.
	ddlPoll = 500 * time.Millisecond
	// ddlLedgerUpdates is how many of its own ledger rows a node sets the
	// new column on.
	ddlLedgerUpdates = 20
)

// ddlScript is what a ddl step runs: its names carry tag, so that two
// steps of a plan differ. table is schema-qualified.
type ddlScript struct {
	Table      string   // the workload's table, altered
	Column     string   // the column added
	NewTable   string   // the table created
	Statements []string // in order
}

// newDDLScript is the script of a ddl step on table (schema-qualified)
// tagged tag (a lower-case identifier).
func newDDLScript(table, tag string) ddlScript {
	col := "ddl_" + tag
	short := table[strings.LastIndex(table, ".")+1:]
	s := ddlScript{Table: table, Column: col, NewTable: "public.ddl_" + tag}
	s.Statements = []string{
		fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s text DEFAULT 'added'", table, col),
		fmt.Sprintf("CREATE INDEX %s_%s_idx ON %s (%s)", short, col, table, col),
		fmt.Sprintf("CREATE TABLE %s (id text PRIMARY KEY, node text NOT NULL, note text DEFAULT 'new')", s.NewTable),
		fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT 'changed'", table, col),
	}
	return s
}

// arrivedSQL is true on a node once the whole script has run there: its
// last statement's default is in place and the new table exists. $1 the
// altered table, $2 the column, $3 the new table.
const arrivedSQL = `SELECT to_regclass($3) IS NOT NULL AND coalesce((
  SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
  WHERE a.attrelid = to_regclass($1) AND a.attname = $2), '') LIKE '%changed%'`

// ddlInsertSQL writes a node's rows into the new table (%s), idempotent
// so that a retry after an unknown outcome is safe.
const ddlInsertSQL = `INSERT INTO %s (id, node) SELECT $1::text || '-' || g, $1::text FROM generate_series(1, $2::int) AS g ON CONFLICT (id) DO NOTHING`

// ddlLedgerUpdateSQL sets the new column (%[1]s) on rows of the ledger the
// node wrote itself: only it updates them, so no update races another.
const ddlLedgerUpdateSQL = `UPDATE public.ledger SET %[1]s = $1 WHERE ctid IN (
  SELECT ctid FROM public.ledger WHERE origin = $1 AND %[1]s IS DISTINCT FROM $1 LIMIT $2)`

// ddlStep is one ddl step as the run follows it.
type ddlStep struct {
	step   Step
	script ddlScript
	fault  int // its entry in run.json's faults
	// written: node -> the ids it wrote into the new table (acknowledged).
	written map[string][]string
	// arrived: node -> when the script was seen there.
	arrived map[string]time.Time
	// errs: node -> why it was not followed there.
	errs map[string]error
	done chan struct{} // closed when the follow-up ended
}

// workloadTable is the schema-qualified table the workload's schema
// creates first.
func workloadTable(wl workload.Workload) (string, error) {
	t := harness.CreatedTable(wl.Schema())
	if t == "" {
		return "", fmt.Errorf("workload %s creates no table to alter", wl.Name())
	}
	if !strings.Contains(t, ".") {
		t = "public." + t
	}
	return t, nil
}

// ddl (StepDDL) runs the script on s.Node and starts its follow-up on
// every node (s.Node's writes too), so that the next step may strike
// while the DDL travels.
func (r *run) ddl(ctx context.Context, s Step) error {
	table, err := workloadTable(r.wl)
	if err != nil {
		return err
	}
	d := &ddlStep{step: s, script: newDDLScript(table, fmt.Sprintf("%s_%d", s.Node, s.At.Milliseconds())),
		written: map[string][]string{}, arrived: map[string]time.Time{}, errs: map[string]error{}, done: make(chan struct{})}
	d.fault = r.addFault(s, 0, fmt.Sprintf("%d statements on %s: %s", len(d.script.Statements), table, strings.Join(d.script.Statements, "; ")))
	for _, sql := range d.script.Statements {
		inv := r.rec.Invoke(s.Node+"-ddl", s.Node, FDDL, map[string]string{"sql": sql}, "")
		if err := r.cluster.ReplicateDDL(ctx, s.Node, []string{sql}); err != nil {
			r.rec.Complete(inv, history.Fail, nil, err.Error())
			return err
		}
		r.rec.Complete(inv, history.Ok, nil, "")
	}
	r.ddls = append(r.ddls, d)
	go r.followDDL(ctx, d, r.plan.Nodes)
	return nil
}

// followDDL waits, on each node of nodes in parallel, for the script to
// arrive, then writes there. The maps are written under r.mu and read
// after done.
func (r *run) followDDL(ctx context.Context, d *ddlStep, nodes []string) {
	defer close(d.done)
	ctx, cancel := context.WithTimeout(ctx, ddlArrivalWait)
	defer cancel()
	ended := make(chan struct{}, len(nodes))
	for _, n := range nodes {
		go func() {
			defer func() { ended <- struct{}{} }()
			err := r.followDDLOn(ctx, d, n)
			if err != nil {
				r.mu.Lock()
				d.errs[n] = err
				r.mu.Unlock()
			}
		}()
	}
	for range nodes {
		<-ended
	}
}

// followDDLOn polls node until the script is there, then writes. A node
// that failed for good (killed, recovered without it) is left.
func (r *run) followDDLOn(ctx context.Context, d *ddlStep, node string) error {
	var last error
	for {
		if r.isFailed(node) {
			return nil
		}
		ok, err := r.ddlArrived(ctx, d, node)
		if ok {
			r.mu.Lock()
			d.arrived[node] = time.Now()
			r.mu.Unlock()
			return r.ddlWrite(ctx, d, node)
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the DDL of step %q did not reach %s within %s (last error: %v)", d.step, node, ddlArrivalWait, last)
		case <-time.After(ddlPoll):
		}
	}
}

func (r *run) isFailed(node string) bool {
	r.aliveMu.Lock()
	defer r.aliveMu.Unlock()
	return slices.Contains(r.failed, node)
}

func (r *run) connectNow(ctx context.Context, node string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, r.dsnNow(r.cluster.Node(node))())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", node, err)
	}
	return conn, nil
}

func (r *run) ddlArrived(ctx context.Context, d *ddlStep, node string) (bool, error) {
	conn, err := r.connectNow(ctx, node)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ok bool
	err = conn.QueryRow(ctx, arrivedSQL, d.script.Table, d.script.Column, d.script.NewTable).Scan(&ok)
	return ok, err
}

// ddlWrite writes node's rows into the new table and, under the ledger,
// the new column on its own ledger rows, retrying (both are idempotent)
// until they commit or ctx ends (a crash-restart may be under way).
func (r *run) ddlWrite(ctx context.Context, d *ddlStep, node string) error {
	_, ledger := r.wl.(*workload.Ledger)
	var last error
	for {
		err := r.ddlWriteOnce(ctx, d, node, ledger)
		if err == nil {
			ids := make([]string, ddlRows)
			for i := range ids {
				ids[i] = fmt.Sprintf("%s-%d", node, i+1)
			}
			r.mu.Lock()
			d.written[node] = ids
			r.mu.Unlock()
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("write on %s after the DDL of step %q: %w", node, d.step, errors.Join(last, ctx.Err()))
		case <-time.After(ddlPoll):
		}
	}
}

func (r *run) ddlWriteOnce(ctx context.Context, d *ddlStep, node string, ledger bool) error {
	conn, err := r.connectNow(ctx, node)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, fmt.Sprintf(ddlInsertSQL, d.script.NewTable), node, ddlRows); err != nil {
		return err
	}
	if ledger {
		_, err = conn.Exec(ctx, fmt.Sprintf(ddlLedgerUpdateSQL, pgx.Identifier{d.script.Column}.Sanitize()), node, ddlLedgerUpdates)
	}
	return err
}

// awaitDDL waits until every ddl step's follow-up has ended: a kill must
// not land before the DDL is everywhere, since the harness's recovery
// replays rows, never DDL (it decodes through pgoutput and skips the
// pglogical and spock schemas, whose queue tables carry the DDL:
// recovery/reference router.go), so a survivor behind the dead node
// would get rows of a table or column it does not have.
func (r *run) awaitDDL(ctx context.Context) error {
	for _, d := range r.ddls {
		select {
		case <-d.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
