package verify

import "time"

// Internals opened to the external test package (verify_test), which can
// dot-import ginkgo (whose Fail would clash with this package's Fail).

type (
	BucketStat  = bucketStat
	Bucket      = bucket
	FetchedRow  = fetchedRow
	TableDef    = tableDef
	Column      = column
	TablePlan   = tablePlan
	Snapshot    = snapshot
	TableCompar = tableComparison
)

var (
	DifferingBuckets = differingBuckets
	RowsAgree        = rowsAgree
	SelectTables     = selectTables
	PlanTable        = planTable
	PKComparable     = pkComparable
)

func NewBucketStat(count, hash int64) BucketStat { return bucketStat{count: count, hash: hash} }
func NewBucket(residue, maxCount int64) Bucket   { return bucket{residue: residue, maxCount: maxCount} }
func NewFetchedRow(key, digest string, keyVals, vals []*string) *FetchedRow {
	return &fetchedRow{keyText: key, digest: digest, keyVals: keyVals, vals: vals}
}
func NewTableDef(schema, name string, pk []string, cols ...Column) TableDef {
	return tableDef{Schema: schema, Name: name, PK: pk, Columns: cols}
}
func NewColumn(name, typ string) Column { return column{Name: name, Type: typ} }

// RowDiffOf builds the RowDiff of versions of a row of def on nodes.
func RowDiffOf(def TableDef, nodes []string, versions []*FetchedRow) RowDiff {
	tc := &tableComparison{plan: tablePlan{def: def}}
	for _, n := range nodes {
		tc.snaps = append(tc.snaps, &snapshot{target: Target{Name: n}})
	}
	return tc.rowDiff(versions)
}

// PlanOf exposes a plan's parts.
func PlanOf(p TablePlan) (present []int, missingOn []string, cols []Column, notes []string) {
	return p.present, p.missingOn, p.def.Columns, p.schemaNotes
}

// RunChecker runs fn as CheckHistory runs each checker (panics recovered).
func RunChecker(name string, fn func() CheckResult) CheckResult {
	return runChecker(name, historyInput{}, func(historyInput) CheckResult { return fn() })
}

// BucketHashSQL and the others expose the SQL builders.
var (
	BucketHashSQL     = bucketHashSQL
	WholeTableHashSQL = wholeTableHashSQL
	FetchRowsSQL      = fetchRowsSQL
)

// NewTypedColumn is a column of a pg_catalog base type.
func NewTypedColumn(name, typ, base string) Column {
	return column{Name: name, Type: typ, BaseType: base}
}

// NewFetchedRowAt is a fetched row with its commit timestamp and raw origin.
func NewFetchedRowAt(key, digest string, keyVals, vals []*string, ts time.Time, origin string) *FetchedRow {
	return &fetchedRow{keyText: key, digest: digest, keyVals: keyVals, vals: vals, commitTS: &ts, origin: &origin}
}

// ClassesOf classifies differing rows of def on nodes (each row: every
// node's version, nil where absent), origins mapping raw origins to names.
func ClassesOf(def TableDef, nodes []string, origins map[string]string, rows [][]*FetchedRow) []DivergenceClass {
	tc := &tableComparison{plan: tablePlan{def: def}, res: TableResult{Table: def.qualified()}}
	for _, n := range nodes {
		tc.snaps = append(tc.snaps, &snapshot{target: Target{Name: n}, origins: origins})
	}
	for _, r := range rows {
		tc.classify(r)
	}
	return tc.finishClasses()
}
