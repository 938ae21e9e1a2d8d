package privatefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setups are what may already be at the path: nothing, an old world-writable file, a symlink to a
// file the run must not touch, and a hard link to one.
func setups(t *testing.T, dir string) map[string]func(path, victim string) {
	return map[string]func(path, victim string){
		"nothing": func(string, string) {},
		"old 0666 file": func(path, _ string) {
			require.NoError(t, os.WriteFile(path, []byte("old"), 0o666))
			require.NoError(t, os.Chmod(path, 0o666))
		},
		"symlink":          func(path, victim string) { require.NoError(t, os.Symlink(victim, path)) },
		"dangling symlink": func(path, _ string) { require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), path)) },
		"hard link":        func(path, victim string) { require.NoError(t, os.Link(victim, path)) },
	}
}

func TestCreateAndWriteAtomic(t *testing.T) {
	writers := map[string]func(path string) error{
		"Create": func(path string) error {
			f, err := Create(path)
			if err != nil {
				return err
			}
			_, err = f.WriteString("new")
			return errors.Join(err, f.Close())
		},
		"WriteAtomic": func(path string) error { return WriteAtomic(path, []byte("new")) },
	}
	for wname, write := range writers {
		dir := t.TempDir()
		for sname, setup := range setups(t, dir) {
			t.Run(wname+"/"+sname, func(t *testing.T) {
				sub := t.TempDir()
				victim := filepath.Join(sub, "victim")
				require.NoError(t, os.WriteFile(victim, []byte("precious"), 0o644))
				path := filepath.Join(sub, "out.jsonl")
				setup(path, victim)

				require.NoError(t, write(path))

				fi, err := os.Lstat(path)
				require.NoError(t, err)
				assert.True(t, fi.Mode().IsRegular(), "a regular file, not a link: %v", fi.Mode())
				assert.Equal(t, Mode, fi.Mode().Perm())
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, "new", string(b))
				b, err = os.ReadFile(victim)
				require.NoError(t, err)
				assert.Equal(t, "precious", string(b), "the link's target is untouched")
				_, err = os.Stat(filepath.Join(dir, "nowhere"))
				assert.True(t, os.IsNotExist(err), "a dangling link's target is not created")
				entries, _ := os.ReadDir(sub)
				assert.Len(t, entries, 2, "no temporary file left behind")
			})
		}
	}
}

func TestRefusesAFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := Create(dir)
	assert.ErrorContains(t, err, "folder")
	assert.ErrorContains(t, WriteAtomic(dir, []byte("x")), "folder")
}

func TestWriteAtomicCreatesPrivateFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "report.json")
	require.NoError(t, WriteAtomic(path, []byte("{}")))
	fi, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, folderMode, fi.Mode().Perm())
}
