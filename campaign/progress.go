package campaign

import (
	"fmt"
	"io"
	"path/filepath"
	"time"
)

// progress prints one line per finished cell: cells done/total, the
// verdicts so far, and an ETA from the mean time of the cells run by this
// invocation.
type progress struct {
	w                   io.Writer
	dir                 string // the campaign directory, for repro lines
	total, done         int
	parallel            int
	pass, fail, unknown int
	unmet               int
	ran                 int
	spent               time.Duration
}

func newProgress(w io.Writer, dir string, total, done, parallel int) *progress {
	return &progress{w: w, dir: dir, total: total, done: done, parallel: max(1, parallel)}
}

func (p *progress) cellDone(r CellResult, took time.Duration) {
	p.done++
	p.ran++
	p.spent += took
	switch r.Verdict {
	case "pass":
		p.pass++
	case "fail":
		p.fail++
	default:
		p.unknown++
	}
	mark := "as expected"
	if !r.Met {
		mark = "EXPECTED " + string(r.Expect)
		p.unmet++
	}
	eta := time.Duration(float64(p.spent) / float64(p.ran) * float64(p.total-p.done) / float64(p.parallel))
	fmt.Fprintf(p.w, "[%d/%d] %s: %s (%s) in %s; so far pass %d fail %d unknown %d, %d not as expected; ETA %s\n",
		p.done, p.total, r.Cell, r.Verdict, mark, took.Round(100*time.Millisecond),
		p.pass, p.fail, p.unknown, p.unmet, eta.Round(time.Second))
	if !r.Met && r.Replay != "" {
		fmt.Fprintf(p.w, "    replay: %s   (or: spockchaos repro %s)\n", r.Replay, filepath.Join(p.dir, filepath.FromSlash(r.RunDir)))
	}
}
