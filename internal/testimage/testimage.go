// Package testimage builds the small images the tests run on the real Docker
// engine. There is no image registry, so every image is built locally FROM
// scratch around static Go binaries compiled by the host toolchain.
package testimage

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
)

// ToolboxTag is the tag of the toolbox image: a scratch image whose only
// program, /toolbox, performs the probes tests need (print, sleep, exit,
// write, dial, resolve, fetch, allocate…).
const ToolboxTag = "sandbox-action-test/toolbox:dev"

// Spec describes an image to build.
type Spec struct {
	// Tag names the image. Ensure appends a hash of the content to it;
	// Build uses it as it is.
	Tag string
	// Binaries maps a path inside the image (e.g. "/toolbox") to a Go main
	// package in this module (e.g. "./internal/testimage/toolbox").
	Binaries map[string]string
	// Files maps a path inside the image to its content.
	Files map[string][]byte
	// Entrypoint is the image's ENTRYPOINT, if any.
	Entrypoint []string
	// Dirs are directories created world-writable in the image, e.g. mount
	// points that must exist on a read-only root.
	Dirs []string
}

var (
	mu    sync.Mutex
	built = map[string]ensured{}
)

type ensured struct {
	tag string
	err error
}

// SessionEnv names the variable that marks the images of one test session
// (`make test` sets it): they carry LabelSession with its value, so the
// session can remove exactly its own images when it ends.
const SessionEnv = "SANDBOX_TEST_SESSION"

// Labels of test images.
const (
	LabelTest    = "org.sandbox-action.test"
	LabelSession = "org.sandbox-action.test-session"
)

// Toolbox returns the tag of the toolbox image, building it once per test
// binary. A daemon that cannot be reached fails the test: engine tests never
// skip silently.
func Toolbox(t testing.TB) string {
	t.Helper()
	return Ensure(t, ToolboxSpec(ToolboxTag))
}

// ToolboxSpec describes the toolbox image under tag. Its /home/sandbox
// exists (owned by root), as in many agent images: a sandbox must still get
// a writable HOME over it.
func ToolboxSpec(tag string) Spec {
	return Spec{
		Tag:      tag,
		Binaries: map[string]string{"/toolbox": "./internal/testimage/toolbox"},
		Dirs:     []string{"/workspace", "/home/sandbox"},
	}
}

// Ensure builds s once per test binary and returns the tag to run it by:
// s.Tag with a hash of the image's content (and of the test session)
// appended, e.g. "sandbox-action-test/toolbox:dev-3f2a…". Two test
// binaries, or two checkouts, that build different content never move
// each other's tag; the same content is built once and shared. It fails t
// if the image cannot be built.
func Ensure(t testing.TB, s Spec) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	e, ok := built[s.Tag]
	if !ok {
		e.tag, e.err = ensure(context.Background(), NewClient(t), s)
		built[s.Tag] = e
	}
	if e.err != nil {
		t.Fatalf("build test image %s: %v", s.Tag, e.err)
	}
	return e.tag
}

// EnsureContext is Ensure for programs that are not tests (the benchmarks):
// it builds s unless the image of its content exists, and returns the tag
// to run it by.
func EnsureContext(ctx context.Context, c *client.Client, s Spec) (string, error) {
	return ensure(ctx, c, s)
}

func ensure(ctx context.Context, c *client.Client, s Spec) (string, error) {
	buildCtx, err := buildContext(ctx, s)
	if err != nil {
		return "", err
	}
	session := os.Getenv(SessionEnv)
	h := sha256.New()
	h.Write(buildCtx)
	h.Write([]byte(session))
	tag := contentTag(s.Tag, hex.EncodeToString(h.Sum(nil))[:12])
	if _, err := c.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	}
	labels := map[string]string{LabelTest: "1"}
	if session != "" {
		labels[LabelSession] = session
	}
	return tag, buildImage(ctx, c, tag, buildCtx, labels)
}

// contentTag appends "-HASH" to tag's tag part (":latest" when it has none).
func contentTag(tag, hash string) string {
	if i := strings.LastIndexByte(tag, ':'); i > strings.LastIndexByte(tag, '/') {
		return tag + "-" + hash
	}
	return tag + ":" + hash
}

// NewClient returns a client for the daemon in the environment, failing t
// when no daemon answers.
func NewClient(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	if _, err := c.Ping(context.Background(), client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatalf("docker daemon not reachable (start dockerd; tests need a real engine): %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ModuleRoot returns the directory holding go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the module")
	}
	return filepath.Dir(mod), nil
}

// CompileStatic builds a static linux binary of pkg (relative to the module
// root) into dst.
func CompileStatic(ctx context.Context, pkg, dst string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", dst, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return nil
}

