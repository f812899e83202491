// Command xcheck verifies, with golang.org/x/mod/sumdb/{note,tlog}, the Merkle hashes, proofs,
// signed checkpoint notes and cosignatures that Parley's Python code wrote into a JSON file.
//
// Usage: xcheck FILE.json. Prints one line per failed check and exits 1 if any failed, else
// prints "ok <number of checks>" and exits 0. Builds with Go 1.19 in GOPATH mode, offline.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type rootCase struct {
	Size int64  `json:"size"`
	Root []byte `json:"root"`
}

type inclusionCase struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Leaf  []byte   `json:"leaf"`
	Proof [][]byte `json:"proof"`
	Root  []byte   `json:"root"`
}

type consistencyCase struct {
	Old     int64    `json:"old"`
	New     int64    `json:"new"`
	OldRoot []byte   `json:"old_root"`
	NewRoot []byte   `json:"new_root"`
	Proof   [][]byte `json:"proof"`
}

type noteCase struct {
	Note      string   `json:"note"`
	LogVkey   string   `json:"log_vkey"`
	Cosigners []string `json:"cosigners"`
	Origin    string   `json:"origin"`
	Size      int64    `json:"size"`
	Root      []byte   `json:"root"`
}

type input struct {
	Stored      [][]byte          `json:"stored"`
	Leaves      [][]byte          `json:"leaves"`
	Roots       []rootCase        `json:"roots"`
	Inclusion   []inclusionCase   `json:"inclusion"`
	Consistency []consistencyCase `json:"consistency"`
	Notes       []noteCase        `json:"notes"`
}

type checker struct {
	checks   int
	failures []string
}

func (c *checker) check(ok bool, format string, args ...interface{}) {
	c.checks++
	if !ok {
		c.failures = append(c.failures, fmt.Sprintf(format, args...))
	}
}

