package slots

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// Standby keeps a session and a replication connection open to every
// member of a cluster ahead of any failure, so that a reference recovery
// (Input.Standby) begins without logging in: on the 2-core machine the
// four logins of a 3-node recovery took 30-45 ms of a 250 ms recovery,
// and their CPU slowed the fence beside them (bench rto). Each pair
// serves one recovery; Run opens a new one for every member lacking one.
// A pair that went stale (its node restarted) is found so when used and
// replaced by a fresh login, so a Standby never makes a recovery fail.
// After a pair is taken, no new one is opened for RefillAfter: logging in
// again right away would take the CPU from the recovery that just began.
type Standby struct {
	// Members lists the nodes to keep connections to; called every round.
	Members func() []recovery.Survivor
	// Every is the pace of the rounds (default DefaultKeeperEvery).
	Every time.Duration
	// Timeout bounds each login (default 5s).
	Timeout time.Duration
	// RefillAfter is how long after a pair was taken no new ones are
	// opened (default DefaultRefillAfter).
	RefillAfter time.Duration
	// Logger receives what could not be opened (default slog.Default()).
	Logger *slog.Logger

	mu    sync.Mutex
	pairs map[string]*recovery.Kept
	// quietUntil: no logins before then (a recovery took a pair).
	quietUntil time.Time
}

// DefaultRefillAfter is Standby.RefillAfter's default: longer than a
// recovery of thousands of transactions takes on the 2-core machine.
const DefaultRefillAfter = 3 * time.Second

// Run keeps the connections until ctx is done, then closes them.
func (s *Standby) Run(ctx context.Context) {
	defer s.Close()
	runRounds(ctx, s.Every, s.Round)
}

// Round opens a pair for every member lacking one (side by side) and
// closes those of nodes no longer members.
func (s *Standby) Round(ctx context.Context) {
	members := s.Members()
	want := map[string]bool{}
	var missing []recovery.Survivor
	s.mu.Lock()
	if s.pairs == nil {
		s.pairs = map[string]*recovery.Kept{}
	}
	quiet := time.Now().Before(s.quietUntil)
	for _, m := range members {
		want[m.Name] = true
		if s.pairs[m.Name] == nil && !quiet {
			missing = append(missing, m)
		}
	}
	var gone []*recovery.Kept
	for name, p := range s.pairs {
		if !want[name] {
			gone = append(gone, p)
			delete(s.pairs, name)
		}
	}
	s.mu.Unlock()
	for _, p := range gone {
		closeKept(p)
	}
	var wg sync.WaitGroup
	for _, m := range missing {
		wg.Go(func() {
			p, err := s.open(ctx, m)
			if err != nil {
				s.logger().Debug("recovery standby: could not connect", "node", m.Name, "err", err)
				return
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.pairs[m.Name] != nil || s.pairs == nil {
				closeKept(p)
				return
			}
			s.pairs[m.Name] = p
		})
	}
	wg.Wait()
}

// open logs in to m twice: a session over its DSN, and a replication
// connection over its DirectDSN when that reaches the same server (same
// system identifier), else over its DSN.
func (s *Standby) open(ctx context.Context, m recovery.Survivor) (*recovery.Kept, error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	session, err := pgx.Connect(ctx, m.DSN)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	var sysid string
	if err := session.QueryRow(ctx, "SELECT system_identifier::text FROM pg_control_system()").Scan(&sysid); err != nil {
		session.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("system identifier: %w", err)
	}
	// Warm the session's caches for the replay: a backend's first read of
	// the column types (openTarget) took 18 ms against 2 ms for the next.
	_, _ = session.Exec(ctx, pgnode.PreloadTypesSQL, pgnode.PreloadColumns)
	p := &recovery.Kept{Session: session}
	try := func(dsn, via string) bool {
		repl, err := pgnode.OpenReplication(ctx, dsn)
		if err != nil {
			return false
		}
		id, err := pglogrepl.IdentifySystem(ctx, repl)
		if err != nil || id.SystemID != sysid {
			repl.Close(context.WithoutCancel(ctx))
			return false
		}
		p.Repl, p.Via = repl, via
		return true
	}
	if m.DirectDSN == "" || !try(m.DirectDSN, "at its run-network address") {
		try(m.DSN, "through its published port")
	}
	if p.Repl != nil {
		warmDecoding(ctx, p.Repl)
	}
	return p, nil
}

// warmDecoding peeks one free recovery slot of the node for a single
// change over repl, best effort, so that the backend has loaded pgoutput
// and cached the publication and its tables before a recovery peeks: a
// backend's first peek cost 5.6 ms against 2.3 ms for the next on an idle
// node, several times that under load. A slot that became busy meanwhile
// (the keeper advancing it) makes it fail, which changes nothing.
func warmDecoding(ctx context.Context, repl *pgconn.PgConn) {
	_, _ = repl.Exec(ctx, `SELECT count(*) FROM (SELECT slot_name FROM pg_replication_slots
WHERE slot_type = 'logical' AND plugin = 'pgoutput' AND NOT active AND slot_name LIKE '`+recovery.OwnSlotPattern+`' LIMIT 1) s,
LATERAL pg_logical_slot_peek_binary_changes(s.slot_name, NULL, 1, `+pgnode.PeekArgs(pgversion.Of(repl))+`)`).ReadAll()
}

// Holds tells whether a pair is kept for name, and whether it has a
// replication connection.
func (s *Standby) Holds(name string) (pair, repl bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pairs[name]
	return p != nil, p != nil && p.Repl != nil
}

// Take hands over name's pair (nil if none); the caller owns it.
func (s *Standby) Take(name string) *recovery.Kept {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pairs[name]
	delete(s.pairs, name)
	refill := s.RefillAfter
	if refill == 0 {
		refill = DefaultRefillAfter
	}
	s.quietUntil = time.Now().Add(refill)
	return p
}

// Close closes every connection kept.
func (s *Standby) Close() {
	s.mu.Lock()
	pairs := s.pairs
	s.pairs = nil
	s.mu.Unlock()
	for _, p := range pairs {
		closeKept(p)
	}
}

func closeKept(p *recovery.Kept) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p.Session.Close(ctx) // bounded: the node may be paused
	if p.Repl != nil {
		p.Repl.Close(ctx)
	}
}

func (s *Standby) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
