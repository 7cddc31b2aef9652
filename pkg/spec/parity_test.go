package spec_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/spec"
)

// TestParity is the proof that the two renderings describe one container:
// for each spec, the real docker CLI creates a container from Args (with
// "run" replaced by "create") and the Engine API creates one from
// EngineConfig; their inspected configuration must be identical.
//
// Normalised, and nothing else:
//   - Config.Hostname: the daemon sets it to the container's own short ID.
//   - the order of Config.Env: docker create/run passes -e values through a
//     Go map (to merge its proxy settings), so the CLI itself sends them in
//     random order. Order carries no meaning because Validate rejects
//     duplicate names.
//
// The names differ by design and are not part of what is compared.
// Containers are created, never started, and removed when the test ends.
func TestParity(t *testing.T) {
	c := testimage.NewClient(t)
	image := testimage.Toolbox(t)
	ctx := context.Background()
	id := randomID(t)

	volume := "sbxtest-parity-" + id
	_, err := c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: volume, Labels: map[string]string{spec.LabelTest: "1"}})
	assert.NilError(t, err)
	t.Cleanup(func() { _, _ = c.VolumeRemove(context.Background(), volume, client.VolumeRemoveOptions{Force: true}) })
	forwarder := filepath.Join(t.TempDir(), "sandbox")
	assert.NilError(t, os.WriteFile(forwarder, nil, 0o755))

	base := func(t *testing.T) spec.RunSpec {
		return spec.RunSpec{
			RunID:       id,
			Image:       image,
			Command:     []string{"/toolbox", "echo", "it's", "$HOME", "two words"},
			Workspace:   t.TempDir(),
			User:        "1000:1000",
			Remove:      true,
			SandboxType: "standard",
			CreatedBy:   "e2e",
			Labels:      map[string]string{spec.LabelTest: "1"},
		}
	}
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, s *spec.RunSpec)
	}{
		{"public-hardened", func(*testing.T, *spec.RunSpec) {}},
		{"private-host", func(t *testing.T, s *spec.RunSpec) {
			s.Network = spec.Network{Mode: spec.Private, NoProxy: []string{"internal.test"}}
			s.Egress = &spec.Egress{Source: t.TempDir(), Forwarder: forwarder, Proxy: true, Gateway: true, Entrypoint: []string{"/toolbox"}}
		}},
		{"private-volume-image-command", func(t *testing.T, s *spec.RunSpec) {
			s.Network = spec.Network{Mode: spec.Private}
			s.Command = nil
			s.Egress = &spec.Egress{Source: volume, Volume: true, Proxy: true, ImageCmd: []string{"/toolbox", "echo"}}
		}},
		{"public-gateway", func(t *testing.T, s *spec.RunSpec) {
			s.Egress = &spec.Egress{Source: t.TempDir(), Forwarder: forwarder, Gateway: true}
		}},
		{"proxy-container", func(t *testing.T, s *spec.RunSpec) {
			s.Role = spec.RoleProxy
			s.User = "65534:65534"
			s.Command = []string{"proxy", "--listen", "unix:/run/sandbox/proxy.sock"}
			s.Egress = &spec.Egress{Source: volume, Volume: true, Proxy: true}
		}},
		{"relaxed", func(_ *testing.T, s *spec.RunSpec) {
			s.User = ""
			s.Remove = false
			s.Relax = spec.Relax{Root: true, WritableRoot: true, NewPrivileges: true, Capabilities: true, NoInit: true, Ptrace: true}
		}},
		{"limits", func(_ *testing.T, s *spec.RunSpec) {
			s.Limits = spec.Limits{MemoryBytes: 7_000_001, NanoCPUs: 1_250_000_000, PidsLimit: 64}
		}},
		{"secret-env", func(_ *testing.T, s *spec.RunSpec) {
			s.Env = []spec.EnvVar{
				{Name: "SBXTEST_PARITY_SECRET", Value: "value from the environment " + id, Secret: true},
				{Name: "PLAIN", Value: "it's $HOME, `quoted`"},
				{Name: "EMPTY"},
			}
		}},
		{"runtime-runc", func(_ *testing.T, s *spec.RunSpec) { s.Runtime = "runc" }},
		{"odd-workspace", func(t *testing.T, s *spec.RunSpec) {
			s.Workspace = filepath.Join(t.TempDir(), `my "quoted", comma'd $dir`)
			assert.NilError(t, os.Mkdir(s.Workspace, 0o755))
		}},
		{"read-only-mounts", func(t *testing.T, s *spec.RunSpec) {
			// A directory and a file laid read-only over the workspace (a
			// git directory and a worktree's .git file), and a writable
			// mount elsewhere.
			git := filepath.Join(s.Workspace, ".git")
			assert.NilError(t, os.Mkdir(git, 0o755))
			file := filepath.Join(s.Workspace, "gitfile")
			assert.NilError(t, os.WriteFile(file, []byte("gitdir: .git\n"), 0o644))
			s.Mounts = []spec.Mount{
				{Source: git, Target: spec.WorkspaceDir + "/.git", ReadOnly: true},
				{Source: file, Target: spec.WorkspaceDir + "/gitfile", ReadOnly: true},
				{Source: t.TempDir() + "/", Target: "/context", ReadOnly: false},
			}
		}},
		{"image-id-no-command", func(t *testing.T, s *spec.RunSpec) {
			// The image's ENTRYPOINT runs; by ID, the pinned form a local
			// build has.
			tag := testimage.Ensure(t, testimage.Spec{
				Tag:        entrypointImage,
				Binaries:   map[string]string{"/toolbox": "./internal/testimage/toolbox"},
				Entrypoint: []string{"/toolbox", "echo"},
			})
			img, err := c.ImageInspect(ctx, tag)
			assert.NilError(t, err)
			s.Image = img.ID
			s.Command = nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := base(t)
			tc.edit(t, &s)
			s.Name = "sbxtest-parity-" + tc.name + "-cli-" + id
			assert.NilError(t, s.Validate())

			cliID := createWithCLI(t, c, s)
			s.Name = "sbxtest-parity-" + tc.name + "-api-" + id
			apiID := createWithAPI(t, c, s)

			fromCLI, fromAPI := inspect(t, c, cliID), inspect(t, c, apiID)
			// netip values compare with ==, which go-cmp must be told.
			addrs := cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})
			assert.DeepEqual(t, fromAPI.Config, fromCLI.Config)
			assert.DeepEqual(t, fromAPI.HostConfig, fromCLI.HostConfig, addrs)
			assert.DeepEqual(t, fromAPI.Networks, fromCLI.Networks, addrs)
		})
	}
}

