package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// ClockSkew needs harness.Config.ClockSkew (libfaketime preloaded,
// offset file rewritten at run time; harness.ClockSkewSupport). Its
// effect: clock_timestamp() on the node is off by the offset while a
// peer's is not, a marker committed on the node carries a commit
// timestamp off by the offset as the peer has it, and, on pglogical, a
// peer's commit applied on the skewed node keeps the peer's stamp
// (Spock restamps it: recorded, not required; appliedKeepsOriginStamp).
// Spock keeps commit stamps monotonic across the cluster, so there a
// node's own commits may stay stamped up to the run's furthest skew
// ahead (ownStampOK, Cluster.PeakClockOffset).

// MinClockSkew is the least offset ClockSkew accepts: below it, the check
// could not tell a skew from the noise of measuring one.
const MinClockSkew = 2 * time.Second

// clockSkew offsets one node's clock (libfaketime, see harness.SetClockOffset).
type clockSkew struct {
	base
	offset time.Duration
}

// ClockSkew sets node's clock offset to offset (whole seconds, at least
// MinClockSkew either way). Effect: now() on node is off the host's clock
// by offset within a tolerance while a peer's is not, and a marker
// committed on node carries a commit timestamp off by offset on a peer
// (PostgreSQL stamps commits with the local clock, and replication keeps
// the origin's timestamp). Heal sets the offset back to 0.
func ClockSkew(c *harness.Cluster, node string, offset time.Duration) Mode {
	return &clockSkew{base: base{c: c, kind: "clock-skew", node: node}, offset: offset.Round(time.Second)}
}

func (k *clockSkew) StartDetail() Detail { return Detail{"offset_ms": k.offset.Milliseconds()} }

func (k *clockSkew) Inject(ctx context.Context) error {
	n, err := k.target()
	if err != nil {
		return err
	}
	if k.offset.Abs() < MinClockSkew {
		return fmt.Errorf("clock skew on %s: offset %s is below %s", k.node, k.offset, MinClockSkew)
	}
	return k.c.SetClockOffset(ctx, n, k.offset)
}

func (k *clockSkew) Heal(ctx context.Context) error {
	n, err := k.target()
	if err != nil {
		return err
	}
	return k.c.SetClockOffset(ctx, n, 0)
}

// skewTolerance is how far a measured offset may be from the one set.
func skewTolerance(offset time.Duration) time.Duration { return max(time.Second, offset.Abs()/10) }

func (k *clockSkew) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	return k.checkOffset(ctx, k.offset, timeout)
}

func (k *clockSkew) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	start := time.Now()
	d, err := k.checkOffset(ctx, 0, timeout)
	if err != nil {
		return nil, err
	}
	n, _ := k.target()
	if _, err := checkRejoined(ctx, k.c, n, timeout-time.Since(start)); err != nil {
		return nil, err
	}
	return d, nil
}

// checkOffset waits until node's clock and the commit timestamps of its
// markers, seen on a peer, are off by want, while the peer's are not.
func (k *clockSkew) checkOffset(ctx context.Context, want time.Duration, timeout time.Duration) (Detail, error) {
	n, err := k.target()
	if err != nil {
		return nil, err
	}
	live, _, err := splitLive(ctx, others(k.c, n))
	if err != nil {
		return nil, err
	}
	if len(live) == 0 {
		return nil, fmt.Errorf("clock skew on %s: no live peer to compare with", k.node)
	}
	peer := live[0]
	tol := skewTolerance(want)
	detail := Detail{"peer": peer.Name, "want_offset_ms": want.Milliseconds(), "tolerance_ms": tol.Milliseconds()}
	what := fmt.Sprintf("the clock of %s to be off by %s (peer %s: by 0)", n.Name, want, peer.Name)
	err = harness.WaitFor(ctx, what, timeout, 200*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		got, err := clockOffset(ctx, n)
		if err != nil {
			return false, err.Error(), nil
		}
		ref, err := clockOffset(ctx, peer)
		if err != nil {
			return false, err.Error(), nil
		}
		detail["now_offset_ms"], detail["peer_now_offset_ms"] = got.Milliseconds(), ref.Milliseconds()
		if (got-want).Abs() > tol || ref.Abs() > tol {
			return false, fmt.Sprintf("now() on %s is off by %s, on %s by %s", n.Name, got, peer.Name, ref), nil
		}
		return true, "", nil
	})
	if err != nil {
		return nil, err
	}
	// Commit timestamps: of a marker written on node, as the peer has it,
	// and of one written on the peer, as node has it (an applied commit).
	own, err := commitSkew(ctx, n, peer, timeout)
	if err != nil {
		return nil, err
	}
	applied, err := commitSkew(ctx, peer, n, timeout)
	if err != nil {
		return nil, err
	}
	detail["commit_ts_offset_ms"], detail["applied_commit_ts_offset_ms"] = own.Milliseconds(), applied.Milliseconds()
	if !ownStampOK(k.c.Flavor.Name(), own, want, k.c.PeakClockOffset(), tol) {
		return nil, fmt.Errorf("a commit on %s is stamped %s off the host's clock on %s, want %s", n.Name, own, peer.Name, want)
	}
	if applied.Abs() > tol && appliedKeepsOriginStamp(k.c.Flavor.Name()) {
		return nil, fmt.Errorf("a commit of %s applied on %s is stamped %s off the host's clock, want about 0", peer.Name, n.Name, applied)
	}
	return detail, nil
}

