package kafka

import "testing"

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
