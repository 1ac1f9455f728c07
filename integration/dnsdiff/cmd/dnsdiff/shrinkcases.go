package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/frontdesk-proxy/frontdesk/integration/dnsdiff"
)

// shrinkCases shrinks the case files at paths (the whole examples a run
// could not shrink within its budget, say) with budget server runs each:
// the first difference a case shows is the signature kept. The shrunk
// cases go to regress ("" to print them only).
func shrinkCases(w io.Writer, dir, bin string, paths []string, budget int, regress string) error {
	s, err := dnsdiff.NewServers(filepath.Join(dir, "servers"), bin)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		c, err := dnsdiff.ParseCase(string(b))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		o, err := dnsdiff.Check(s, c, "")
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if o.Signature == "" {
			fmt.Fprintf(w, "== %s: no difference\n", p)
			continue
		}
		sh := &dnsdiff.Shrinker{S: s, Budget: budget}
		small, _, err := sh.Shrink(c, o.Signature)
		if err != nil {
			fmt.Fprintf(w, "== %s: %s: not shrunk: %v\n", p, o.Signature, err)
			continue
		}
		small.Note = append(c.Note, "shrunk again by dnsdiff -shrink-cases")
		fmt.Fprintf(w, "== %s: %s\n%s", p, o.Signature, small.Marshal())
		if regress != "" {
			out, err := dnsdiff.WriteCase(regress, small)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "written to %s\n", out)
		}
	}
	return nil
}
