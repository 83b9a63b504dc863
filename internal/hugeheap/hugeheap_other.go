//go:build !linux

package hugeheap

// Advise does nothing off Linux: there is no transparent huge page advice.
func Advise(reserve int) (advised bool, why string, err error) {
	return false, "not Linux", nil
}
