package action

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

type actionYML struct {
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
	} `yaml:"runs"`
}

// action.yml and the input table must say the same: every input
// documented, with the default the action applies itself when run outside
// a workflow.
func TestActionYMLMatchesTheInputTable(t *testing.T) {
	data, err := os.ReadFile("../../action.yml")
	assert.NilError(t, err)
	var a actionYML
	assert.NilError(t, yaml.Unmarshal(data, &a))
	assert.Check(t, is.Equal(a.Runs.Using, "docker"))
	assert.Check(t, is.Equal(a.Runs.Image, "docker://ghcr.io/org/sandbox-action:v1"))

	var names []string
	for _, it := range inputTable {
		names = append(names, it.name)
		in, ok := a.Inputs[it.name]
		if !assert.Check(t, ok, "input %s missing from action.yml", it.name) {
			continue
		}
		assert.Check(t, in.Description != "", it.name)
		assert.Assert(t, in.Default != nil, "input %s has no default", it.name)
		assert.Check(t, is.Equal(*in.Default, it.def), "default of %s", it.name)
	}
	for name := range a.Inputs {
		assert.Check(t, slices.Contains(names, name), "action.yml input %s is not read", name)
	}
	for _, name := range outputNames {
		_, ok := a.Outputs[name]
		assert.Check(t, ok, "output %s missing from action.yml", name)
	}
	assert.Check(t, is.Len(a.Outputs, len(outputNames)))
}
