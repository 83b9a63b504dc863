package fsx

import "testing"

func TestKernelAtLeast(t *testing.T) {
	for release, want := range map[string]bool{"5.17.0": true, "6.1.0-18-amd64": true, "5.16.20": false, "5.10.0": false} {
		if syncfsKernel(release) != want {
			t.Errorf("syncfsKernel(%q) = %v: syncfs reports every error from Linux 5.17", release, !want)
		}
	}
	for _, tc := range []struct {
		release string
		want    bool
	}{
		{"5.8.0", true},
		{"5.8", true},
		{"5.7.19-generic", false},
		{"5.10.0-28-amd64", true},
		{"6.1.0-18-amd64", true},
		{"6.18.44-fc-v782", true},
		{"4.19.0", false},
		{"5.8rc1", true},
		{"5", false},
		{"", false},
		{"x.y", false},
		{"5.x", false},
	} {
		if got := kernelAtLeast(tc.release, 5, 8); got != tc.want {
			t.Errorf("kernelAtLeast(%q, 5, 8) = %v, want %v", tc.release, got, tc.want)
		}
	}
}
