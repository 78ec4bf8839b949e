package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"golang.org/x/sync/errgroup"

	"github.com/spockchaos/spockchaos/docker"
)

// Limits on the number of nodes of a cluster.
const (
	MinNodes     = 2
	MaxNodes     = 9
	DefaultNodes = 3
)

// Config describes a cluster to start. The zero value of every field but
// Flavor has a sensible default.
type Config struct {
	// Nodes is the number of nodes, MinNodes..MaxNodes (default 3).
	Nodes int
	// Flavor sets up replication (default pglogical).
	Flavor Flavor
	// Image overrides the flavor's default image. It must be present in
	// the engine: nothing is pulled.
	Image string
	// PGMajor picks the recipe's image of that PostgreSQL major when Image
	// is empty (pglogical), or must be Image's major (CheckMajor); 0: any.
	PGMajor int
	// Schema is SQL applied on every node, its tables put into
	// replication, before the cluster is declared ready.
	Schema string
	// RunID names the run (default NewRunID()).
	RunID string
	// Detached marks the run as meant to outlive this process, so that
	// `spockchaos clean` leaves it alone.
	Detached bool
	// ReadyTimeout bounds the wait for replication and the barrier
	// (default 2 minutes).
	ReadyTimeout time.Duration
	// Progress receives human-readable progress (image builds); may be nil.
	Progress io.Writer
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
	// LinkProxies routes every subscription through a fault proxy of its
	// own (see LinkProxies), so that link faults can act on one link.
	LinkProxies bool
	// ClockSkew starts every server under libfaketime with its offset read
	// from a file the harness rewrites at run time (see SetClockOffset).
	ClockSkew bool
	// Settings are the user's server settings (NAME -> VALUE), passed to
	// every node's server at start with the flavor's own; CheckSettings
	// refuses ones the flavor does not know or that disagree with the
	// harness's.
	Settings map[string]string
}

// Cluster is a running set of nodes with replication configured.
type Cluster struct {
	RunID    string
	Flavor   Flavor
	Image    string
	Password string
	Nodes    []*Node
	// Settings are the user's server settings every node started with
	// (Config.Settings).
	Settings map[string]string

	network   *testcontainers.DockerNetwork
	links     *LinkProxies // nil unless Config.LinkProxies
	clockSkew bool
	fakeTime  []byte // the libfaketime copied into each node (ClockSkew)
	// peakClock is the furthest ahead (ns) SetClockOffset ever set a
	// node's clock in this run (PeakClockOffset).
	peakClock    atomic.Int64
	readyTimeout time.Duration
	log          *slog.Logger
	// noBarrier: servers attached by DSN that do not replicate the
	// barrier table (AttachServers); Barrier passes at once.
	noBarrier bool
	// labels, schema and serverSettings are what every node started
	// with, so that AddNode starts one more alike (join.go).
	labels         map[string]string
	schema         string
	serverSettings map[string]string
}

