package history_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spockchaos/spockchaos/workload/history"
)

// FuzzReadAll: any bytes as history.jsonl either read as a valid history
// (which encodes and reads back the same) or give a one-line error; never a
// panic. Seeds run as ordinary tests; fuzz with
// `go test -run '^$' -fuzz '^FuzzReadAll$' -fuzztime 60s ./workload/history`.
func FuzzReadAll(f *testing.F) {
	var buf bytes.Buffer
	rec := history.NewRecorder(&buf)
	inv := rec.Invoke("n1-c0", "n1", "ledger-txn", map[string]int{"rows": 2}, "t1")
	rec.Complete(inv, history.Ok, nil, "")
	rec.Fault("kill", "n1", history.FaultEvent{Phase: history.FaultStart, Target: []string{"n1"}})
	rec.Invoke("n2-c0", "n2", "ledger-txn", nil, "t2")
	if err := rec.Close(); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	for _, b := range [][]byte{
		good, {}, []byte("\n\n"), good[:len(good)-7], good[:len(good)/2],
		append([]byte{0xff, 0xfe, '\n'}, good...),
		append(append([]byte{}, good...), 0xc3, 0x28),
		bytes.Replace(good, []byte(`"index":1`), []byte(`"index":"1"`), 1),
		bytes.Replace(good, []byte(`"index":1`), []byte(`"index":7`), 1),
		[]byte(`{"index":0,"type":"ok","process":"p","f":"x"}`),
		[]byte(`{"index":0,"type":"wat"}`),
		[]byte("null\n[]\n"),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := history.ReadAll(bytes.NewReader(data))
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is more than one line: %q", err)
			}
			return
		}
		if err := history.Validate(res.Ops); err != nil {
			t.Fatalf("ReadAll returned a history that does not validate: %v", err)
		}
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		for _, op := range res.Ops {
			if err := enc.Encode(op); err != nil {
				t.Fatalf("encode op %d: %v", op.Index, err)
			}
		}
		again, err := history.ReadAll(&out)
		if err != nil {
			t.Fatalf("a history read back after writing fails: %v", err)
		}
		if len(again.Ops) != len(res.Ops) || again.Truncated {
			t.Fatalf("round trip: %d ops, then %d (truncated %v)", len(res.Ops), len(again.Ops), again.Truncated)
		}
		_ = history.Pairs(res.Ops)
		_ = history.Faults(res.Ops)
	})
}
