package lifeline

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary plays three roles, chosen by this variable: the test itself, a host ("parent")
// that starts a plugin and prints its pid, and the plugin ("child", "child-nosignal") that holds a
// lifeline and would otherwise live for a minute.
const roleEnv = "LIFELINE_TEST_ROLE"

func TestMain(m *testing.M) {
	switch role := os.Getenv(roleEnv); {
	case role == "parent":
		runParent()
	case strings.HasPrefix(role, "child"):
		hold(role == "child")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runParent starts the child with its stdout on a pipe, as go-plugin and CloudQuery's launcher do,
// prints the child's pid, and waits to be killed.
func runParent() {
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), roleEnv+"="+os.Getenv("LIFELINE_CHILD_ROLE"))
	out, err := child.StdoutPipe()
	if err != nil {
		panic(err)
	}
	if err := child.Start(); err != nil {
		panic(err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	fmt.Println(child.Process.Pid)
	time.Sleep(time.Minute)
}

// TestOrphanExits: when its host is SIGKILLed, a plugin holding a lifeline exits — by the kernel's
// parent-death signal, and, where that is missing, by the watcher alone.
func TestOrphanExits(t *testing.T) {
	for _, role := range []string{"child", "child-nosignal"} {
		t.Run(role, func(t *testing.T) {
			parent := exec.Command(os.Args[0])
			parent.Env = append(os.Environ(), roleEnv+"=parent", "LIFELINE_CHILD_ROLE="+role)
			out, err := parent.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := parent.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatalf("reading the child's pid: %v", err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
			if !alive(pid) {
				t.Fatalf("child %d is not running before its parent is killed", pid)
			}
			if err := parent.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = parent.Wait()
			deadline := time.Now().Add(5 * time.Second) // an upper bound; the watcher polls every 100 ms
			for alive(pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(pid) {
				t.Fatalf("child %d still running after its parent was killed", pid)
			}
		})
	}
}

// alive reports whether pid runs; a zombie (dead, not yet reaped by its new parent) does not.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may contain spaces.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

func TestManaged(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"serve", "--log-level", "info", "--network", "unix", "--address", "/tmp/cq-1.sock"}, true},
		{[]string{"serve", "--network=unix"}, true},
		{[]string{"serve", "--address", "127.0.0.1:7777"}, false},
		{[]string{"serve", "--network", "tcp"}, false},
		{[]string{"doc"}, false},
	} {
		if got := Managed(tc.args); got != tc.want {
			t.Errorf("Managed(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
