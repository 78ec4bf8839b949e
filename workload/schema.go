package workload

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Schema-feature names: each is a table (or tables) of the
// schema-features workload with its own ops and its own checker in
// verify. "schema-features" runs them all at once, "schema-<feature>"
// one alone.
const (
	FeatureGenerated   = "generated"
	FeaturePartitioned = "partitioned"
	FeatureForeignKey  = "fk"
	FeatureTruncate    = "truncate"
	FeatureSequence    = "sequence"
)

// SchemaFeatureNames lists the features in the order their ops are drawn.
func SchemaFeatureNames() []string {
	return []string{FeatureGenerated, FeaturePartitioned, FeatureForeignKey, FeatureTruncate, FeatureSequence}
}

// SchemaFeatures has clients on every node write tables that use one
// PostgreSQL schema feature each: STORED generated columns, a
// partitioned table whose rows move between partitions, a foreign key
// with ON DELETE CASCADE, TRUNCATE while other tables are written, and a
// sequence for keys. Each feature's ops draw from their own table, so
// the features combine freely with each other and with any fault.
//
// Decisions: node n<i> writes only its own keys of gen_kv, part_kv and
// fk_parent ((i-1)*Keys..), so the features are judged on replication,
// not on races of one row (the row-race workloads do that); children
// reference any node's parent. trunc_kv is written and truncated by the
// first target's clients only, so its inserts and truncates reach peers
// in one commit order (a truncate racing another node's inserts has no
// defined outcome). Sequence keys use per-node offsets (INCREMENT
// SeqStride, node i from i+1 above the table's max key; sequences are
// not replicated), which work on both flavors without Spock's snowflake.
// schema-fk adds parent deletes (cascading, or children first) by the
// parent's owner while others insert children: the apply runs with the
// referential triggers off, so a child applied after its parent's delete
// stays an orphan; "schema-features" leaves those deletes out.
type SchemaFeatures struct {
	// Only restricts the ops to one feature ("" = all of them).
	Only string
	// Keys is the key space per node of the generated and partitioned
	// tables and the parents of the foreign key (default 12).
	Keys int
	// FKDeletes lets the owner of a parent delete it (cascading, or its
	// children first) while other nodes insert children of it: a race
	// no replication can settle without global locking ("schema-fk").
	FKDeletes bool

	// owner is the node whose clients write trunc_kv and truncate it
	// (Setup: the first target; "n1" before Setup, as in Plan).
	owner string
	// nodes is the number of nodes (Setup; 3 before, as in Plan).
	nodes int
}

func (s *SchemaFeatures) keys() int {
	if s.Keys <= 1 {
		return 12
	}
	return s.Keys
}

func (s *SchemaFeatures) features() []string {
	if s.Only != "" {
		return []string{s.Only}
	}
	return SchemaFeatureNames()
}

func (s *SchemaFeatures) Name() string {
	if s.Only != "" {
		return "schema-" + s.Only
	}
	return "schema-features"
}

// Schema is the tables of the features it runs.
func (s *SchemaFeatures) Schema() string {
	var parts []string
	for _, f := range s.features() {
		parts = append(parts, schemaFeatureSQL[f])
	}
	return strings.Join(parts, ";\n")
}

// Setup inserts the generated, partitioned and parent rows on nodes[0]
// (not recorded: convergence and the feature checkers judge them), gives
// every node its own sequence offset, and names the truncate owner.
func (s *SchemaFeatures) Setup(ctx context.Context, nodes []Target, _ *history.Recorder) error {
	if len(nodes) == 0 {
		return fmt.Errorf("schema-features setup: no nodes")
	}
	s.owner, s.nodes = nodes[0].Name, len(nodes)
	all := 0 // keys 0..all-1 cover every node's range
	for _, n := range nodes {
		all = max(all, (nodeIndex(n.Name)+1)*s.keys())
	}
	for _, f := range s.features() {
		var err error
		switch f {
		case FeatureGenerated:
			err = execOn(ctx, nodes[0], `INSERT INTO gen_kv (k, a, b, writer) SELECT g, g, 'setup', 'setup'
FROM generate_series(0, $1::int - 1) AS g ON CONFLICT (k) DO NOTHING`, all)
		case FeaturePartitioned:
			err = execOn(ctx, nodes[0], `INSERT INTO part_kv (k, p, v, writer) SELECT g, (g * 37) % $2::int, 0, 'setup'
FROM generate_series(0, $1::int - 1) AS g ON CONFLICT DO NOTHING`, all, PartRange*PartCount)
		case FeatureForeignKey:
			err = execOn(ctx, nodes[0], `INSERT INTO fk_parent (id, writer) SELECT g, 'setup'
FROM generate_series(0, $1::int - 1) AS g ON CONFLICT (id) DO NOTHING`, all)
		case FeatureSequence:
			err = setSequenceOffsets(ctx, nodes)
		}
		if err != nil {
			return fmt.Errorf("schema-features setup (%s) on %s: %w", f, nodes[0].Name, err)
		}
	}
	return nil
}

