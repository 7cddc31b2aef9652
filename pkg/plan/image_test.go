package plan

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

func TestImageThatCarriesSettingsGetsNoNotice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
		notice bool
	}{
		{"no labels", nil, true},
		{"the agents' image", map[string]string{LabelAgentSettings: "claude,codex,gemini"}, false},
		{"only gemini", map[string]string{LabelAgentSettings: "gemini"}, false},
		{"other agents only", map[string]string{LabelAgentSettings: "claude,codex"}, true},
		{"a prefix is not a name", map[string]string{LabelAgentSettings: "gemini-cli"}, true},
		{"another label", map[string]string{"org.opencontainers.image.title": "gemini"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := agentInput(t, "gemini", spec.Public)
			in.ImageLabels = tc.labels
			p, err := Build(in)
			assert.NilError(t, err)
			got := strings.Contains(strings.Join(p.Notices, "\n"), "put it in the image")
			assert.Check(t, is.Equal(got, tc.notice), "notices: %q", p.Notices)
		})
	}
}

// Make reads the image's labels only for an agent that needs HOME files,
// and for the image the settings resolved to.
func TestMakeReadsImageLabelsOnlyWhenNeeded(t *testing.T) {
	for _, tc := range []struct {
		agent     string
		labels    map[string]string
		err       error
		wantAsked bool
		notice    bool
	}{
		{agent: "gemini", labels: map[string]string{LabelAgentSettings: "claude,codex,gemini"}, wantAsked: true},
		{agent: "gemini", err: errors.New("no such image"), wantAsked: true, notice: true},
		{agent: "claude", wantAsked: false},
		{agent: "", wantAsked: false},
	} {
		t.Run(tc.agent, func(t *testing.T) {
			var asked []string
			req := Request{
				Workspace: t.TempDir(),
				NoConfig:  true,
				Flags:     features.Layer{Settings: features.Settings{Image: new("agents:1")}},
				Agent:     AgentChoice{Name: tc.agent, Prompt: "review"},
				Egress:    onHost,
				ImageLabels: func(_ context.Context, image string) (map[string]string, error) {
					asked = append(asked, image)
					return tc.labels, tc.err
				},
			}
			if tc.agent == "" {
				req.Agent, req.Command = AgentChoice{}, []string{"true"}
			}
			p, _, err := Make(context.Background(), req, nil)
			assert.NilError(t, err)
			if tc.wantAsked {
				assert.Check(t, is.DeepEqual(asked, []string{"agents:1"}))
			} else {
				assert.Check(t, is.Len(asked, 0))
			}
			got := strings.Contains(strings.Join(p.Notices, "\n"), "put it in the image")
			assert.Check(t, is.Equal(got, tc.notice), "notices: %q", p.Notices)
		})
	}
}
