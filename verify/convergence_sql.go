package verify

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The SQL of a table comparison.
//
// Ranges are buckets of the primary key's hash: keyHash % modulus. A bucket
// with modulus m*f splits a bucket with modulus m (f children), so one scan
// refines every differing bucket.
//
// A range is summarised by its row count and the xor of its rows' hashes.
// A row's hash combines each column's hash by the type's own hash function
// (cheap: no text conversion; see typeHashFuncs for where a type's hash is
// made exact, and which types are hashed through their text). Differing ranges are then fetched and compared on the
// full canonical text of each row (ROW(...)::text under canonicalSettings:
// NULL prints as nothing and '' as "", numerics keep their scale,
// timestamps print to the microsecond in UTC, jsonb canonically so key
// order never matters, bytea in hex).

// keyHashMask keeps hashes non-negative (and % well defined).
const keyHashMask = "9223372036854775807"

func quoteIdents(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = pgx.Identifier{n}.Sanitize()
	}
	return out
}

func columnNames(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// rowTextExpr is the canonical text of a row restricted to cols.
func rowTextExpr(alias string, cols []string) string {
	q := quoteIdents(cols)
	for i := range q {
		q[i] = alias + "." + q[i]
	}
	return "ROW(" + strings.Join(q, ", ") + ")::text"
}

// typeHashFuncs map a pg_catalog type to a hash function over it that
// separates every two distinct values; %[1]s is the value, %[2]d the seed.
// They hash key columns (the bucket of a row) and, for types not in
// recordHashTypes, other columns one by one. numeric adds its scale (its
// hash ignores scale: 1.0 = 1.00); timestamptz hashes as timestamp under
// the session's fixed UTC; date via timestamp (exact, and infinity-safe).
// Other types (float, interval, user types, ...) hash their text.
var typeHashFuncs = map[string]string{
	"int2":        "hashint2extended(%[1]s, %[2]d)",
	"int4":        "hashint4extended(%[1]s, %[2]d)",
	"int8":        "hashint8extended(%[1]s, %[2]d)",
	"oid":         "hashoidextended(%[1]s, %[2]d)",
	"bool":        "hashint4extended(%[1]s::int4, %[2]d)",
	"char":        "hashcharextended(%[1]s, %[2]d)",
	"name":        "hashnameextended(%[1]s, %[2]d)",
	"text":        `hashtextextended(%[1]s COLLATE "C", %[2]d)`,
	"varchar":     `hashtextextended(%[1]s COLLATE "C", %[2]d)`,
	"bpchar":      `hashbpcharextended(%[1]s COLLATE "C", %[2]d)`,
	"numeric":     "(hash_numeric_extended(%[1]s, %[2]d) # hashint4extended(scale(%[1]s), %[2]d + 1000))",
	"date":        "timestamp_hash_extended(%[1]s::timestamp, %[2]d)",
	"timestamp":   "timestamp_hash_extended(%[1]s, %[2]d)",
	"timestamptz": "timestamp_hash_extended(%[1]s::timestamp, %[2]d)",
	"time":        "time_hash_extended(%[1]s, %[2]d)",
	"uuid":        "uuid_hash_extended(%[1]s, %[2]d)",
	"jsonb":       "jsonb_hash_extended(%[1]s, %[2]d)",
	"bytea":       "hash_record_extended(ROW(%[1]s), %[2]d)",
}

// recordHashTypes are the types whose non-key columns are hashed together
// in one hash_record_extended call over a ROW of them: one function call
// per row instead of one per column, which made the range hash about 25%%
// cheaper. Each type's own extended hash separates every two values that
// print differently, given what the entry adds: numeric its scale as one
// more field (its hash ignores scale), text types the "C" collation (a
// nondeterministic collation would hash 'a' and 'A' alike). jsonb hashes
// its semantic value, so key order never counts. A NULL field hashes to 0
// at its position, which no value of these types hashes to in practice.
var recordHashTypes = map[string]string{
	"int2": "%s", "int4": "%s", "int8": "%s", "oid": "%s", "bool": "%s",
	"char": "%s", "name": "%s", "date": "%s", "timestamp": "%s",
	"timestamptz": "%s", "time": "%s", "uuid": "%s", "jsonb": "%s", "bytea": "%s",
	"text":    `%s COLLATE "C"`,
	"varchar": `%s COLLATE "C"`,
	"bpchar":  `%s COLLATE "C"`,
	"numeric": "%[1]s, scale(%[1]s)",
}

// columnHashExpr hashes one column value with a seed of its own (so that
// values moved between columns change the hash); NULL hashes to a
// constant of the position, never to what any value hashes to in practice.
func columnHashExpr(alias string, c column, pos int) string {
	ref := alias + "." + pgx.Identifier{c.Name}.Sanitize()
	seed := 7919*pos + 17
	f, ok := typeHashFuncs[c.BaseType]
	if !ok {
		f = "hashtextextended(%[1]s::text, %[2]d)"
	}
	return fmt.Sprintf("coalesce("+f+", %[3]d)", ref, seed, int64(seed)*0x9E3779B1+0x5bd1e995)
}

// combinedHashExpr xors the columns' hashes.
func combinedHashExpr(alias string, cols []column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = columnHashExpr(alias, c, i)
	}
	return "(" + strings.Join(parts, " # ") + ")"
}

