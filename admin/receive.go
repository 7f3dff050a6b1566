package admin

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"

	"golang.org/x/crypto/blake2b"

	"github.com/channelgate/channelgate/tokenstore"
)

// publish receives one file for owner: it streams src into the storage's
// temporary directory while hashing it, refuses it unless its digests,
// size (against the owner's plan) and metadata (read from the file
// itself) are what want and dg say, charges its bytes to the owner,
// publishes it and audits the upload. Nothing is published on any
// failure. anaconda upload and twine both end here.
func (a *api) publish(ctx context.Context, actor tokenstore.Actor, owner string, want Dist, private bool, src io.Reader, dg digests) (Dist, error) {
	st, err := a.storage()
	if err != nil {
		return Dist{}, err
	}
	plan, err := a.planOf(owner)
	if err != nil {
		return Dist{}, err
	}
	tmp, err := os.CreateTemp(st.TempDir(), ".upload-*")
	if err != nil {
		return Dist{}, fmt.Errorf("receive upload: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once the storage moved it
	size, sums, err := receiveFile(tmp, src, plan.MaxFileBytes)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("receive upload: %w", cerr)
	}
	if err != nil {
		return Dist{}, err
	}
	if err := plan.Admits(size, private); err != nil {
		return Dist{}, err
	}
	if err := dg.check(sums[0], sums[1], sums[2]); err != nil {
		return Dist{}, err
	}
	d, err := st.Inspect(ctx, want.Kind, path.Base(want.Basename), tmp.Name())
	if err != nil {
		return Dist{}, err
	}
	if err := sameFile(d, want); err != nil {
		return Dist{}, err
	}
	d.Labels = want.Labels
	if err := a.store.Charge(owner, plan, size, 0, private); err != nil {
		return Dist{}, err
	}
	if err := st.Add(ctx, owner, d, tmp.Name()); err != nil {
		if rerr := a.store.Refund(owner, size); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return Dist{}, err
	}
	target := owner + "/" + d.Name + "/" + d.Version + "/" + d.Basename
	if err := a.store.Record(actor, "dist.upload", target, fileDetail(d)); err != nil {
		return d, err
	}
	return d, a.register(actor, owner, want.Kind, want.Name, !private)
}

// receiveFile copies src into dst, at most limit bytes (0: no limit), and
// returns the size and the sha256 (hex), md5 and blake2b-256 sums.
func receiveFile(dst io.Writer, src io.Reader, limit int64) (int64, [3][]byte, error) {
	var sums [3][]byte
	sha, m5 := sha256.New(), md5.New()
	b2, _ := blake2b.New256(nil)
	r := src
	if limit > 0 {
		r = io.LimitReader(src, limit+1)
	}
	n, err := io.Copy(io.MultiWriter(dst, sha, m5, b2), r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return n, sums, errorf(http.StatusRequestEntityTooLarge, "upload is larger than %d bytes", tooBig.Limit)
		}
		return n, sums, errorf(http.StatusBadRequest, "upload interrupted after %d bytes: %v", n, err)
	}
	sums[0] = []byte(hex.EncodeToString(sha.Sum(nil)))
	sums[1], sums[2] = m5.Sum(nil), b2.Sum(nil)
	return n, sums, nil
}

// sameFile checks that a file's own metadata names the package, version
// and file it was uploaded as.
func sameFile(got, want Dist) error {
	switch {
	case tokenstore.NormalizeName(want.Kind, got.Name) != tokenstore.NormalizeName(want.Kind, want.Name):
		return errorf(http.StatusBadRequest, "the file's metadata names package %s, not %s", got.Name, want.Name)
	case got.Version != want.Version:
		return errorf(http.StatusBadRequest, "the file's metadata says version %s, not %s", got.Version, want.Version)
	case got.Basename != want.Basename:
		return errorf(http.StatusBadRequest, "the file's metadata makes it %s, not %s", got.Basename, want.Basename)
	}
	return nil
}

// register creates the registration of a package a file was uploaded to,
// if it has none, with the access its files had (the channel's default),
// so that show, search and collaborators work on it.
func (a *api) register(actor tokenstore.Actor, channel string, kind tokenstore.Kind, name string, public bool) error {
	_, err := a.store.Package(channel, kind, name)
	if !errors.Is(err, tokenstore.ErrNotFound) {
		return err
	}
	_, err = a.store.PutPackage(actor, channel, kind, name, public, "")
	if errors.Is(err, tokenstore.ErrExists) {
		return nil
	}
	return err
}
