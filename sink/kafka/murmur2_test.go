package kafka

import (
	"math/rand/v2"
	"testing"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The Java client's test vectors (org.apache.kafka.common.utils.UtilsTest
// testMurmur2): key bytes → Utils.murmur2 as a signed int. Matching them
// makes our partitioning agree with Java producers (SPEC K3: key = primary
// key, partitioned like the Java default partitioner).
func TestMurmur2JavaVectors(t *testing.T) {
	cases := map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	}
	for k, want := range cases {
		if got := int32(murmur2([]byte(k))); got != want {
			t.Errorf("murmur2(%q) = %d, want %d (Java)", k, got, want)
		}
	}
}

// Java: Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions.
func TestPartitionForMatchesJavaFormula(t *testing.T) {
	for _, k := range []string{"21", "foobar", "abc", "a-little-bit-long-string"} {
		h := murmur2([]byte(k))
		for _, n := range []int{1, 3, 4, 12, 100} {
			want := int32(int32(h)&0x7fffffff) % int32(n)
			if got := partitionFor([]byte(k), n); got != want {
				t.Errorf("partitionFor(%q, %d) = %d, want %d", k, n, got, want)
			}
		}
	}
	// "foobar" hashes negative: toPositive clears the sign bit (it is not abs).
	if got := partitionFor([]byte("foobar"), 10); got != int32((-790332482&0x7fffffff)%10) {
		t.Errorf("partitionFor(foobar, 10) = %d", got)
	}
}

// Two independent Java-compatible implementations agree with ours on random
// keys: kafka-go's Murmur2Balancer (consistent) and franz-go's KafkaHasher
// (its port of the Java default partitioner's hash).
func TestPartitionerAgreesWithOtherClients(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	franz := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := 0; i < 2000; i++ {
		key := make([]byte, r.IntN(40))
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		n := 1 + r.IntN(64)
		parts := make([]int, n)
		for j := range parts {
			parts[j] = j
		}
		want := kafkago.Murmur2Balancer{Consistent: true}.Balance(kafkago.Message{Key: key}, parts...)
		got := int(partitionFor(key, n))
		if got != want {
			t.Fatalf("key %x, %d partitions: ours %d, kafka-go %d", key, n, got, want)
		}
		if f := franz.Partition(&kgo.Record{Key: key}, n); got != f {
			t.Fatalf("key %x, %d partitions: ours %d, franz-go %d", key, n, got, f)
		}
	}
}
