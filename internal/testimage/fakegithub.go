package testimage

import "testing"

// FakeGitHubTag is the tag of the fake GitHub API image: the standalone
// internal/fakegithub server listening on :8080.
const FakeGitHubTag = "sandbox-action-test/fake-github:dev"

// FakeGitHub returns the tag of the fake GitHub image, building it once per
// test binary.
func FakeGitHub(t testing.TB) string {
	t.Helper()
	return Ensure(t, FakeGitHubSpec(FakeGitHubTag))
}

// FakeGitHubSpec describes the fake GitHub image under tag. Seed it with
// POST /_fake/state (or -state FILE); read what it received at GET
// /_fake/requests.
func FakeGitHubSpec(tag string) Spec {
	return Spec{
		Tag:        tag,
		Binaries:   map[string]string{"/fakegithub": "./internal/fakegithub/cmd"},
		Entrypoint: []string{"/fakegithub", "-addr", ":8080"},
	}
}
