//go:build !windows

package runner

import "syscall"

// sourceProcAttr starts a source in its own process group, so a Ctrl-C at the terminal reaches
// the runner only, which then stops the source itself.
func sourceProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
