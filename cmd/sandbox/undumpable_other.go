//go:build !linux

package main

// undumpable does nothing where the proxy never runs as a process of its
// own beside others of its uid: it runs on Linux, as a host process or in
// a container.
func undumpable() error { return nil }
