package main

import (
	"math/rand/v2"
	"testing"

	"github.com/channelgate/channelgate/tokenstore"
)

func TestParseWrk(t *testing.T) {
	out := []byte("Running 1s test @ http://127.0.0.1:1\n" +
		`WRKJSON {"requests":100,"duration_us":2000000,"bytes":1,"p50_us":10,"p90_us":20,"p99_us":30,"max_us":40,"mean_us":11.5,"status":2,"connect":0,"read":0,"write":0,"timeout":0}` + "\n")
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps() != 50 || r.P99 != 30 || r.failed() == nil {
		t.Fatalf("%+v", r)
	}
	if _, err := parseWrk([]byte("no summary")); err == nil {
		t.Fatal("missing WRKJSON accepted")
	}
}

func TestGarbageTokensAreWellFormed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 1000 {
		if _, err := tokenstore.ParseToken(garbageToken(rng)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHelpers(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median %v", got)
	}
	if got := redact("/t/cgt-secret/acme/noarch/x.conda"); got != "/t/<TOKEN>/acme/noarch/x.conda" {
		t.Errorf("redact %q", got)
	}
	if human(1_000_000) != "1M" || human(10_000) != "10k" || human(1234) != "1234" {
		t.Error("human")
	}
}
