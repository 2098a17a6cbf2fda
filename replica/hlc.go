package replica

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
