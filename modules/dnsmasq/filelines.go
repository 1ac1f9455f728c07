package dnsmasq

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
)

// eachLine calls fn with each line of the file at path, without its line
// end, until fn returns false. A line may be of any length: dnsmasq reads
// hosts files a token at a time (cache.c gettok), so a hosts line with
// thousands of aliases loads whole, where a bufio.Scanner would give up
// on the file at 64 KiB.
func eachLine(path string, fn func(line string) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadString('\n')
		if line != "" && !fn(strings.TrimSuffix(line, "\n")) {
			return nil
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
