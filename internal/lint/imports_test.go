package lint

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/cairnkv/cairn/"

// allowed lists, for each package, the Cairn packages it may import: the
// direction of imports in docs/DESIGN.md ("no package imports one above it"),
// plus the internal helpers. A package not listed may import nothing of
// Cairn's.
var allowed = map[string][]string{
	"schema":             {},
	"buckets":            {"schema"},
	"secondary":          {"buckets", "schema"},
	"txn":                {"secondary", "buckets", "schema"},
	"search":             {"buckets", "schema"},
	"snapshot":           {"buckets", "internal/fsutil"},
	"kv":                 {"txn", "secondary", "search", "snapshot", "buckets", "schema", "internal/fsutil", "internal/blobstore", "internal/jsonx"},
	"kv/entity":          {"buckets"},
	"legacy":             {"kv", "internal/jsonx", "internal/docmodel"},
	"cmd/kvtool":         {"kv", "legacy", "replica", "snapshot", "buckets", "webui", "internal/fsutil", "internal/gen", "internal/docmodel"},
	"webui":              {"kv", "internal/docmodel"},
	"replica":            {"kv", "internal/fsutil"},
	"bench":              {"kv", "legacy", "internal/gen", "buckets", "search"}, // buckets and search for their format versions only
	"bench/crash":        {"kv", "legacy", "internal/gen"},
	"internal/fsutil":    {},
	"internal/blobstore": {"buckets", "internal/fsutil"},
	"internal/gen":       {},
	"internal/jsonx":     {},
	"internal/docmodel":  {"buckets", "schema"},
	"internal/lint":      {},
}

// thirdParty lists, for each outside module (by import path prefix), the
// only packages that may import it: each dependency stays behind the
// package that owns it (docs/DESIGN.md), so that kv's users never see it.
// An import of a module not listed here is an error: dependencies are
// chosen, not accumulated. replica is the only package that may import
// NATS.
var thirdParty = map[string][]string{
	"go.etcd.io/bbolt":                {"buckets", "secondary", "txn", "snapshot", "kv", "search"}, // search: Bleve's own root.bolt, read before Bleve opens it
	"github.com/blevesearch/":         {"search"},
	"github.com/RoaringBitmap/":       {"search"}, // Bleve's postings bitmaps
	"github.com/vmihailenco/msgpack/": {"buckets"},
	"github.com/golang/snappy":        {"buckets"},
	"github.com/spf13/cobra":          {"cmd/kvtool"},
	"golang.org/x/term":               {"cmd/kvtool"},
	"golang.org/x/sys/unix":           {"internal/fsutil"}, // copy_file_range, sync_file_range
	"github.com/nats-io/":             {"replica"},
	"golang.org/x/crypto/":            {"replica"},
	"github.com/chromedp/":            {},
}

// thirdPartyTests lists the packages whose tests may import an outside
// module besides its owners in thirdParty: the inspector's browser test
// drives chromium; kvtool's sync and backup tests run an in-process
// nats-server.
var thirdPartyTests = map[string][]string{
	"github.com/chromedp/": {"webui"},
	"github.com/nats-io/":  {"cmd/kvtool"},
}

// checkThirdParty returns why package pkg (a test file of it, if test)
// may not import path, or "" if it may. path is not Cairn's.
func checkThirdParty(pkg, path string, test bool) string {
	first, _, _ := strings.Cut(path, "/")
	if !strings.Contains(first, ".") {
		return "" // the standard library
	}
	for prefix, owners := range thirdParty {
		if !strings.HasPrefix(path, prefix) {
			continue
		}
		if slices.Contains(owners, pkg) || test && slices.Contains(thirdPartyTests[prefix], pkg) {
			return ""
		}
		who := append(slices.Clone(owners), thirdPartyTests[prefix]...)
		if len(who) == 0 {
			return fmt.Sprintf("%s is for tests of %v only", path, thirdPartyTests[prefix])
		}
		if extra := thirdPartyTests[prefix]; len(extra) > 0 {
			return fmt.Sprintf("only %v (and the tests of %v) may import %s", owners, extra, path)
		}
		return fmt.Sprintf("only %v may import %s", owners, path)
	}
	return fmt.Sprintf("%s is not a dependency docs/DESIGN.md lists (a new one needs a reason, the design and this table updated)", path)
}

