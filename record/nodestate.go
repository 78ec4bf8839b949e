package record

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Moment is when a node's replication state was captured.
type Moment string

// Capture moments (file name suffixes under nodes/<name>/).
const (
	BeforeFault   Moment = "before-fault"
	AfterRecovery Moment = "after-recovery"
)

// NodeState is a node's replication state at one moment: every row of
// pg_replication_slots, and every replication origin with its progress.
// Rows are generic JSON objects so that any server version fits
// (harness.CaptureNodeState reads it from a server).
type NodeState struct {
	CapturedAt time.Time `json:"captured_at"`
	// ServerVersion is the server's server_version (Write copies it into
	// Node.ServerVersion and Versions.PostgreSQL when those are empty).
	ServerVersion string           `json:"server_version,omitempty"`
	Slots         []map[string]any `json:"slots"`
	Origins       []map[string]any `json:"origins"`
}

// NodeDir is nodes/<node> inside the run directory dir.
func NodeDir(dir, node string) string { return filepath.Join(dir, "nodes", node) }

// WriteServerLog stores a node's server log as nodes/<node>/server.log.
func WriteServerLog(dir, node string, log []byte) error {
	if err := os.MkdirAll(NodeDir(dir, node), 0o755); err != nil {
		return fmt.Errorf("write server log of %s: %w", node, err)
	}
	path := filepath.Join(NodeDir(dir, node), "server.log")
	if err := os.WriteFile(path, log, 0o644); err != nil {
		return fmt.Errorf("write server log of %s: %w", node, err)
	}
	return nil
}

// WriteNodeState stores st as nodes/<node>/slots-<at>.json and
// nodes/<node>/origins-<at>.json.
func WriteNodeState(dir, node string, at Moment, st NodeState) error {
	if err := os.MkdirAll(NodeDir(dir, node), 0o755); err != nil {
		return fmt.Errorf("write %s state of %s: %w", at, node, err)
	}
	files := map[string]any{
		"slots-" + string(at) + ".json":   map[string]any{"captured_at": st.CapturedAt, "server_version": st.ServerVersion, "slots": NonNil(st.Slots)},
		"origins-" + string(at) + ".json": map[string]any{"captured_at": st.CapturedAt, "origins": NonNil(st.Origins)},
	}
	for name, v := range files {
		if err := WriteJSON(filepath.Join(NodeDir(dir, node), name), v); err != nil {
			return fmt.Errorf("write %s state of %s: %w", at, node, err)
		}
	}
	return nil
}

// NonNil makes empty lists encode as [] rather than null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
