package main

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// The image's entrypoint is `sandbox action`: started bare it is the
// action, started with arguments (the egress proxy's) it is that command.
func TestActionArgs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		runAction bool
		cli       []string
	}{
		{name: "no arguments", args: nil, cli: nil},
		{name: "a command", args: []string{"run", "--", "sh"}, cli: []string{"run", "--", "sh"}},
		{name: "the action", args: []string{"action"}, runAction: true},
		{name: "the proxy in the action image", args: []string{"action", "proxy", "--listen", ":3128"}, cli: []string{"proxy", "--listen", ":3128"}},
		{name: "action as an argument", args: []string{"run", "action"}, cli: []string{"run", "action"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runAction, cli := actionArgs(tc.args)
			assert.Check(t, is.Equal(runAction, tc.runAction))
			assert.Check(t, is.DeepEqual(cli, tc.cli))
		})
	}
}
