package agent

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// parse runs the named adapter's parser over data and finishes it with a
// clean exit.
func parse(t testing.TB, agent string, data []byte) (Result, []Event) {
	t.Helper()
	return parseExit(t, agent, data, 0, nil)
}

func parseExit(t testing.TB, agent string, data []byte, exitCode int, stderr []byte) (Result, []Event) {
	t.Helper()
	a, err := Get(agent)
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	p := a.NewParser(func(e Event) { events = append(events, e) })
	if err := p.Parse(bytes.NewReader(data)); err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p.Finish(exitCode, stderr), events
}

// recording returns testdata/<agent>/<name>.
func recording(t testing.TB, agent, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", agent, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recordings lists the recordings of one agent.
func recordings(t testing.TB, agent string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", agent, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings for %s: %v", agent, err)
	}
	return files
}

func count(events []Event, k Kind) int {
	n := 0
	for _, e := range events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// lines splits b into lines, each ending in a newline.
func lines(b []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		if l[len(l)-1] != '\n' {
			l = append(l[:len(l):len(l)], '\n')
		}
		out = append(out, l)
	}
	return out
}
