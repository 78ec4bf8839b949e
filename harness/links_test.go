package harness

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer answers every line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// roundTrip sends one line through addr and returns how long the echo took.
func roundTrip(t *testing.T, addr string) time.Duration {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		t.Fatalf("read echo through %s: %v", addr, err)
	}
	return time.Since(start)
}

func twoLinks(t *testing.T) (*LinkProxies, LinkName, LinkName) {
	t.Helper()
	upstream := echoServer(t)
	lp := newLinkProxies("127.0.0.1")
	t.Cleanup(lp.Close)
	slow, fast := LinkName{Subscriber: "n2", Provider: "n1"}, LinkName{Subscriber: "n3", Provider: "n1"}
	for _, n := range []LinkName{slow, fast} {
		if err := lp.add(n, upstream); err != nil {
			t.Fatal(err)
		}
	}
	return lp, slow, fast
}

func TestLatencyToxicDelaysOnlyItsLinkUntilRemoved(t *testing.T) {
	lp, slow, fast := twoLinks(t)
	if d := roundTrip(t, lp.listen(slow)); d > 200*time.Millisecond {
		t.Fatalf("link %s slow before any toxic: %s", slow, d)
	}
	err := lp.AddToxic(slow, Toxic{Name: "lat", Type: "latency", Stream: Downstream, Attributes: map[string]any{"latency": 300}})
	if err != nil {
		t.Fatal(err)
	}
	if got := lp.ToxicNames(slow); len(got) != 1 || got[0] != "lat" {
		t.Fatalf("toxics on %s: %v", slow, got)
	}
	if d := roundTrip(t, lp.listen(slow)); d < 300*time.Millisecond {
		t.Errorf("link %s with 300 ms latency answered in %s", slow, d)
	}
	if d := roundTrip(t, lp.listen(fast)); d > 200*time.Millisecond {
		t.Errorf("link %s without a toxic answered in %s", fast, d)
	}
	if err := lp.RemoveToxic(context.Background(), slow, "lat"); err != nil {
		t.Fatal(err)
	}
	if err := lp.RemoveToxic(context.Background(), slow, "lat"); err != nil {
		t.Errorf("removing a toxic twice: %v", err)
	}
	if d := roundTrip(t, lp.listen(slow)); d > 200*time.Millisecond {
		t.Errorf("link %s still slow after the toxic was removed: %s", slow, d)
	}
}

func TestDisabledLinkRefusesUntilRestoredOnTheSamePort(t *testing.T) {
	lp, link, _ := twoLinks(t)
	addr := lp.listen(link)
	if err := lp.SetEnabled(link, false); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("a cut link %s accepted a connection", link)
	}
	if err := lp.SetEnabled(link, true); err != nil {
		t.Fatal(err)
	}
	if lp.listen(link) != addr {
		t.Fatalf("restored link moved from %s to %s", addr, lp.listen(link))
	}
	roundTrip(t, addr)
}

func TestLinkDSNPointsAtTheProxyAndKeepsTheRest(t *testing.T) {
	lp, link, _ := twoLinks(t)
	dsn, err := lp.DSN(link, "host=n1 port=5432 dbname=postgres user=postgres password=x sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(lp.listen(link))
	want := "host=" + host + " port=" + port + " dbname=postgres user=postgres password=x sslmode=disable"
	if dsn != want {
		t.Errorf("DSN = %q, want %q", dsn, want)
	}
	if got := lp.NodeLinks("n2"); len(got) != 1 || got[0] != link {
		t.Errorf("links of n2: %v", got)
	}
	if _, err := lp.DSN(LinkName{Subscriber: "n9", Provider: "n1"}, "host=n1"); err == nil || !strings.Contains(err.Error(), "n1->n9") {
		t.Errorf("DSN of an unknown link: %v", err)
	}
}

func TestFakeTimeOffsetIsWholeSignedSeconds(t *testing.T) {
	for in, want := range map[time.Duration]string{30 * time.Second: "+30", -7 * time.Second: "-7", 0: "+0", 1600 * time.Millisecond: "+2"} {
		if got := FakeTimeOffset(in); got != want {
			t.Errorf("FakeTimeOffset(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestFlavorsSwitchASubscriptionToItsDirectInterface(t *testing.T) {
	for flavor, want := range map[InterfaceSwitcher][2]string{
		pglogical{}: {"pglogical.alter_node_add_interface", "pglogical.alter_subscription_interface"},
		spock{}:     {"spock.node_add_interface", "spock.sub_alter_interface"},
	} {
		add := flavor.AddInterface("n1", directInterface, "host=n1 port=5432")
		use := flavor.UseInterface("sub_n2_n1", directInterface)
		if len(add) != 1 || !strings.Contains(add[0].SQL, want[0]) || add[0].Args[0] != "n1" || add[0].Args[2] != "host=n1 port=5432" {
			t.Errorf("%T AddInterface: %+v", flavor, add)
		}
		if len(use) != 1 || !strings.Contains(use[0].SQL, want[1]) || use[0].Args[0] != "sub_n2_n1" {
			t.Errorf("%T UseInterface: %+v", flavor, use)
		}
	}
}
