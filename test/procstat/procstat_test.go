package procstat

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

func TestReadSelfAndChildren(t *testing.T) {
	st, ok := Read(os.Getpid())
	if !ok || st.Name == "" || st.RSS <= 0 || st.Peak < st.RSS {
		t.Fatalf("Read(self) = %+v, %v", st, ok)
	}
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if !slices.Contains(Children(os.Getpid()), cmd.Process.Pid) {
		t.Errorf("child %d not among %v", cmd.Process.Pid, Children(os.Getpid()))
	}
	if _, ok := Read(1 << 30); ok {
		t.Error("a missing process reads as present")
	}
}
