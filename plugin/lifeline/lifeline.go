// Package lifeline ends a plugin process when the process that started it is gone. A plugin whose
// host died (kill -9, an OOM kill, a crashed runner) has nobody to report to: the rows it would
// still send are in no report, and an orphan left running keeps sending. So every plugin binary
// holds a lifeline to its host, and lets go of nothing.
package lifeline

import (
	"os"
	"time"
)

// pollEvery is how often the watcher looks for its parent. It bounds how long an orphan lives where
// the kernel's parent-death signal does not reach it (other systems, a parent that died before the
// signal was armed).
const pollEvery = 100 * time.Millisecond

// exitOrphaned is the exit code of a plugin whose host went away (nobody reads it: for ps and logs).
const exitOrphaned = 70

// Hold ties this process's life to its parent's. On Linux the kernel kills it the moment its parent
// exits (PR_SET_PDEATHSIG with SIGKILL); everywhere a watcher also notices within pollEvery that the
// parent is gone — this process was re-parented, or the parent's end of our stdout pipe (the
// go-plugin handshake, CloudQuery's log stream) was closed — and exits at once. Either way nothing
// runs, and so nothing is sent, after the host is gone. Call it first in main, when a host started
// the process (go-plugin, or Managed).
func Hold() { hold(true) }

func hold(parentDeathSignal bool) {
	ppid := os.Getppid()
	if parentDeathSignal {
		_ = setParentDeathSignal() // best effort: the watcher below covers where it is missing
	}
	go watch(ppid)
}

// watch exits the process once the parent that started it is gone.
func watch(ppid int) {
	for {
		if os.Getppid() != ppid || stdoutClosed() {
			os.Exit(exitOrphaned)
		}
		time.Sleep(pollEvery)
	}
}

// Managed reports whether args are a CloudQuery `serve` started by a plugin host: the CloudQuery
// CLI and brazesync run local plugins as `serve --network unix --address <temp socket>`. A plugin
// started by hand for `registry: grpc` serves TCP and may well outlive the shell that started it,
// so it holds no lifeline.
func Managed(args []string) bool {
	for i, a := range args {
		if a == "--network=unix" || (a == "--network" && i+1 < len(args) && args[i+1] == "unix") {
			return true
		}
	}
	return false
}
