//go:build !unix

package blobstore

// oNoFollow is not available here; Open relies on Lstat and os.SameFile.
const oNoFollow = 0
