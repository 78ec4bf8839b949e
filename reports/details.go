package reports

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spockchaos/spockchaos/verify"
)

// DiffRow is one item a checker listed in its details (a differing row, a
// missing transaction, ...), found generically: the report must not depend
// on one checker's detail layout.
type DiffRow struct {
	Checker string
	// Key names the item: table and primary key when the item has them,
	// else its first scalar fields.
	Key string
	// Item is the item as generic JSON (rendered as nested tables).
	Item any
}

// maxDiffRows bounds what one checker contributes to report.html.
const maxDiffRows = 2000

// keyFields are item fields that name an item, in display order.
var keyFields = []string{"table", "key_text", "key", "pk", "primary_key", "txn_id", "id", "owner", "node"}

// DiffRowsOf lists the items in the details of every checker that did not
// pass (nor was skipped): the elements of the arrays of objects (or of scalars) in Details.
func DiffRowsOf(checkers []verify.CheckResult) []DiffRow {
	var out []DiffRow
	for _, c := range checkers {
		if !c.Problem() || c.Details == nil {
			continue
		}
		for _, item := range listedItems(withoutClasses(generic(c.Details)), maxDiffRows) {
			out = append(out, DiffRow{Checker: c.Name, Key: itemKey(item), Item: withoutKeyFields(item)})
		}
	}
	return out
}

// FirstKeys names the first n items listed in a checker's details, for a
// one-line failure message.
func FirstKeys(c verify.CheckResult, n int) []string {
	var keys []string
	for _, item := range listedItems(withoutClasses(generic(c.Details)), n) {
		keys = append(keys, itemKey(item))
	}
	return keys
}

// withoutKeyFields drops from a map item the fields its Key already
// shows (and key_columns, which key_text spells out), so a row's display
// is its versions and what differs.
func withoutKeyFields(item any) any {
	m, ok := item.(map[string]any)
	if !ok {
		return item
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	delete(c, "table")
	if _, ok := c["key_text"]; ok {
		delete(c, "key_text")
		delete(c, "key")
		delete(c, "key_columns")
	}
	if len(c) == 0 {
		return item
	}
	return c
}

// generic turns any value into plain JSON values (maps, slices, scalars).
func generic(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return string(b)
	}
	return out
}

// listedItems walks v depth-first (map keys in sorted order) and returns up
// to limit elements of the lists of objects it finds (if there are none,
// of the lists of scalars). An object that is only a container (no field
// naming an item except "table", such as a per-table result) is searched
// instead of listed; its "table" is copied into the items found in it.
func listedItems(v any, limit int) []any {
	if items := walkItems(v, limit, false); len(items) > 0 {
		return items
	}
	return walkItems(v, limit, true)
}

func walkItems(v any, limit int, scalars bool) []any {
	var out []any
	var walk func(v any, table any)
	walk = func(v any, table any) {
		if len(out) >= limit {
			return
		}
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				if len(out) >= limit {
					return
				}
				switch m := e.(type) {
				case map[string]any:
					if isContainer(m) {
						inner := table
						if tb, ok := m["table"]; ok {
							inner = tb
						}
						walk(m, inner)
						continue
					}
					out = append(out, withTable(m, table))
				case []any:
					walk(m, table)
				default:
					if scalars {
						out = append(out, e)
					}
				}
			}
		case map[string]any:
			for _, k := range sortedKeys(t) {
				walk(t[k], table)
			}
		}
	}
	walk(v, nil)
	return out
}

// isContainer says m names no item (no key field but "table") and holds
// a list or a table name: it groups items rather than being one.
func isContainer(m map[string]any) bool {
	for _, f := range keyFields {
		if _, ok := m[f]; ok && f != "table" {
			return false
		}
	}
	if _, ok := m["table"]; ok {
		return true
	}
	for _, val := range m {
		if _, ok := val.([]any); ok {
			return true
		}
	}
	return false
}

// withTable adds "table" to a map item that lacks it.
func withTable(item, table any) any {
	m, ok := item.(map[string]any)
	if !ok || table == nil {
		return item
	}
	if _, has := m["table"]; has {
		return item
	}
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	c["table"] = table
	return c
}

// itemKey is "table (k=v, ...)" for an item with a table and a key, else
// its key fields, else a compact JSON of it.
func itemKey(item any) string {
	m, ok := item.(map[string]any)
	if !ok {
		return compact(item, 120)
	}
	var parts []string
	table := ""
	for _, f := range keyFields {
		val, ok := m[f]
		if !ok {
			continue
		}
		if f == "table" {
			table = compact(val, 60)
			continue
		}
		if _, hasText := m["key_text"]; hasText && f == "key" {
			continue // key_text already names it
		}
		if f == "key_text" && table != "" {
			return table + " " + compact(val, 120)
		}
		if m, ok := val.(map[string]any); ok && f != "node" {
			for _, k := range sortedKeys(m) { // a composite key: its columns
				parts = append(parts, k+"="+compact(m[k], 80))
			}
			continue
		}
		parts = append(parts, f+"="+compact(val, 80))
	}
	switch {
	case table != "" && len(parts) > 0:
		return table + " (" + strings.Join(parts, ", ") + ")"
	case table != "":
		return table
	case len(parts) > 0:
		return strings.Join(parts, ", ")
	}
	return compact(item, 120)
}

// compact is v as short text: strings bare, others as JSON, cut at max.
func compact(v any, max int) string {
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
