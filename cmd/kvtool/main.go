// Command kvtool inspects and operates a Cairn store. See KVTOOL.md for the
// contract and `kvtool --help` for the commands.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