// TestImports_followDesign parses every Go file of the module and fails
// on an import the design does not allow: between Cairn's packages (test
// files excepted: an external test package may import upwards) and of
// outside modules (test files included).
func TestImports_followDesign(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "peers") {
				return filepath.SkipDir // peers is its own module
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		test := strings.HasSuffix(path, "_test.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if rest, ok := strings.CutPrefix(p, module); ok {
				if !test {
					imports[pkg][rest] = true
				}
				continue
			}
			if why := checkThirdParty(pkg, p, test); why != "" {
				file, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s: %s", filepath.ToSlash(file), p, why)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		ok, known := allowed[pkg]
		if !known {
			if len(imports[pkg]) > 0 {
				t.Errorf("package %s imports %v but is not in the design's import table", pkg, keys(imports[pkg]))
			}
			continue
		}
		allow := map[string]bool{}
		for _, a := range ok {
			allow[a] = true
		}
		for imp := range imports[pkg] {
			if !allow[imp] {
				t.Errorf("package %s imports %s, which docs/DESIGN.md does not allow", pkg, imp)
			}
		}
	}
}

// The outside-module rules, on imports that do not exist in the tree
// (yet): each must be refused, or allowed, as docs/DESIGN.md says.
func TestImports_thirdPartyRules(t *testing.T) {
	cases := []struct {
		pkg, path string
		test, ok  bool
	}{
		{"replica", "github.com/nats-io/nats.go", false, true},
		{"replica", "github.com/nats-io/nats-server/v2/server", true, true},
		{"kv", "github.com/nats-io/nats.go", false, false},
		{"cmd/kvtool", "github.com/nats-io/nats.go", false, false},
		{"kv", "github.com/nats-io/nats-server/v2/server", true, false},
		{"search", "github.com/blevesearch/bleve/v2/mapping", false, true},
		{"kv", "github.com/blevesearch/bleve/v2", false, false},
		{"bench", "github.com/blevesearch/bleve/v2", false, false},
		{"buckets", "github.com/vmihailenco/msgpack/v5", false, true},
		{"kv", "github.com/vmihailenco/msgpack/v5", true, false},
		{"buckets", "github.com/golang/snappy", true, true},
		{"snapshot", "github.com/golang/snappy", false, false},
		{"txn", "go.etcd.io/bbolt", false, true},
		{"kv", "go.etcd.io/bbolt", true, true},
		{"search", "go.etcd.io/bbolt", false, true},
		{"legacy", "go.etcd.io/bbolt", false, false},
		{"webui", "go.etcd.io/bbolt", false, false},
		{"cmd/kvtool", "go.etcd.io/bbolt", false, false},
		{"webui", "github.com/chromedp/chromedp", true, true},
		{"webui", "github.com/chromedp/chromedp", false, false},
		{"kv", "github.com/chromedp/chromedp", true, false},
		{"cmd/kvtool", "github.com/spf13/cobra", false, true},
		{"kv", "github.com/spf13/cobra", false, false},
		{"kv", "github.com/pkg/errors", false, false},
		{"kv", "golang.org/x/sys/unix", false, false},
		{"cmd/kvtool", "golang.org/x/term", false, true},
		{"kv", "golang.org/x/term", false, false},
		{"kv", "encoding/json", false, true},
	}
	for _, c := range cases {
		why := checkThirdParty(c.pkg, c.path, c.test)
		if (why == "") != c.ok {
			t.Errorf("package %s (test %v) importing %s: allowed %v, want %v (%s)", c.pkg, c.test, c.path, why == "", c.ok, why)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
