package replica

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Encrypted backups: a passphrase is stretched with Argon2id into a key
// for XChaCha20-Poly1305, and the data is sealed in chunks, so the server
// sees only ciphertext and a backup of any size streams through.
//
//	magic "CAIRNENC1\n" | salt 16 | nonce prefix 16 |
//	Argon2id memory KiB uint32 BE | passes uint8 | threads uint8 |
//	chunks: length uint32 BE (of the sealed chunk) | sealed chunk
//
// Chunk i is sealed with nonce prefix‖i (8 bytes BE) and additional data
// one byte, 1 for the last chunk and 0 otherwise, so chunks can be neither
// reordered, dropped nor cut off at the end unnoticed.
const (
	encMagic  = "CAIRNENC1\n"
	encChunk  = 1 << 20
	encScheme = "argon2id+xchacha20poly1305"
)

// ErrDecrypt is returned when encrypted data does not open: a wrong
// passphrase, or damaged or truncated data.
var ErrDecrypt = errors.New("replica: cannot decrypt (wrong passphrase, or the data is damaged)")

// kdf holds the Argon2id cost new encryptions use (recorded in the header;
// tests lower it).
var kdf = struct {
	memKiB          uint32
	passes, threads uint8
}{64 * 1024, 2, 2}

const hdrLen = len(encMagic) + 32 + 6

func deriveKey(pass string, salt []byte, memKiB uint32, passes, threads uint8) []byte {
	return argon2.IDKey([]byte(pass), salt, uint32(passes), memKiB, threads, chacha20poly1305.KeySize)
}

// encrypt writes r's bytes to w sealed with a key derived from pass.
func encrypt(w io.Writer, r io.Reader, pass string) error {
	var hdr [hdrLen]byte
	copy(hdr[:], encMagic)
	if _, err := rand.Read(hdr[len(encMagic) : len(encMagic)+32]); err != nil {
		return err
	}
	binary.BigEndian.PutUint32(hdr[len(encMagic)+32:], kdf.memKiB)
	hdr[hdrLen-2], hdr[hdrLen-1] = kdf.passes, kdf.threads
	salt, prefix := hdr[len(encMagic):len(encMagic)+16], hdr[len(encMagic)+16:len(encMagic)+32]
	aead, err := chacha20poly1305.NewX(deriveKey(pass, salt, kdf.memKiB, kdf.passes, kdf.threads))
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	return sealChunks(w, r, aead, prefix)
}

// sealChunks writes r's bytes to w as length-prefixed chunks sealed with
// aead, chunk i under nonce prefix‖i, the last one marked by its
// additional data (the chunk layout described above).
func sealChunks(w io.Writer, r io.Reader, aead cipher.AEAD, prefix []byte) error {
	cur := make([]byte, encChunk)
	next := make([]byte, encChunk)
	n, err := io.ReadFull(r, cur)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	copy(nonce, prefix)
	for i := uint64(0); ; i++ {
		m, err := io.ReadFull(r, next)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		last := m == 0
		ad := []byte{0}
		if last {
			ad[0] = 1
		}
		binary.BigEndian.PutUint64(nonce[16:], i)
		sealed := aead.Seal(nil, nonce, cur[:n], ad)
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(sealed)))
		if _, err := w.Write(l[:]); err != nil {
			return err
		}
		if _, err := w.Write(sealed); err != nil {
			return err
		}
		if last {
			return nil
		}
		cur, next, n = next, cur, m
	}
}

// decrypt writes the plaintext of the sealed stream r to w.
func decrypt(w io.Writer, r io.Reader, pass string) error {
	var hdr [hdrLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil && !cutOff(err) {
		return err // the reading failed, not the data
	} else if err != nil || string(hdr[:len(encMagic)]) != encMagic {
		return fmt.Errorf("%w: not an encrypted Cairn backup", ErrDecrypt)
	}
	salt, prefix := hdr[len(encMagic):len(encMagic)+16], hdr[len(encMagic)+16:len(encMagic)+32]
	mem, passes, threads := binary.BigEndian.Uint32(hdr[len(encMagic)+32:]), hdr[hdrLen-2], hdr[hdrLen-1]
	if mem < 8 || mem > 1<<20 || passes == 0 || passes > 16 || threads == 0 {
		return fmt.Errorf("%w: implausible key-derivation cost in the header", ErrDecrypt)
	}
	aead, err := chacha20poly1305.NewX(deriveKey(pass, salt, mem, passes, threads))
	if err != nil {
		return err
	}
	return openChunks(w, r, aead, prefix)
}

// cutOff reports whether err, from reading a sealed stream, means the
// stream ended early (the data is short), not that reading it failed (a
// timeout, a lost connection, a digest that does not match), which the
// caller must hear as such.
func cutOff(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// openChunks writes the plaintext of the chunks sealChunks wrote to w.
func openChunks(w io.Writer, r io.Reader, aead cipher.AEAD, prefix []byte) error {
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	copy(nonce, prefix)
	buf := make([]byte, encChunk+aead.Overhead())
	out := make([]byte, 0, encChunk) // not in place: a failed Open clears its output
	for i := uint64(0); ; i++ {
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			if !cutOff(err) {
				return err // the reading failed, not the data
			}
			return fmt.Errorf("%w: cut off before its last chunk", ErrDecrypt)
		}
		n := binary.BigEndian.Uint32(l[:])
		if n < uint32(aead.Overhead()) || n > uint32(len(buf)) {
			return fmt.Errorf("%w: chunk %d has a bad length", ErrDecrypt, i)
		}
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			if !cutOff(err) {
				return err
			}
			return fmt.Errorf("%w: chunk %d is cut off", ErrDecrypt, i)
		}
		binary.BigEndian.PutUint64(nonce[16:], i)
		plain, err := aead.Open(out[:0], nonce, buf[:n], []byte{0})
		last := false
		if err != nil {
			if plain, err = aead.Open(out[:0], nonce, buf[:n], []byte{1}); err != nil {
				return fmt.Errorf("%w (chunk %d)", ErrDecrypt, i)
			}
			last = true
		}
		if _, err := w.Write(plain); err != nil {
			return err
		}
		if last {
			if m, _ := r.Read(l[:1]); m != 0 {
				return fmt.Errorf("%w: data after the last chunk", ErrDecrypt)
			}
			return nil
		}
	}
}
