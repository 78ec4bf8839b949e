package fault

import (
	"context"
	"slices"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// base is what every fault kind shares, in the manner of roachtest's
// GenericFailure: the cluster, the kind's name, the node it acts on and
// the other end of a link fault. Embed it; a kind overrides Node or
// Targets only when they are not (node) or (node, peer). With base and
// the helpers below, a new kind is its constructor, StartDetail and the
// four phases.
type base struct {
	c    *harness.Cluster
	kind string
	node string
	peer string // "" when the fault has no other end
}

func (b *base) Kind() string { return b.kind }
func (b *base) Node() string { return b.node }

// Targets is (node) or (node, peer).
func (b *base) Targets() []string {
	if b.peer != "" {
		return []string{b.node, b.peer}
	}
	return []string{b.node}
}

// target is the node the fault acts on, or an error naming it.
func (b *base) target() (*harness.Node, error) { return nodeByName(b.c, b.node) }

// liveAmong is the nodes called names that answer now (splitLive), in
// the order of names.
func (b *base) liveAmong(ctx context.Context, names []string) ([]*harness.Node, error) {
	var nodes []*harness.Node
	for _, name := range names {
		n, err := nodeByName(b.c, name)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	live, _, err := splitLive(ctx, nodes)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(nodes, func(n *harness.Node) bool { return !slices.Contains(live, n) }), nil
}

// queryRow connects to n, runs one single-row query into dest and
// closes the connection: the one-query pattern of the checks. timeout 0
// means ctx's own bound.
func queryRow(ctx context.Context, n *harness.Node, timeout time.Duration, sql string, args []any, dest ...any) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(ctx, sql, args...).Scan(dest...)
}

// execOne connects to n, runs one statement and closes the connection.
func execOne(ctx context.Context, n *harness.Node, timeout time.Duration, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql, args...)
	return err
}
