package lifeline

import "golang.org/x/sys/unix"

// setParentDeathSignal asks the kernel to SIGKILL this process when its parent exits.
func setParentDeathSignal() error {
	return unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
}

// stdoutClosed reports whether stdout is a pipe whose reader is gone (poll says POLLERR on the write
// end of a pipe without readers). A terminal, a file or /dev/null never reports it.
func stdoutClosed() bool {
	fds := []unix.PollFd{{Fd: 1}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&unix.POLLERR != 0
}
