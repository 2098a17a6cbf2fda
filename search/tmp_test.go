package search
import ("testing";"path/filepath";"time";"syscall")
func cpuTime() time.Duration { var r syscall.Rusage; syscall.Getrusage(syscall.RUSAGE_SELF,&r); return time.Duration(r.Utime.Nano()+r.Stime.Nano()) }
func TestTmpTiming(t *testing.T){
	cs := newCorpus(1).changes(5000)
	for _, v := range []int{0, 15, 16, 0, 15, 16} {
	tmpSegVersion = v
	ix,_,err := Open(filepath.Join(t.TempDir(),"s"), nil)
	if err != nil { t.Fatal(err) }
	c0 := cpuTime(); w0 := time.Now()
	for i:=0;i<5000;i+=1000 { if err := ix.Apply(cs[i:i+1000], uint64(i)); err != nil { t.Fatal(err) } }
	c1 := cpuTime(); w1 := time.Now()
	r := mustSearch(t, ix, "kalo", SearchOptions{Highlight:true})
	ix.Close()
	t.Logf("zap %d: apply wall %v cpu %v (%.0f docs per cpu-s) %d", v, w1.Sub(w0), c1-c0, 5000/(c1-c0).Seconds(), r.Total)
	}
}
