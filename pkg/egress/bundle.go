package egress

import (
	"fmt"
	"strings"
)

// BundlePrefix starts an allowlist entry that names a bundle ("@go"). No host
// name or IP literal can contain it, so a bundle is never mistaken for a
// host (a container named "go" is still "go").
const BundlePrefix = "@"

// AllowBundle is a named set of allowlist entries, added to an allowlist in
// one word: --allow @go, or allow: ["@go"] in the config file (YAML wants
// the quotes: a plain scalar cannot start with '@').
type AllowBundle struct {
	Name string
	// Doc says what the bundle is for, for --help and the README.
	Doc string
	// Entries are ordinary allowlist entries, each with its port: a bundle
	// opens what its tools need and no more.
	Entries []string
}

// allowBundles are the bundles, in the order --help lists them. Hosts are
// the ones the tools contact for public artifacts; none of them carries a
// credential from the sandbox, which has none.
var allowBundles = []AllowBundle{
	{Name: "anthropic", Doc: "Anthropic's model API (Claude Code's default)",
		Entries: []string{"api.anthropic.com:443"}},
	{Name: "openai", Doc: "OpenAI's model API (Codex's default)",
		Entries: []string{"api.openai.com:443"}},
	{Name: "gemini", Doc: "Google's Gemini API (Gemini CLI's default)",
		Entries: []string{"generativelanguage.googleapis.com:443"}},
	{Name: "github", Doc: "cloning public GitHub repositories over HTTPS: git, archives, release and LFS downloads (no API)",
		Entries: []string{"github.com:443", "codeload.github.com:443", "objects.githubusercontent.com:443"}},
	// proxy.golang.org answers some module downloads with a redirect to
	// Google Cloud Storage; that host serves every public bucket.
	{Name: "go", Doc: "Go modules and toolchains: the module mirror, the checksum database and the storage it redirects to",
		Entries: []string{"proxy.golang.org:443", "sum.golang.org:443", "storage.googleapis.com:443"}},
	{Name: "npm", Doc: "the npm registry (metadata and tarballs)",
		Entries: []string{"registry.npmjs.org:443"}},
	{Name: "pypi", Doc: "the Python Package Index (metadata and files)",
		Entries: []string{"pypi.org:443", "files.pythonhosted.org:443"}},
	// apt speaks plain HTTP by default and checks signatures itself.
	{Name: "debian", Doc: "Debian's package archive and security updates, over HTTP and HTTPS",
		Entries: []string{"deb.debian.org:80", "deb.debian.org:443", "security.debian.org:80", "security.debian.org:443"}},
}

// AllowBundles returns every bundle.
func AllowBundles() []AllowBundle {
	out := make([]AllowBundle, len(allowBundles))
	for i, b := range allowBundles {
		b.Entries = append([]string(nil), b.Entries...)
		out[i] = b
	}
	return out
}

// LookupBundle returns the bundle an entry such as "@go" names (the prefix is
// optional here; names are case-insensitive).
func LookupBundle(name string) (AllowBundle, error) {
	n := strings.TrimPrefix(name, BundlePrefix)
	// ASCII only: Unicode case folding would let "@ſ..." pass for "@s...".
	lower := strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, n)
	for _, b := range allowBundles {
		if b.Name == lower {
			return b, nil
		}
	}
	return AllowBundle{}, fmt.Errorf("unknown bundle %q (known: %s)", BundlePrefix+n, bundleNames())
}

func bundleNames() string {
	names := make([]string, len(allowBundles))
	for i, b := range allowBundles {
		names[i] = BundlePrefix + b.Name
	}
	return strings.Join(names, ", ")
}
