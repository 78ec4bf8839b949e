package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"unicode/utf8"
)

// maxLine bounds one record; a large-transaction op is small, a fault
// detail map is small, so 64 MB is generous.
const maxLine = 64 << 20

// ReadResult is a history as read, with what the reader had to drop.
type ReadResult struct {
	Ops []Op
	// Truncated is set when the last line was not a complete record (the
	// harness died mid-write); it was dropped.
	Truncated bool
	// TruncatedLine is that line's number (from 1), when Truncated.
	TruncatedLine int
}

// Load reads and validates the history at path (see Read). A truncated last
// line is dropped and logged, not an error: use LoadResult to see it.
func Load(path string) ([]Op, error) {
	res, err := LoadResult(path)
	if err != nil {
		return nil, err
	}
	if res.Truncated {
		slog.Warn("history: dropped a truncated last line", "path", path, "line", res.TruncatedLine)
	}
	return res.Ops, nil
}

// LoadResult is Load that also reports a dropped truncated last line.
func LoadResult(path string) (ReadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return ReadResult{}, fmt.Errorf("read history %s: %w", path, err)
	}
	defer f.Close()
	res, err := ReadAll(f)
	if err != nil {
		return ReadResult{}, fmt.Errorf("read history %s: %w", path, err)
	}
	return res, nil
}

// Read reads and validates a history from r; a truncated last line is
// dropped silently (ReadAll reports it).
func Read(r io.Reader) ([]Op, error) {
	res, err := ReadAll(r)
	return res.Ops, err
}

// ReadAll reads a history from r and validates it (Validate). Only the last
// line may be malformed: it is then dropped and reported in the result.
func ReadAll(r io.Reader) (ReadResult, error) {
	var res ReadResult
	br := bufio.NewReaderSize(r, 64<<10)
	var bad error
	badLine := 0
	for line := 1; ; line++ {
		raw, err := readLine(br, maxLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return ReadResult{}, fmt.Errorf("line %d: %w", line, err)
		}
		if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 {
			if bad != nil {
				return ReadResult{}, bad // a bad line that was not the last one
			}
			var op Op
			if !utf8.Valid(trimmed) {
				// encoding/json would quietly turn the bytes into U+FFFD.
				bad = fmt.Errorf("line %d: malformed record: not UTF-8", line)
				badLine = line
			} else if uerr := json.Unmarshal(trimmed, &op); uerr != nil {
				bad = fmt.Errorf("line %d: malformed record: %w", line, uerr)
				badLine = line
			} else {
				// A last line that parses is whole even without its '\n'.
				res.Ops = append(res.Ops, op)
			}
		}
		if err != nil { // io.EOF
			break
		}
	}
	if bad != nil {
		res.Truncated = true
		res.TruncatedLine = badLine
	}
	if err := Validate(res.Ops); err != nil {
		return ReadResult{}, err
	}
	return res, nil
}

// readLine reads one line (with its '\n') of at most limit bytes, without
// ever holding more: a file with no newline in gigabytes is refused after
// limit bytes, not read into memory.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > limit {
			return nil, fmt.Errorf("longer than %d bytes", limit)
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}

// Validate checks the structure of a history: indexes start at 0 and have
// no gaps, types are known, each process has at most one open invoke, and
// every completion follows an open invoke of the same process with the same
// f and node (so an invoke has at most one completion, after it).
func Validate(ops []Op) error {
	open := map[string]Op{}
	for i, op := range ops {
		if op.Index != int64(i) {
			return fmt.Errorf("record %d: index %d, want %d (indexes must be gapless from 0)", i, op.Index, i)
		}
		switch op.Type {
		case Fault:
		case Invoke:
			if prev, ok := open[op.Process]; ok {
				return fmt.Errorf("record %d: process %s invokes %s while its invoke %d (%s) is still open", op.Index, op.Process, op.F, prev.Index, prev.F)
			}
			open[op.Process] = op
		case Ok, Fail, Info:
			inv, ok := open[op.Process]
			if !ok {
				return fmt.Errorf("record %d: %s completion of %s by process %s without an open invoke", op.Index, op.Type, op.F, op.Process)
			}
			if inv.F != op.F || inv.Node != op.Node {
				return fmt.Errorf("record %d: completion %s on %s does not match invoke %d (%s on %s) of process %s", op.Index, op.F, op.Node, inv.Index, inv.F, inv.Node, op.Process)
			}
			delete(open, op.Process)
		default:
			return fmt.Errorf("record %d: unknown type %q", op.Index, op.Type)
		}
	}
	return nil
}
