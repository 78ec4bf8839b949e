package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/docker"
)

// ErrNoWALDump: the engine has no image with pg_waldump of the server's
// major (the recipe's node image of that major is it).
var ErrNoWALDump = errors.New("no pg_waldump for this PostgreSQL major")

// walDumpTimeout bounds one node's WAL read: pg_waldump decodes every
// record of the WAL on disk (a run writes a few hundred MB at most).
const walDumpTimeout = 2 * time.Minute

// walDumpScript lists the commit records with an origin of the WAL on
// disk, from its oldest segment, read through /proc/1/root (the node's
// root file system, in its pid namespace): "segment NAME" first, then
// each such commit cut to what the double-apply checker reads
// (verify.ParseWALCommits) with " rels:" and the relfilenodes its
// transaction and subtransactions wrote (from their records' blkrefs),
// and pg_waldump's last line (where the WAL ended). awk keeps the
// relfilenodes of open transactions only.
const walDumpScript = `D="/proc/1/root$1/pg_wal"
F=$(ls "$D" | grep -E '^[0-9A-F]{24}$' | sort | head -1)
[ -n "$F" ] || { echo "no WAL segment in $1/pg_wal" >&2; exit 3; }
echo "segment $F"
"/usr/lib/postgresql/$2/bin/pg_waldump" -p "$D" "$F" 2>&1 | awk '
/^pg_waldump:/ { print; next }
{ tx = $0; sub(/.*tx: */, "", tx); sub(/,.*/, "", tx) }
tx == "0" { next }
/^rmgr: Transaction/ {
  if ($0 ~ /desc: COMMIT/ && $0 ~ /origin: node/) {
    r = rels[tx]
    if ($0 ~ /subxacts: /) {
      s = $0; sub(/.*subxacts: /, "", s); sub(/;.*/, "", s)
      n = split(s, a, " ")
      for (i = 1; i <= n; i++) { r = r rels[a[i]]; delete rels[a[i]] }
    }
    print $0 " rels:" r
  }
  delete rels[tx]
  next
}
/blkref #[0-9]+: rel / {
  line = $0
  while (match(line, /rel [0-9]+\/[0-9]+\/[0-9]+/)) {
    f = substr(line, RSTART + 4, RLENGTH - 4); sub(/.*\//, "", f)
    if (index(rels[tx] " ", " " f " ") == 0) rels[tx] = rels[tx] " " f
    line = substr(line, RSTART + RLENGTH)
  }
}' |
  sed -E 's/^rmgr: Transaction.*(tx: *[0-9]+, lsn: [0-9A-F/]+),.*(desc: COMMIT [0-9-]+ [0-9:.]+ [A-Z]+).*(origin: node [0-9]+, lsn [0-9A-F/]+),.*( rels:[ 0-9]*)$/\1, \2 ; \3,\4/'`

// ReadWALCommits runs pg_waldump over the WAL n has on disk, from a
// helper of the node image of the server's major, and returns the oldest
// segment read and the helper's output (verify.ParseWALCommits reads
// it). Nothing runs inside the node; conn, a connection to n, tells its
// data directory and major. ErrNoWALDump when the engine has no image of
// that major.
func ReadWALCommits(ctx context.Context, n *Node, conn *pgx.Conn) (segment, out string, err error) {
	dataDir, major, err := dataDirAndMajor(ctx, n.Name, conn)
	if err != nil {
		return "", "", err
	}
	image := docker.ImageFor(major)
	cli, err := docker.Client(ctx)
	if err != nil {
		return "", "", fmt.Errorf("read WAL of %s: %w", n.Name, err)
	}
	ok, err := docker.ImageExists(ctx, cli, image)
	cli.Close()
	if err != nil {
		return "", "", fmt.Errorf("read WAL of %s: %w", n.Name, err)
	}
	if !ok {
		return "", "", fmt.Errorf("read WAL of %s (PostgreSQL %d): %w: build %s with `spockchaos image --pg %d`", n.Name, major, ErrNoWALDump, image, major)
	}
	res, err := RunToolOK(ctx, n, Tool{Step: "read WAL with pg_waldump", Image: image, Timeout: walDumpTimeout,
		Cmd: []string{"sh", "-c", walDumpScript, "sh", dataDir, strconv.Itoa(major)}})
	if err != nil {
		return "", "", err
	}
	first, rest, _ := strings.Cut(res, "\n")
	seg, ok := strings.CutPrefix(first, "segment ")
	if !ok {
		return "", "", fmt.Errorf("read WAL of %s: unexpected first line %q", n.Name, first)
	}
	return seg, rest, nil
}

// dataDirAndMajor asks node over conn for its data directory and
// PostgreSQL major.
func dataDirAndMajor(ctx context.Context, node string, conn *pgx.Conn) (string, int, error) {
	var dir string
	var num int
	if err := conn.QueryRow(ctx, `SELECT current_setting('data_directory'), current_setting('server_version_num')::int`).Scan(&dir, &num); err != nil {
		return "", 0, fmt.Errorf("read WAL of %s: data_directory: %w", node, err)
	}
	return dir, num / 10000, nil
}
