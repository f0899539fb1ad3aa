package du

import (
	"sync"

	"github.com/dlayer/dlayer/inspect"
	"github.com/dlayer/dlayer/inspect/backend"
)

// applySizeRules measures what the walk cannot, for a driver whose Docker
// sizes are not directory.Size of a content dir (Terms.LayerSize and
// RWSize; the legacy overlay driver's): a layer's size as its own
// regular files, read through the driver's Format (an image layer's
// root/ holds the whole image up to it), and a container's SizeRw as the
// size of its docker diff. The walk's numbers stand for the others. At
// most workers measurements run at once.
func applySizeRules(s *inspect.Store, m *meta, p *plan, workers int) {
	t := s.Graph().Terms()
	var jobs []func()
	var mu sync.Mutex
	fail := func(path, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		m.find(KindUnreadable, path, format, args...)
	}
	if t.LayerSize == backend.SizeTarFiles {
		for _, c := range m.layerOrder {
			l := m.layers[c]
			if !p.driverNames[l.CacheID] {
				continue
			}
			content := s.Graph().Layout(l.CacheID).Content
			jobs = append(jobs, func() {
				n, err := s.TarFilesSize(content)
				if err != nil {
					l.MeasuredSize = -1
					fail(content, "%v: the layer's own files are not measured", err)
					return
				}
				l.MeasuredSize = n
			})
		}
	}
	if t.RWSize == backend.SizeChanges {
		for _, ct := range m.containers {
			// A container without a config has no docker diff; Docker
			// lists no size for it: the walk's number stands.
			if ct.MountID == "" || !p.driverNames[ct.MountID] || ct.State == "unknown" {
				continue
			}
			jobs = append(jobs, func() {
				n, err := s.RWSize(ct.ID)
				if err != nil {
					fail(s.Graph().Layout(ct.MountID).Content, "%v: its SizeRw (the size of its docker diff) is not measured", err)
					return
				}
				ct.SizeRw = n
			})
		}
	}
	run(jobs, workers)
}

// run runs jobs, at most n at once.
func run(jobs []func(), n int) {
	ch := make(chan func())
	var wg sync.WaitGroup
	for range min(max(n, 1), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				j()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}