const entrypointImage = "sandbox-action-test/spec-entrypoint:dev"

// createWithCLI pastes Args into the docker CLI, as "create" instead of
// "run" (nothing else is changed; docker create accepts --rm too), with the
// secrets exported in the CLI's environment as a person would.
func createWithCLI(t *testing.T, c *client.Client, s spec.RunSpec) string {
	t.Helper()
	// The CLI reads the seccomp profile from the file the line names, as
	// it would after `sandbox cmd` has printed it.
	_, err := spec.EnsureSeccompFile()
	assert.NilError(t, err)
	args := s.Args()
	assert.Equal(t, args[1], "run")
	args[1] = "create"
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = os.Environ()
	for _, e := range s.Env {
		if e.Secret {
			cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
		}
	}
	removeOnCleanup(t, c, s.Name)
	out, err := cmd.Output()
	assert.NilError(t, err, "%s\n%s", s.CommandLine(), stderrOf(err))
	return strings.TrimSpace(string(out))
}

func createWithAPI(t *testing.T, c *client.Client, s spec.RunSpec) string {
	t.Helper()
	cfg, host, net := s.EngineConfig()
	removeOnCleanup(t, c, s.Name)
	res, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{
		Config: cfg, HostConfig: host, NetworkingConfig: net, Name: s.Name,
	})
	assert.NilError(t, err)
	return res.ID
}

// inspected is what the parity test compares.
type inspected struct {
	Config     *container.Config
	HostConfig *container.HostConfig
	Networks   map[string]*network.EndpointSettings
}

func inspect(t *testing.T, c *client.Client, id string) inspected {
	t.Helper()
	res, err := c.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	assert.NilError(t, err)
	got := res.Container
	assert.Assert(t, got.Config != nil && got.HostConfig != nil && got.NetworkSettings != nil, "incomplete inspect of %s", id)
	got.Config.Hostname = ""
	slices.Sort(got.Config.Env)
	return inspected{Config: got.Config, HostConfig: got.HostConfig, Networks: got.NetworkSettings.Networks}
}

func removeOnCleanup(t *testing.T, c *client.Client, name string) {
	t.Cleanup(func() {
		_, _ = c.ContainerRemove(context.Background(), name, client.ContainerRemoveOptions{Force: true})
	})
}

func randomID(t *testing.T) string {
	b := make([]byte, 4)
	_, err := rand.Read(b)
	assert.NilError(t, err)
	return hex.EncodeToString(b)
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