// SeqStride is the sequence increment: node i (0-based, target order)
// draws keys i+1, i+1+SeqStride, ... so nodes never draw the same key
// (up to SeqStride nodes).
const SeqStride = 100

// setSequenceOffsets makes node i's sequence draw i+1 modulo SeqStride,
// above every key its table holds (so a rerun on a used cluster draws
// fresh keys). Sequences are not replicated: each node keeps its own.
func setSequenceOffsets(ctx context.Context, nodes []Target) error {
	if len(nodes) > SeqStride {
		return fmt.Errorf("%d nodes: sequence offsets support %d", len(nodes), SeqStride)
	}
	for i, n := range nodes {
		conn, err := pgx.Connect(ctx, n.DSN)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", n.Name, err)
		}
		_, err = conn.Exec(ctx, fmt.Sprintf("ALTER SEQUENCE seq_kv_k_seq INCREMENT BY %d", SeqStride))
		if err == nil {
			_, err = conn.Exec(ctx, `SELECT setval('seq_kv_k_seq', (coalesce(max(k), 0) / $1::bigint + 1) * $1::bigint + $2::bigint, false) FROM seq_kv`,
				SeqStride, i+1)
		}
		conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return fmt.Errorf("sequence offset on %s: %w", n.Name, err)
		}
	}
	return nil
}

func (s *SchemaFeatures) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	return runGenerated(ctx, cfg, s)
}

// generator draws a feature uniformly, then one of its ops.
func (s *SchemaFeatures) generator(prefix, process string) func(string, *rand.Rand) opSpec {
	n := 0
	owner := s.owner
	if owner == "" {
		owner = "n1"
	}
	nodes := s.nodes
	if nodes == 0 {
		nodes = 3
	}
	features := s.features()
	return func(node string, r *rand.Rand) opSpec {
		n++
		id := fmt.Sprintf("%s%s-%d", prefix, process, n)
		own := keyRange{base: nodeIndex(node) * s.keys(), n: s.keys()}
		switch features[r.IntN(len(features))] {
		case FeatureGenerated:
			return genOp(process, own.draw(r), r)
		case FeaturePartitioned:
			return partOp(process, own.draw(r), r)
		case FeatureForeignKey:
			return fkOp(process, id, own.draw(r), r.IntN(nodes*s.keys()), s.FKDeletes, r)
		case FeatureTruncate:
			return truncOp(process, id, node == owner, r)
		default:
			return seqOp(process, id)
		}
	}
}

// keyRange is the keys a node writes: base..base+n-1. Each node writes
// only its own keys of gen_kv, part_kv and fk_parent, so these features
// are judged on replication alone, not on concurrent writers of one row
// (the row-race workloads race those).
type keyRange struct{ base, n int }

func (k keyRange) draw(r *rand.Rand) int { return k.base + r.IntN(k.n) }

// nodeIndex is n<i>'s index i-1 (0 for a name without a number).
func nodeIndex(node string) int {
	i := len(node)
	for i > 0 && node[i-1] >= '0' && node[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(node[i:])
	if err != nil || n < 1 {
		return 0
	}
	return n - 1
}

// atLeastOne vets a statement that must touch a row (several may match).
func atLeastOne(what string) func(string, int64) error {
	return func(_ string, rows int64) error {
		if rows < 1 {
			return fmt.Errorf("%s missing: %w", what, errNoEffect)
		}
		return nil
	}
}
