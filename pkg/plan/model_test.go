package plan

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testca"
	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/spec"
)

// testCA is a fresh CA certificate as PEM.
func testCA(t *testing.T) string {
	t.Helper()
	ca, err := testca.New("corp CA")
	assert.NilError(t, err)
	return string(ca.PEM)
}

// The model base URL becomes the gateway's upstream for the agent's vendor
// and its CA the proxy's extra roots, in either transport; the sandbox gets
// neither, only the gateway's own base URL.
func TestModelBaseURLFeedsTheGateway(t *testing.T) {
	ca := testCA(t)
	for _, transport := range []string{spec.TransportHost, spec.TransportContainer} {
		for _, network := range []spec.NetworkMode{spec.Private, spec.Public} {
			t.Run(transport+"/"+string(network), func(t *testing.T) {
				in := agentInput(t, "claude", network)
				in.Egress.Transport = transport
				in.ModelBaseURL, in.ModelCA = "https://litellm.corp.example/anthropic", ca
				p, err := Build(in)
				assert.NilError(t, err)
				args := p.Run.Sandbox.Command
				if p.Run.HostProxy != nil {
					args = p.Run.HostProxy.Args
				} else {
					args = p.Run.Proxy.Command
				}
				assert.Check(t, is.Contains(strings.Join(args, " "), "--upstream anthropic=https://litellm.corp.example/anthropic"))
				px := proxyEnvOf(p.Run)
				got, ok := env(px, egress.CAEnv)
				assert.Check(t, ok && got.Value == egress.EncodeCAEnv([]byte(ca)) && !got.Secret, "%+v", got)
				base, _ := env(p.Run.Sandbox, "ANTHROPIC_BASE_URL")
				assert.Check(t, is.Equal(base.Value, "http://127.0.0.1:8080/anthropic"))
				for _, e := range p.Run.Sandbox.Env {
					assert.Check(t, !strings.Contains(e.Value, "litellm") && e.Name != egress.CAEnv, "sandbox env %s", e.Name)
				}
				assert.Check(t, is.Equal(p.Run.Validate(), nil))
			})
		}
	}
}

func TestModelBaseURLRefused(t *testing.T) {
	for _, tc := range []struct {
		name, url, ca, err string
	}{
		{"plain http elsewhere", "http://litellm.corp.example", "", "scheme must be https (http only for a loopback address"},
		{"not PEM", "", "corp CA", "model CA: text outside PEM blocks"},
		{"a key, not a certificate", "", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "model CA: a PRIVATE KEY block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := agentInput(t, "claude", spec.Private)
			in.ModelBaseURL, in.ModelCA = tc.url, tc.ca
			_, err := Build(in)
			assert.Check(t, is.ErrorContains(err, tc.err))
		})
	}
}

// Without a gateway (a plain command) the URL has nothing to feed: said,
// not silently dropped.
func TestModelBaseURLWithoutGatewayIsANotice(t *testing.T) {
	in := agentInput(t, "claude", spec.Private)
	in.Agent, in.Command = nil, []string{"make"}
	in.ModelBaseURL = "https://litellm.corp.example"
	p, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, is.Contains(strings.Join(p.Notices, "\n"), "it is not used"))
	assert.Check(t, !slices.Contains(p.Run.HostProxy.Args, "--upstream"))
}

// In a workspace's config the key is privileged: where the real key goes is
// the person's decision, not the tree's. Trusted, it applies and the
// summary names its source; a flag beats it.
func TestModelBaseURLFromConfigNeedsTrust(t *testing.T) {
	store := config.NewTrustStore(filepath.Join(t.TempDir(), "trust"))
	ws := configWorkspace(t, "image: agents:1\nnetwork:\n  model_base_url: https://collector.example\n")
	req := Request{Workspace: ws, Trust: store}
	_, err := Resolve(req)
	var ue *config.UntrustedError
	assert.Assert(t, errors.As(err, &ue), "%v", err)
	assert.Check(t, is.DeepEqual(ue.Keys, []string{"network.model_base_url"}))

	trust(t, store, ws)
	s, err := Resolve(req)
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(s.ModelSummary(), []string{"model-base-url=https://collector.example (from config .github/sandbox.yml)"}))

	req.ModelBaseURL = "http://127.0.0.1:4000"
	s, err = Resolve(req)
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(s.ModelSummary(), []string{"model-base-url=http://127.0.0.1:4000 (from flag)"}))

	req.ModelBaseURL = "http://10.0.0.1:4000"
	_, err = Resolve(req)
	assert.Check(t, is.ErrorContains(err, "model base URL: "))
}
