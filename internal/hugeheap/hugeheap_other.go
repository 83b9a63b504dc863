//go:build !linux

package hugeheap

// Advise does nothing off Linux: there is no transparent huge page advice.
func Advise(reserve int) (bool, error) { return false, nil }