// rowHashExpr is the 64-bit hash of a row restricted to cols: the columns
// of recordHashTypes in one record hash, xor the others one by one (their
// seeds are their positions in cols, so a value moved between columns
// changes the hash). The result is hashed once more so that values
// swapped between two rows of a range do not cancel out in the range's
// xor.
func rowHashExpr(alias string, cols []column) string {
	var fields, parts []string
	for i, c := range cols {
		if f, ok := recordHashTypes[c.BaseType]; ok {
			fields = append(fields, fmt.Sprintf(f, alias+"."+pgx.Identifier{c.Name}.Sanitize()))
			continue
		}
		parts = append(parts, columnHashExpr(alias, c, i))
	}
	if len(fields) > 0 {
		parts = append(parts, "hash_record_extended(ROW("+strings.Join(fields, ", ")+"), 3)")
	}
	return "hashint8extended(" + strings.Join(parts, " # ") + ", 2)"
}

func keyColumns(def tableDef) []column {
	var out []column
	for _, k := range def.PK {
		for _, c := range def.Columns {
			if c.Name == k {
				out = append(out, c)
			}
		}
	}
	return out
}

func keyHashExpr(alias string, def tableDef) string {
	return "(" + combinedHashExpr(alias, keyColumns(def)) + " & " + keyHashMask + ")"
}

// bucketHashSQL returns per bucket (residue of modulus) the row count and
// the xor of the rows' hashes. Rows within a bucket have distinct keys, so
// xor is a multiset hash here and needs no sort. With parents, only rows
// of the parent buckets (residues $1 of parentModulus) are read. The
// moduli are literals. OFFSET 0 fences the subquery so that the planner
// cannot take the number of buckets from the key's distinct count (one per
// row): it then sizes the hash aggregate for few groups and grows it,
// instead of spreading the buckets over a table sized for every row, which
// missed the CPU cache (measured 15-30% slower on 1M rows).
func bucketHashSQL(def tableDef, modulus, parentModulus int64, withParents bool) string {
	var b strings.Builder
	kh := keyHashExpr("t", def)
	fmt.Fprintf(&b, "SELECT s.kh %% %d, count(*), bit_xor(s.h) FROM (SELECT %s AS kh, %s AS h FROM %s t",
		modulus, kh, rowHashExpr("t", def.Columns), def.ident())
	if withParents {
		fmt.Fprintf(&b, " WHERE %s %% %d = ANY($1::int8[])", kh, parentModulus)
	}
	b.WriteString(" OFFSET 0) s GROUP BY 1")
	return b.String()
}

// wholeTableHashSQL hashes a table without a primary key: an order-free
// sum of row hashes (rows may repeat, so xor would cancel them).
func wholeTableHashSQL(def tableDef) string {
	return fmt.Sprintf("SELECT count(*), coalesce(sum(s.h::numeric), 0)::text FROM (SELECT %s AS h FROM %s t) s",
		rowHashExpr("t", def.Columns), def.ident())
}

// displayLimit is the longest value text reported as is; longer ones are
// shortened and carry their length and md5 (so a toasted value that
// differs is still told apart without holding it in memory).
const displayLimit = 256

func displayExpr(col string) string {
	c := "t." + pgx.Identifier{col}.Sanitize() + "::text"
	return fmt.Sprintf("CASE WHEN octet_length(%[1]s) > %[2]d THEN left(%[1]s, 64) || format('... (%%s chars, md5 %%s)', length(%[1]s), md5(%[1]s)) ELSE %[1]s END", c, displayLimit)
}

// fetchRowsSQL returns the rows of buckets $2 (residues of modulus $1):
// key text, md5 of the row text, then the key columns' texts, the
// columns' display texts, and commit timestamp and origin.
func fetchRowsSQL(def tableDef, commitTS bool) string {
	cols := columnNames(def.Columns)
	var sel []string
	sel = append(sel, rowTextExpr("t", def.PK), "md5("+rowTextExpr("t", cols)+")")
	for _, k := range def.PK {
		sel = append(sel, "t."+pgx.Identifier{k}.Sanitize()+"::text")
	}
	for _, c := range cols {
		sel = append(sel, displayExpr(c))
	}
	from := def.ident() + " t"
	if commitTS {
		sel = append(sel, "ct.timestamp", "CASE WHEN ct.roident = 0 THEN 'local' ELSE coalesce(o.roname, 'origin ' || ct.roident) END")
		from += " LEFT JOIN LATERAL pg_xact_commit_timestamp_origin(t.xmin) ct ON true LEFT JOIN pg_replication_origin o ON o.roident = ct.roident"
	} else {
		sel = append(sel, "NULL::timestamptz", "NULL::text")
	}
	return fmt.Sprintf("SELECT %s FROM %s WHERE %s %% $1 = ANY($2::int8[])", strings.Join(sel, ", "), from, keyHashExpr("t", def))
}
