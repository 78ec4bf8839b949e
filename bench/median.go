package bench

import (
	"io"
	"slices"
	"time"
)

// median is the middle value of xs (the mean of the two middle ones for
// an even count); xs must not be empty.
func median[T ~int64 | ~float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ratio is a/b, or 0 when b is not positive.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// ms rounds d to the millisecond, as every progress line shows times.
func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// progress is w, or io.Discard when w is nil.
func progress(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
