package bench

import (
	"context"
	binenc "encoding/binary"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/verify"
)

// rowStream is one target's rows in key order: the current row's id and
// raw (binary) non-key column values.
type rowStream struct {
	rows pgx.Rows
	id   int64
	vals [][]byte
	done bool
}

// advance moves s to its next row.
func (s *rowStream) advance() error {
	if !s.rows.Next() {
		s.done = true
		return s.rows.Err()
	}
	raw := s.rows.RawValues()
	if len(raw[0]) != 8 {
		return fmt.Errorf("unexpected id encoding (%d bytes)", len(raw[0]))
	}
	s.id = int64(binenc.BigEndian.Uint64(raw[0]))
	s.vals = s.vals[:0]
	for _, v := range raw[1:] {
		if v == nil {
			s.vals = append(s.vals, nil)
		} else {
			s.vals = append(s.vals, slices.Clone(v))
		}
	}
	return nil
}

// naiveCompare reads every row of every node in key order, each node in
// one REPEATABLE READ snapshot, and merges the streams in Go, comparing
// each row's raw (binary) column values. It returns the differing ids.
func naiveCompare(ctx context.Context, targets []verify.Target) (map[int64]bool, error) {
	conns := make([]*pgx.Conn, len(targets))
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	streams := make([]*rowStream, len(targets))
	for i, t := range targets {
		c, err := pgx.Connect(ctx, t.DSN)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", t.Name, err)
		}
		conns[i] = c
		if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
			return nil, fmt.Errorf("begin on %s: %w", t.Name, err)
		}
		rows, err := c.Query(ctx, "SELECT id, i, n, t, ts, ok, j, by, u FROM "+VerifyTable+" ORDER BY id")
		if err != nil {
			return nil, fmt.Errorf("read rows on %s: %w", t.Name, err)
		}
		streams[i] = &rowStream{rows: rows}
	}
	for _, s := range streams {
		if err := s.advance(); err != nil {
			return nil, err
		}
	}
	return mergeStreams(streams)
}

// mergeStreams walks the streams in key order and returns every id that
// is missing from a stream or whose values differ between streams.
func mergeStreams(streams []*rowStream) (map[int64]bool, error) {
	differing := map[int64]bool{}
	for {
		var minID int64
		live := false
		for _, s := range streams {
			if !s.done && (!live || s.id < minID) {
				minID, live = s.id, true
			}
		}
		if !live {
			return differing, nil
		}
		var ref *rowStream
		for _, s := range streams {
			switch {
			case s.done || s.id != minID:
				differing[minID] = true
			case ref == nil:
				ref = s
			case !slices.EqualFunc(s.vals, ref.vals, func(a, b []byte) bool { return (a == nil) == (b == nil) && string(a) == string(b) }):
				differing[minID] = true
			}
		}
		for _, s := range streams {
			if !s.done && s.id == minID {
				if err := s.advance(); err != nil {
					return nil, err
				}
			}
		}
	}
}
