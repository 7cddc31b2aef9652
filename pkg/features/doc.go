// Package features turns the ways a person can shape a sandbox run into one
// concrete, explained set of run options.
//
// A run is shaped by five layers. From strongest to weakest:
//
//  1. explicit options: `sandbox run` flags or the action's inputs
//  2. the config file, .github/sandbox.yml
//  3. an experiment bundle: a named preset of several options
//  4. the sandbox type: a named isolation level (runtime) and its options
//  5. built-in defaults
//
// Each option is taken from the strongest layer that sets it, and the
// resolver records which layer that was, so a run summary can say
// "memory=2g (from bundle small)". The type and the bundle themselves are
// chosen by flag, then config, then default (type standard, no bundle).
// Unknown names fail closed with the list of valid ones.
//
// Everything here is pure: the one fact that needs the Docker daemon (which
// runtimes and how many CPUs it has) is passed in through Host.
package features
