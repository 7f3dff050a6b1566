package channelindex

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// TestParallelAdds runs 16 adds into one subdir at once (and 16 Python
// uploads into one project): every one is listed afterwards.
func TestParallelAdds(t *testing.T) {
	const n = 16
	tp := newTestPublisher(t)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		c := indextest.Conda{Name: fmt.Sprintf("pkg%d", i%4), Version: fmt.Sprintf("1.%d", i), Build: "0", Subdir: "linux-64"}
		conda := indextest.CondaPackage(t, c)
		py := indextest.Python{Project: "acme", Version: fmt.Sprintf("1.%d", i)}
		whl := indextest.Wheel(t, py)
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := tp.AddConda(context.Background(), CondaAdd{Channel: "acme", Labels: []string{"main", "dev"}, File: c.FileName()}, bytes.NewReader(conda), int64(len(conda)))
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := tp.AddPython(context.Background(), PythonAdd{Channel: "acme", File: py.WheelName()}, bytes.NewReader(whl), int64(len(whl)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, root := range []string{"acme", "acme/label/dev"} {
		if got := tp.repodata(root + "/linux-64/repodata.json").files(); len(got) != n {
			t.Errorf("%s lists %d of %d files: %v", root, len(got), n, got)
		}
	}
	files, err := tp.PythonFiles(context.Background(), "acme", PythonQuery{Project: "acme"})
	if err != nil || len(files) != n {
		t.Errorf("project lists %d of %d files: %v", len(files), n, err)
	}
}
