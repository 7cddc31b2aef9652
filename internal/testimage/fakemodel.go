package testimage

import "testing"

// FakeModelTag is the tag of the fake model API image: the standalone
// internal/fakemodel server listening on :8443 (TLS).
const FakeModelTag = "sandbox-action-test/fake-model:dev"

// FakeModel returns the tag of the fake model API image, building it once
// per test binary.
func FakeModel(t testing.TB) string {
	t.Helper()
	return Ensure(t, FakeModelSpec(FakeModelTag))
}

// FakeModelSpec describes the fake model API image under tag. Mount the
// test's CA certificate and key at /ca/ca.pem and /ca/ca-key.pem; read what
// it received at GET /_fake/requests.
func FakeModelSpec(tag string) Spec {
	return Spec{
		Tag:        tag,
		Binaries:   map[string]string{"/fakemodel": "./internal/fakemodel/cmd"},
		Entrypoint: []string{"/fakemodel", "-addr", ":8443"},
	}
}
