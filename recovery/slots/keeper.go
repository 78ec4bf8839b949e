package slots

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// DefaultKeeperEvery is the keeper's pause between rounds. Its samples
// are the positions a recovery's stream can start from, so their spacing
// bounds how much a recovery decodes beyond what a target lacks: at 500 ms
// (rounds then took about 0.6 s under kill-mid-load's load) a recovery of
// 16 transactions decoded 3,373 in 0.8 s; at 100 ms (rounds of about
// 0.2 s) such recoveries take 0.15-0.6 s, with the load's throughput
// unchanged within noise (2,225-2,309 ops/s against 2,292-2,350).
const DefaultKeeperEvery = 100 * time.Millisecond

// KeeperNode is one member of the cluster for the Keeper.
type KeeperNode struct {
	Name string
	DSN  string
}

// Keeper advances recovery slots continuously and safely (see
// NextSlotPosition), without barriers: every round it reads, on every
// member, its subscription origins (durably, with a floor message) and its
// recovery slots' positions, then moves each slot S->X that the rule lets
// move. A member that cannot be read holds every slot that needs it; a
// slot whose peer X cannot be read is not moved either (X may be failing:
// its recovery owns the slot from then on).
type Keeper struct {
	// Flavor is the replication flavor (pglogical or spock).
	Flavor string
	// Members gives the cluster's current members: every node that is not
	// lost for good (a node down for a while stays a member).
	Members func() []KeeperNode
	// Every is the pause between rounds (default DefaultKeeperEvery).
	Every time.Duration
	// Timeout bounds each round's calls on one node (default 2s).
	Timeout time.Duration
	// Logger receives what moved and why a slot stayed (default slog.Default()).
	Logger *slog.Logger

	mu     sync.Mutex
	report recovery.KeeperReport
	// smu guards samples apart from mu, so that a recovery reading them
	// (Samples) never waits for a round in progress.
	smu     sync.Mutex
	samples map[string][]recovery.OriginSample // slot name -> samples, oldest first
	// conns are the sessions kept from round to round, by node name (a
	// connection costs a good part of a second on a busy machine); one
	// that fails is closed and opened again next round.
	conns map[string]*keeperConn

	// pmu guards paused (recoveries running: see pause) and cancelRound
	// (cuts short the round Run has in progress).
	pmu         sync.Mutex
	paused      int
	cancelRound context.CancelFunc
}

type keeperConn struct {
	dsn  string
	conn *pgx.Conn
}

// nodeReading is one node's durable reading of one round.
type nodeReading struct {
	ok      bool
	err     error
	origins map[string]recovery.OriginSample // by provider (peer) name
	slots   map[string]recovery.LSN          // recovery slot name -> confirmed_flush
}

// Run runs rounds until ctx is done, none while paused.
func (k *Keeper) Run(ctx context.Context) {
	defer k.Close()
	runRounds(ctx, k.Every, func(ctx context.Context) {
		k.pmu.Lock()
		if k.paused > 0 {
			k.pmu.Unlock()
			return
		}
		rctx, cancel := context.WithCancel(ctx)
		k.cancelRound = cancel
		k.pmu.Unlock()
		defer func() {
			k.pmu.Lock()
			k.cancelRound = nil
			k.pmu.Unlock()
			cancel()
		}()
		k.Round(rctx)
	})
}

// Pause stops Run's rounds until resume is called, cutting short the
// round in progress as a stop does (what it read is dropped; an advance
// under way completes or not, both safe): the reference recovery pauses
// the keeper while it runs. A round's durable readings (a flushed floor
// message on every member) and slot advances (pg_replication_slot_advance
// decodes the WAL it passes) take the disk and CPU the recovery needs on
// a small machine, and a recovery waits for any slot the keeper holds;
// slots that do not move are always safe, and the failed node's are the
// recovery's from the kill on. Pauses nest; nil pauses nothing.
func (k *Keeper) Pause() (resume func()) {
	if k == nil {
		return func() {}
	}
	k.pmu.Lock()
	defer k.pmu.Unlock()
	k.paused++
	if k.cancelRound != nil {
		k.cancelRound()
	}
	return sync.OnceFunc(func() {
		k.pmu.Lock()
		defer k.pmu.Unlock()
		k.paused--
	})
}

