package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// harnessSchema holds the harness's own tables (the barrier); it is left
// out unless asked for, because it is written per node by design.
const harnessSchema = "spockchaos"

// column is one column of a table as a node defines it.
type column struct {
	Name string
	Type string
	// BaseType is the pg_catalog type name (int4, text, ...), "" for a
	// type outside pg_catalog (domains, enums, composites): it picks the
	// hash function (see columnHashExpr).
	BaseType string
}

// tableDef is a table as one node defines it.
type tableDef struct {
	Schema    string
	Name      string
	Columns   []column // in attnum order
	PK        []string // primary key columns in key order; empty without one
	Reltuples float64  // the planner's estimate of the row count (-1 unknown)
}

func (t tableDef) qualified() string { return t.Schema + "." + t.Name }

func (t tableDef) ident() string { return pgx.Identifier{t.Schema, t.Name}.Sanitize() }

// userTablesQuery lists the ordinary and partitioned tables (not the
// partitions) of every user schema, with columns and primary key. The
// replication extensions' schemas are never compared.
const userTablesQuery = `
SELECT n.nspname::text, c.relname::text,
  coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
  coalesce((SELECT array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
  coalesce((SELECT array_agg(CASE WHEN ty.typnamespace = 'pg_catalog'::regnamespace THEN ty.typname::text ELSE '' END ORDER BY a.attnum)
    FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
  coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE i.indrelid = c.oid AND i.indisprimary), '{}'),
  c.reltuples::float8
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT LIKE 'pg\_%' AND n.nspname NOT IN ('information_schema', 'pglogical', 'spock')
ORDER BY 1, 2`

// listTables reads the table definitions of one node.
func listTables(ctx context.Context, s *snapshot) (map[string]tableDef, error) {
	rows, err := s.tx.Query(ctx, userTablesQuery)
	if err != nil {
		return nil, fmt.Errorf("list tables on %s: %w", s.target.Name, err)
	}
	defs := map[string]tableDef{}
	for rows.Next() {
		var (
			d            tableDef
			names, types []string
			baseTypes    []string
		)
		if err := rows.Scan(&d.Schema, &d.Name, &names, &types, &baseTypes, &d.PK, &d.Reltuples); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables on %s: %w", s.target.Name, err)
		}
		for i := range names {
			d.Columns = append(d.Columns, column{Name: names[i], Type: types[i], BaseType: baseTypes[i]})
		}
		defs[d.qualified()] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables on %s: %w", s.target.Name, err)
	}
	return defs, nil
}

// selectTables picks the tables to compare from every node's definitions:
// the named ones ("t" matches t in any schema, "s.t" exactly), or all but
// the harness's own schema. It returns qualified names, sorted.
func selectTables(perNode []map[string]tableDef, named []string, includeHarness bool) ([]string, error) {
	all := map[string]bool{}
	for _, defs := range perNode {
		for q := range defs {
			all[q] = true
		}
	}
	var out []string
	if len(named) == 0 {
		for q := range all {
			if !includeHarness && strings.HasPrefix(q, harnessSchema+".") {
				continue
			}
			out = append(out, q)
		}
		slices.Sort(out)
		return out, nil
	}
	picked := map[string]bool{}
	for _, name := range named {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for q := range all {
			if q == name || (!strings.Contains(name, ".") && strings.HasSuffix(q, "."+name)) {
				picked[q], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("table %s is on none of the nodes", name)
		}
	}
	for q := range picked {
		out = append(out, q)
	}
	slices.Sort(out)
	return out, nil
}

// tablePlan is how one table is compared: the columns every node has (in
// the first holder's order) and the primary key, plus what differs in the
// definitions.
type tablePlan struct {
	def         tableDef // the first holder's definition, columns narrowed to the common ones
	present     []int    // indexes of the nodes that have the table
	missingOn   []string
	schemaNotes []string
}

func planTable(qualified string, perNode []map[string]tableDef, names []string) tablePlan {
	var p tablePlan
	var ref *tableDef
	for i, defs := range perNode {
		d, ok := defs[qualified]
		if !ok {
			p.missingOn = append(p.missingOn, names[i])
			continue
		}
		p.present = append(p.present, i)
		if ref == nil {
			dd := d
			ref = &dd
		}
	}
	if ref == nil {
		return p
	}
	p.def = *ref
	common := slices.Clone(ref.Columns)
	for _, i := range p.present {
		d := perNode[i][qualified]
		if !slices.Equal(d.PK, ref.PK) {
			p.schemaNotes = append(p.schemaNotes, fmt.Sprintf("primary key on %s is (%s), on %s (%s)",
				names[p.present[0]], strings.Join(ref.PK, ", "), names[i], strings.Join(d.PK, ", ")))
		}
		if !slices.Equal(d.Columns, ref.Columns) {
			p.schemaNotes = append(p.schemaNotes, fmt.Sprintf("columns on %s are %s, on %s %s",
				names[p.present[0]], describeColumns(ref.Columns), names[i], describeColumns(d.Columns)))
		}
		common = slices.DeleteFunc(common, func(c column) bool { return !slices.Contains(d.Columns, c) })
		if d.Reltuples > p.def.Reltuples {
			p.def.Reltuples = d.Reltuples
		}
	}
	p.def.Columns = common
	return p
}

func describeColumns(cols []column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name + " " + c.Type
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
