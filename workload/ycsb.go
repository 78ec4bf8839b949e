package workload

import (
	"context"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"github.com/magiconair/properties"
	"github.com/pingcap/go-ycsb/pkg/measurement"
	_ "github.com/pingcap/go-ycsb/pkg/workload" // registers the "core" workload
	"github.com/pingcap/go-ycsb/pkg/ycsb"

	"github.com/spockchaos/spockchaos/workload/history"
)

// YCSB: go-ycsb's core workload chooses operations and keys; our
// binding (ycsbDB) executes and records them. go-ycsb seeds each
// thread from the clock: we reseed that source from the client's seed
// (by reflection on go-ycsb's unexported thread state; the Plan spec
// fails if that stops working). go-ycsb's read-modify-write is a Read
// then an Update: the binding records it as one "ycsb-read-modify-write"
// op; plain reads are recorded right after they ran (reads change
// nothing). Setup loads RecordCount rows through go-ycsb's DoInsert,
// recorded as ycsb-insert by process "setup". go-ycsb's key sequences
// are shared by all clients, so ycsb keys are exactly replayable only
// with one client.

// YCSBSchema is the usertable (the shared data contract).
const YCSBSchema = `CREATE TABLE IF NOT EXISTS usertable (
  ycsb_key varchar(64) PRIMARY KEY,
  field0 text, field1 text, field2 text, field3 text, field4 text,
  field5 text, field6 text, field7 text, field8 text, field9 text
)`

// ycsbMixes are the proportions of go-ycsb's shipped workloads a..f
// (v1.0.3 files workloads/workloada..f).
var ycsbMixes = map[string]map[string]string{
	"a": {"readproportion": "0.5", "updateproportion": "0.5", "requestdistribution": "uniform"},
	"b": {"readproportion": "0.95", "updateproportion": "0.05", "requestdistribution": "uniform"},
	"c": {"readproportion": "1", "updateproportion": "0", "requestdistribution": "uniform"},
	"d": {"readproportion": "0.95", "updateproportion": "0", "insertproportion": "0.05", "requestdistribution": "latest"},
	"e": {"readproportion": "0", "updateproportion": "0", "scanproportion": "0.95", "insertproportion": "0.05",
		"requestdistribution": "uniform", "maxscanlength": "1", "scanlengthdistribution": "uniform"},
	"f": {"readproportion": "0.5", "updateproportion": "0", "readmodifywriteproportion": "0.5", "requestdistribution": "uniform"},
}

func ycsbMixNames() []string { return slices.Sorted(maps.Keys(ycsbMixes)) }

// YCSB runs go-ycsb's core workload through our pgx binding: go-ycsb picks
// the operations and keys, the binding executes and records every one.
type YCSB struct {
	// Mix is a..f (default a).
	Mix string
	// RecordCount is the rows Setup loads (default 1000).
	RecordCount int
	// Properties override any go-ycsb property (e.g. "fieldlength").
	Properties map[string]string

	once sync.Once
	core ycsb.Workload
	err  error
}

func (y *YCSB) Name() string {
	if y.Mix == "" {
		return "ycsb"
	}
	return "ycsb-" + y.Mix
}

func (y *YCSB) Schema() string { return YCSBSchema }

func (y *YCSB) properties() (*properties.Properties, error) {
	mix := y.Mix
	if mix == "" {
		mix = "a"
	}
	m, ok := ycsbMixes[mix]
	if !ok {
		return nil, fmt.Errorf("ycsb: unknown mix %q (known: %v)", mix, ycsbMixNames())
	}
	records := y.RecordCount
	if records <= 0 {
		records = 1000
	}
	p := properties.NewProperties()
	set := func(k, v string) { p.Set(k, v) } //nolint:errcheck // Set fails only on circular references
	set("workload", "core")
	set("table", "usertable")
	set("fieldcount", "10")
	set("fieldlength", "100")
	set("readallfields", "true")
	set("recordcount", strconv.Itoa(records))
	for k, v := range m {
		set(k, v)
	}
	for k, v := range y.Properties {
		set(k, v)
	}
	return p, nil
}

// coreWorkload creates go-ycsb's core workload once per YCSB value; its
// key sequences are shared by all clients, as in go-ycsb.
func (y *YCSB) coreWorkload() (ycsb.Workload, error) {
	y.once.Do(func() {
		p, err := y.properties()
		if err != nil {
			y.err = err
			return
		}
		ycsbMeasureOnce.Do(func() { measurement.InitMeasure(p) })
		y.core, y.err = createQuietly(p)
	})
	return y.core, y.err
}

