package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

var fileType = reflect.TypeFor[File]()

// checkNode walks a YAML node against the Go type it will be decoded into
// and reports every unknown key, repeated key and value of the wrong kind,
// each with its position and key path. yaml.v3's KnownFields also refuses
// unknown keys, but names Go types ("config.Limits") instead of the YAML
// path and does not list the valid keys. pos records the value node of
// every key path, for positions in later validation errors.
func checkNode(n *yaml.Node, t reflect.Type, path, name string, pos map[string]*yaml.Node) []error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	pos[path] = n
	if n.Tag == "!!null" {
		return nil // an empty value sets nothing
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	wrong := func() []error {
		return []error{posError(name, n, path, fmt.Errorf("want %s, got %s", want(t), describe(n)))}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return wrong()
		}
		return checkMapping(n, t, path, name, pos)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return wrong()
		}
		var errs []error
		for i, item := range n.Content {
			errs = append(errs, checkNode(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), name, pos)...)
		}
		return errs
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!bool" || n.Tag == "!!binary" {
			return wrong()
		}
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			return wrong()
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			return wrong()
		}
	default:
		panic(fmt.Sprintf("config: no schema rule for %s", t))
	}
	return nil
}

func checkMapping(n *yaml.Node, t reflect.Type, path, name string, pos map[string]*yaml.Node) []error {
	fields := yamlFields(t)
	seen := map[string]*yaml.Node{}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		if first, ok := seen[k.Value]; ok {
			errs = append(errs, posError(name, k, key, fmt.Errorf("repeated key (first at line %d)", first.Line)))
			continue
		}
		seen[k.Value] = k
		ft, ok := fields[k.Value]
		if !ok {
			where := ""
			if path != "" {
				where = " in " + path
			}
			errs = append(errs, posError(name, k, "", fmt.Errorf("unknown key %q%s (valid: %s)",
				k.Value, where, strings.Join(slices.Sorted(maps.Keys(fields)), ", "))))
			continue
		}
		errs = append(errs, checkNode(v, ft, key, name, pos)...)
	}
	return errs
}

// yamlFields maps a struct's YAML keys to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fs := map[string]reflect.Type{}
	for f := range t.Fields() {
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && key != "" && key != "-" {
			fs[key] = f.Type
		}
	}
	return fs
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// want describes what a Go type accepts, in YAML terms.
func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct:
		return "a mapping of keys"
	case reflect.Slice:
		return "a list"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	}
	return "a string"
}

// describe names what a YAML node is.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

// posError puts a file position and key path in front of an error:
// ".github/sandbox.yml:7:11: limits.memory: …".
func posError(name string, n *yaml.Node, key string, err error) error {
	if key != "" {
		return fmt.Errorf("%s:%d:%d: %s: %w", name, n.Line, n.Column, key, err)
	}
	return fmt.Errorf("%s:%d:%d: %w", name, n.Line, n.Column, err)
}