// runRounds runs round, then waits every (0: DefaultKeeperEvery), until
// ctx is done.
func runRounds(ctx context.Context, every time.Duration, round func(context.Context)) {
	if every == 0 {
		every = DefaultKeeperEvery
	}
	for {
		round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// Close closes the sessions the keeper keeps between rounds.
func (k *Keeper) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for name, c := range k.conns {
		c.conn.Close(ctx) // bounded: the node may be paused
		delete(k.conns, name)
	}
}

// Report returns a copy of what the keeper did so far.
func (k *Keeper) Report() recovery.KeeperReport {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := k.report
	r.Slots = append([]recovery.KeeperSlot(nil), r.Slots...)
	return r
}

// Round reads every member and moves every slot the rule lets move; it
// returns the slots moved.
func (k *Keeper) Round(ctx context.Context) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conns == nil {
		k.conns = map[string]*keeperConn{}
	}
	if k.Logger == nil {
		k.Logger = slog.Default()
	}
	timeout := k.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	members := k.Members()
	cat, err := pgnode.CatalogFor(k.Flavor)
	if err != nil {
		k.Logger.Warn("recovery slot keeper", "err", err)
		return 0
	}
	byName, conns := k.readAll(ctx, cat, members, timeout)
	// Decide every slot, then advance each node's slots on its session,
	// the nodes side by side.
	decided, moves := k.decide(members, byName)
	advanceAll(ctx, moves, conns, timeout)
	moved := k.settle(ctx, decided)
	for _, n := range members {
		if c, ok := k.conns[n.Name]; ok && c.conn.IsClosed() {
			delete(k.conns, n.Name)
		}
	}
	return moved
}

// readAll reads every member side by side, each on its kept session (or
// a new login), and keeps the sessions that answered; it returns the
// readings by node and the sessions of the nodes read.
func (k *Keeper) readAll(ctx context.Context, cat pgnode.Catalog, members []KeeperNode, timeout time.Duration) (map[string]nodeReading, map[string]*pgx.Conn) {
	sessions := make([]*pgx.Conn, len(members))
	for i, n := range members {
		if c, ok := k.conns[n.Name]; ok && c.dsn == n.DSN && !c.conn.IsClosed() {
			sessions[i] = c.conn
		}
	}
	readings := make([]nodeReading, len(members))
	rctx, cancel := context.WithTimeout(ctx, timeout)
	var wg sync.WaitGroup
	for i, n := range members {
		wg.Go(func() {
			if sessions[i] == nil {
				conn, err := pgx.Connect(rctx, n.DSN)
				if err != nil {
					readings[i].err = fmt.Errorf("connect to %s: %w", n.Name, err)
					return
				}
				sessions[i] = conn
			}
			readings[i] = readNode(rctx, cat, n, sessions[i], members)
		})
	}
	wg.Wait()
	cancel()
	for i, n := range members {
		k.keepSession(ctx, n, sessions[i], readings[i].ok)
	}
	k.report.Rounds++
	byName := map[string]nodeReading{}
	conns := map[string]*pgx.Conn{}
	for i, n := range members {
		byName[n.Name] = readings[i]
		if readings[i].ok {
			conns[n.Name] = sessions[i]
		} else {
			k.report.Unread++
			k.Logger.Debug("recovery slot keeper: node not read", "node", n.Name, "err", readings[i].err)
		}
	}
	return byName, conns
}

// slotMove is one slot's decision this round, and its advance's outcome
// (to 0: it stays).
type slotMove struct {
	rec  recovery.KeeperSlot
	from recovery.LSN
	to   recovery.LSN
}