func toHash(b []byte) (tlog.Hash, bool) {
	var h tlog.Hash
	if len(b) != tlog.HashSize {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

func toHashes(list [][]byte) ([]tlog.Hash, bool) {
	out := make([]tlog.Hash, len(list))
	for i, b := range list {
		h, ok := toHash(b)
		if !ok {
			return nil, false
		}
		out[i] = h
	}
	return out, true
}

func sameHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// reader serves the stored hashes Python wrote, in x/mod's stored-hash numbering.
func reader(stored []tlog.Hash) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d not available", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
}

// checkStorage: every leaf's stored hashes are what x/mod would write when appending it.
func (c *checker) checkStorage(in *input, stored []tlog.Hash) {
	r := reader(stored)
	for i, leaf := range in.Leaves {
		h, ok := toHash(leaf)
		c.check(ok, "leaf %d: not a 32-byte hash", i)
		want, err := tlog.StoredHashesForRecordHash(int64(i), h, r)
		start := tlog.StoredHashIndex(0, int64(i))
		end := start + int64(len(want))
		c.check(err == nil && end <= int64(len(stored)) && sameHashes(want, stored[start:end]),
			"leaf %d: stored hashes differ from x/mod's (%v)", i, err)
	}
	c.check(tlog.StoredHashCount(int64(len(in.Leaves))) == int64(len(stored)),
		"stored hash count %d, x/mod expects %d", len(stored), tlog.StoredHashCount(int64(len(in.Leaves))))
	for _, rc := range in.Roots {
		want, ok := toHash(rc.Root)
		got, err := tlog.TreeHash(rc.Size, r)
		if rc.Size == 0 {
			// x/mod defines the empty tree's hash as all zeros; RFC 6962 and C2SP use SHA-256("").
			got = sha256.Sum256(nil)
		}
		c.check(ok && err == nil && got == want, "tree hash of size %d: x/mod %v, Python %x", rc.Size, got, rc.Root)
	}
}

func (c *checker) checkProofs(in *input, stored []tlog.Hash) {
	r := reader(stored)
	for _, ic := range in.Inclusion {
		proof, ok1 := toHashes(ic.Proof)
		leaf, ok2 := toHash(ic.Leaf)
		root, ok3 := toHash(ic.Root)
		err := tlog.CheckRecord(proof, ic.Size, root, ic.Index, leaf)
		c.check(ok1 && ok2 && ok3 && err == nil, "inclusion %d in %d: %v", ic.Index, ic.Size, err)
		want, err := tlog.ProveRecord(ic.Size, ic.Index, r)
		c.check(err == nil && sameHashes(want, proof), "inclusion %d in %d: x/mod proves otherwise", ic.Index, ic.Size)
	}
	for _, cc := range in.Consistency {
		proof, ok1 := toHashes(cc.Proof)
		oldRoot, ok2 := toHash(cc.OldRoot)
		newRoot, ok3 := toHash(cc.NewRoot)
		err := tlog.CheckTree(proof, cc.New, newRoot, cc.Old, oldRoot)
		c.check(ok1 && ok2 && ok3 && err == nil, "consistency %d -> %d: %v", cc.Old, cc.New, err)
		want, err := tlog.ProveTree(cc.New, cc.Old, r)
		c.check(err == nil && sameHashes(want, proof), "consistency %d -> %d: x/mod proves otherwise", cc.Old, cc.New)
	}
}

// cosigner is a note.Verifier for c2sp.org/tlog-cosignature cosignature/v1 (type 0x04).
type cosigner struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func newCosigner(vkey string) (*cosigner, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("malformed vkey %q", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 0x04 {
		return nil, fmt.Errorf("vkey %q: not a cosignature/v1 key", vkey)
	}
	sum := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	hash := binary.BigEndian.Uint32(sum[:4])
	if want, err := hex.DecodeString(parts[1]); err != nil || len(want) != 4 || binary.BigEndian.Uint32(want) != hash {
		return nil, fmt.Errorf("vkey %q: key id does not match", vkey)
	}
	return &cosigner{name: parts[0], hash: hash, key: ed25519.PublicKey(raw[1:])}, nil
}

func (v *cosigner) Name() string    { return v.name }
func (v *cosigner) KeyHash() uint32 { return v.hash }

func (v *cosigner) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t == 0 || t > 1<<63-1 {
		return false
	}
	signed := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	return ed25519.Verify(v.key, signed, sig[8:])
}

func (c *checker) checkNote(i int, nc noteCase) {
	logVerifier, err := note.NewVerifier(nc.LogVkey)
	if err != nil {
		c.check(false, "note %d: log vkey: %v", i, err)
		return
	}
	verifiers := []note.Verifier{logVerifier}
	for _, vkey := range nc.Cosigners {
		v, err := newCosigner(vkey)
		if err != nil {
			c.check(false, "note %d: %v", i, err)
			return
		}
		verifiers = append(verifiers, v)
	}
	n, err := note.Open([]byte(nc.Note), note.VerifierList(verifiers...))
	if err != nil {
		c.check(false, "note %d: %v", i, err)
		return
	}
	c.check(len(n.Sigs) == len(verifiers), "note %d: %d signatures verified, want %d", i, len(n.Sigs), len(verifiers))
	lines := strings.Split(n.Text, "\n")
	c.check(len(lines) >= 4 && lines[0] == nc.Origin, "note %d: origin %q", i, lines[0])
	size, err := strconv.ParseInt(lines[1], 10, 64)
	c.check(err == nil && size == nc.Size && strconv.FormatInt(size, 10) == lines[1], "note %d: size %q", i, lines[1])
	root, err := base64.StdEncoding.DecodeString(lines[2])
	c.check(err == nil && bytes.Equal(root, nc.Root), "note %d: root %q", i, lines[2])
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: xcheck FILE.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var in input
	if err := json.Unmarshal(data, &in); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(2)
	}
	c := &checker{}
	stored, ok := toHashes(in.Stored)
	c.check(ok, "stored hashes are not all 32 bytes")
	c.checkStorage(&in, stored)
	c.checkProofs(&in, stored)
	for i, nc := range in.Notes {
		c.checkNote(i, nc)
	}
	for _, f := range c.failures {
		fmt.Println("FAIL", f)
	}
	if len(c.failures) > 0 {
		os.Exit(1)
	}
	fmt.Println("ok", c.checks)
}
