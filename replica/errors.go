package replica

import "errors"

var (
	// ErrInvalidName is returned for a group or device name that is not
	// 1 to 64 characters of [A-Za-z0-9_-] (they become NATS subjects and
	// stream names).
	ErrInvalidName = errors.New("replica: invalid name")
	// ErrBadMessage is returned when a message on the stream does not
	// decode; the error names its stream sequence.
	ErrBadMessage = errors.New("replica: bad message")
	// ErrBlobMismatch is returned when an attachment's or backup's bytes
	// do not hash to the SHA-256 they were announced with.
	ErrBlobMismatch = errors.New("replica: content does not match its SHA-256")
	// ErrBackupNotFound is returned by PullBackup for a name the object
	// store does not hold.
	ErrBackupNotFound = errors.New("replica: no such backup in the object store")
	// ErrEncryptionMismatch is returned when a device with a passphrase
	// joins a group that is not encrypted (or holds unencrypted changes),
	// or meets an encrypted message in a group that is not encrypted. A
	// device without a passphrase in an encrypted group gets ErrDecrypt.
	ErrEncryptionMismatch = errors.New("replica: the group's encryption does not match this device's")
)
