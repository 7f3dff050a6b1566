package channelindex

import (
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// DefaultMaxDecodedIndex is the default cap on the decompressed size of
// a zstd-compressed index. conda-forge's largest repodata.json is well
// under 1 GiB.
const DefaultMaxDecodedIndex = 2 << 30

// ErrIndexTooLarge is returned for a compressed index that decompresses
// to more than the codec's cap.
var ErrIndexTooLarge = errors.New("decompressed index exceeds the size limit")

// IndexCodec filters zstd-compressed indexes: repodata.json.zst and the
// sharded repodata index. It holds one decoder and one encoder, both
// safe for concurrent use, so it should be created once and shared.
type IndexCodec struct {
	dec *zstd.Decoder
	enc *zstd.Encoder
}

// NewIndexCodec returns a codec that refuses to decompress more than
// maxDecoded bytes (DefaultMaxDecodedIndex if zero or less), which bounds
// the memory one request can make the server use.
func NewIndexCodec(maxDecoded int64) (*IndexCodec, error) {
	if maxDecoded <= 0 {
		maxDecoded = DefaultMaxDecodedIndex
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(uint64(maxDecoded)), zstd.WithDecoderConcurrency(0))
	if err != nil {
		return nil, err
	}
	// The default level compresses at hundreds of MB/s; filtered output
	// is cached, and clients only care that it is zstd.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(0))
	if err != nil {
		dec.Close()
		return nil, err
	}
	return &IndexCodec{dec: dec, enc: enc}, nil
}

// Close releases the codec's resources.
func (c *IndexCodec) Close() {
	c.dec.Close()
	_ = c.enc.Close()
}

// decode decompresses a whole zstd stream.
func (c *IndexCodec) decode(src []byte) ([]byte, error) {
	out, err := c.dec.DecodeAll(src, nil)
	switch {
	case errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return nil, ErrIndexTooLarge
	case err != nil:
		return nil, fmt.Errorf("%w: zstd: %v", ErrMalformedIndex, err)
	}
	return out, nil
}

// encode compresses b into one zstd frame; a filtered index compresses
// about as well as the stored one, so that size is the first guess.
func (c *IndexCodec) encode(b []byte, sizeHint int) []byte {
	return c.enc.EncodeAll(b, make([]byte, 0, sizeHint))
}

// FilterRepodata is FilterRepodata for repodata.json.zst: it decompresses
// src, filters it and compresses the result.
func (c *IndexCodec) FilterRepodata(src []byte, visible func(string) bool) ([]byte, error) {
	return c.filterZst(src, visible, FilterRepodata)
}

// FilterShardsIndex is FilterShardsIndex for the stored, compressed
// repodata_shards.msgpack.zst.
func (c *IndexCodec) FilterShardsIndex(src []byte, visible func(string) bool) ([]byte, error) {
	return c.filterZst(src, visible, FilterShardsIndex)
}

func (c *IndexCodec) filterRepodata(src []byte, _ string, visible func(string) bool) ([]byte, error) {
	return c.FilterRepodata(src, visible)
}

func (c *IndexCodec) filterShardsIndex(src []byte, _ string, visible func(string) bool) ([]byte, error) {
	return c.FilterShardsIndex(src, visible)
}

// filterZst decompresses src, filters it and compresses the result.
func (c *IndexCodec) filterZst(src []byte, visible func(string) bool, filter func([]byte, func(string) bool) ([]byte, error)) ([]byte, error) {
	raw, err := c.decode(src)
	if err != nil {
		return nil, err
	}
	out, err := filter(raw, visible)
	if err != nil {
		return nil, err
	}
	return c.encode(out, len(src)), nil
}

// ShardOwners is ShardOwnersOf for the stored, compressed
// repodata_shards.msgpack.zst.
func (c *IndexCodec) ShardOwners(src []byte) (ShardOwners, error) {
	raw, err := c.decode(src)
	if err != nil {
		return nil, err
	}
	return ShardOwnersOf(raw)
}
