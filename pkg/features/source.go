package features

// Origin is the kind of layer an option came from, weakest first.
type Origin int

const (
	FromDefault Origin = iota
	FromType
	FromBundle
	FromConfig
	FromFlag
	// FromHost marks a value lowered to fit the Docker host (see
	// Resolved.Fit).
	FromHost
)

// Source says where a resolved option came from.
type Source struct {
	Origin Origin
	// Name is the type or bundle name, or the config file's name.
	Name string
}

// String names the source: "default", "type gvisor", "bundle small",
// "config .github/sandbox.yml", "flag" or "host".
func (s Source) String() string {
	var kind string
	switch s.Origin {
	case FromDefault:
		return "default"
	case FromType:
		kind = "type"
	case FromBundle:
		kind = "bundle"
	case FromConfig:
		kind = "config"
	case FromFlag:
		kind = "flag"
	case FromHost:
		kind = "host"
	}
	if s.Name == "" {
		return kind
	}
	return kind + " " + s.Name
}

// Phrase is the source as shown after a value: "default", "from bundle small".
func (s Source) Phrase() string {
	switch s.Origin {
	case FromDefault:
		return "default"
	case FromHost:
		return "lowered to fit the host"
	}
	return "from " + s.String()
}
