package verify

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// fetchedRow is one node's row of a differing bucket.
type fetchedRow struct {
	keyText  string
	digest   string    // md5 of the full row text: the exact comparison
	keyVals  []*string // key columns' texts, in key order
	vals     []*string // display texts, in column order
	commitTS *time.Time
	origin   *string
}

// fetchAndDiff fetches the rows of buckets (of modulus) from every node,
// in batches of at most FetchBatchRows rows per node, and records the
// rows that differ.
func (tc *tableComparison) fetchAndDiff(ctx context.Context, modulus int64, buckets []bucket) error {
	var batch []int64
	var rows int64
	for i, b := range buckets {
		batch = append(batch, b.residue)
		rows += b.maxCount
		last := i == len(buckets)-1
		if last || rows+buckets[i+1].maxCount > tc.opts.FetchBatchRows {
			if err := tc.diffBatch(ctx, modulus, batch); err != nil {
				return err
			}
			batch, rows = nil, 0
		}
	}
	return nil
}

func (tc *tableComparison) diffBatch(ctx context.Context, modulus int64, residues []int64) error {
	def := tc.plan.def
	perNode := make([][]fetchedRow, len(tc.snaps))
	err := onEachSnapshot(ctx, tc.snaps, func(ctx context.Context, i int, s *snapshot) error {
		got, err := fetchRows(ctx, s, def, modulus, residues)
		perNode[i] = got
		return err
	})
	if err != nil {
		return err
	}
	// key -> the row of each node (nil where absent)
	byKey := map[string][]*fetchedRow{}
	var keys []string
	for i, rows := range perNode {
		tc.res.RowsFetched += int64(len(rows))
		for j := range rows {
			r := &rows[j]
			v, ok := byKey[r.keyText]
			if !ok {
				v = make([]*fetchedRow, len(tc.snaps))
				byKey[r.keyText] = v
				keys = append(keys, r.keyText)
			}
			v[i] = r
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		versions := byKey[k]
		if rowsAgree(versions) {
			continue
		}
		tc.res.DifferingRows++
		tc.classify(versions)
		if len(tc.res.Rows) >= tc.opts.MaxReportedRows {
			tc.res.Truncated = true
			continue
		}
		tc.res.Rows = append(tc.res.Rows, tc.rowDiff(versions))
	}
	return nil
}

func rowsAgree(versions []*fetchedRow) bool {
	for _, v := range versions {
		if v == nil || v.digest != versions[0].digest {
			return false
		}
	}
	return true
}

func (tc *tableComparison) rowDiff(versions []*fetchedRow) RowDiff {
	def := tc.plan.def
	var d RowDiff
	for _, v := range versions {
		if v != nil {
			d.KeyText = v.keyText
			d.Key = map[string]*string{}
			d.KeyColumns = def.PK
			for i, k := range def.PK {
				d.Key[k] = v.keyVals[i]
			}
			break
		}
	}
	var present []*fetchedRow
	for i, v := range versions {
		name := tc.snaps[i].target.Name
		if v == nil {
			d.AbsentOn = append(d.AbsentOn, name)
			d.Versions = append(d.Versions, RowVersion{Node: name})
			continue
		}
		present = append(present, v)
		rv := RowVersion{Node: name, Present: true, Values: map[string]*string{}, CommitTS: v.commitTS}
		if v.origin != nil {
			rv.Origin = tc.snaps[i].originDisplay(*v.origin)
		}
		for j, c := range def.Columns {
			rv.Values[c.Name] = v.vals[j]
		}
		d.Versions = append(d.Versions, rv)
	}
	for j, c := range def.Columns {
		for _, v := range present[1:] {
			if !sameText(v.vals[j], present[0].vals[j]) {
				d.DifferingColumns = append(d.DifferingColumns, c.Name)
				break
			}
		}
	}
	return d
}

func sameText(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func fetchRows(ctx context.Context, s *snapshot, def tableDef, modulus int64, residues []int64) ([]fetchedRow, error) {
	rows, err := s.tx.Query(ctx, fetchRowsSQL(def, s.commitTS), modulus, residues)
	if err != nil {
		return nil, fmt.Errorf("fetch differing rows on %s: %w", s.target.Name, err)
	}
	defer rows.Close()
	var out []fetchedRow
	for rows.Next() {
		r := fetchedRow{keyVals: make([]*string, len(def.PK)), vals: make([]*string, len(def.Columns))}
		dest := []any{&r.keyText, &r.digest}
		for i := range r.keyVals {
			dest = append(dest, &r.keyVals[i])
		}
		for i := range r.vals {
			dest = append(dest, &r.vals[i])
		}
		dest = append(dest, &r.commitTS, &r.origin)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("fetch differing rows on %s: %w", s.target.Name, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fetch differing rows on %s: %w", s.target.Name, err)
	}
	return out, nil
}
