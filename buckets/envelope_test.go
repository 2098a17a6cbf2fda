package buckets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/golang/snappy"
)

func TestSeal_layout(t *testing.T) {
	payload := []byte{0x81, 0xa1, 'a', 0x01} // msgpack {"a":1}
	v := Seal(payload)
	if len(v) != len(payload)+envelopeOverhead {
		t.Fatalf("sealed %d bytes into %d", len(payload), len(v))
	}
	if v[0] != 1 || v[1] != 0 {
		t.Errorf("format %d flags %d, want 1 and 0", v[0], v[1])
	}
	if !bytes.Equal(v[2:len(v)-4], payload) {
		t.Errorf("payload %x, want %x", v[2:len(v)-4], payload)
	}
	want := crc32.Checksum(v[:len(v)-4], crc32.MakeTable(crc32.Castagnoli))
	if got := binary.BigEndian.Uint32(v[len(v)-4:]); got != want {
		t.Errorf("trailer %08x, want CRC32C %08x of the preceding bytes", got, want)
	}
}

func TestSeal_snappyOnlyWhenSmaller(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	tests := []struct {
		name    string
		payload []byte
		snappy  bool
	}{
		{"empty", nil, false},
		{"short repetitive", bytes.Repeat([]byte{'a'}, minSnappy-1), false},
		{"repetitive", bytes.Repeat([]byte("abcdefgh"), 100), true},
		{"random", random, false},
		{"text", []byte(strings.Repeat("the quick brown fox jumps over the lazy dog. ", 50)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Seal(tt.payload)
			if got := v[1]&flagSnappy != 0; got != tt.snappy {
				t.Errorf("snappy flag %v, want %v", got, tt.snappy)
			}
			if tt.snappy && len(v) >= len(tt.payload)+envelopeOverhead {
				t.Errorf("compressed value of %d bytes is not smaller than %d", len(v), len(tt.payload)+envelopeOverhead)
			}
			if !tt.snappy && len(v) != len(tt.payload)+envelopeOverhead {
				t.Errorf("uncompressed value of %d bytes for a %d-byte payload", len(v), len(tt.payload))
			}
			got, err := Open([]byte("b"), []byte("k"), v)
			if err != nil || !bytes.Equal(got, tt.payload) {
				t.Errorf("Open(Seal(p)) = %d bytes, %v", len(got), err)
			}
		})
	}
}

func TestOpen_maxSnappyRatio(t *testing.T) {
	// The most compressible input must still open under the expansion bound.
	for _, n := range []int{64, 1000, 1 << 20, 4 << 20} {
		p := make([]byte, n)
		v := Seal(p)
		got, err := Open(nil, nil, v)
		if err != nil || len(got) != n {
			t.Fatalf("%d zero bytes: Open = %d bytes, %v", n, len(got), err)
		}
		t.Logf("%d zero bytes sealed into %d (ratio %.1f)", n, len(v), float64(n)/float64(len(v)-envelopeOverhead))
	}
}

func TestOpen_snappyClaimAllocatesNothing(t *testing.T) {
	for _, n := range []uint64{1 << 30, 1<<30 - 1, 100 << 20, 23 * 8} {
		v := sealedWithFlags(flagSnappy, append(binary.AppendUvarint(nil, n), 0, 0))
		if _, err := Open(nil, nil, v); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("claim of %d bytes: %v", n, err)
		}
		if got := allocBytes(func() { _, _ = Open(nil, nil, v) }); got > 4096 {
			t.Errorf("a %d-byte value claiming %d bytes allocated %d", len(v), n, got)
		}
	}
}

func sealedWithFlags(flags byte, payload []byte) []byte {
	v := append([]byte{envelopeVersion, flags}, payload...)
	return binary.BigEndian.AppendUint32(v, crc32.Checksum(v, castagnoli))
}

