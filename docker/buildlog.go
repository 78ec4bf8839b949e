package docker

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The image build (debootstrap, apt) prints some 800 lines. They go to a
// log file under the user's cache folder; the terminal gets one line per
// step of the recipe (its lines that start with stepPrefix) and, on
// failure, the log's last lines.
const stepPrefix = "spockchaos image: "

// openBuildLog creates the build log of tag under the user's cache folder
// (os.UserCacheDir()/spockchaos, else the temp folder), replacing an
// earlier one.
func openBuildLog(tag string) (*os.File, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "spockchaos")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("build log folder: %w", err)
	}
	name := "image-" + strings.NewReplacer(":", "-", "/", "-").Replace(tag) + ".log"
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("build log: %w", err)
	}
	return f, nil
}

// stepLines passes on only the recipe's step lines, whole, to w.
type stepLines struct {
	w       io.Writer
	partial []byte
}

func (s *stepLines) Write(p []byte) (int, error) {
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := s.partial[:i+1]
		if bytes.HasPrefix(line, []byte(stepPrefix)) {
			fmt.Fprintf(s.w, "node image: %s", line[len(stepPrefix):])
		}
		s.partial = s.partial[i+1:]
	}
}

// tailOf is the last n lines of the file at path ("" when unreadable).
func tailOf(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.SplitAfter(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "") + "\n"
}