// decide applies the rule (NextSlotPosition) to every slot of every node
// read, recording the samples read; it returns every decision and, by
// node, the slots to move.
func (k *Keeper) decide(members []KeeperNode, byName map[string]nodeReading) ([]*slotMove, map[string][]*slotMove) {
	moves := map[string][]*slotMove{}
	var decided []*slotMove
	for _, s := range members {
		rs := byName[s.Name]
		if !rs.ok {
			continue
		}
		for _, x := range members {
			if x.Name == s.Name {
				continue
			}
			slot := recovery.RecoverySlotName(recovery.DefaultDB, s.Name, x.Name)
			current, has := rs.slots[slot]
			if !has {
				continue
			}
			if smp, ok := rs.origins[x.Name]; ok && smp.Local != 0 && smp.Origin != 0 {
				k.addSample(slot, smp)
			}
			dec := k.decideSlot(members, byName, s, x, current)
			m := &slotMove{rec: recovery.KeeperSlot{Slot: slot, Position: current.String(), Why: dec.Why}, from: current}
			if dec.Floor != 0 {
				m.rec.Floor = dec.Floor.String()
			}
			if dec.Move {
				m.to = dec.To
				moves[s.Name] = append(moves[s.Name], m)
			}
			decided = append(decided, m)
		}
	}
	return decided, moves
}

// decideSlot is the rule's decision for the slot s->x at current, given
// the readings of every member.
func (k *Keeper) decideSlot(members []KeeperNode, byName map[string]nodeReading, s, x KeeperNode, current recovery.LSN) recovery.SlotMove {
	if !byName[x.Name].ok {
		return recovery.SlotMove{Why: x.Name + " not read (its recovery may need the slot where it is)"}
	}
	var peers []recovery.PeerPosition
	for _, p := range members {
		if p.Name == s.Name || p.Name == x.Name {
			continue
		}
		// A peer read without a row for X has applied nothing of X:
		// position 0/0, which holds the slot.
		rp := byName[p.Name]
		peers = append(peers, recovery.PeerPosition{Node: p.Name, Known: rp.ok, Origin: rp.origins[x.Name].Origin})
	}
	return recovery.NextSlotPosition(current, k.Samples(s.Name, x.Name), peers)
}

// advanceAll advances each node's slots to move on its session, the
// nodes side by side; a slot that fails to move keeps to 0 and says why.
func advanceAll(ctx context.Context, moves map[string][]*slotMove, conns map[string]*pgx.Conn, timeout time.Duration) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wg sync.WaitGroup
	for node, ms := range moves {
		conn := conns[node]
		wg.Go(func() {
			for _, m := range ms {
				if err := advanceSlot(actx, conn, node, m.rec.Slot, m.from, m.to); err != nil {
					m.rec.Why = fmt.Sprintf("advance to %s failed: %v", m.to, err)
					switch {
					case pgnode.SlotHeld(err):
						// A recovery streams it: it stays where it is
						// until the next round.
						m.rec.Why = fmt.Sprintf("held by a recovery's stream: not advanced to %s this round", m.to)
					case conn.IsClosed() && actx.Err() == nil:
						// The node went away mid-round (a planned kill
						// or restart, most often): nothing to warn of,
						// the slot stays and the next round sees the
						// node down. (pgx also closes a connection
						// whose query was cancelled: a round cut short
						// is not a node that went away.)
						m.rec.Why = fmt.Sprintf("%s went away (%v): not advanced to %s this round", node, err, m.to)
					}
					m.to = 0
					continue
				}
				m.rec.Position, m.rec.Moved = m.to.String(), time.Now().UTC()
			}
		})
	}
	wg.Wait()
}

