package channelindex

import (
	"bytes"
	"errors"
	"github.com/channelgate/channelgate/channelindex/indextest"
	"testing"
)

func TestIndexCodecRoundTrip(t *testing.T) {
	c, err := NewIndexCodec(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	visible := hide("secret-tool")

	want, err := FilterRepodata([]byte(sampleRepodata), visible)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.FilterRepodata(indextest.Zstd(t, []byte(sampleRepodata)), visible)
	if err != nil {
		t.Fatal(err)
	}
	if got := indextest.Unzstd(t, out); !bytes.Equal(got, want) {
		t.Errorf("repodata.json.zst: got\n%s", got)
	}

	index := indextest.ShardsIndex([]string{"a", "secret-tool", "z"}, 0x80)
	wantIndex, err := FilterShardsIndex(index, visible)
	if err != nil {
		t.Fatal(err)
	}
	out, err = c.FilterShardsIndex(indextest.Zstd(t, index), visible)
	if err != nil {
		t.Fatal(err)
	}
	if got := indextest.Unzstd(t, out); !bytes.Equal(got, wantIndex) {
		t.Error("shards index: output differs")
	}
	owners, err := c.ShardOwners(indextest.Zstd(t, index))
	if err != nil || len(owners) != 3 {
		t.Errorf("ShardOwners: %v, %v", owners, err)
	}
}

func TestIndexCodecErrors(t *testing.T) {
	c, err := NewIndexCodec(1000)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := indextest.Zstd(t, []byte(`{"info":{"x":"`+string(bytes.Repeat([]byte("y"), 5000))+`"}}`))
	if _, err := c.FilterRepodata(big, showAll); !errors.Is(err, ErrIndexTooLarge) {
		t.Errorf("over the cap: %v", err)
	}
	for name, in := range map[string][]byte{
		"not zstd":        []byte(`{"packages":{}}`),
		"truncated":       indextest.Zstd(t, []byte(sampleRepodata))[:20],
		"zstd of garbage": indextest.Zstd(t, []byte(`{"packages":`)),
	} {
		if out, err := c.FilterRepodata(in, showAll); !errors.Is(err, ErrMalformedIndex) || out != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := c.FilterShardsIndex(in, showAll); !errors.Is(err, ErrMalformedIndex) {
			t.Errorf("%s: shards: %v", name, err)
		}
	}
}
