package replica

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// End-to-end encryption of sync. A group is encrypted or not, once and for
// all, by its first device: the group's stream holds one message on the
// subject cairn.<group>.meta (groupMeta), published only if the subject is
// still empty, naming the scheme, the Argon2id salt and cost, and a check
// value sealed with the key. Every device derives the same key from the
// passphrase and that salt (once per process), and refuses to sync when
// the check does not open (ErrDecrypt: a wrong or missing passphrase) or
// when it has a passphrase and the group has none (ErrEncryptionMismatch).
//
// With a key, the server sees:
//
//   - change messages: 'E' ‖ nonce 24 ‖ XChaCha20-Poly1305(message JSON),
//     additional data the subject; the subject names the group and the
//     device, the Nats-Msg-Id header the device and a counter;
//   - messages too large for the stream: the stub and the body object
//     ("msg-<device>-<n>") sealed the same way;
//   - attachment contents: objects named "b-" ‖ HMAC-SHA256(name key,
//     content SHA-256), so the server cannot confirm a known file by its
//     hash, holding blobMagic ‖ nonce prefix 16 ‖ the chunks of crypt.go.
//
// Collection names, document ids and field names travel only inside the
// sealed messages.

const (
	syncScheme  = "argon2id+xchacha20poly1305"
	sealedTag   = 'E'
	blobMagic   = "CAIRNBLB1\n"
	keyCheckMsg = "cairn sync key check"
)

// groupMeta is the group's encryption record on cairn.<group>.meta.
type groupMeta struct {
	Scheme  string `json:"scheme"` // syncScheme, or "none"
	Salt    []byte `json:"salt,omitempty"`
	MemKiB  uint32 `json:"mem_kib,omitempty"`
	Passes  uint8  `json:"passes,omitempty"`
	Threads uint8  `json:"threads,omitempty"`
	Check   []byte `json:"check,omitempty"` // keyCheckMsg sealed with the key
}

// sealer seals and opens a group's messages and blobs.
type sealer struct {
	aead    cipher.AEAD
	nameKey []byte
}

// sealers caches the keys derived in this process: Argon2id is slow by
// design, so it runs once per passphrase, salt and cost.
var sealers sync.Map // [32]byte → *sealer

func newSealer(pass string, m *groupMeta) (*sealer, error) {
	if m.MemKiB < 8 || m.MemKiB > 1<<20 || m.Passes == 0 || m.Passes > 16 || m.Threads == 0 || len(m.Salt) < 16 {
		return nil, fmt.Errorf("%w: the group's encryption record has an implausible key-derivation cost", ErrDecrypt)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%d\x00%d\x00%x\x00", m.MemKiB, m.Passes, m.Threads, m.Salt)
	h.Write([]byte(pass))
	var id [32]byte
	h.Sum(id[:0])
	if s, ok := sealers.Load(id); ok {
		return s.(*sealer), nil
	}
	k := argon2.IDKey([]byte(pass), m.Salt, uint32(m.Passes), m.MemKiB, m.Threads, 64)
	aead, err := chacha20poly1305.NewX(k[:32])
	if err != nil {
		return nil, err
	}
	s := &sealer{aead: aead, nameKey: k[32:]}
	sealers.Store(id, s)
	return s, nil
}

// seal returns 'E' ‖ nonce ‖ the sealed plain, bound to ad.
func (s *sealer) seal(plain, ad []byte) ([]byte, error) {
	out := make([]byte, 1+chacha20poly1305.NonceSizeX, 1+chacha20poly1305.NonceSizeX+len(plain)+s.aead.Overhead())
	out[0] = sealedTag
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[1:], plain, ad), nil
}

