package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Users' pictures are served from this site (/avatar/<hash>), so the
// browser never contacts a third party and no outside service learns who
// looks at whom. The hash is the SHA-256 of the lowercased address, as
// Gravatar keys pictures. When Gravatar is on, the server fetches the
// picture once an hour at most; when it is off, or has no picture, or
// cannot be reached, a generated identicon is served.

// Avatar limits.
const (
	avatarCacheSize = 1000            // pictures kept
	avatarCacheTTL  = time.Hour       // how long one is kept
	avatarMaxBytes  = 256 << 10       // largest picture accepted from Gravatar
	avatarTimeout   = 5 * time.Second // one fetch
	avatarPixels    = 80              // width and height asked for and drawn
	identiconGrid   = 5               // identicon cells per side
	identiconCell   = avatarPixels / identiconGrid
)

type picture struct {
	contentType string
	body        []byte
}

// avatars fetches and caches pictures.
type avatars struct {
	gravatar bool
	base     string
	client   *http.Client
	cache    *expirable.LRU[string, picture]
}

func newAvatars(gravatar bool, base string) *avatars {
	return &avatars{gravatar: gravatar, base: base, client: &http.Client{Timeout: avatarTimeout},
		cache: expirable.NewLRU[string, picture](avatarCacheSize, nil, avatarCacheTTL)}
}

// avatarHash is the key of an address's picture.
func avatarHash(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// get returns the picture for hash (64 hex digits).
func (a *avatars) get(hash string) picture {
	if p, ok := a.cache.Get(hash); ok {
		return p
	}
	p, ok := a.fetch(hash)
	if !ok {
		p = picture{"image/png", identicon(hash)}
	}
	a.cache.Add(hash, p)
	return p
}

// fetch asks Gravatar; false when it is off, has no picture or fails.
func (a *avatars) fetch(hash string) (picture, bool) {
	if !a.gravatar {
		return picture{}, false
	}
	resp, err := a.client.Get(a.base + hash + "?s=80&d=404")
	if err != nil {
		return picture{}, false
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	if resp.StatusCode != http.StatusOK || (ct != "image/png" && ct != "image/jpeg" && ct != "image/gif") {
		return picture{}, false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, avatarMaxBytes+1))
	if err != nil || len(body) > avatarMaxBytes {
		return picture{}, false
	}
	return picture{ct, body}, true
}

// identicon draws a symmetric 5×5 pattern in a color, both taken from the
// hash, as a PNG.
func identicon(hash string) []byte {
	sum, _ := hex.DecodeString(hash)
	fg := color.RGBA{R: sum[0]/2 + 64, G: sum[1]/2 + 64, B: sum[2]/2 + 64, A: 255}
	img := image.NewPaletted(image.Rect(0, 0, avatarPixels, avatarPixels), color.Palette{color.RGBA{240, 240, 240, 255}, fg})
	for row := 0; row < identiconGrid; row++ {
		for col := 0; col <= identiconGrid/2; col++ {
			if sum[3+row*3+col]&1 == 0 {
				continue
			}
			for _, c := range []int{col, identiconGrid - 1 - col} {
				for y := row * identiconCell; y < (row+1)*identiconCell; y++ {
					for x := c * identiconCell; x < (c+1)*identiconCell; x++ {
						img.SetColorIndex(x, y, 1)
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory does not fail
	return buf.Bytes()
}

// avatar is /avatar/{hash}, for logged-in users.
func (h *Handler) avatar(q *request) {
	hash := q.r.PathValue("hash")
	if b, err := hex.DecodeString(hash); err != nil || len(b) != sha256.Size || strings.ToLower(hash) != hash {
		h.fail(q.w, q.r, http.StatusNotFound, "There is no such picture.")
		return
	}
	p := h.avatars.get(hash)
	q.w.Header().Set("Content-Type", p.contentType)
	q.w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = q.w.Write(p.body)
}
