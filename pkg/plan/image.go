package plan

import (
	"context"
	"slices"
	"strings"
)

// LabelAgentSettings is the image label that lists, comma-separated, the
// agents (adapter names) whose settings files the image carries where the
// CLI reads them despite the sandbox's empty HOME (Gemini CLI's system
// settings in /etc/gemini-cli, for example). The agents' image
// (images/agent) sets it; for those agents the plan does not ask for the
// files to be put in the image.
const LabelAgentSettings = "org.sandbox-action.agent-settings"

// ImageLabelsFunc reads an image's labels from the daemon.
type ImageLabelsFunc func(ctx context.Context, image string) (map[string]string, error)

// carriesSettings reports whether an image's labels say it carries the
// settings files of the named agent.
func carriesSettings(labels map[string]string, agentName string) bool {
	return slices.Contains(strings.Split(labels[LabelAgentSettings], ","), agentName)
}
