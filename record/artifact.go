package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// MaxArtifactBytes bounds a JSON artifact read back from a run directory
// (run.json, observation.json): the largest seen are a few MB (row diffs
// are capped), so a bigger file is damage or the wrong file, and reading it
// whole would only exhaust memory.
const MaxArtifactBytes = 256 << 20

// ReadArtifact reads the JSON artifact at path into v. Every problem is one
// line that names the file: missing, not a regular file, empty, larger
// than MaxArtifactBytes, not UTF-8, not JSON (with the byte offset),
// truncated, a value of the wrong type (with the field), not an object, or
// trailing data after the value.
func ReadArtifact(path string, v any) error {
	data, err := readBounded(path, MaxArtifactBytes)
	if err != nil {
		return err
	}
	return DecodeArtifact(path, data, v)
}

// readBounded reads a regular file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: missing%s", path, parentProblem(path))
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, st.Mode().Type())
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a run directory's file may have", path, st.Size(), limit)
	}
	// The size can change under us: read at most limit+1 bytes.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes", path, limit)
	}
	return data, nil
}

// DecodeArtifact decodes data, the content of the artifact name, into v
// (a pointer to a struct or map) and says what is wrong with it in one line
// naming the file (see ReadArtifact).
func DecodeArtifact(name string, data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%s: empty", name)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("%s: not UTF-8 (first bad byte at offset %d)", name, firstInvalidUTF8(data))
	}
	trimmed := bytes.TrimSpace(data)
	if trimmed[0] != '{' {
		return fmt.Errorf("%s: not a JSON object (starts with %q)", name, preview(trimmed))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %s", name, describeJSONError(err, len(data)))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: data after the JSON object at byte offset %d", name, dec.InputOffset())
	}
	return nil
}

// describeJSONError turns encoding/json's errors into what a user of a run
// directory needs: where, and what was expected.
func describeJSONError(err error, size int) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Sprintf("truncated: the JSON ends after %d bytes, inside a value", size)
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON at byte offset %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("field %s: a JSON %s where %s is wanted (byte offset %d)", field, typ.Value, typ.Type, typ.Offset)
	}
	return "cannot decode: " + err.Error()
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func preview(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return string(b)
}

// parentProblem says why a file is missing when its folder is the cause:
// ", no such directory DIR" (a mistyped run directory) or ", DIR is not a
// directory"; "" when the folder exists.
func parentProblem(path string) string {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return ": no such directory " + dir
	case err == nil && !st.IsDir():
		return ": " + dir + " is not a directory"
	}
	return ""
}
