//go:build !crashhook

package main

import "github.com/ilo-pledge/pledgestat/workspace"

// installTestHooks does nothing in release builds (see testhooks.go).
func installTestHooks(*workspace.Workspace) error { return nil }