// ownStampOK tells whether a commit on the skewed node, stamped own off
// the host's clock, agrees with a node clock off by want; peak is the
// furthest ahead any node's clock was set in the run
// (Cluster.PeakClockOffset). PostgreSQL stamps a commit with the local
// clock: own must be want within tol. Spock's patched PostgreSQL keeps
// commit timestamps monotonic (pg17-025-logical_commit_clock: a local
// commit is stamped at least one microsecond past the highest stamp the
// node has written or applied, and applying a remote commit moves that
// mark to the remote stamp), so a node's commits may stay stamped up to
// the run's peak ahead until the real clock catches up, after its own
// skew or another node's (seen: n2 skewed by -20 s stamped its commits
// 26.9 s ahead after n3 had been 30 s ahead), and are never stamped
// behind its clock: on Spock own may lie anywhere from want to the
// highest of want and peak (each within tol).
func ownStampOK(flavor string, own, want, peak, tol time.Duration) bool {
	if flavor != "spock" {
		return (own - want).Abs() <= tol
	}
	return own >= want-tol && own <= max(want, peak)+tol
}

// appliedKeepsOriginStamp tells whether the effect check may require an
// applied commit to keep its origin's commit timestamp on the skewed node.
// pglogical does (the commit timestamp of an applied transaction is the
// origin's). On Spock 6.0 (PostgreSQL 17.11 with Spock's patches), a
// commit of an unskewed peer applied on a node skewed by +30 s was
// stamped about 30 s off (pg_xact_commit_timestamp of the marker's xmin on
// that node, 2026-12-06): the stamp is the applying node's clock there.
// That is Spock's behaviour under test, not the fault's effect (the
// node's clock and its own commits prove the skew), so on Spock the
// reading is recorded (applied_commit_ts_offset_ms) and not required; the
// checkers judge what it does to the data.
func appliedKeepsOriginStamp(flavor string) bool { return flavor != "spock" }

// clockOffset is clock_timestamp() on n minus the host's clock at the
// middle of the query.
func clockOffset(ctx context.Context, n *harness.Node) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := n.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var at time.Time
	before := time.Now()
	if err := conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&at); err != nil {
		return 0, fmt.Errorf("read the clock of %s: %w", n.Name, err)
	}
	mid := before.Add(time.Since(before) / 2)
	return at.Sub(mid), nil
}

// commitSkew writes a marker on writer, waits for it on reader and
// returns its commit timestamp there minus the host's clock at the write.
func commitSkew(ctx context.Context, writer, reader *harness.Node, timeout time.Duration) (time.Duration, error) {
	token := newToken("clock")
	at := time.Now()
	if err := writeMarker(ctx, writer, token); err != nil {
		return 0, err
	}
	if err := waitMarker(ctx, []*harness.Node{reader}, token, writer.Name, timeout); err != nil {
		return 0, err
	}
	var ts time.Time
	err := queryRow(ctx, reader, 5*time.Second, "SELECT pg_xact_commit_timestamp(xmin) FROM spockchaos.barrier WHERE token = $1 AND node = $2",
		[]any{token, writer.Name}, &ts)
	if err != nil {
		return 0, fmt.Errorf("commit timestamp of marker %s on %s: %w", token, reader.Name, err)
	}
	return ts.Sub(at), nil
}
