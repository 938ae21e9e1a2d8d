//go:build !windows

package runner

import (
	"os"
	"syscall"
)

// sourceProcAttr starts a source in its own process group, so a Ctrl-C at the terminal reaches
// the runner only, which then stops the source itself.
func sourceProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killSource kills the source's whole process group: a helper it started would otherwise hold
// its output pipes open, and the runner waits for those to close.
func killSource(p *os.Process) {
	if syscall.Kill(-p.Pid, syscall.SIGKILL) != nil {
		_ = p.Kill()
	}
}
