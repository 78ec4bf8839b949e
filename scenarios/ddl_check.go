package scenarios

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/verify"
)

// Checker names of DDL under load.
const (
	// CheckSchemaDiff compares the survivors' catalogs (verify.CheckSchemas).
	CheckSchemaDiff = verify.SchemaDiffCheckName
	// CheckDDL: every ddl step's script reached every surviving node, and
	// every row acknowledged into a table it created is on every survivor.
	CheckDDL = "ddl"
)

// schemaDiffCheck is the schema-diff checker; skipped with fewer than
// two survivors (nothing to compare).
func (r *run) schemaDiffCheck(ctx context.Context, targets []verify.Target) []verify.CheckResult {
	if len(targets) < 2 {
		return []verify.CheckResult{{Name: CheckSchemaDiff, Verdict: verify.Skipped,
			Summary: fmt.Sprintf("only %d survivor(s): no schemas to compare", len(targets))}}
	}
	return []verify.CheckResult{verify.CheckSchemas(ctx, targets)}
}

// ddlCheck judges the run's ddl steps: skipped when the plan has none.
func (r *run) ddlCheck(ctx context.Context, targets []verify.Target) []verify.CheckResult {
	if len(r.ddls) == 0 {
		return []verify.CheckResult{{Name: CheckDDL, Verdict: verify.Skipped, Summary: "the plan has no ddl step"}}
	}
	var problems []string
	var rows int
	for _, d := range r.ddls {
		select {
		case <-d.done:
		case <-time.After(ddlArrivalWait):
			return []verify.CheckResult{{Name: CheckDDL, Verdict: verify.Unknown,
				Summary: fmt.Sprintf("the follow-up of step %q did not end within %s", d.step, ddlArrivalWait)}}
		}
		r.endDDLFault(d)
		present := map[string]map[string]bool{}
		for _, t := range targets {
			ids, err := readIDs(ctx, t, d.script.NewTable)
			if err != nil {
				return []verify.CheckResult{{Name: CheckDDL, Verdict: verify.Unknown, Summary: err.Error()}}
			}
			present[t.Name] = ids
		}
		for _, w := range d.written {
			rows += len(w)
		}
		problems = append(problems, judgeDDL(d.step, d.script.NewTable, d.errs, r.alive, d.written, present)...)
	}
	if len(problems) > 0 {
		return []verify.CheckResult{{Name: CheckDDL, Verdict: verify.Fail, Summary: strings.Join(problems, "; ")}}
	}
	return []verify.CheckResult{{Name: CheckDDL, Verdict: verify.Pass,
		Summary: fmt.Sprintf("%d ddl step(s) reached every surviving node; the %d rows acknowledged into their new tables are on all %d survivors", len(r.ddls), rows, len(targets))}}
}

// endDDLFault ends the step's entry in run.json when the script reached
// its last node.
func (r *run) endDDLFault(d *ddlStep) {
	var last time.Time
	for _, at := range d.arrived {
		if at.After(last) {
			last = at
		}
	}
	if f := &r.report.Faults[d.fault]; f.End.IsZero() && !last.IsZero() {
		f.End = last.UTC()
	}
}

// judgeDDL is the ddl checker's decision for one step: a surviving node
// the follow-up failed on (the script never arrived, or its writes never
// committed), and every acknowledged row of the new table missing on a
// survivor, named by node and id (at most maxMissingListed per node).
func judgeDDL(step Step, table string, errs map[string]error, survivors []string, written map[string][]string, present map[string]map[string]bool) []string {
	var out []string
	for _, n := range sortedKeys(errs) {
		if slices.Contains(survivors, n) {
			out = append(out, errs[n].Error())
		}
	}
	var acked []string
	for _, ids := range written {
		acked = append(acked, ids...)
	}
	sort.Strings(acked)
	for _, n := range sortedKeys(present) {
		var missing []string
		for _, id := range acked {
			if !present[n][id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			out = append(out, fmt.Sprintf("%s lacks %d acknowledged rows of %s (step %q): %s", n, len(missing), table, step, strings.Join(missing[:min(len(missing), maxMissingListed)], ",")))
		}
	}
	return out
}

const maxMissingListed = 5

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// readIDs reads the ids of a table the ddl step created, on one survivor.
func readIDs(ctx context.Context, t verify.Target, table string) (map[string]bool, error) {
	conn, err := pgx.Connect(ctx, t.DSN)
	if err != nil {
		return nil, fmt.Errorf("ddl check: connect to %s: %w", t.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT id FROM "+table)
	if err != nil {
		return nil, fmt.Errorf("ddl check: read %s on %s: %w", table, t.Name, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("ddl check: read %s on %s: %w", table, t.Name, err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
