package search
import ("testing";"path/filepath";"time";"syscall")
func cpuTime() time.Duration { var r syscall.Rusage; syscall.Getrusage(syscall.RUSAGE_SELF,&r); return time.Duration(r.Utime.Nano()+r.Stime.Nano()) }
func TestTmpTiming(t *testing.T){
	cs := newCorpus(1).changes(5000)
	tb := 0
	for _, c := range cs { _, n := extract(c.Collection,c.Rev,c.Body); tb+=n }
	t.Logf("text bytes %d (%.0f/doc)", tb, float64(tb)/5000)
	for _, v := range [][2]bool{{true,true},{true,false},{false,true},{false,false}} { bs:=1000; tmpStore, tmpTV = v[0], v[1]; t.Log(v)
	ix,_,_ := Open(filepath.Join(t.TempDir(),"s"), &Options{BatchSize: bs})
	c0 := cpuTime(); w0 := time.Now()
	if err := ix.Apply(cs, 5000); err != nil { t.Fatal(err) }
	c1 := cpuTime(); w1 := time.Now()
	ix.Close()
	t.Logf("batch %d: apply wall %v cpu %v (%.0f docs per cpu-s); close cpu %v", bs, w1.Sub(w0), c1-c0, 5000/(c1-c0).Seconds(), cpuTime()-c1)
	}
}