// settle records every decision and its outcome; it returns the slots
// moved.
func (k *Keeper) settle(ctx context.Context, decided []*slotMove) int {
	moved := 0
	for _, m := range decided {
		if m.to != 0 {
			moved++
			k.report.Advances++
			k.dropSamplesBefore(m.rec.Slot, m.to)
		} else if strings.Contains(m.rec.Why, " went away (") {
			k.Logger.Log(ctx, slog.LevelInfo, "recovery slot keeper: node went away mid-round, slot not advanced", "slot", m.rec.Slot, "why", m.rec.Why)
		} else if strings.HasPrefix(m.rec.Why, "advance to") {
			// An advance cut short by the keeper's own stop is expected, not
			// a warning; the slot simply stays where it was.
			level := slog.LevelWarn
			if ctx.Err() != nil {
				level = slog.LevelDebug
			}
			k.Logger.Log(ctx, level, "recovery slot keeper: advance failed", "slot", m.rec.Slot, "why", m.rec.Why)
		}
		k.setSlot(m.rec)
	}
	return moved
}

// keepSession keeps conn as n's session for the next rounds when its
// reading went well, and closes it otherwise (a session a timeout or a
// restart of n broke is never reused).
func (k *Keeper) keepSession(ctx context.Context, n KeeperNode, conn *pgx.Conn, ok bool) {
	old, had := k.conns[n.Name]
	if had && old.conn != conn {
		old.conn.Close(context.WithoutCancel(ctx))
		delete(k.conns, n.Name)
	}
	if conn == nil {
		return
	}
	if !ok {
		conn.Close(context.WithoutCancel(ctx))
		delete(k.conns, n.Name)
		return
	}
	k.conns[n.Name] = &keeperConn{dsn: n.DSN, conn: conn}
}

// Samples returns the durable samples the keeper holds of node's origin
// for peer (those at or after the position of node's recovery slot for
// peer), oldest first: a recovery of peer with node as its source may
// start its stream at the newest one at or below every target's position
// (Input.Samples).
func (k *Keeper) Samples(node, peer string) []recovery.OriginSample {
	k.smu.Lock()
	defer k.smu.Unlock()
	return append([]recovery.OriginSample(nil), k.samples[recovery.RecoverySlotName(recovery.DefaultDB, node, peer)]...)
}

func (k *Keeper) addSample(slot string, smp recovery.OriginSample) {
	k.smu.Lock()
	defer k.smu.Unlock()
	if k.samples == nil {
		k.samples = map[string][]recovery.OriginSample{}
	}
	list := k.samples[slot]
	if len(list) == 0 || list[len(list)-1] != smp {
		list = append(list, smp)
		if len(list) > maxSamples {
			list = list[len(list)-maxSamples:]
		}
		k.samples[slot] = list
	}
}

func (k *Keeper) dropSamplesBefore(slot string, to recovery.LSN) {
	k.smu.Lock()
	defer k.smu.Unlock()
	k.samples[slot] = dropBefore(k.samples[slot], to)
}

// maxSamples bounds the samples kept per slot (a long lag keeps the old
// ones; when they are dropped, the slot waits for a sample the lagging
// peer reaches).
const maxSamples = 4096

// dropBefore keeps the samples whose Local is at or after to.
func dropBefore(list []recovery.OriginSample, to recovery.LSN) []recovery.OriginSample {
	for i, s := range list {
		if s.Local >= to {
			return list[i:]
		}
	}
	return nil
}

func (k *Keeper) setSlot(rec recovery.KeeperSlot) {
	for i := range k.report.Slots {
		if k.report.Slots[i].Slot == rec.Slot {
			if rec.Moved.IsZero() {
				rec.Moved = k.report.Slots[i].Moved
			}
			k.report.Slots[i] = rec
			return
		}
	}
	k.report.Slots = append(k.report.Slots, rec)
}

// ReadSamples takes one durable reading on n, over conn, of its origins
// for its peers among members, as a keeper round does (flushed in a floor
// message), without moving any slot: the samples by peer name.
func ReadSamples(ctx context.Context, flavor string, n KeeperNode, conn *pgx.Conn, members []KeeperNode) (map[string]recovery.OriginSample, error) {
	cat, err := pgnode.CatalogFor(flavor)
	if err != nil {
		return nil, err
	}
	r := readNode(ctx, cat, n, conn, members)
	return r.origins, r.err
}

