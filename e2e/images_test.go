package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/org/sandbox-action/internal/testimage"
)

// Image tags of the action suite, unique to it so that other test binaries
// building images of their own do not fight over them.
const (
	actionTag = "sandbox-action-test/e2e-action:dev"
	agentTag  = "sandbox-action-test/e2e-agent:dev"
)

// caBundle is the host's CA bundle, which the action image carries as the
// release build does.
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

var (
	actionOnce sync.Once
	actionTagC string // actionTag with a hash of the image's content
	actionErr  error
)

// actionImage builds the action image the way the release does: static
// binaries compiled by the host toolchain, then the repository's own
// Dockerfile over a context holding them and the CA bundle. Built once per
// test binary.
func actionImage(t *testing.T) string {
	t.Helper()
	actionOnce.Do(func() { actionTagC, actionErr = buildActionImage(context.Background()) })
	if actionErr != nil {
		t.Fatalf("action image: %v", actionErr)
	}
	return actionTagC
}

// buildActionImage builds the image under actionTag with a hash of its
// content and test session appended (as testimage.Ensure names images), so
// that checkouts with other sources never take each other's image.
func buildActionImage(ctx context.Context) (string, error) {
	root, err := testimage.ModuleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "e2e-action-image")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := testimage.CompileStatic(ctx, "./cmd/sandbox", filepath.Join(dir, "sandbox")); err != nil {
		return "", err
	}
	ca, err := os.ReadFile(caBundle)
	if err != nil {
		return "", fmt.Errorf("the action image carries a CA bundle (install ca-certificates): %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca-certificates.crt"), ca, 0o644); err != nil {
		return "", err
	}
	dockerfile := filepath.Join(root, "Dockerfile")
	h := sha256.New()
	for _, f := range []string{dockerfile, filepath.Join(dir, "sandbox"), filepath.Join(dir, "ca-certificates.crt")} {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write(data)
	}
	session := os.Getenv(testimage.SessionEnv)
	h.Write([]byte(session))
	tag := actionTag + "-" + hex.EncodeToString(h.Sum(nil))[:12]
	args := []string{"build", "-q", "-t", tag, "--label", testimage.LabelTest + "=1"}
	if session != "" {
		args = append(args, "--label", testimage.LabelSession+"="+session)
	}
	out, err := exec.CommandContext(ctx, "docker", append(args, "-f", dockerfile, dir)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("docker build -f Dockerfile: %w\n%s", err, out)
	}
	return tag, nil
}

// agentImage is the replay agent image with this suite's transcripts under
// /recordings/e2e/, besides the recordings every replay image has.
func agentImage(t *testing.T) string {
	t.Helper()
	s, err := testimage.ReplaySpec(agentTag)
	if err != nil {
		t.Fatalf("replay image: %v", err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in testdata: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s.Files["/recordings/e2e/"+filepath.Base(f)] = data
	}
	return testimage.Ensure(t, s)
}

// actionEntrypoint is what the runner starts in the action's image:
// action.yml's runs.entrypoint and runs.args when it names them (the runner
// passes them as --entrypoint and arguments), else the image's own.
func actionEntrypoint(t *testing.T) (entrypoint string, args []string) {
	t.Helper()
	root, err := testimage.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Runs struct {
			Using      string   `yaml:"using"`
			Entrypoint string   `yaml:"entrypoint"`
			Args       []string `yaml:"args"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if meta.Runs.Using != "docker" {
		t.Fatalf("action.yml: runs.using is %q; the suite runs a container action (docker)", meta.Runs.Using)
	}
	return meta.Runs.Entrypoint, meta.Runs.Args
}
