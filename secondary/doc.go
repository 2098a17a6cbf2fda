// Package secondary owns Cairn's derived listing and lookup data: the
// metadata summary of every document and the secondary indexes each
// collection declares, how both are derived from a document, their exact
// maintenance inside the writer's bbolt transaction, and the query engine
// that uses them.
package secondary
