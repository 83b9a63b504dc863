package decimal

import "testing"

func TestRound15(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{0.455 * 100, 45.5}, {72.4 - 55.2, 17.2}, {100.0 / 3, 33.3333333333333}, {0, 0}, {-2.5, -2.5},
	}
	for _, tt := range tests {
		if got := Round15(tt.in); got != tt.want {
			t.Errorf("Round15(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
