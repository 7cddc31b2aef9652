package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/org/sandbox-action/internal/fakemodel"
	"github.com/org/sandbox-action/internal/testca"
	"github.com/org/sandbox-action/internal/testimage"
)

// fakeModel is the fake model API running as a container of ours on the
// job's network, as a LiteLLM or corporate gateway would run beside a job.
// Its certificate comes from a CA made for this test alone.
type fakeModel struct {
	t    *testing.T
	name string
	// ip is its address on the job's network; url its base URL there, by
	// address (see startFakeModel).
	ip, url string
	// caPEM is the test CA's certificate, which nothing else trusts.
	caPEM  []byte
	client *http.Client
}

// startFakeModel starts the fake on network. Its base URL names its
// address: the gateway connects to an address on a Docker network only when
// the upstream URL names that exact address.
func startFakeModel(t *testing.T, network string) *fakeModel {
	t.Helper()
	ca, err := testca.New("sandbox-action e2e model CA")
	assert.NilError(t, err)
	caPEM := ca.PEM
	caKey, err := ca.KeyPEM()
	assert.NilError(t, err)
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), caPEM, 0o644))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "ca-key.pem"), caKey, 0o600))
	f := &fakeModel{t: t, name: "sbxtest-e2e-model-" + randomHex(4), caPEM: caPEM}
	docker(t, "run", "-d", "--name", f.name, "--label", testLabel, "--network", network,
		"-v", dir+":/ca:ro", testimage.FakeModel(t))
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", f.name).Run() })
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		logs, _ := exec.Command("docker", "logs", f.name).CombinedOutput()
		if strings.Contains(string(logs), "fakemodel: listening on") {
			return poll.Success()
		}
		return poll.Continue("waiting for the fake model API's ready line: %s", logs)
	}, poll.WithTimeout(30*time.Second))
	f.ip = containerIP(t, f.name, network)
	f.url = "https://" + f.ip + ":8443"
	roots := x509.NewCertPool()
	assert.Assert(t, roots.AppendCertsFromPEM(caPEM))
	f.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	return f
}

// requests are what the fake received, oldest first.
func (f *fakeModel) requests() []fakemodel.Request {
	f.t.Helper()
	resp, err := f.client.Get(f.url + fakemodel.RequestsPath)
	assert.NilError(f.t, err)
	defer resp.Body.Close()
	var out []fakemodel.Request
	assert.NilError(f.t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}
