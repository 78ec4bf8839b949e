package harness

import (
	"context"
	"fmt"
	"time"

	tcnetwork "github.com/testcontainers/testcontainers-go/network"
)

// StartProbe starts one node of cfg's flavor and image (Nodes is ignored)
// on a network of its own, with the flavor's settings, and returns once it
// accepts connections: no replication, no schema. The container and
// network carry the run's labels like every run's (so `spockchaos clean`
// finds a probe whose process died); the caller removes them with Remove.
// On error nothing is left behind. `spockchaos doctor` and the capability
// checks before a run use it. A plain probe leaves the flavor's
// shared_preload_libraries out, so that it starts on any PostgreSQL image
// (one without the flavor's library included).
func StartProbe(ctx context.Context, cfg Config, plain bool) (_ *Cluster, err error) {
	cfg.Nodes = MinNodes // the probe starts one; the count only passes the check
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if plain {
		cfg.Flavor = plainFlavor{cfg.Flavor}
	}
	if err := ensureImage(ctx, cfg); err != nil {
		return nil, err
	}
	c := &Cluster{RunID: cfg.RunID, Flavor: cfg.Flavor, Image: cfg.Image, Password: randomPassword(),
		readyTimeout: cfg.ReadyTimeout, log: cfg.Logger.With("run", cfg.RunID)}
	defer func() {
		if err != nil {
			err = removeAfterError(ctx, c.RunID, err)
		}
	}()
	start := time.Now()
	labels := runLabels(c.RunID, c.Flavor.Name(), false)
	c.network, err = tcnetwork.New(ctx, tcnetwork.WithLabels(labels))
	if err != nil {
		return nil, fmt.Errorf("create network for probe %s: %w", c.RunID, err)
	}
	if err := c.startNodes(ctx, 1, labels); err != nil {
		return nil, err
	}
	c.log.Debug("probe node accepting connections", "image", c.Image, "elapsed", time.Since(start).Round(time.Millisecond))
	return c, nil
}

// plainFlavor is a flavor whose servers preload nothing of it.
type plainFlavor struct{ Flavor }

func (p plainFlavor) ServerSettings(n int) map[string]string {
	s := p.Flavor.ServerSettings(n)
	delete(s, "shared_preload_libraries")
	return s
}
