//go:build !unix

package state

import (
	"errors"
	"os"
)

func tryLock(*os.File) (bool, error) {
	return false, errors.New("state folders need advisory file locks, which this system lacks")
}
