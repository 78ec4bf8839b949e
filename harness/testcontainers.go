package harness

import (
	"fmt"
	"log/slog"
	"os"

	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Ryuk, testcontainers' reaper, runs from an image that cannot be pulled
// without a registry. The harness removes its own containers by label, so
// the reaper is switched off here, before testcontainers reads its
// configuration, and users need no environment variable.
func init() {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	// testcontainers prints to stdout/stderr by default; route it to slog
	// at debug level so that --json output stays one clean object.
	tclog.SetDefault(slogPrintf{})
}

type slogPrintf struct{}

func (slogPrintf) Printf(format string, v ...any) {
	slog.Debug("testcontainers", "msg", fmt.Sprintf(format, v...))
}
