package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

// downloadSize is what TestPrivateDownloadArrivesIntact downloads: enough
// for a relay that loses or repeats bytes under load to show it.
const downloadSize = 100 << 20

// A large HTTPS download through the proxy arrives whole and intact (TLS
// authenticates every record, and the client checks the length) on each
// transport, where the forwarder hands its connection to the proxy, and
// under gVisor, where it relays the bytes itself.
func TestPrivateDownloadArrivesIntact(t *testing.T) {
	e, c := newTestEngine(t)
	o := newOutside(t, c)
	type run struct {
		name      string
		transport string
		iso       isolation
	}
	var runs []run
	for _, iso := range isolations(t, spec.Private) {
		for _, transport := range transports {
			if iso.runtime != "" && transport != spec.TransportHost {
				// gVisor's own transport is the host's (its sockets reach
				// the host); the container transport is runc's case.
				continue
			}
			runs = append(runs, run{iso.name + "/" + transport, transport, iso})
		}
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			url := "https://" + o.name + "/bytes/" + strconv.Itoa(downloadSize)
			in := privateInput(t, r.transport, o, features.Settings{Allow: []string{o.name}},
				"/toolbox", "download", url, "proxy", spec.WorkspaceDir+"/test-ca.pem")
			assert.NilError(t, os.WriteFile(filepath.Join(in.Workspace, "test-ca.pem"), theTestCA().PEM, 0o644))
			p := buildPrivate(t, in)
			r.iso.apply(t, &p.Run.Sandbox)
			var stdout, stderr bytes.Buffer
			res, err := e.Run(context.Background(), p.Run, RunOptions{Stdout: &stdout, Stderr: &stderr})
			assert.NilError(t, err)
			assert.Equal(t, res.ExitCode, 0, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			assert.Assert(t, bytes.HasPrefix(stdout.Bytes(), []byte("bytes="+strconv.Itoa(downloadSize)+" ")), stdout.String())
		})
	}
}
