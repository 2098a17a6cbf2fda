package replica

import (
	"fmt"
	"time"
)

// Clock is a hybrid logical clock reading: T is milliseconds since the Unix
// epoch shifted left by 16 bits plus a counter, D the device that made it.
// Clocks order by T, then by D.
type Clock struct {
	T uint64 `json:"t"`
	D string `json:"d"`
}

// IsZero reports whether c was never set.
func (c Clock) IsZero() bool { return c.T == 0 && c.D == "" }

// Less reports whether c orders before o.
func (c Clock) Less(o Clock) bool {
	return c.T < o.T || (c.T == o.T && c.D < o.D)
}

// tick returns a new clock for device, later than last and than every clock
// seen, at wall time ms.
func tick(last *uint64, ms int64, device string) Clock {
	t := uint64(ms) << 16
	if t <= *last {
		t = *last + 1
	}
	*last = t
	return Clock{T: t, D: device}
}

// observe moves last past a clock received from another device.
func observe(last *uint64, c Clock) {
	if c.T > *last {
		*last = c.T
	}
}

// maxAhead is how far ahead of this device's wall clock a clock received
// from another device may be. A later one (a peer whose clock is wrong,
// or a forged message) would win every merge against this device's own
// later edits, and near 2^64 make its clock wrap: the message is refused
// (ErrClockAhead), and accepted by a later sync once the wall clock has
// come within maxAhead of it.
const maxAhead = 24 * time.Hour

// checkClocks refuses a message that carries a clock later than maxAhead
// past now.
func checkClocks(m *message, now time.Time) error {
	limit := uint64(now.Add(maxAhead).UnixMilli())<<16 | 0xffff
	check := func(what string, c Clock) error {
		if c.T > limit {
			return fmt.Errorf("%w: %s/%s from %s: %s clock %d is more than %v ahead of this device's", ErrClockAhead, m.Coll, m.ID, m.Device, what, c.T, maxAhead)
		}
		return nil
	}
	for _, c := range []*Clock{m.Del, m.Epoch} {
		if c != nil {
			if err := check("a", *c); err != nil {
				return err
			}
		}
	}
	for f, fm := range m.Fields {
		if err := check("field "+f+"'s", fm.C); err != nil {
			return err
		}
		if err := check("field "+f+"'s base", fm.Base); err != nil {
			return err
		}
	}
	return nil
}
