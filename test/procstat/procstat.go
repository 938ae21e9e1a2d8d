// Package procstat reads what tests and benchmarks measure about processes from Linux's /proc: CPU
// time, current and peak resident memory, and the process tree.
package procstat

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on Linux).
const clockTicks = 100

// Stat is one reading of a process.
type Stat struct {
	Name string        // /proc's name, truncated by the kernel to 15 characters
	CPU  time.Duration // utime+stime of the process itself
	Peak int64         // VmHWM: peak resident memory, bytes
	RSS  int64         // VmRSS: resident memory now, bytes
}

// Read reads /proc/PID/stat and /proc/PID/status; ok is false once the process is gone.
func Read(pid int) (st Stat, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, false
	}
	// The command name is in parentheses and may hold spaces: fields start after ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return st, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return st, false
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 (utime); f[0] is field 3
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	st.CPU = time.Duration(ut+stt) * time.Second / clockTicks
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		switch k {
		case "Name":
			st.Name = v
		case "VmHWM":
			n, _ := strconv.ParseInt(v, 10, 64)
			st.Peak = n << 10
		case "VmRSS":
			n, _ := strconv.ParseInt(v, 10, 64)
			st.RSS = n << 10
		}
	}
	return st, st.Name != ""
}

// Children lists the direct children of pid. Each thread has its own children file (a Go program
// forks from whichever thread runs), so every thread is read.
func Children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
