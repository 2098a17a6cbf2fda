// Package replica syncs Cairn stores with each other, and keeps backups off
// the machine, through NATS JetStream. It is the only package that imports
// NATS; kv never touches the network.
//
// # Sync
//
// Stores that sync with each other form a group. Each group has one
// JetStream stream, CAIRN_<group>, with one subject per device,
// cairn.<group>.ch.<device>. A device pushes its local changes there and
// pulls the other devices' changes from it:
//
//   - Push reads the store's change feed (kv.DB.ChangesSoFar) from the last
//     sequence it captured, compares each changed document with the field
//     clocks it recorded for it, and gives every top-level field that
//     changed a new hybrid logical clock (HLC: milliseconds and a counter,
//     ties broken by device name), taken at the time of the edit the
//     change log recorded, so that the later edit wins, not the later
//     push. The message (the changed fields, each
//     with its value, its new clock and the clock it replaced) is written
//     to an outbox collection in the same transaction as the new clocks and
//     the feed cursor, then published with Nats-Msg-Id <device>-<n>, so a
//     crash between the two publishes it again and JetStream drops the
//     duplicate.
//   - A store that went back to an earlier state (a backup restored, an
//     import undone) would number its next messages as before, and
//     JetStream would drop them as duplicates. Each sync first reads the
//     device's last message on the stream: when this state does not know
//     it, the device starts a new incarnation of its numbers (a random
//     component recorded in replica_state; Nats-Msg-Id
//     <device>-<incarnation>-<n>), and pulls the messages it published
//     after the state it went back to like another device's, so the
//     changes made before the restore are not lost to it either.
//   - Pull reads the stream from the stream sequence after the last one it
//     applied, and applies each batch of messages in one transaction that
//     also records the new stream sequence: a message is applied exactly
//     once, whatever was interrupted. Messages the stream no longer holds
//     when the device comes to read them (a purge, the stream's limits)
//     are counted in Result.Missed, from the stream's first sequence and
//     from the gaps in each device's message numbers; their changes are
//     missing on this device (nothing re-sends them).
//   - A stream created again (a server that lost its store, a stream
//     deleted and re-created) numbers its messages from 1 again. The state
//     names the stream it read by its creation time; each sync checks it
//     (checkStream, stream.go), and on a new stream reads it from its
//     start and queues every document it holds again with the clocks it
//     recorded, so that the group loses nothing any store still has
//     (Result.StreamReset, Result.Resent). A stream that is gone is created
//     again.
//
// # Merge rules
//
//   - Per top-level field, last writer wins by HLC: concurrent edits of
//     different fields both survive; the same field edited on two devices
//     ends, on every device, with the value of the later clock (ties by
//     device name).
//   - When the losing value was a concurrent edit (the winner did not
//     replace it knowingly), it is kept in a conflict record
//     (collection replica_conflicts; Replica.Conflicts lists them). A local
//     edit not yet pushed when a remote change arrives is captured first, so
//     it is never overwritten silently.
//   - A delete is a tombstone with its own clock. It wins over every edit
//     that had not seen it (those edits are kept as conflicts, on the
//     deleting device and on the editing one: a delete names the field
//     clocks it had seen), and a device
//     that syncs late never resurrects the document; only a device that
//     has seen the delete can create the id again, which starts a new
//     incarnation of the document named by that tombstone. Every message
//     names its incarnation, and the latest incarnation wins whatever order
//     messages arrive in (a three-device randomized test checks that every
//     store converges).
//   - Attachment contents travel through the object store CAIRN_<group>_blobs,
//     named by their SHA-256, and are verified on arrival.
//
// The state of sync lives in the store itself, in the collections
// replica_state (device name, HLC, cursors), replica_clocks (field clocks
// and content hashes per document), replica_outbox (messages captured but
// not yet acknowledged) and replica_conflicts; these are never synced
// (IsStateCollection). A store without that state may not take the name
// of a device that already published: its message numbers would restart.
//
// # Encryption
//
// With Options.Passphrase the group is encrypted end to end (seal.go):
// change messages, large message bodies and attachment contents are
// sealed before they leave the device, attachment objects are named by an
// HMAC of their hash, and the server sees only ciphertext and device names
// (subjects, Nats-Msg-Id). The group's first device records on
// cairn.<group>.meta whether the group is encrypted, with the Argon2id
// salt and a sealed check value: a wrong or missing passphrase is
// ErrDecrypt, a passphrase in a plain group ErrEncryptionMismatch, both
// from New, before anything is applied. A store that has synced an
// encrypted group records it (state.Encrypted) and gets ErrDecrypt without
// a passphrase from then on, even when the record is gone from the stream.
//
// # Backups
//
// PushBackup, PullBackup and ListBackups keep verified backups in the
// object store CAIRN_backups: the backup's data file and its manifest,
// verified by SHA-256 before the upload, by JetStream's digest during the
// download, and by kv.DB.VerifyBackup after it.
//
// # Caveats
//
//   - Fields are merged at the top level: two devices editing different
//     keys inside one object field conflict on that field.
//   - A message whose clock is more than a day ahead of the receiver's
//     wall clock (a peer with a wrong clock, or a forged message) is
//     refused with ErrClockAhead, so that it can neither win every later
//     edit nor make the receiver's clock wrap; pulling stops at it until
//     the wall clock comes within a day of it (or the message is removed
//     from the stream).
//   - A change log trimmed past the last push (a device offline longer than
//     kv.Options.ChangeLogRetention) makes push compare every document with
//     its recorded clocks instead of reading the feed: slower, not lossy.
package replica
