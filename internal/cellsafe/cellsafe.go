// Package cellsafe neutralises text from users before it is written where a
// spreadsheet program will open it (outputs.md, "Safety of exported text").
package cellsafe

// Risky reports whether a spreadsheet program could read s as a formula:
// it begins with = + - @, a tab or a carriage return.
func Risky(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// Text returns s with a leading apostrophe when it is Risky, which every
// spreadsheet program reads as "this is text".
func Text(s string) string {
	if Risky(s) {
		return "'" + s
	}
	return s
}
