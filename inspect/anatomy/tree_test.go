package anatomy

import (
	"reflect"
	"testing"
	"time"

	"github.com/dlayer/dlayer/inspect"
)

// TestTree: each layer's view of each path of wasteStore, on overlay2 and
// its aufs twin (whiteouts and opaque dirs stored differently).
func TestTree(t *testing.T) {
	for _, drv := range []string{"overlay2", "aufs"} {
		t.Run(drv, func(t *testing.T) {
			s := openWaste(t, drv)
			tree := func(ref string) *Tree {
				img, err := s.FindImage(ref)
				if err != nil {
					t.Fatal(err)
				}
				r, err := Image(s, img, Options{Tree: true})
				if err != nil {
					t.Fatal(err)
				}
				if r.Tree == nil || len(r.Tree.Stack) != len(r.Layers) {
					t.Fatalf("%s: no tree or wrong stack: %+v", ref, r.Tree)
				}
				return r.Tree
			}
			node := func(tr *Tree, p string) *Node {
				n := tr.Find(p)
				if n == nil {
					t.Fatalf("no node %s", p)
				}
				if n.Path() != p {
					t.Fatalf("node %s has path %s", p, n.Path())
				}
				return n
			}
			// visible lists, top layer first, whether p is seen as of each layer
			visible := func(tr *Tree, p string, want ...bool) {
				t.Helper()
				n := node(tr, p)
				for i, w := range want {
					if got := n.Visible(i); got != w {
						t.Errorf("%s visible as of layer index %d = %v, want %v (events %+v)", p, i, got, w, n.Events)
					}
				}
			}
			own := func(tr *Tree, p string, i int, kind inspect.ChangeKind, dead inspect.DeadKind) {
				t.Helper()
				e, ok := node(tr, p).Own(i)
				switch {
				case !ok:
					t.Errorf("%s: layer index %d has no event", p, i)
				case kind == "" && e.Change != nil:
					t.Errorf("%s at %d: entry %s, want none", p, i, e.Change.Kind)
				case kind != "" && (e.Change == nil || e.Change.Kind != kind):
					t.Errorf("%s at %d: %+v, want kind %s", p, i, e, kind)
				case e.Dead != dead:
					t.Errorf("%s at %d: dead %q, want %q", p, i, e.Dead, dead)
				}
			}
			// opaque:1: index 0 = rm /h2, 1 = the opaque /d, 2 = base
			op := tree("opaque:1")
			visible(op, "/d/a", false, false, true)
			visible(op, "/d/sub/c", false, false, true)
			visible(op, "/d/new", true, true, false)
			visible(op, "/h2", false, true, true)
			visible(op, "/r/x", false, false, true)
			own(op, "/d", 1, inspect.KindOpaque, "")
			own(op, "/d/a", 1, "", inspect.DeadHidden)
			own(op, "/d/sub/c", 1, "", inspect.DeadHidden)
			own(op, "/d/new", 1, inspect.KindAdded, "")
			own(op, "/h2", 0, inspect.KindWhiteout, inspect.DeadDeleted)
			own(op, "/r", 1, inspect.KindModified, inspect.DeadOverwritten)
			own(op, "/r/x", 1, "", inspect.DeadReplaced)
			if e, ok := node(op, "/d/a").Own(1); !ok || e.By != "/d" {
				t.Errorf("/d/a is hidden by %q, want /d", e.By)
			}
			if e, ok := node(op, "/h2").Above(1); !ok || e.Layer != 0 || e.Present() {
				t.Errorf("/h2 above layer index 1: %+v, want the whiteout of index 0", e)
			}
			if _, ok := node(op, "/d/new").Above(1); ok {
				t.Error("/d/new: nothing above changes it")
			}
			if op.Find("/nope") != nil || op.Find("/d/a/x") != nil {
				t.Error("Find found a path no layer has")
			}
			// waste:1: index 0 = /over rewritten, 1 = /over, 2 = rm /big, 3 = base
			ws := tree("waste:1")
			visible(ws, "/big", false, false, false, true)
			visible(ws, "/over", true, true, false, false)
			own(ws, "/big", 2, inspect.KindWhiteout, inspect.DeadDeleted)
			own(ws, "/keep", 2, inspect.KindModified, inspect.DeadOverwritten)
			own(ws, "/over", 0, inspect.KindModified, inspect.DeadOverwritten)
			over := node(ws, "/over")
			if e, _ := over.At(0); e.Layer != 0 || e.Change.Size != 1000 {
				t.Errorf("/over as of the top: %+v, want layer index 0's 1000 bytes", e)
			}
			if sh := over.Shadowed(0); len(sh) != 1 || sh[0].Layer != 1 || sh[0].Change.Size != 2000 {
				t.Errorf("/over shadows %+v, want layer index 1's 2000 bytes", sh)
			}
			if e, ok := over.Above(1); !ok || e.Layer != 0 || e.Dead != inspect.DeadOverwritten {
				t.Errorf("/over above index 1: %+v, want overwritten by index 0", e)
			}
			if sh := node(ws, "/keep").Shadowed(2); len(sh) != 1 || sh[0].Layer != 3 {
				t.Errorf("/keep shadows %+v, want the base's", sh)
			}
			if d, ok := over.Data(0); !ok || d.Layer != 0 {
				t.Errorf("/over's data as of the top: %+v", d)
			}
			if !ws.Root.Visible(3) || ws.Root.Path() != "/" || ws.Nodes != 3 {
				t.Errorf("root %q visible %v, %d nodes (want /big /keep /over)", ws.Root.Path(), ws.Root.Visible(3), ws.Nodes)
			}
		})
	}
}

// TestEntryOf: every field of Entry is the inspect.Change field of the
// same name, copied.
func TestEntryOf(t *testing.T) {
	var c inspect.Change
	cv := reflect.ValueOf(&c).Elem()
	et := reflect.TypeOf(Entry{})
	for k := 0; k < et.NumField(); k++ {
		f := et.Field(k)
		cf := cv.FieldByName(f.Name)
		if !cf.IsValid() || cf.Type() != f.Type {
			t.Fatalf("Entry.%s (%s) is no field of inspect.Change", f.Name, f.Type)
		}
		switch cf.Kind() {
		case reflect.String:
			cf.SetString("v" + f.Name)
		case reflect.Uint32, reflect.Int64:
			if cf.CanUint() {
				cf.SetUint(uint64(k + 1))
			} else {
				cf.SetInt(int64(k + 1))
			}
		case reflect.Slice:
			cf.Set(reflect.ValueOf([]string{f.Name}))
		case reflect.Pointer:
			cf.Set(reflect.New(cf.Type().Elem()))
		case reflect.Struct:
			cf.Set(reflect.ValueOf(time.Unix(int64(k), 0)))
		default:
			t.Fatalf("Entry.%s: kind %s not filled by the test", f.Name, cf.Kind())
		}
	}
	e := entryOf(&c)
	ev := reflect.ValueOf(e)
	for k := 0; k < et.NumField(); k++ {
		name := et.Field(k).Name
		if !reflect.DeepEqual(ev.Field(k).Interface(), cv.FieldByName(name).Interface()) {
			t.Errorf("entryOf: %s = %v, want %v", name, ev.Field(k), cv.FieldByName(name))
		}
	}
}
