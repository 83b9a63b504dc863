package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
)

// contentTypes of the published files.
var contentTypes = map[string]string{
	".parquet": "application/vnd.apache.parquet",
	".csv":     "text/csv; charset=utf-8",
	".xlsx":    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".json":    "application/json; charset=utf-8",
}

// file serves a published file: only a name the run's manifest lists is
// ever opened (nothing a URL says is joined to a path unchecked), opened
// without following links, with its SHA-256 from the manifest as ETag;
// net/http answers Range (206), If-None-Match (304) and HEAD. The open
// file is read to the end even if its run is removed meanwhile.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	ru, ok := s.runOr404(w, r.PathValue("run"))
	if !ok {
		return
	}
	name := r.PathValue("name")
	if name == "manifest.json" {
		s.manifestFile(w, r, ru)
		return
	}
	mf, ok := ru.output(name)
	if !ok || strings.ContainsAny(name, `/\`) {
		writeError(w, http.StatusNotFound, "run "+ru.ID+" has no file "+quote(name))
		return
	}
	f, st, err := fsx.OpenRegular(filepath.Join(ru.Dir, name), true)
	if errors.Is(err, fs.ErrNotExist) {
		writeError(w, http.StatusNotFound, "run "+ru.ID+" has no file "+quote(name))
		return
	}
	if err != nil || st.Size() != mf.Bytes {
		s.log.Error("a published file cannot be served as its manifest describes it", "run", ru.ID, "file", name, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the file "+quote(name)+" of run "+ru.ID+" does not match its manifest")
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("ETag", `"`+mf.SHA256+`"`)
	ct := contentTypes[filepath.Ext(name)]
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "pledgestat-" + ru.ID + "-" + name}))
	if r.PathValue("run") == "latest" {
		h.Set("Cache-Control", "no-cache") // revalidate: the ETag makes it cheap
	} else {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	http.ServeContent(w, r, name, ru.Manifest.FinishedAt, f)
}

// manifestFile serves manifest.json, which cannot list itself: its ETag is
// the SHA-256 of the bytes read.
func (s *Server) manifestFile(w http.ResponseWriter, r *http.Request, ru *run) {
	sum := sha256.Sum256(ru.raw)
	h := w.Header()
	h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	h.Set("Content-Type", contentTypes[".json"])
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "pledgestat-" + ru.ID + "-manifest.json"}))
	http.ServeContent(w, r, "manifest.json", ru.Manifest.FinishedAt, bytes.NewReader(ru.raw))
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