func (cfg *Config) setDefaults() error {
	if cfg.Nodes == 0 {
		cfg.Nodes = DefaultNodes
	}
	if cfg.Nodes < MinNodes || cfg.Nodes > MaxNodes {
		return fmt.Errorf("nodes must be between %d and %d, got %d", MinNodes, MaxNodes, cfg.Nodes)
	}
	if cfg.Flavor == nil {
		cfg.Flavor = pglogical{}
	}
	if err := CheckMajor(cfg.Flavor, cfg.Image, cfg.PGMajor); err != nil {
		return err
	}
	if cfg.Image == "" {
		cfg.Image = ImageFor(cfg.Flavor, cfg.PGMajor)
	}
	if cfg.Image == "" {
		return fmt.Errorf("flavor %s has no default image: name one with --image", cfg.Flavor.Name())
	}
	if err := CheckSettings(cfg.Flavor, cfg.Nodes, cfg.Settings); err != nil {
		return err
	}
	if cfg.RunID == "" {
		cfg.RunID = NewRunID()
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * time.Minute
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

// Start brings up a ready cluster (see the package doc). On error nothing
// it created is left behind.
func Start(ctx context.Context, cfg Config) (_ *Cluster, err error) {
	start := time.Now()
	c, err := StartNodes(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			if c.links != nil {
				c.links.Close()
			}
			err = removeAfterError(ctx, c.RunID, err)
		}
	}()
	if cfg.LinkProxies {
		if err := c.startLinkProxies(ctx); err != nil {
			return nil, err
		}
	}
	c.schema = cfg.Schema
	if err := c.configure(ctx, cfg.Schema); err != nil {
		return nil, err
	}
	if err := c.WaitReady(ctx, c.Nodes, c.readyTimeout); err != nil {
		return nil, err
	}
	c.log.Info("cluster ready", "flavor", c.Flavor.Name(), "nodes", len(c.Nodes), "elapsed", time.Since(start).Round(time.Millisecond))
	return c, nil
}

// StartNodes starts the nodes of cfg on their network and waits until each
// accepts connections, but sets up no replication: plain servers, used by
// Start and as the baseline of `spockchaos bench up`. On error nothing it
// created is left behind.
func StartNodes(ctx context.Context, cfg Config) (_ *Cluster, err error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := ensureImage(ctx, cfg); err != nil {
		return nil, err
	}
	c := &Cluster{RunID: cfg.RunID, Flavor: cfg.Flavor, Image: cfg.Image, Password: randomPassword(),
		readyTimeout: cfg.ReadyTimeout, log: cfg.Logger.With("run", cfg.RunID), clockSkew: cfg.ClockSkew, Settings: cfg.Settings}
	defer func() {
		if err != nil {
			err = removeAfterError(ctx, c.RunID, err)
		}
	}()
	start := time.Now()
	labels := runLabels(c.RunID, c.Flavor.Name(), cfg.Detached)
	c.labels = labels
	if cfg.ClockSkew {
		if err := clockSkewSupport(ctx, c.Image, labels); err != nil {
			return nil, err
		}
		if c.fakeTime, _, err = fakeTimeLibrary(ctx, c.Image, labels); err != nil {
			return nil, err
		}
	}
	c.network, err = tcnetwork.New(ctx, tcnetwork.WithLabels(labels))
	if err != nil {
		return nil, fmt.Errorf("create network for run %s: %w", c.RunID, err)
	}
	if err := c.startNodes(ctx, cfg.Nodes, labels); err != nil {
		return nil, err
	}
	if err := c.checkServerMajor(ctx, cfg.PGMajor); err != nil {
		return nil, err
	}
	c.log.Info("nodes accepting connections", "nodes", cfg.Nodes, "elapsed", time.Since(start).Round(time.Millisecond))
	return c, nil
}

func removeAfterError(ctx context.Context, runID string, err error) error {
	if _, rmErr := RemoveRun(ctx, runID); rmErr != nil {
		return errors.Join(err, fmt.Errorf("and cleanup of run %s failed: %w", runID, rmErr))
	}
	return err
}

// ensureImage makes sure the node image is in the engine, and the tools
// image (ToolsImage) too when the cluster needs helpers at start (link
// proxies are checked from them; clock skew reads its library from it).
func ensureImage(ctx context.Context, cfg Config) error {
	if cfg.ClockSkew || cfg.LinkProxies {
		if _, err := docker.EnsureDefaultImage(ctx, cfg.Progress); err != nil {
			return err
		}
	}
	if m, ok := docker.RecipeMajor(cfg.Image); ok {
		_, err := docker.EnsureImage(ctx, m, cfg.Progress)
		return err
	}
	cli, err := docker.Client(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	ok, err := docker.ImageExists(ctx, cli, cfg.Image)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("image %s is not in the Docker engine, and spockchaos never pulls: load it first (docker load / docker pull)", cfg.Image)
	}
	return checkImageMajor(ctx, cfg.Image, cfg.PGMajor)
}

func (c *Cluster) startNodes(ctx context.Context, n int, labels map[string]string) error {
	c.Nodes = make([]*Node, n)
	settings := MergeSettings(c.Flavor.ServerSettings(n), c.Settings)
	c.serverSettings = settings
	g, gctx := errgroup.WithContext(ctx)
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		g.Go(func() error {
			_, err := c.startNode(gctx, name, settings, labels, func(n *Node) { c.Nodes[i] = n })
			return err
		})
	}
	return g.Wait()
}

