package verify

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Schema diff: CheckSchemas (schema_catalog.go) reads each node's catalog
// of the replicated schemas (every user schema but pglogical's, spock's
// and the harness's): tables (kind, persistence), columns (type,
// collation, nullability, default, generation, identity), indexes and
// constraints as the server prints them under search_path pg_catalog.
// DiffSchemas, pure, names every object not defined alike on all nodes
// and which nodes hold what (absent included). Fail on any difference;
// unknown when a catalog cannot be read.

// SchemaDiffCheckName is the schema-diff checker's name.
const SchemaDiffCheckName = "schema-diff"

// Object kinds of a catalog.
const (
	ObjTable      = "table"
	ObjColumn     = "column"
	ObjIndex      = "index"
	ObjConstraint = "constraint"
)

// SchemaObject names one object of a node's replicated schemas: a table
// (schema.table), a column or a constraint (schema.table.name), an index
// (schema.index).
type SchemaObject struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

func (o SchemaObject) String() string { return o.Kind + " " + o.Name }

// Catalog is one node's replicated schemas: each object and its
// definition (a table's kind and persistence; a column's type,
// nullability, default, generation and identity; an index's and a
// constraint's definition as the server prints it).
type Catalog map[SchemaObject]string

// SchemaDifference is one object whose definition is not the same on
// every node: Defs groups the nodes by what they hold ("" = absent).
type SchemaDifference struct {
	Object SchemaObject        `json:"object"`
	Defs   map[string][]string `json:"defs"` // definition -> nodes, sorted
}

// absent is how a difference shows a node without the object.
const absent = "(absent)"

func (d SchemaDifference) String() string {
	defs := make([]string, 0, len(d.Defs))
	for def := range d.Defs {
		defs = append(defs, def)
	}
	// Absent first, then by the first node holding the definition.
	sort.Slice(defs, func(i, j int) bool {
		if (defs[i] == "") != (defs[j] == "") {
			return defs[i] == ""
		}
		return d.Defs[defs[i]][0] < d.Defs[defs[j]][0]
	})
	parts := make([]string, 0, len(defs))
	for _, def := range defs {
		shown := absent
		if def != "" {
			shown = fmt.Sprintf("%q", def)
		}
		parts = append(parts, fmt.Sprintf("%s on %s", shown, strings.Join(d.Defs[def], ",")))
	}
	return d.Object.String() + ": " + strings.Join(parts, "; ")
}

// DiffSchemas compares the catalogs of the nodes (node -> catalog) and
// returns every object not defined the same on all of them, in kind and
// name order. Pure: the decision of the schema-diff checker.
func DiffSchemas(catalogs map[string]Catalog) []SchemaDifference {
	objects := map[SchemaObject]bool{}
	for _, cat := range catalogs {
		for o := range cat {
			objects[o] = true
		}
	}
	nodes := make([]string, 0, len(catalogs))
	for n := range catalogs {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	var out []SchemaDifference
	for o := range objects {
		defs := map[string][]string{}
		for _, n := range nodes {
			def := catalogs[n][o] // "" when absent
			defs[def] = append(defs[def], n)
		}
		if len(defs) > 1 {
			out = append(out, SchemaDifference{Object: o, Defs: defs})
		}
	}
	slices.SortFunc(out, func(a, b SchemaDifference) int {
		return strings.Compare(a.Object.Kind+" "+a.Object.Name, b.Object.Kind+" "+b.Object.Name)
	})
	return out
}

// maxListedDifferences bounds the differences a summary names (all are
// in the details).
const maxListedDifferences = 5

// schemaDiffResult is the checker's verdict on the differences found.
func schemaDiffResult(catalogs map[string]Catalog) CheckResult {
	diffs := DiffSchemas(catalogs)
	objects := 0
	for _, cat := range catalogs {
		objects = max(objects, len(cat))
	}
	if len(diffs) == 0 {
		return CheckResult{Name: SchemaDiffCheckName, Verdict: Pass,
			Summary: fmt.Sprintf("%d nodes hold the same %d schema objects (tables, columns, indexes, constraints)", len(catalogs), objects)}
	}
	listed := make([]string, 0, maxListedDifferences)
	for _, d := range diffs[:min(len(diffs), maxListedDifferences)] {
		listed = append(listed, d.String())
	}
	more := ""
	if len(diffs) > maxListedDifferences {
		more = fmt.Sprintf("; and %d more", len(diffs)-maxListedDifferences)
	}
	return CheckResult{Name: SchemaDiffCheckName, Verdict: Fail, Details: diffs,
		Summary: fmt.Sprintf("%d schema objects differ between the nodes: %s%s", len(diffs), strings.Join(listed, "; "), more)}
}
