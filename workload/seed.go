package workload

import (
	"hash/fnv"
	"math/rand/v2"
)

// ClientRand is the random source of one client: derived from the run's
// seed and the client's process id only, so the same seed replays the same
// choices per client whatever the scheduling.
func ClientRand(seed int64, process string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(process))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// randomText is n lowercase hex-like letters from r (payloads).
func randomText(r *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}
