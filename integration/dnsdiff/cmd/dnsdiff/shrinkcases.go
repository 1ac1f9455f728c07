package main

import (
	"fmt"
	"io"

	"github.com/frontdesk-proxy/frontdesk/integration/dnsdiff"
)

// shrinkCase shrinks case c (from the file at path; the whole example of a
// class a run could not shrink within its budget, say) with budget server
// runs: the first difference it shows is the signature kept. The shrunk
// case goes to regress ("" to print it only).
func shrinkCase(w io.Writer, s *dnsdiff.Servers, path string, c *dnsdiff.Case, budget int, regress string) error {
	o, err := dnsdiff.Check(s, c, "")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if o.Signature == "" {
		fmt.Fprintf(w, "== %s: no difference\n", path)
		return nil
	}
	sh := &dnsdiff.Shrinker{S: s, Budget: budget}
	small, _, err := sh.Shrink(c, o.Signature)
	if err != nil {
		fmt.Fprintf(w, "== %s: %s: not shrunk: %v\n", path, o.Signature, err)
		return nil
	}
	small.Note = append(c.Note, "shrunk again by dnsdiff -shrink-cases")
	fmt.Fprintf(w, "== %s: %s\n%s", path, o.Signature, small.Marshal())
	if regress == "" {
		return nil
	}
	out, err := dnsdiff.WriteCase(regress, small)
	if err == nil {
		fmt.Fprintf(w, "written to %s\n", out)
	}
	return err
}
