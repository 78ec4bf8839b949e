package scenarios

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress prints a run's progress: plain lines, and on a terminal (Live)
// a status line rewritten in place (phase, elapsed, ops/s, a bar) that
// plain lines clear before they print.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	live   bool
	status bool // a status line is on screen
}

func (p *progress) linef(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status {
		fmt.Fprint(p.w, "\r\033[K")
		p.status = false
	}
	fmt.Fprintf(p.w, format, args...)
}

// statusf shows a live status; without a terminal it prints a plain line
// only every plainEvery calls.
func (p *progress) statusf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live {
		fmt.Fprintf(p.w, format+"\n", args...)
		return
	}
	fmt.Fprintf(p.w, "\r\033[K"+format, args...)
	p.status = true
}

// bar draws done/total as a 20-character bar.
func bar(done, total time.Duration) string {
	const width = 20
	n := width
	if total > 0 && done < total {
		n = int(float64(width) * float64(done) / float64(total))
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}
