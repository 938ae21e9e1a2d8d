package runner

import (
	"os"
	"syscall"
)

// sourceProcAttr starts a source in its own process group, so a Ctrl-C at the console reaches
// the runner only, which then stops the source itself.
func sourceProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// killSource kills the source.
func killSource(p *os.Process) { _ = p.Kill() }
