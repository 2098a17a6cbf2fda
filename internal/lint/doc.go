// Package lint holds tests that check the shape of the code base itself,
// such as the direction of imports in docs/DESIGN.md.
package lint