// open reverses seal.
func (s *sealer) open(b, ad []byte) ([]byte, error) {
	if len(b) < 1+chacha20poly1305.NonceSizeX+s.aead.Overhead() || b[0] != sealedTag {
		return nil, fmt.Errorf("%w: not a sealed message (an unencrypted device in an encrypted group?)", ErrDecrypt)
	}
	plain, err := s.aead.Open(nil, b[1:1+chacha20poly1305.NonceSizeX], b[1+chacha20poly1305.NonceSizeX:], ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// blobName is the object name of the attachment content hash.
func (s *sealer) blobName(hash string) string {
	m := hmac.New(sha256.New, s.nameKey)
	m.Write([]byte(hash))
	return "b-" + hex.EncodeToString(m.Sum(nil))
}

// sealBlob writes r's bytes to w sealed: blobMagic, a random nonce
// prefix, then the chunks.
func (s *sealer) sealBlob(w io.Writer, r io.Reader) error {
	var hdr [len(blobMagic) + 16]byte
	copy(hdr[:], blobMagic)
	if _, err := rand.Read(hdr[len(blobMagic):]); err != nil {
		return err
	}
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	return sealChunks(w, r, s.aead, hdr[len(blobMagic):])
}

// openBlob writes the plaintext of a sealed blob to w.
func (s *sealer) openBlob(w io.Writer, r io.Reader) error {
	var hdr [len(blobMagic) + 16]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[:len(blobMagic)]) != blobMagic {
		return fmt.Errorf("%w: not a sealed attachment content", ErrDecrypt)
	}
	return openChunks(w, r, s.aead, hdr[len(blobMagic):])
}

func (r *Replica) metaSubject() string { return "cairn." + r.opts.Group + ".meta" }

// setupEncryption reads the group's encryption record, creating it when
// the group has none, and sets r.seal when the group is encrypted.
func (r *Replica) setupEncryption(ctx context.Context) error {
	if r.opts.Passphrase == "" {
		st, err := r.readState(ctx)
		if err != nil {
			return err
		}
		if st.Encrypted {
			return fmt.Errorf("%w: this store has synced group %q encrypted end to end: a passphrase is needed", ErrDecrypt, st.Group)
		}
	}
	meta, err := r.readMeta(ctx)
	if err != nil {
		return err
	}
	if meta == nil {
		info, err := r.stream.Info(ctx)
		if err != nil {
			return fmt.Errorf("replica: stream info: %w", err)
		}
		if info.State.Msgs > 0 && r.opts.Passphrase != "" {
			return fmt.Errorf("%w: group %q already holds unencrypted changes; an encrypted group needs a new group name", ErrEncryptionMismatch, r.opts.Group)
		}
		mine := &groupMeta{Scheme: "none"}
		if r.opts.Passphrase != "" {
			mine = &groupMeta{Scheme: syncScheme, Salt: make([]byte, 16), MemKiB: kdf.memKiB, Passes: kdf.passes, Threads: kdf.threads}
			if _, err := rand.Read(mine.Salt); err != nil {
				return err
			}
			s, err := newSealer(r.opts.Passphrase, mine)
			if err != nil {
				return err
			}
			if mine.Check, err = s.seal([]byte(keyCheckMsg), []byte(r.opts.Group)); err != nil {
				return err
			}
		}
		b, err := json.Marshal(mine)
		if err != nil {
			return err
		}
		// Only onto an empty subject: when another device went first, the
		// publish fails and its record decides.
		_, perr := r.js.Publish(ctx, r.metaSubject(), b, jetstream.WithExpectLastSequencePerSubject(0))
		if meta, err = r.readMeta(ctx); err != nil {
			return err
		}
		if meta == nil {
			return fmt.Errorf("replica: record the group's encryption: %w", errors.Join(perr, errors.New("no record on the stream")))
		}
	}
	switch {
	case meta.Scheme == "none" && r.opts.Passphrase == "":
		return nil
	case meta.Scheme == "none":
		return fmt.Errorf("%w: group %q is not encrypted, and this device has a passphrase; an encrypted group needs a new group name", ErrEncryptionMismatch, r.opts.Group)
	case meta.Scheme != syncScheme:
		return fmt.Errorf("%w: group %q is encrypted with %q, which this Cairn does not know", ErrDecrypt, r.opts.Group, meta.Scheme)
	case r.opts.Passphrase == "":
		return fmt.Errorf("%w: group %q is encrypted end to end: a passphrase is needed", ErrDecrypt, r.opts.Group)
	}
	s, err := newSealer(r.opts.Passphrase, meta)
	if err != nil {
		return err
	}
	if b, err := s.open(meta.Check, []byte(r.opts.Group)); err != nil || string(b) != keyCheckMsg {
		return fmt.Errorf("%w: the passphrase does not open group %q", ErrDecrypt, r.opts.Group)
	}
	r.seal = s
	return nil
}

// readMeta returns the group's encryption record, nil when there is none.
func (r *Replica) readMeta(ctx context.Context) (*groupMeta, error) {
	raw, err := r.stream.GetLastMsgForSubject(ctx, r.metaSubject())
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("replica: read the group's encryption record: %w", err)
	}
	m := &groupMeta{}
	d := json.NewDecoder(bytes.NewReader(raw.Data))
	d.DisallowUnknownFields()
	if err := d.Decode(m); err != nil || m.Scheme == "" {
		return nil, fmt.Errorf("%w: the group's encryption record (stream %s sequence %d) does not parse", ErrBadMessage, r.streamName(), raw.Sequence)
	}
	return m, nil
}

// sealMsg seals a message payload for subject when the group is
// encrypted.
func (r *Replica) sealMsg(b []byte, subject string) ([]byte, error) {
	if r.seal == nil {
		return b, nil
	}
	return r.seal.seal(b, []byte(subject))
}

// openMsg reverses sealMsg; an unencrypted group's payload must be JSON.
func (r *Replica) openMsg(b []byte, subject string) ([]byte, error) {
	if r.seal == nil {
		if len(b) > 0 && b[0] == sealedTag {
			return nil, fmt.Errorf("%w: an encrypted message in a group that is not encrypted", ErrEncryptionMismatch)
		}
		return b, nil
	}
	return r.seal.open(b, []byte(subject))
}

// blobObject is the object name of an attachment content.
func (r *Replica) blobObject(hash string) string {
	if r.seal == nil {
		return hash
	}
	return r.seal.blobName(hash)
}
