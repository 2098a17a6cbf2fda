package main

import (
	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

func newGetCommand(g *globals) *cobra.Command {
	var header bool
	cmd := &cobra.Command{
		Use:   "get COLLECTION [ID]",
		Short: "Print a document",
		Long: `get prints the document ID of COLLECTION as JSON, with every field it was
stored with. A singleton collection (settings, aiSettings, preferences)
takes no ID. --header leaves out the large part fields of a session
(screenshots, audioSegments, contextItems, summary, ...).`,
		Example: `  kvtool get notes n1
  kvtool get settings`,
		Args: argsRange(1, 2),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			c, err := kv.LookupCollection(args[0])
			if err != nil {
				return err
			}
			id := ""
			if len(args) > 1 {
				id = args[1]
			}
			if c.Kind != kv.KindSingleton && id == "" {
				return usagef("get %s needs an ID", c.Name)
			}
			if c.Kind == kv.KindSingleton && id != "" && id != c.Name {
				return usagef("%s is a singleton: get it without an ID", c.Name)
			}
			db, err := g.openRO()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			var v any
			if header {
				v, _, err = db.GetHeader(cmd.Context(), c.Name, id)
			} else {
				v, _, err = db.GetValue(cmd.Context(), c.Name, id)
			}
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), v)
		},
	}
	cmd.Flags().BoolVar(&header, "header", false, "leave out the part fields (large session arrays and AI outputs)")
	return cmd
}