// ycsbMeasureOnce: go-ycsb's read-modify-write reports to a global
// measurement that panics unless initialised.
var ycsbMeasureOnce sync.Once

// Setup loads RecordCount rows on nodes[0] through go-ycsb's DoInsert,
// each recorded as "ycsb-insert" by process "setup".
func (y *YCSB) Setup(ctx context.Context, nodes []Target, rec *history.Recorder) error {
	if len(nodes) == 0 {
		return fmt.Errorf("ycsb setup: no nodes")
	}
	core, err := y.coreWorkload()
	if err != nil {
		return err
	}
	cfg := RunConfig{Nodes: nodes[:1], Recorder: rec, Seed: 0}
	if err := cfg.setDefaults(); err != nil {
		return err
	}
	c := &client{process: "setup", nodes: nodes[:1], rng: ClientRand(0, "setup"), cfg: &cfg, stats: newCounters(nodes[:1])}
	if !c.connectFor(ctx, cfg.Reconnect) {
		return fmt.Errorf("ycsb setup: connect to %s failed", nodes[0].Name)
	}
	defer c.dropConn()
	records := y.RecordCount
	if records <= 0 {
		records = 1000
	}
	// A table already loaded (a rerun on the same cluster) is kept: go-ycsb
	// would insert the same keys again and every insert would fail.
	var have int
	if err := c.conn.QueryRow(ctx, "SELECT count(*) FROM usertable").Scan(&have); err != nil {
		return fmt.Errorf("ycsb setup: count rows on %s: %w", nodes[0].Name, err)
	}
	if have >= records {
		return nil
	}
	db := &ycsbDB{exec: liveExec{c}}
	wctx := seededThread(core, 0, 1, 0)
	for range records {
		if err := core.DoInsert(wctx, db); err != nil {
			return fmt.Errorf("ycsb setup: load on %s: %w", nodes[0].Name, err)
		}
		if c.conn == nil && !c.connectFor(ctx, cfg.Reconnect) {
			return fmt.Errorf("ycsb setup: lost %s", nodes[0].Name)
		}
	}
	return nil
}

func (y *YCSB) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	core, err := y.coreWorkload()
	if err != nil {
		return Stats{}, err
	}
	threads := len(cfg.Nodes) * max(cfg.ClientsPerNode, 1)
	var mu sync.Mutex
	thread := 0
	return runClients(ctx, cfg, func(c *client) stepFunc {
		mu.Lock()
		id := thread
		thread++
		mu.Unlock()
		wctx := seededThread(core, id, threads, c.rng.Int64())
		db := &ycsbDB{exec: liveExec{c}}
		return func(context.Context) {
			_ = core.DoTransaction(wctx, db) // the binding recorded the outcome
			db.flush()
		}
	})
}

// seededThread is core.InitThread with the thread's random source
// reseeded from seed: go-ycsb seeds it from the clock, which would make
// runs unrepeatable. The source sits in go-ycsb's unexported per-thread
// state, reached by reflection (checked by the determinism spec).
func seededThread(core ycsb.Workload, id, n int, seed int64) context.Context {
	ctx := core.InitThread(context.Background(), id, n)
	if r := threadRand(ctx); r != nil {
		r.Seed(seed)
	}
	return ctx
}

// threadRand finds the *rand.Rand field of the value the core workload
// stored in ctx (a context.WithValue holding a *coreState{r *rand.Rand, ...}).
func threadRand(ctx context.Context) interface{ Seed(int64) } {
	v := reflect.ValueOf(ctx)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	val := v.Elem().FieldByName("val")
	if !val.IsValid() {
		return nil
	}
	val = reflect.NewAt(val.Type(), unsafe.Pointer(val.UnsafeAddr())).Elem().Elem()
	if val.Kind() != reflect.Pointer || val.Elem().Kind() != reflect.Struct {
		return nil
	}
	state := val.Elem()
	for i := range state.NumField() {
		f := state.Field(i)
		if f.Type().String() == "*rand.Rand" {
			r, _ := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(interface{ Seed(int64) })
			return r
		}
	}
	return nil
}

// createQuietly creates the core workload with os.Stdout pointed at
// /dev/null: go-ycsb prints its key range there, and stdout is for results.
func createQuietly(p *properties.Properties) (ycsb.Workload, error) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		saved := os.Stdout
		os.Stdout = null
		defer func() { os.Stdout = saved; null.Close() }()
	}
	return ycsb.GetWorkloadCreator("core").Create(p)
}

var stdoutMu sync.Mutex
