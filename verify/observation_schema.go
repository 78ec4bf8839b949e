package verify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SchemaObservation is one node's schema-features tables (workload
// SchemaFeatures). A nil slice means the node has no such table.
type SchemaObservation struct {
	Gen        []GenRow     `json:"gen"`
	Part       []PartRow    `json:"part"`
	FKParents  []int        `json:"fk_parents"`
	FKChildren []FKChildRow `json:"fk_children"`
	Trunc      []KeyRow     `json:"trunc"`
	TruncSide  []KeyRow     `json:"trunc_side"`
	Seq        []SeqRow     `json:"seq"`
}

// GenRow is one gen_kv row: the base columns a and b and the STORED
// generated g and h the node computed.
type GenRow struct {
	K      int    `json:"k"`
	A      int64  `json:"a"`
	B      string `json:"b"`
	Writer string `json:"writer"`
	G      int64  `json:"g"`
	H      string `json:"h"`
}

// PartRow is one part_kv row and the partition that holds it.
type PartRow struct {
	K         int    `json:"k"`
	P         int    `json:"p"`
	V         int64  `json:"v"`
	Writer    string `json:"writer"`
	Partition string `json:"partition"`
}

// FKChildRow is one fk_child row.
type FKChildRow struct {
	ID     int64  `json:"id"`
	Parent int    `json:"parent"`
	Writer string `json:"writer"`
}

// KeyRow is one row of trunc_kv or trunc_side.
type KeyRow struct {
	K      int64  `json:"k"`
	Writer string `json:"writer"`
}

// SeqRow is one seq_kv row: the sequence's key and the insert's txn id.
type SeqRow struct {
	K      int64  `json:"k"`
	Txn    string `json:"txn"`
	Writer string `json:"writer"`
}

// schemaReads are the tables of SchemaObservation: the query and where
// each row goes.
func schemaReads(o *SchemaObservation) []struct {
	table, sql string
	read       func(pgx.Rows) error
} {
	return []struct {
		table, sql string
		read       func(pgx.Rows) error
	}{
		{"gen_kv", "SELECT k, a, b, writer, g, h FROM gen_kv ORDER BY k", func(rows pgx.Rows) error {
			o.Gen = []GenRow{}
			var r GenRow
			return forEach(rows, []any{&r.K, &r.A, &r.B, &r.Writer, &r.G, &r.H}, func() { o.Gen = append(o.Gen, r) })
		}},
		{"part_kv", "SELECT k, p, v, writer, tableoid::regclass::text FROM part_kv ORDER BY k, p", func(rows pgx.Rows) error {
			o.Part = []PartRow{}
			var r PartRow
			return forEach(rows, []any{&r.K, &r.P, &r.V, &r.Writer, &r.Partition}, func() { o.Part = append(o.Part, r) })
		}},
		{"fk_parent", "SELECT id FROM fk_parent ORDER BY id", func(rows pgx.Rows) error {
			o.FKParents = []int{}
			var id int
			return forEach(rows, []any{&id}, func() { o.FKParents = append(o.FKParents, id) })
		}},
		{"fk_child", "SELECT id, parent_id, writer FROM fk_child ORDER BY id", func(rows pgx.Rows) error {
			o.FKChildren = []FKChildRow{}
			var r FKChildRow
			return forEach(rows, []any{&r.ID, &r.Parent, &r.Writer}, func() { o.FKChildren = append(o.FKChildren, r) })
		}},
		{"trunc_kv", "SELECT k, writer FROM trunc_kv ORDER BY k", func(rows pgx.Rows) error {
			o.Trunc = []KeyRow{}
			var r KeyRow
			return forEach(rows, []any{&r.K, &r.Writer}, func() { o.Trunc = append(o.Trunc, r) })
		}},
		{"trunc_side", "SELECT k, writer FROM trunc_side ORDER BY k", func(rows pgx.Rows) error {
			o.TruncSide = []KeyRow{}
			var r KeyRow
			return forEach(rows, []any{&r.K, &r.Writer}, func() { o.TruncSide = append(o.TruncSide, r) })
		}},
		{"seq_kv", "SELECT k, txn, writer FROM seq_kv ORDER BY k", func(rows pgx.Rows) error {
			o.Seq = []SeqRow{}
			var r SeqRow
			return forEach(rows, []any{&r.K, &r.Txn, &r.Writer}, func() { o.Seq = append(o.Seq, r) })
		}},
	}
}

func forEach(rows pgx.Rows, scans []any, each func()) error {
	_, err := pgx.ForEachRow(rows, scans, func() error { each(); return nil })
	return err
}

// observeSchema reads the schema-features tables the node has (nil when
// it has none of them).
func observeSchema(ctx context.Context, s *snapshot) (*SchemaObservation, error) {
	o := &SchemaObservation{}
	found := false
	for _, t := range schemaReads(o) {
		var ok bool
		if err := s.tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", t.table).Scan(&ok); err != nil {
			return nil, fmt.Errorf("look up table %s on %s: %w", t.table, s.target.Name, err)
		}
		if !ok {
			continue
		}
		found = true
		rows, err := s.tx.Query(ctx, t.sql)
		if err == nil {
			err = t.read(rows)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s on %s: %w", t.table, s.target.Name, err)
		}
	}
	if !found {
		return nil, nil
	}
	return o, nil
}
