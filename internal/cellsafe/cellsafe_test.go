package cellsafe

import "testing"

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=SUM(A1)", "'=SUM(A1)"}, {"+1", "'+1"}, {"-2", "'-2"}, {"@x", "'@x"},
		{"\tx", "'\tx"}, {"\rx", "'\rx"}, {"plain", "plain"}, {"", ""}, {"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
