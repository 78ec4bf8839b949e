package workload

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Toast: a wide table (toast_wide: k, n, note, writer, doc text, blob
// bytea) whose doc and blob are STORAGE EXTERNAL and 4-20 kB of random
// bytes, so they always live uncompressed in the TOAST table. Setup
// inserts keys 0..Keys-1 (not recorded). 60% of ops (toast-touch)
// update n, note and writer only: logical decoding then ships doc and
// blob as "unchanged toast"; the rest (toast-rewrite) also write a new
// doc, blob or both. Values are recorded by length and md5, never in
// full. Judged by convergence (which hashes every column; the workload
// spec plants one changed doc and sees its key named). Measured on
// pglogical 2: a subscriber applying an update that won by commit
// timestamp keeps its own doc/blob where the update said "unchanged",
// so rows diverge in their large columns only (10 of 16 rows in 5 s).

// ToastSchema is the toast workload's wide table (the shared data
// contract). doc and blob are stored EXTERNAL: out of line whenever the
// row exceeds the TOAST threshold (~2 kB), never compressed, so every
// value the workload writes (4-20 kB) lives in the TOAST table.
const ToastSchema = `CREATE TABLE IF NOT EXISTS toast_wide (
  k      int    PRIMARY KEY,
  n      bigint NOT NULL,
  note   text   NOT NULL,
  writer text   NOT NULL,
  doc    text   NOT NULL,
  blob   bytea  NOT NULL
);
ALTER TABLE toast_wide ALTER COLUMN doc SET STORAGE EXTERNAL, ALTER COLUMN blob SET STORAGE EXTERNAL`

// Toast op names. Every op is one autocommit UPDATE of one key.
const (
	// FToastTouch updates n, note and writer, leaving doc and blob
	// unchanged: logical decoding ships them as "unchanged toast".
	FToastTouch = "toast-touch"
	// FToastRewrite also writes a new doc, a new blob, or both.
	FToastRewrite = "toast-rewrite"
)

// Toast has clients on every node update the same few wide rows: mostly
// the small columns only (the large ones travel as unchanged TOAST
// pointers), sometimes a large one rewritten, so that replication must
// merge an update that left a large column alone with one that replaced
// it. Judged by convergence, which hashes every column, large ones too.
type Toast struct {
	// Keys is the number of contended rows 0..Keys-1 (default 8).
	Keys int
}

// ToastValue is the Value of a toast op: the key, the small values, and
// for a rewritten large column its length and md5 (never the value).
type ToastValue struct {
	Key  int        `json:"key"`
	N    int64      `json:"n"`
	Doc  *BigDigest `json:"doc,omitempty"`
	Blob *BigDigest `json:"blob,omitempty"`
}

// BigDigest names a large value by its length in bytes and its md5.
type BigDigest struct {
	Len int    `json:"len"`
	MD5 string `json:"md5"`
}

func digest(b []byte) *BigDigest {
	sum := md5.Sum(b)
	return &BigDigest{Len: len(b), MD5: hex.EncodeToString(sum[:])}
}

func (t *Toast) keys() int {
	if t.Keys <= 0 {
		return 8
	}
	return t.Keys
}

func (t *Toast) Name() string   { return "toast" }
func (t *Toast) Schema() string { return ToastSchema }

// Setup inserts the keys with large values on nodes[0] (not recorded:
// only convergence judges this workload).
func (t *Toast) Setup(ctx context.Context, nodes []Target, _ *history.Recorder) error {
	if len(nodes) == 0 {
		return fmt.Errorf("toast setup: no nodes")
	}
	conn, err := pgx.Connect(ctx, nodes[0].DSN)
	if err != nil {
		return fmt.Errorf("toast setup: connect to %s: %w", nodes[0].Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	r := ClientRand(0, "setup")
	for k := range t.keys() {
		_, err := conn.Exec(ctx, `INSERT INTO toast_wide (k, n, note, writer, doc, blob) VALUES ($1, 0, '', 'setup', $2, $3)
ON CONFLICT (k) DO NOTHING`, int32(k), string(bigText(r)), bigBytes(r))
		if err != nil {
			return fmt.Errorf("toast setup: insert key %d on %s: %w", k, nodes[0].Name, err)
		}
	}
	return nil
}

func (t *Toast) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	return runGenerated(ctx, cfg, t)
}

// generator draws toast ops: 60% touch the small columns only, 40%
// rewrite doc, blob or both (a third each).
func (t *Toast) generator(_, process string) func(node string, r *rand.Rand) opSpec {
	return func(_ string, r *rand.Rand) opSpec {
		key := r.IntN(t.keys())
		v := ToastValue{Key: key, N: r.Int64N(1 << 48)}
		note := randomText(r, 8+r.IntN(56))
		sets, args := "n = $2, note = $3, writer = $4", []any{int32(key), v.N, note, process}
		f := FToastTouch
		if r.IntN(10) >= 6 {
			f = FToastRewrite
			which := r.IntN(3)
			if which != 1 {
				doc := bigText(r)
				v.Doc = digest(doc)
				args = append(args, string(doc))
				sets += fmt.Sprintf(", doc = $%d", len(args))
			}
			if which != 0 {
				blob := bigBytes(r)
				v.Blob = digest(blob)
				args = append(args, blob)
				sets += fmt.Sprintf(", blob = $%d", len(args))
			}
		}
		return opSpec{F: f, Value: v, Exec: autocommit("UPDATE toast_wide SET "+sets+" WHERE k = $1", args, oneRow(key))}
	}
}

// oneRow is the check of an update of one key: it touched one row, or it
// had no effect.
func oneRow(key int) func(string, int64) error {
	return func(_ string, rows int64) error {
		if rows != 1 {
			return fmt.Errorf("key %d missing: %w", key, errNoEffect)
		}
		return nil
	}
}

// bigSize is a large value's length: 4..20 kB, well over the TOAST
// threshold.
func bigSize(r *rand.Rand) int { return 4096 + r.IntN(16*1024) }

// bigText is random printable text (6 bits of entropy per byte: pglz
// finds nothing to compress).
func bigText(r *rand.Rand) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, bigSize(r))
	for i := 0; i < len(b); i += 10 {
		x := r.Uint64()
		for j := i; j < min(i+10, len(b)); j++ {
			b[j] = alphabet[x&63]
			x >>= 6
		}
	}
	return b
}

// bigBytes is random bytes.
func bigBytes(r *rand.Rand) []byte {
	b := make([]byte, bigSize(r))
	for i := 0; i < len(b); i += 8 {
		x := r.Uint64()
		for j := i; j < min(i+8, len(b)); j++ {
			b[j] = byte(x)
			x >>= 8
		}
	}
	return b
}