// startNode starts the container of node name on the run network and
// waits until its server accepts connections with the user's settings.
// started sees the node as soon as its container runs (so that a failed
// start is cleaned up with the run).
func (c *Cluster) startNode(ctx context.Context, name string, settings, labels map[string]string, started func(*Node)) (*Node, error) {
	req := nodeRequest(c.RunID, name, c.Image, c.Password, c.network, settings, labels)
	if c.clockSkew {
		withFakeTime(&req, c.fakeTime)
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("start node %s (image %s): %w", name, c.Image, err)
	}
	dc, ok := ctr.(*testcontainers.DockerContainer)
	if !ok {
		return nil, fmt.Errorf("start node %s: unexpected container type %T", name, ctr)
	}
	port, err := dc.MappedPort(ctx, PostgresPort)
	if err != nil {
		return nil, fmt.Errorf("start node %s: published port: %w", name, err)
	}
	node := &Node{Name: name, Container: dc, DSN: hostDSN("127.0.0.1", port.Port(), c.Password), NetworkDSN: networkDSN(name, c.Password)}
	started(node)
	if err := waitAccepting(ctx, node, 60*time.Second); err != nil {
		if _, exited := err.(*exitedError); exited {
			return nil, fmt.Errorf("%w%s", err, c.rejectedSetting(ctx, node))
		}
		// The cluster is removed on this error, its logs with it:
		// the error carries what the server said last.
		return nil, fmt.Errorf("%w%s", err, c.lastLogLines(ctx, node))
	}
	if err := checkUserSettings(ctx, c, node, c.Settings); err != nil {
		return nil, err
	}
	node.DirectDSN = directDSN(ctx, node, c.Password)
	return node, nil
}

// rejectedSetting is ": the server log's line about a user setting" for a
// node whose server exited at start (a bad value: 'invalid value for
// parameter "work_mem"'), else its last FATAL line, else "".
func (c *Cluster) rejectedSetting(ctx context.Context, n *Node) string {
	log, err := c.ServerLog(context.WithoutCancel(ctx), n)
	if err != nil {
		return ""
	}
	for _, name := range SortedNames(c.Settings) {
		if line := SettingLogLine(string(log), name); line != "" {
			return fmt.Sprintf(": setting %s=%s: %s", name, c.Settings[name], line)
		}
	}
	if line := lastFatal(string(log)); line != "" {
		return ": " + line
	}
	return ""
}

// lastLogLines is "; server log of n ends: <its last lines>" for a node
// that never accepted connections, or "" when its log is empty or cannot
// be read.
func (c *Cluster) lastLogLines(ctx context.Context, n *Node) string {
	log, err := c.ServerLog(context.WithoutCancel(ctx), n)
	if err != nil {
		return ""
	}
	if tail := LogTail(string(log), 5); tail != "" {
		return fmt.Sprintf("; server log of %s ends: %s", n.Name, tail)
	}
	return ""
}

// Node returns the node called name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Remove removes every container and the network of the cluster.
func (c *Cluster) Remove(ctx context.Context) error {
	if c.links != nil {
		c.links.Close()
	}
	_, err := RemoveRun(ctx, c.RunID)
	return err
}

// ServerLog returns the node's server log (its container's output); it is
// available after a kill too, since killed containers are kept.
func (c *Cluster) ServerLog(ctx context.Context, n *Node) ([]byte, error) {
	rc, err := n.Container.Logs(ctx)
	if err != nil {
		return nil, fmt.Errorf("server log of %s: %w", n.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("server log of %s: %w", n.Name, err)
	}
	return data, nil
}