func TestOpen_damage(t *testing.T) {
	good := Seal([]byte(strings.Repeat("payload ", 20)))
	tests := []struct {
		name string
		v    []byte
		want string
	}{
		{"empty", nil, "shorter"},
		{"five bytes", good[:5], "shorter"},
		{"truncated by one", good[:len(good)-1], "checksum"},
		{"truncated payload", append(append([]byte{}, good[:10]...), good[len(good)-4:]...), "checksum"},
		{"extra byte", append(append([]byte{}, good...), 0), "checksum"},
		{"format 2", func() []byte {
			v := []byte{2, 0, 'x'}
			return binary.BigEndian.AppendUint32(v, crc32.Checksum(v, castagnoli))
		}(), "unknown value format 2"},
		{"unknown flag", sealedWithFlags(0x02, []byte("x")), "unknown flags"},
		{"bad snappy", sealedWithFlags(flagSnappy, []byte{0x05, 0xff, 0xff}), "snappy"},
		{"snappy claims 4 GiB", sealedWithFlags(flagSnappy, []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}), "snappy"},
		{"snappy claims 1000x", sealedWithFlags(flagSnappy, binary.AppendUvarint(nil, 10000)), "snappy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Open([]byte("c/sessions"), []byte("s-1"), tt.v)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %x, %v, want ErrCorrupt", p, err)
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Bucket != "c/sessions" || ce.Key != "s-1" {
				t.Errorf("error %#v does not name bucket and key", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || !strings.Contains(msg, `"c/sessions"`) || !strings.Contains(msg, `"s-1"`) {
				t.Errorf("error %q, want it to mention %q, the bucket and the key", msg, tt.want)
			}
		})
	}
}

// TestOpen_everyBitFlip flips each bit of sealed values, compressed and not,
// and requires every flip to be reported as corruption naming bucket and key.
func TestOpen_everyBitFlip(t *testing.T) {
	doc := sessionDoc(3)
	payload, err := MarshalValue(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]byte{Seal(payload), Seal(payload[:40]), Seal(nil)} {
		for i := 0; i < len(v)*8; i++ {
			d := append([]byte{}, v...)
			d[i/8] ^= 1 << (i % 8)
			_, err := Open([]byte("c/sessions"), []byte("s-42"), d)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flip of bit %d of %d-byte value (flags %d): err %v", i, len(v), v[1], err)
			}
			if !strings.Contains(err.Error(), `bucket "c/sessions" key "s-42"`) {
				t.Fatalf("flip of bit %d: %q does not name bucket and key", i, err)
			}
			if _, err := DecodeValue([]byte("c/sessions"), []byte("s-42"), d); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeValue after flip of bit %d: %v", i, err)
			}
		}
	}
}

func TestDecodeRecord_everyBitFlip(t *testing.T) {
	v, err := EncodeRecord(&Record{Rev: 7, Size: 9, ArrayParts: map[string]uint32{"screenshots": 2}, BlobParts: []string{"summary"}, Doc: sessionDoc(1)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(v)*8; i++ {
		d := append([]byte{}, v...)
		d[i/8] ^= 1 << (i % 8)
		for _, withDoc := range []bool{true, false} {
			r, err := DecodeRecord([]byte("c/sessions"), []byte("s-42"), d, withDoc)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `bucket "c/sessions" key "s-42"`) {
				t.Fatalf("flip of bit %d: DecodeRecord = %+v, %v", i, r, err)
			}
		}
	}
}

func TestOpen_everyTruncation(t *testing.T) {
	payload, _ := MarshalValue(sessionDoc(1))
	for _, v := range [][]byte{Seal(payload), Seal(payload[:50])} {
		for n := 0; n < len(v); n++ {
			if _, err := Open([]byte("m/notes"), []byte("n"), v[:n]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("truncated to %d of %d bytes: %v", n, len(v), err)
			}
		}
	}
}

func TestEncodeValue_roundTrip(t *testing.T) {
	for _, v := range modelValues() {
		b, err := EncodeValue(v)
		if err != nil {
			t.Fatalf("EncodeValue(%#v): %v", v, err)
		}
		got, err := DecodeValue(nil, nil, b)
		if err != nil {
			t.Fatalf("DecodeValue(EncodeValue(%#v)): %v", v, err)
		}
		assertModelEqual(t, got, v)
	}
	// A checksum-valid envelope around bytes that are not msgpack is
	// corruption too.
	_, err := DecodeValue([]byte("p/sessions"), []byte("k"), Seal([]byte{0xc1}))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "msgpack") {
		t.Errorf("DecodeValue(Seal(0xc1)) = %v", err)
	}
}

func TestSnappyMaxRatioBound(t *testing.T) {
	// The Open bound assumes snappy never expands more than 22x; check the
	// encoder's best case stays under it.
	p := make([]byte, 8<<20)
	c := snappy.Encode(nil, p)
	if len(p) > 22*len(c) {
		t.Fatalf("snappy compressed %d bytes to %d", len(p), len(c))
	}
}
