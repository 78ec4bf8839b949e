package verify

import (
	"strings"
	"testing"
)

func col(name string) SchemaObject { return SchemaObject{Kind: ObjColumn, Name: name} }

func TestDiffSchemasNamesEachDifferenceByNodeAndObject(t *testing.T) {
	base := func() Catalog {
		return Catalog{
			{Kind: ObjTable, Name: "public.ledger"}:                  "table",
			col("public.ledger.txn_id"):                              "text NOT NULL",
			col("public.ledger.note"):                                "text DEFAULT 'ddl'::text",
			{Kind: ObjIndex, Name: "public.ledger_note_idx"}:         "CREATE INDEX ledger_note_idx ON public.ledger USING btree (note)",
			{Kind: ObjConstraint, Name: "public.ledger.ledger_pkey"}: "PRIMARY KEY (txn_id)",
		}
	}
	cases := []struct {
		name   string
		mutate func(n2 Catalog)
		want   []string // each difference's text, in order
	}{
		{"same everywhere", func(Catalog) {}, nil},
		{"a column only on n2", func(c Catalog) { c[col("public.ledger.planted")] = "integer" },
			[]string{`column public.ledger.planted: (absent) on n1,n3; "integer" on n2`}},
		{"a column missing on n2", func(c Catalog) { delete(c, col("public.ledger.note")) },
			[]string{`column public.ledger.note: (absent) on n2; "text DEFAULT 'ddl'::text" on n1,n3`}},
		{"another default on n2", func(c Catalog) { c[col("public.ledger.note")] = "text DEFAULT 'after'::text" },
			[]string{`column public.ledger.note: "text DEFAULT 'ddl'::text" on n1,n3; "text DEFAULT 'after'::text" on n2`}},
		{"nullability and an index", func(c Catalog) {
			c[col("public.ledger.txn_id")] = "text"
			delete(c, SchemaObject{Kind: ObjIndex, Name: "public.ledger_note_idx"})
		}, []string{
			`column public.ledger.txn_id: "text NOT NULL" on n1,n3; "text" on n2`,
			`index public.ledger_note_idx: (absent) on n2; "CREATE INDEX ledger_note_idx ON public.ledger USING btree (note)" on n1,n3`,
		}},
		{"a table only on n2", func(c Catalog) { c[SchemaObject{Kind: ObjTable, Name: "public.t"}] = "table" },
			[]string{`table public.t: (absent) on n1,n3; "table" on n2`}},
	}
	for _, tc := range cases {
		n2 := base()
		tc.mutate(n2)
		diffs := DiffSchemas(map[string]Catalog{"n1": base(), "n2": n2, "n3": base()})
		var got []string
		for _, d := range diffs {
			got = append(got, d.String())
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestSchemaDiffResultFailsOnAnyDifferenceAndPassesOnNone(t *testing.T) {
	same := Catalog{col("public.t.a"): "integer"}
	if r := schemaDiffResult(map[string]Catalog{"n1": same, "n2": same}); r.Verdict != Pass || !strings.Contains(r.Summary, "same 1 schema objects") {
		t.Errorf("same catalogs: %+v", r)
	}
	r := schemaDiffResult(map[string]Catalog{"n1": same, "n2": {}})
	if r.Verdict != Fail || !strings.Contains(r.Summary, "column public.t.a: (absent) on n2") {
		t.Errorf("a column absent on n2: %+v", r)
	}
	many := Catalog{}
	for _, c := range "abcdefg" {
		many[col("public.t."+string(c))] = "integer"
	}
	if r := schemaDiffResult(map[string]Catalog{"n1": many, "n2": {}}); r.Verdict != Fail || !strings.Contains(r.Summary, "7 schema objects differ") || !strings.Contains(r.Summary, "and 2 more") {
		t.Errorf("many differences: %+v", r)
	}
}
