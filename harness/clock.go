package harness

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
)

// Clock skew with libfaketime (Debian's libfaketime, in the node image at
// FakeTimeLibrary). Containers share the host kernel's clock, so a skew
// can only be faked per process: every process of a node started with
// Config.ClockSkew preloads the library, which reads the offset from
// FakeTimeFile at most once per FakeTimeCacheSeconds; SetClockOffset
// rewrites that file. Monotonic clocks are left real (DONT_FAKE_MONOTONIC),
// so timeouts and latches keep working.
const (
	FakeTimeLibrary      = "/usr/local/lib/spockchaos-faketime.so"
	FakeTimeFile         = "/tmp/spockchaos-faketime"
	FakeTimeCacheSeconds = 1
)

// withFakeTime makes req start its server under libfaketime at offset 0.
func withFakeTime(req *testcontainers.GenericContainerRequest) {
	req.Env["LD_PRELOAD"] = FakeTimeLibrary
	req.Env["FAKETIME_TIMESTAMP_FILE"] = FakeTimeFile
	req.Env["FAKETIME_CACHE_DURATION"] = fmt.Sprint(FakeTimeCacheSeconds)
	req.Env["DONT_FAKE_MONOTONIC"] = "1"
	req.Files = append(req.Files, testcontainers.ContainerFile{
		Reader: strings.NewReader("+0\n"), ContainerFilePath: FakeTimeFile, FileMode: 0o644,
	})
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
	script := `printf '%s\n' "$1" > "$2.new" && chmod 0644 "$2.new" && mv "$2.new" "$2"`
	cmd := []string{"sh", "-c", script, "sh", FakeTimeOffset(offset), FakeTimeFile}
	code, r, err := n.Container.Exec(ctx, cmd, tcexec.WithUser("root"), tcexec.Multiplexed())
	if err != nil {
		return fmt.Errorf("set clock of %s to %s: %w", n.Name, FakeTimeOffset(offset), err)
	}
	if code != 0 {
		var out strings.Builder
		if r != nil {
			buf := make([]byte, 512)
			k, _ := r.Read(buf)
			out.Write(buf[:k])
		}
		return fmt.Errorf("set clock of %s to %s: exit %d: %s", n.Name, FakeTimeOffset(offset), code, out.String())
	}
	return nil
}
