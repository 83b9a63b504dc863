package serve

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's Chromium. Without it the browser test is
// skipped, unless PLEDGESTAT_REQUIRE_BROWSER is set (CI installs Chromium
// and sets it, so that a missing browser fails instead of hiding).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("PLEDGESTAT_REQUIRE_BROWSER") != "" {
		t.Fatal("no Chromium found; install Debian's chromium")
	}
	t.Skip("no Chromium found (apt-get install chromium); set PLEDGESTAT_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// TestInARealBrowser opens the portal of a demo workspace in headless
// Chromium: the ten sections, a drawn chart for every indicator that has
// one, the Kosovo footnote, the country search and a country page, the
// page at phone width, and the Parquet download checked against the
// manifest. Screenshots of the landing and a country page are saved in
// the test's artifact folder (go test -artifacts -outputdir DIR).
func TestInARealBrowser(t *testing.T) {
	exe := chromium(t)
	ws, _ := published(t)
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	m := manifestOf(t, ws)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	artifacts := t.ArtifactDir()

	run := func(a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	evalInt := func(expr string) int {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	screenshot := func(name string) {
		t.Helper()
		img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(artifacts, name), img, 0o644)
	}

	run(chromedp.Steps(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("C1"))))
	sections := eval(`Array.from(document.querySelectorAll("section > h2")).map(h => h.id).join(" ")`)
	charts := evalInt(`document.querySelectorAll("svg.chart").length`)
	// A chart has drawn marks: a line with a real extent, and points.
	drawn := evalInt(`Array.from(document.querySelectorAll("svg.chart")).filter(s => {
		const lines = Array.from(s.querySelectorAll("polyline")).filter(p => { const b = p.getBBox(); return b.width > 0 || b.height > 0 });
		return lines.length > 0 && s.querySelectorAll("circle").length > 0 && s.getBoundingClientRect().width > 100;
	}).length`)
	unlabelled := evalInt(`Array.from(document.querySelectorAll("svg.chart")).filter(s => {
		const ids = (s.getAttribute("aria-labelledby") || "").split(" ");
		return s.getAttribute("role") !== "img" || ids.some(id => !document.getElementById(id) || !document.getElementById(id).textContent.trim());
	}).length`)
	footnote := eval(`document.getElementById("kosovo").textContent`)
	lang := eval(`document.documentElement.lang`)
	screenshot("landing.png")
	if sections != "C1 C2 P1 P2 P3 P4 P5 P6 P7 P8" {
		t.Errorf("sections = %v", sections)
	}
	if charts < 20 || drawn != charts {
		t.Errorf("%d charts, %d with drawn marks", charts, drawn)
	}
	if unlabelled != 0 || lang != "en" {
		t.Errorf("%d charts without an accessible name; lang %q", unlabelled, lang)
	}
	if !strings.Contains(footnote, "resolution 1244") {
		t.Errorf("footnote = %q", footnote)
	}

	// Phone width: nothing wider than the screen.
	run(chromedp.Steps(chromedp.EmulateViewport(375, 800), chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("C1"))))
	if evalInt(`document.documentElement.scrollWidth - window.innerWidth`) > 1 {
		t.Error("the page is wider than a phone's screen")
	}
	screenshot("landing-phone.png")

	// The country search, in Spanish, leads to the country page.
	run(chromedp.Steps(
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "Filipinas"),
		chromedp.Submit(chromedp.ID("q")),
		chromedp.WaitVisible(chromedp.ID("ratifications")),
	))
	url, _ := chromedp.Run(ctx, chromedp.Location())
	heading := eval(`document.querySelector("h1").textContent`)
	ratifications := evalInt(`document.querySelectorAll("#ratifications + ul li").length`)
	agreements := evalInt(`document.querySelectorAll("#agreements + ul li").length`)
	screenshot("country-PHL.png")
	if !strings.HasSuffix(url, "/countries/PHL") || !strings.Contains(heading, "Philippines") || ratifications == 0 || agreements == 0 {
		t.Errorf("country page: %s %q, %d ratifications, %d agreements", url, heading, ratifications, agreements)
	}

	// Download the Parquet file from its link on the page and check its
	// bytes against the manifest.
	run(chromedp.Steps(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("downloads"))))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const href = document.querySelector('a[href$="/indicators.parquet"]').href;
		const buf = await (await fetch(href)).arrayBuffer();
		const sum = await crypto.subtle.digest("SHA-256", buf);
		return Array.from(new Uint8Array(sum)).map(b => b.toString(16).padStart(2, "0")).join("");
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, f := range m.Outputs {
		if f.Name == "indicators.parquet" {
			want = f.SHA256
		}
	}
	if got != want {
		t.Errorf("the downloaded Parquet has SHA-256 %s, the manifest says %s", got, want)
	}
	t.Log(fmt.Sprintf("screenshots in %s", artifacts))
}
