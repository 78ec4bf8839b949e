package harness

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
)

// Clock skew with libfaketime, on any image with a recent enough glibc
// and without changing it. Containers share the host kernel's clock, so a
// skew can only be faked per process: the harness copies Debian's
// libfaketimeMT (FakeTimeSource of the node's image when it has it, else
// of ToolsImage) into each node
// container at FakeTimeLibrary before it starts, mode 0644 so that any
// user reads it, and preloads it (LD_PRELOAD) in every process of a node
// started with Config.ClockSkew. The library reads the offset from
// FakeTimeFile at most once per FakeTimeCacheSeconds; SetClockOffset
// rewrites that file from a helper container (RunTool) through
// /proc/1/root, the node's own root file system, in one rename: nothing
// runs inside the node. Monotonic clocks are left real
// (DONT_FAKE_MONOTONIC), so timeouts and latches keep working. An image
// whose glibc lacks a symbol version the library needs (ClockSkewSupport)
// is refused before anything starts.
const (
	FakeTimeSource       = "/usr/local/lib/spockchaos-faketime.so"
	FakeTimeLibrary      = "/tmp/spockchaos-faketime.so"
	FakeTimeFile         = "/tmp/spockchaos-faketime"
	FakeTimeCacheSeconds = 1
)

// withFakeTime makes req start its server under libfaketime (lib, the
// library's bytes) at offset 0.
func withFakeTime(req *testcontainers.GenericContainerRequest, lib []byte) {
	req.Env["LD_PRELOAD"] = FakeTimeLibrary
	req.Env["FAKETIME_TIMESTAMP_FILE"] = FakeTimeFile
	req.Env["FAKETIME_CACHE_DURATION"] = fmt.Sprint(FakeTimeCacheSeconds)
	req.Env["DONT_FAKE_MONOTONIC"] = "1"
	req.Files = append(req.Files,
		testcontainers.ContainerFile{Reader: bytes.NewReader(lib), ContainerFilePath: FakeTimeLibrary, FileMode: 0o644},
		testcontainers.ContainerFile{Reader: strings.NewReader("+0\n"), ContainerFilePath: FakeTimeFile, FileMode: 0o644},
	)
}

// ClockSkew reports whether the cluster's servers run under libfaketime.
func (c *Cluster) ClockSkew() bool { return c.clockSkew }

// FakeTimeOffset is the file content for offset, in whole seconds (the
// form libfaketime reads): "+30", "-7".
func FakeTimeOffset(offset time.Duration) string {
	s := int64(math.Round(offset.Seconds()))
	if s < 0 {
		return fmt.Sprintf("%d", s)
	}
	return fmt.Sprintf("+%d", s)
}

// SetClockOffset sets n's clock to the real time plus offset (rounded to
// whole seconds), by rewriting the faketime file in one rename. The
// servers see it within FakeTimeCacheSeconds.
func (c *Cluster) SetClockOffset(ctx context.Context, n *Node, offset time.Duration) error {
	if !c.clockSkew {
		return fmt.Errorf("set clock of %s: run %s was not started with clock skew (Config.ClockSkew)", n.Name, c.RunID)
	}
	// /proc/1/root is the node's root file system, seen from a helper in
	// its pid namespace.
	file := "/proc/1/root" + FakeTimeFile
	script := `printf '%s\n' "$1" > "$2.new" && chmod 0644 "$2.new" && mv "$2.new" "$2"`
	step := "set clock offset to " + FakeTimeOffset(offset)
	// Noted before the write: a write that fails half way may still have
	// taken effect, and the peak is an upper bound.
	for {
		peak := c.peakClock.Load()
		if int64(offset) <= peak || c.peakClock.CompareAndSwap(peak, int64(offset)) {
			break
		}
	}
	_, err := RunToolOK(ctx, n, Tool{Step: step, Cmd: []string{"sh", "-c", script, "sh", FakeTimeOffset(offset), file}})
	return err
}

// PeakClockOffset is the furthest ahead any node's clock was set in this
// run (0 if never ahead). Where commit timestamps are kept monotonic
// across the cluster (Spock's logical commit clock bumps a node's clock
// past every remote commit it applies), no commit is stamped further
// ahead of the real time than this.
func (c *Cluster) PeakClockOffset() time.Duration { return time.Duration(c.peakClock.Load()) }