// Build compiles the binaries of s and builds the image on the daemon under
// exactly s.Tag (for images a person runs by name, such as `make demo`'s).
// The tag moves to the new image; the old one is removed unless a container
// still uses it, so repeated builds do not pile up untagged images.
func Build(ctx context.Context, c *client.Client, s Spec) error {
	buildCtx, err := buildContext(ctx, s)
	if err != nil {
		return err
	}
	var oldID string
	if old, err := c.ImageInspect(ctx, s.Tag); err == nil {
		oldID = old.ID
	}
	defer func() {
		if now, err := c.ImageInspect(ctx, s.Tag); err == nil && oldID != "" && now.ID != oldID {
			_, _ = c.ImageRemove(ctx, oldID, client.ImageRemoveOptions{PruneChildren: true})
		}
	}()
	return buildImage(ctx, c, s.Tag, buildCtx, nil)
}

// buildContext compiles the binaries of s and returns the docker build
// context: a tar of them, the files, the directories and a Dockerfile. It
// is deterministic, so it can name the image.
func buildContext(ctx context.Context, s Spec) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "testimage")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte, mode int64) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}

	var df strings.Builder
	df.WriteString("FROM scratch\n")
	for _, dst := range sortedKeys(s.Binaries) {
		local := filepath.Join(tmp, filepath.Base(dst))
		if err := CompileStatic(ctx, s.Binaries[dst], local); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(local)
		if err != nil {
			return nil, err
		}
		name := "bin/" + strings.TrimPrefix(dst, "/")
		if err := add(name, data, 0o755); err != nil {
			return nil, err
		}
		fmt.Fprintf(&df, "COPY %s %s\n", name, dst)
	}
	for _, dst := range sortedKeys(s.Files) {
		name := "files/" + strings.TrimPrefix(dst, "/")
		if err := add(name, s.Files[dst], 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&df, "COPY %s %s\n", name, dst)
	}
	for _, d := range s.Dirs {
		name := "dirs/" + strings.TrimPrefix(d, "/") + "/"
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o1777, Typeflag: tar.TypeDir}); err != nil {
			return nil, err
		}
		fmt.Fprintf(&df, "COPY %s %s\n", name, d)
	}
	if len(s.Entrypoint) > 0 {
		ep, _ := json.Marshal(s.Entrypoint)
		fmt.Fprintf(&df, "ENTRYPOINT %s\n", ep)
	}
	if err := add("Dockerfile", []byte(df.String()), 0o644); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// buildImage builds the context under tag with labels.
func buildImage(ctx context.Context, c *client.Client, tag string, buildCtx []byte, labels map[string]string) error {
	res, err := c.ImageBuild(ctx, bytes.NewReader(buildCtx), client.ImageBuildOptions{
		Tags:        []string{tag},
		Labels:      labels,
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("image build %s: %w", tag, err)
	}
	defer res.Body.Close()
	return readBuildStream(res.Body)
}

// readBuildStream drains the daemon's JSON progress stream and returns the
// first error it reports.
func readBuildStream(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var log strings.Builder
	for sc.Scan() {
		var msg struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			continue
		}
		log.WriteString(msg.Stream)
		if msg.Error != "" {
			return fmt.Errorf("image build: %s\n%s", msg.Error, log.String())
		}
	}
	return sc.Err()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ReplayTag is the tag of the replay agent image: the replay program
// installed as claude, codex and gemini, with recorded transcripts of the
// real CLIs under /recordings/<agent>/ and each agent's default transcript
// at /recordings/<agent>/default.jsonl.
const ReplayTag = "sandbox-action-test/replay-agent:dev"

// ReplayDefaults are the transcripts each replayed agent prints when told
// nothing else, from pkg/agent/testdata.
var ReplayDefaults = map[string]string{
	"claude": "multi-tool-read-edit-bash-denied-2.1.220.jsonl",
	"codex":  "todo-list-plan-commands-file-change-0.150.1.jsonl",
	"gemini": "stream-json-tool-use-read-file-0.42.0.jsonl",
}

// Replay returns the tag of the replay agent image, building it once per
// test binary. Every recording is in the image, so a test picks another
// with REPLAY_TRANSCRIPT=/recordings/<agent>/<file>.
func Replay(t testing.TB) string {
	t.Helper()
	s, err := ReplaySpec(ReplayTag)
	if err != nil {
		t.Fatalf("replay image: %v", err)
	}
	return Ensure(t, s)
}

// ReplaySpec describes the replay agent image under tag.
func ReplaySpec(tag string) (Spec, error) {
	root, err := ModuleRoot()
	if err != nil {
		return Spec{}, err
	}
	recordings := filepath.Join(root, "pkg", "agent", "testdata")
	s := Spec{
		Tag:      tag,
		Binaries: map[string]string{},
		Files:    map[string][]byte{},
		Dirs:     []string{"/workspace"},
	}
	for name, def := range ReplayDefaults {
		s.Binaries["/usr/local/bin/"+name] = "./internal/replayagent"
		files, err := filepath.Glob(filepath.Join(recordings, name, "*.jsonl"))
		if err != nil || len(files) == 0 {
			return Spec{}, fmt.Errorf("no recordings for %s in %s", name, recordings)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return Spec{}, err
			}
			s.Files["/recordings/"+name+"/"+filepath.Base(f)] = data
			if filepath.Base(f) == def {
				s.Files["/recordings/"+name+"/default.jsonl"] = data
			}
		}
	}
	return s, nil
}
