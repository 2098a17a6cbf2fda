package legacy
import ("testing";"time";"context")
func TestTimingTmp(t *testing.T){ dir:=t.TempDir(); genChunkedDir(t,dir,1000); st:=time.Now(); _,_,err:=Scan(context.Background(),dir,nil); t.Log(time.Since(st), err)
 st=time.Now(); _,_,err=Scan(context.Background(),dir,nil); t.Log(time.Since(st), err)}
