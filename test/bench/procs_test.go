package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on Linux).
const clockTicks = 100

// procStat is what the benchmarks read about one process from /proc.
type procStat struct {
	name   string
	cpu    time.Duration // utime+stime of the process itself
	peak   int64         // VmHWM: peak resident memory, bytes
	rssNow int64         // VmRSS, bytes
}

// readProc reads /proc/PID/stat and /proc/PID/status; ok is false once the process is gone.
func readProc(pid int) (procStat, bool) {
	var st procStat
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
	st.cpu = time.Duration(ut+stt) * time.Second / clockTicks
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		switch k {
		case "Name":
			st.name = v
		case "VmHWM":
			n, _ := strconv.ParseInt(v, 10, 64)
			st.peak = n << 10
		case "VmRSS":
			n, _ := strconv.ParseInt(v, 10, 64)
			st.rssNow = n << 10
		}
	}
	return st, st.name != ""
}

// children lists the direct children of pid. Each thread has its own children file
// (a Go program forks from whichever thread runs), so every thread is read.
func children(pid int) []int {
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

// procWatch follows a process tree while it runs and keeps, per process, the last CPU
// time and the peak resident memory seen. Peak memory is exact (the kernel's VmHWM);
// CPU of a process that exits between samples is under-counted by at most one interval,
// which is why the tree's total CPU is taken from the runner's rusage instead.
type procWatch struct {
	mu    sync.Mutex
	procs map[int]procStat
	done  chan struct{}
	wg    sync.WaitGroup
}

const sampleEvery = 50 * time.Millisecond

func watchTree(root int) *procWatch {
	w := &procWatch{procs: map[int]procStat{}, done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			w.sample(root)
			select {
			case <-w.done:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *procWatch) sample(root int) {
	pids := []int{root}
	for i := 0; i < len(pids); i++ {
		pids = append(pids, children(pids[i])...)
	}
	for _, pid := range pids {
		st, ok := readProc(pid)
		if !ok {
			continue
		}
		w.mu.Lock()
		old := w.procs[pid]
		st.peak = max(st.peak, old.peak)
		w.procs[pid] = st
		w.mu.Unlock()
	}
}

func (w *procWatch) stop() {
	close(w.done)
	w.wg.Wait()
}

// byName sums CPU and takes the largest peak RSS over processes of the same name
// (/proc truncates names to 15 characters: "braze-destinati").
func (w *procWatch) byName() map[string]procStat {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]procStat{}
	for _, st := range w.procs {
		o := out[st.name]
		o.name = st.name
		o.cpu += st.cpu
		o.peak = max(o.peak, st.peak)
		out[st.name] = o
	}
	return out
}
