package reports

import (
	"fmt"
	"html/template"
	"strings"
)

// renderValue renders generic JSON (maps, slices, scalars) as nested HTML
// tables: a map is a two-column table, a list of maps is a table with one
// row per element (so a row's versions on each survivor line up), other
// lists are one item per line. Every string is escaped.
func renderValue(v any) template.HTML {
	var b strings.Builder
	writeValue(&b, v, 0)
	return template.HTML(b.String()) // #nosec: every leaf goes through HTMLEscapeString
}

const maxRenderDepth = 8

func writeValue(b *strings.Builder, v any, depth int) {
	if depth > maxRenderDepth {
		b.WriteString(template.HTMLEscapeString(compact(v, 200)))
		return
	}
	switch t := v.(type) {
	case nil:
		b.WriteString(`<span class="null">NULL</span>`)
	case string:
		fmt.Fprintf(b, `<span class="str">%s</span>`, template.HTMLEscapeString(t))
	case map[string]any:
		b.WriteString(`<table class="kv">`)
		for _, k := range sortedKeys(t) {
			fmt.Fprintf(b, `<tr><th>%s</th><td>`, template.HTMLEscapeString(k))
			writeValue(b, t[k], depth+1)
			b.WriteString(`</td></tr>`)
		}
		b.WriteString(`</table>`)
	case []any:
		if cols := commonColumns(t); cols != nil {
			b.WriteString(`<table class="rows"><tr>`)
			for _, c := range cols {
				fmt.Fprintf(b, `<th>%s</th>`, template.HTMLEscapeString(c))
			}
			b.WriteString(`</tr>`)
			for _, e := range t {
				b.WriteString(`<tr>`)
				for _, c := range cols {
					b.WriteString(`<td>`)
					if val, ok := e.(map[string]any)[c]; ok {
						writeValue(b, val, depth+1)
					}
					b.WriteString(`</td>`)
				}
				b.WriteString(`</tr>`)
			}
			b.WriteString(`</table>`)
			return
		}
		b.WriteString(`<ul class="list">`)
		for _, e := range t {
			b.WriteString(`<li>`)
			writeValue(b, e, depth+1)
			b.WriteString(`</li>`)
		}
		b.WriteString(`</ul>`)
	default:
		b.WriteString(template.HTMLEscapeString(compact(t, 1000)))
	}
}

// commonColumns is the union of the keys of a list of maps (first-seen
// order, each map's keys sorted), or nil if any element is not a map.
func commonColumns(list []any) []string {
	if len(list) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var cols []string
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		for _, k := range sortedKeys(m) {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	return cols
}
