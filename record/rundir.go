package record

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// LatestLink is the name of the symlink, in the parent folder, to the
// newest run directory.
const LatestLink = "latest"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// RunDirName is <utc-time>-<scenario>-s<seed>, e.g.
// 20261125T234751Z-lagged-kill-recovery-s7.
func RunDirName(scenario string, seed int64, t time.Time) string {
	name := unsafeName.ReplaceAllString(scenario, "_")
	if name == "" {
		name = "run"
	}
	return t.UTC().Format("20060102T150405Z") + "-" + name + "-s" + itoa(seed)
}

// NewRunDir creates <parent>/<utc-time>-<scenario>-s<seed>/ (and its nodes/
// folder) and returns its path. It fails if the directory already exists,
// so two runs never share one.
func NewRunDir(parent, scenario string, seed int64, t time.Time) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("create reports folder %s: %w", parent, err)
	}
	dir := filepath.Join(parent, RunDirName(scenario, seed, t))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("create run directory %s: %w", dir, err)
	}
	if err := os.Mkdir(filepath.Join(dir, "nodes"), 0o755); err != nil {
		return "", fmt.Errorf("create nodes folder in %s: %w", dir, err)
	}
	return dir, nil
}

// LinkLatest points <parent-of-dir>/latest at dir (a relative symlink,
// replaced atomically).
func LinkLatest(dir string) error {
	parent := filepath.Dir(filepath.Clean(dir))
	link := filepath.Join(parent, LatestLink)
	tmp := link + ".tmp-" + strconv.Itoa(os.Getpid())
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(filepath.Clean(dir)), tmp); err != nil {
		return fmt.Errorf("link %s to %s: %w", link, dir, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("link %s to %s: %w", link, dir, err)
	}
	return nil
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
