// Package decimal holds the one rounding rule pledgestat applies to
// computed numbers.
package decimal

import "strconv"

// Round15 keeps 15 significant digits, removing the binary noise of float
// arithmetic on decimal inputs: 0.455*100 is 45.5, not 45.50000000000001,
// and 72.4-55.2 is 17.2, not 17.200000000000003.
func Round15(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
	if err != nil {
		return v
	}
	return r
}
