package integration

// Fleet storage faults: the Redis Cluster primary that owns a hot key, or
// the Sentinel-managed primary, is killed under load on three instances.
// No client gets a 5xx (requests pass through while Redis cannot answer),
// each instance logs at most one warning about it, and once the failover
// has completed every instance serves the hot key as a HIT again within
// fleetHitsBack.

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// fleetHitsBack is how soon after a failover completes hits must resume.
const fleetHitsBack = 5 * time.Second

// fleetHotPath is the key the fault tests load and the cluster test kills
// the owner of.
const fleetHotPath = "/hot/0"

// redisEntryKey is the Redis key the redis storage keeps a cache key's
// entry under, with the default prefix.
func redisEntryKey(cacheKey string) string {
	sum := sha256.Sum256([]byte(cacheKey))
	return "frontdesk:proxy_cache:e:" + hex.EncodeToString(sum[:])
}

// fleetUnderLoad warms the hot path and a few others on the fleet, starts
// load on every instance, runs kill (which returns once the failover has
// completed), then checks the answers and the time until hits resume.
func fleetUnderLoad(t *testing.T, fleet []*fleetInstance, kill func() time.Time) {
	paths := []string{fleetHotPath, "/hot/1", "/hot/2", "/hot/3"}
	for _, p := range paths {
		fleet[0].get(t, p)
	}
	for _, fi := range fleet {
		expectFleet(t, fi, fleetHotPath, "HIT")
	}
	var phase atomic.Int32 // storagePhaseUp throughout: any 200 with the origin's body will do
	var loads []*storageLoad
	for _, fi := range fleet {
		loads = append(loads, startStorageLoad(t, fi.addr, paths, &phase, 1))
	}
	for _, l := range loads {
		l.waitFor(t, storagePhaseUp, 20)
	}
	failedOver := kill()
	for _, fi := range fleet {
		deadline := failedOver.Add(fleetHitsBack)
		for fi.get(t, fleetHotPath).header.Get("X-Cache-Status") != "HIT" {
			if time.Now().After(deadline) {
				t.Errorf("%s: no HIT on %s within %s of the failover", fi.name, fleetHotPath, fleetHitsBack)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s: HIT again %s after the failover completed", fi.name, time.Since(failedOver).Round(time.Millisecond))
	}
	for i, l := range loads {
		l.stop()
		for _, f := range l.failures() {
			t.Errorf("%s: %s", fleet[i].name, f)
		}
		t.Logf("%s: %d requests under load, none failed", fleet[i].name, l.count[storagePhaseUp].Load())
	}
	for _, fi := range fleet {
		lines := storageLog(t, fi.fd.Process)
		if n := lines.count(redisDownMsg, "warn"); n > 1 {
			t.Errorf("%s: %d warnings %q, want at most 1", fi.name, n, redisDownMsg)
		}
	}
}

// TestHostileStorageClusterPrimaryKilled: the cluster primary holding the
// hot key's entry is killed; its replica takes over. With and without
// local tiers.
func TestHostileStorageClusterPrimaryKilled(t *testing.T) {
	requirePeer(t, "redis-server")
	forFleetVariants(t, clusterPrimaryKilled)
}

// fleetVariants are the storage options the fault tests run with: Redis
// alone, and with local tiers (whose subscriptions the fault cuts too).
var fleetVariants = []struct{ name, opts string }{
	{"shared", ""},
	{"local", "\n\t\t\tlocal 16m {\n\t\t\t\theartbeat 100ms\n\t\t\t}"},
}

// forFleetVariants runs test once per variant, each on a topology of its
// own (a failover uses one up).
func forFleetVariants(t *testing.T, test func(t *testing.T, opts string)) {
	for _, v := range fleetVariants {
		t.Run(v.name, func(t *testing.T) { test(t, v.opts) })
	}
}

func clusterPrimaryKilled(t *testing.T, opts string) {
	cluster, err := harness.StartRedisCluster(t.TempDir(), harness.RedisSecurity{Password: fleetPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Stop)
	storage := "redis {\n\t\t\tcluster " + strings.Join(cluster.Seeds(), " ") + "\n\t\t\tpassword " + fleetPassword + opts + "\n\t\t}"
	fleet := startFleet(t, storage, newFleetOrigin(t))
	hot := redisEntryKey("GEThttpapi.example.com" + fleetHotPath)
	fleetUnderLoad(t, fleet, func() time.Time {
		owner, err := cluster.PrimaryFor(hot)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := owner.Cli("EXISTS", hot); err != nil || strings.TrimSpace(v) != "1" {
			t.Fatalf("the hot key is not on %s: %q %v", owner.Addr, v, err)
		}
		killed := time.Now()
		owner.Kill()
		next, err := cluster.WaitPrimaryMoved(hot, owner, 60*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("killed primary %s; %s took over after %s", owner.Addr, next.Addr, time.Since(killed).Round(time.Millisecond))
		return time.Now()
	})
}

// TestHostileStorageSentinelPrimaryKilled: the Sentinel-managed primary is
// killed; the sentinels promote the replica. With local tiers, the
// subscriptions die with the primary: the tiers are emptied and unused
// until they are back.
func TestHostileStorageSentinelPrimaryKilled(t *testing.T) {
	requirePeer(t, "redis-server", "redis-sentinel")
	forFleetVariants(t, sentinelPrimaryKilled)
}

func sentinelPrimaryKilled(t *testing.T, opts string) {
	s, err := harness.StartRedisSentinels(t.TempDir(), harness.RedisSecurity{Password: fleetPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	storage := "redis {\n\t\t\tsentinel " + s.Master + " " + strings.Join(s.Addrs, " ") +
		"\n\t\t\tsentinel_password " + fleetPassword + "\n\t\t\tpassword " + fleetPassword + opts + "\n\t\t}"
	fleet := startFleet(t, storage, newFleetOrigin(t))
	fleetUnderLoad(t, fleet, func() time.Time {
		killed := time.Now()
		s.Primary.Kill()
		next, err := s.WaitFailover(s.Primary.Addr, 60*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("killed primary %s; sentinels promoted %s after %s", s.Primary.Addr, next, time.Since(killed).Round(time.Millisecond))
		return time.Now()
	})
}
