package record

import (
	"errors"
	"os"

	"github.com/spockchaos/spockchaos/workload/history"
)

// HistoryFile is the history's name inside a run directory.
const HistoryFile = "history.jsonl"

// LoadHistory reads a history.jsonl with history.Load (a truncated last
// line is dropped, a broken line elsewhere is an error). A missing file is
// an empty history: a run that died before its load phase still renders.
func LoadHistory(path string) ([]history.Op, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return history.Load(path)
}