// readNode reads n's subscription origins durably (one statement: read,
// then a flushed floor message carrying what was read) and the positions
// of its recovery slots.
func readNode(ctx context.Context, cat pgnode.Catalog, n KeeperNode, conn *pgx.Conn, members []KeeperNode) nodeReading {
	r := nodeReading{origins: map[string]recovery.OriginSample{}, slots: map[string]recovery.LSN{}}
	// A running-transactions record right before the reading lets the
	// advance to this reading's local LSN move the slot's restart_lsn up
	// to it too (PostgreSQL logs one only every 15 s, and a slot's
	// restart_lsn moves only to one that the advance decodes): a stream
	// decodes from restart_lsn, whatever its start. Before 16 there is no
	// such function: see pgversion.LogStandbySnapshot for what that costs.
	num := pgversion.Of(conn.PgConn())
	if pgversion.LogStandbySnapshot(num) {
		if _, err := conn.Exec(ctx, "SELECT pg_log_standby_snapshot()"); err != nil {
			r.err = fmt.Errorf("log a running-transactions record on %s: %w", n.Name, err)
			return r
		}
	}
	var content string
	emit, flush := pgnode.FlushedMessage(num, "$1", "c")
	if flush != "" {
		flush = ", " + flush
	}
	q := fmt.Sprintf(`WITH r AS MATERIALIZED (
  SELECT coalesce(string_agg(format('%%s %%s %%s %%s', sub.sub_name, s.external_id, s.remote_lsn, s.local_lsn), E'\n' ORDER BY sub.sub_name), '') AS c
  FROM %s.subscription sub JOIN pg_replication_origin_status s ON s.external_id = sub.sub_slot_name)
SELECT c FROM r%s WHERE %s IS NOT NULL`, pgx.Identifier{cat.Schema}.Sanitize(), flush, emit)
	if err := conn.QueryRow(ctx, q, recovery.FloorMessagePrefix).Scan(&content); err != nil {
		r.err = fmt.Errorf("read origins on %s: %w", n.Name, err)
		return r
	}

	for _, line := range strings.Split(content, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			continue
		}
		provider, ok := strings.CutPrefix(f[0], pgnode.SubscriptionName(n.Name, ""))
		if !ok {
			continue
		}
		smp, err := recovery.ParseSample(f[2], f[3])
		if err != nil {
			r.err = fmt.Errorf("read origins on %s: %w", n.Name, err)
			return r
		}
		r.origins[provider] = smp
	}
	names := make([]string, 0, len(members))
	for _, m := range members {
		names = append(names, recovery.RecoverySlotName(recovery.DefaultDB, n.Name, m.Name))
	}
	rows, err := conn.Query(ctx, "SELECT slot_name::text, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ANY($1) AND confirmed_flush_lsn IS NOT NULL", names)
	if err != nil {
		r.err = fmt.Errorf("read recovery slots on %s: %w", n.Name, err)
		return r
	}
	var name, pos string
	_, err = pgx.ForEachRow(rows, []any{&name, &pos}, func() error {
		l, err := recovery.ParseLSN(pos)
		r.slots[name] = l
		return err
	})
	if err != nil {
		r.err = fmt.Errorf("read recovery slots on %s: %w", n.Name, err)
		return r
	}
	r.ok = true
	return r
}

// advanceSlot moves slot on node (session conn) forward from current to to.
func advanceSlot(ctx context.Context, conn *pgx.Conn, node, slot string, current, to recovery.LSN) error {
	var got *string
	err := conn.QueryRow(ctx, `SELECT (pg_replication_slot_advance(slot_name, $2::text::pg_lsn)).end_lsn::text
FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn < $2::text::pg_lsn`, slot, to.String()).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // already there (moved by someone else)
	}
	if err != nil {
		return fmt.Errorf("advance recovery slot %s on %s from %s to %s: %w", slot, node, current, to, err)
	}
	return nil
}
