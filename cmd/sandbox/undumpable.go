package main

import "os"

// proxyCmdName is the name of `sandbox proxy`.
const proxyCmdName = "proxy"

// A proxy started the usual way (argv[1] "proxy", as the engine starts it)
// is made undumpable before anything else of the program runs, which
// leaves its keys readable for the shortest time; runProxy makes sure of
// it however it was started.
func init() {
	if len(os.Args) > 1 && os.Args[1] == proxyCmdName {
		undumpable()
	}
}
