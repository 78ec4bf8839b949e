package workload

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Hotkey: Setup inserts keys 0..N-1 (not recorded); an update of a
// missing key is fail with reason no_effect.

// HotkeySchema is the hotkey table (the shared data contract).
const HotkeySchema = `CREATE TABLE IF NOT EXISTS hotkey (
  k      int    PRIMARY KEY,
  v      bigint NOT NULL,
  writer text   NOT NULL
)`

// FHotUpdate is the hotkey op: Value {"key": k, "value": v}.
const FHotUpdate = "hot-update"

// Hotkey has clients on every node overwrite a few shared keys. Under
// last-update-wins most writes are lost by design: only convergence is
// checked, never sums.
type Hotkey struct {
	// Keys is the number of hot keys 0..Keys-1 (default 5).
	Keys int
}

// HotUpdateValue is the Value of a hot-update op.
type HotUpdateValue struct {
	Key   int   `json:"key"`
	Value int64 `json:"value"`
}

func (h *Hotkey) keys() int {
	if h.Keys <= 0 {
		return 5
	}
	return h.Keys
}

func (h *Hotkey) Name() string   { return "hotkey" }
func (h *Hotkey) Schema() string { return HotkeySchema }

// Setup inserts the keys (v = 0, writer "setup") on nodes[0]; the caller's
// barrier brings them to every node before updates start. Nothing is
// recorded: checkers only look at convergence.
func (h *Hotkey) Setup(ctx context.Context, nodes []Target, _ *history.Recorder) error {
	if len(nodes) == 0 {
		return fmt.Errorf("hotkey setup: no nodes")
	}
	conn, err := pgx.Connect(ctx, nodes[0].DSN)
	if err != nil {
		return fmt.Errorf("hotkey setup: connect to %s: %w", nodes[0].Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, `INSERT INTO hotkey (k, v, writer) SELECT g, 0, 'setup' FROM generate_series(0, $1::int - 1) AS g
ON CONFLICT (k) DO NOTHING`, h.keys())
	if err != nil {
		return fmt.Errorf("hotkey setup: insert keys on %s: %w", nodes[0].Name, err)
	}
	return nil
}

const hotUpdate = `UPDATE hotkey SET v = $2, writer = $3 WHERE k = $1`

func (h *Hotkey) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	return runClients(ctx, cfg, func(c *client) stepFunc {
		return func(ctx context.Context) { c.do(ctx, h.next(c.process, c.rng)) }
	})
}

func (h *Hotkey) next(process string, r *rand.Rand) opSpec {
	key := r.IntN(h.keys())
	value := r.Int64N(1 << 48)
	return opSpec{
		F: FHotUpdate, Value: HotUpdateValue{Key: key, Value: value},
		Exec: autocommit(hotUpdate, []any{int32(key), value, process}, func(_ string, rows int64) error {
			if rows != 1 {
				return fmt.Errorf("key %d missing: %w", key, errNoEffect)
			}
			return nil
		}),
	}
}
