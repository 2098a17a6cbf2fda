package kv

import "math/bits"

// initialMmap is bbolt's initial memory map: 1 GiB on 64-bit systems.
var initialMmap = func() int {
	if bits.UintSize == 64 {
		return 1 << 30
	}
	return 0
}()
