package bench

import (
	"sync"
	"time"

	"github.com/brazesync/brazesync/test/procstat"
)

// procStat is what the benchmarks read about one process (package procstat).
type procStat = procstat.Stat

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
		pids = append(pids, procstat.Children(pids[i])...)
	}
	for _, pid := range pids {
		st, ok := procstat.Read(pid)
		if !ok {
			continue
		}
		w.mu.Lock()
		old := w.procs[pid]
		st.Peak = max(st.Peak, old.Peak)
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
		o := out[st.Name]
		o.Name = st.Name
		o.CPU += st.CPU
		o.Peak = max(o.Peak, st.Peak)
		out[st.Name] = o
	}
	return out
}
