package search

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/datetime/flexible"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
)

// MappingVersion is the version of the index mapping and of the text
// extraction rules. Open recreates (empty) any index that carries another
// version, so bump it whenever mapping.go or extract.go changes what ends up
// in the index.
const MappingVersion = 8 // 2: dates read by buckets.ParseInstant; 3: fields from package schema (notes' titles); 4: per-field text and the unstemmed raw field; 5: text not stored (highlights from the document); 6: text bounded per document (maxIndexedText, maxWord); 7: a profile that is a string is searched; 8: one array element per value (phrases within one value)

// Field names of the flat document indexed for every entity. One mapping
// serves every collection.
const (
	fieldCollection = "collection" // keyword (exact), stored: the collection name
	fieldRev        = "rev"        // keyword, stored, doc values: the revision in decimal
	fieldText       = "text"       // text (English), term vectors, not stored: name, body and tags together
	fieldName       = "name"       // text (English), indexed only: name or title, for boosting
	fieldNameKW     = "name_kw"    // keyword, lowercased: whole name
	fieldTagsKW     = "tags_kw"    // keyword, lowercased: whole tags
	fieldRaw        = "raw"        // text, lower case, not stemmed, no stop words: the text field's words for prefix and fuzzy
	fieldPerField   = "f"          // object: one text (English) field per search field, "f.<name>", for field:word
)

// dateFields are the datetime fields, named after the document fields they
// come from. A value that does not parse is skipped.
var dateFields = []string{"startTime", "endTime", "timestamp", "lastUpdated", "createdAt", "dueDate"}

// Internal (non-document) keys kept in the Bleve index.
var (
	keyLastApplied    = []byte("cairn.lastApplied")    // 8 bytes big-endian
	keyMappingVersion = []byte("cairn.mappingVersion") // decimal text
	keyRebuild        = []byte("cairn.rebuild")        // the caller's cursor of an unfinished rebuild
)

const (
	textAnalyzer    = en.AnalyzerName // unicode words, possessives, lower case, stop words, Porter stemmer
	keywordAnalyzer = "cairn_keyword" // the whole value, lower-cased
	rawAnalyzer     = "cairn_raw"     // unicode words, lower case
	noDateParser    = "cairn_nodate"  // parses nothing: dynamic per-field strings stay text
)

// newMapping returns the index mapping. It is static: only the fields above
// are indexed, whatever the document carries.
func newMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	im.DefaultAnalyzer = textAnalyzer
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	err := im.AddCustomAnalyzer(keywordAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     single.Name,
		"token_filters": []any{lowercase.Name},
	})
	if err != nil {
		return nil, err
	}
	err = im.AddCustomAnalyzer(rawAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name},
	})
	if err != nil {
		return nil, err
	}
	err = im.AddCustomDateTimeParser(noDateParser, map[string]any{
		"type":    flexible.Name,
		"layouts": []any{},
	})
	if err != nil {
		return nil, err
	}
	im.DefaultDateTimeParser = noDateParser
	// Dynamic fields exist only under fieldPerField (the document
	// mapping is static elsewhere): indexed English text with term
	// vectors (phrases), neither stored nor with doc values.
	im.IndexDynamic = true

	// One field holds all the text: a query word is one posting list, not
	// one per field (three times faster on common words). It has term
	// vectors (phrases, and the highlighter's offsets) but is not stored:
	// excerpts are cut from the text extracted again from the document
	// (Search's SearchOptions.Source), which keeps the index and its
	// merges free of a second copy of every text.
	text := bleve.NewTextFieldMapping()
	text.Analyzer = textAnalyzer
	text.Store = false
	text.IncludeTermVectors = true
	text.IncludeInAll = false
	text.DocValues = false
	// The name again, only to score a word found there higher.
	name := bleve.NewTextFieldMapping()
	name.Analyzer = textAnalyzer
	name.Store = false
	name.IncludeTermVectors = false
	name.IncludeInAll = false
	name.DocValues = false
	// The text again, unstemmed, for prefixes and fuzzy words.
	raw := bleve.NewTextFieldMapping()
	raw.Analyzer = rawAnalyzer
	raw.Store = false
	raw.IncludeTermVectors = false
	raw.IncludeInAll = false
	raw.DocValues = false
	kw := func(analyzer string, store bool) *mapping.FieldMapping {
		fm := bleve.NewKeywordFieldMapping()
		fm.Analyzer = analyzer
		fm.Store = store
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		fm.DocValues = false
		return fm
	}

	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fieldCollection, kw(keyword.Name, true)) // exact
	rev := kw(keyword.Name, true)
	rev.DocValues = true // read by Walk without loading stored documents
	dm.AddFieldMappingsAt(fieldRev, rev)
	dm.AddFieldMappingsAt(fieldText, text)
	dm.AddFieldMappingsAt(fieldName, name)
	dm.AddFieldMappingsAt(fieldRaw, raw)
	perField := bleve.NewDocumentMapping() // dynamic
	perField.DefaultAnalyzer = textAnalyzer
	dm.AddSubDocumentMapping(fieldPerField, perField)
	dm.AddFieldMappingsAt(fieldNameKW, kw(keywordAnalyzer, false))
	dm.AddFieldMappingsAt(fieldTagsKW, kw(keywordAnalyzer, false))
	for _, f := range dateFields {
		dt := bleve.NewDateTimeFieldMapping()
		dt.Store = false
		dt.IncludeInAll = false
		dt.DocValues = true // sorting
		dm.AddFieldMappingsAt(f, dt)
	}
	// No "_all" composite field: queries name their fields, and composing
	// it costs indexing time for nothing.
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = dm
	if err := im.Validate(); err != nil {
		return nil, err
	}
	return im, nil
}
