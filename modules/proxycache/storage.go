package proxycache

import (
	"errors"
	"fmt"
	"strings"
)

// Storage keeps a proxy_cache's entries. Storage modules live in the
// http.handlers.proxy_cache.storage namespace; the default is memory.
//
// Entries handed to Put and returned by Get are shared and never modified
// afterwards: the handler replaces an entry rather than changing it.
type Storage interface {
	// Get returns the variants stored under key, most recently stored
	// first, or none.
	Get(key string) ([]*Entry, error)
	// Put stores e under e.Key, replacing the variant of e.Key that answers
	// the same requests (or every variant when e has no Vary). It returns
	// ErrTooLarge when e can never fit.
	Put(e *Entry) error
	// Delete removes every variant stored under key. When it cannot, the
	// entry stays stored and counted, and Delete returns a *PurgeError.
	Delete(key string) error
	// PurgeURL removes every entry stored for url (scheme://host/request-URI)
	// and returns how many keys it removed. Keys it could not remove stay
	// stored and counted, and it returns a *PurgeError saying how many.
	PurgeURL(url string) (int, error)
	// MaxObjectSize is the largest body the storage can hold.
	MaxObjectSize() int64
}

// ErrTooLarge is returned by Put for an entry bigger than the storage.
var ErrTooLarge = errors.New("proxy_cache: entry larger than the storage")

// PurgeError reports a purge, flush or delete that could not remove every
// entry it chose. The entries it could not remove are still stored, still
// counted and still answered from; none of those it removed comes back, even
// after a restart.
type PurgeError struct {
	// Removed is how many entries were removed.
	Removed int
	// Failed is how many entries could not be removed.
	Failed int
	// Err is the first failure.
	Err error
}

func (e *PurgeError) Error() string {
	return fmt.Sprintf("%d of %d entries could not be removed: %v", e.Failed, e.Removed+e.Failed, e.Err)
}

// Unwrap returns the first failure.
func (e *PurgeError) Unwrap() error { return e.Err }

// maxVariants bounds how many Vary variants one key keeps.
const maxVariants = 16

// putVariant returns variants with e in front, replacing what it supersedes.
func putVariant(variants []*Entry, e *Entry) []*Entry {
	out := make([]*Entry, 0, len(variants)+1)
	out = append(out, e)
	if len(e.VaryNames) == 0 {
		return out
	}
	for _, v := range variants {
		if len(v.VaryNames) == 0 || v.sameVariant(e) {
			continue
		}
		if len(out) == maxVariants {
			break
		}
		out = append(out, v)
	}
	return out
}

// Purger is implemented by storages that can purge by URL prefix and by
// surrogate key, and flush everything (all of Frontdesk's do).
type Purger interface {
	// PurgePrefix removes every entry whose URL starts with prefix.
	PurgePrefix(prefix string) (int, error)
	// PurgeTag removes every entry whose response carried tag in its
	// Surrogate-Key or Cache-Tag field.
	PurgeTag(tag string) (int, error)
	// Flush removes every entry.
	//
	// Like PurgeURL, the three return a *PurgeError when some entries could
	// not be removed; those stay stored and counted.
	Flush() error
}

// entryTags returns the surrogate keys of a stored response: the
// space-separated Surrogate-Key field and the comma-separated Cache-Tag
// field.
func entryTags(e *Entry) []string {
	var tags []string
	for _, v := range e.Header.Values("Surrogate-Key") {
		tags = append(tags, strings.Fields(v)...)
	}
	for _, v := range e.Header.Values("Cache-Tag") {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// index maps URLs and tags to the keys holding them, for purges.
type index struct {
	urls map[string]map[string]struct{}
	tags map[string]map[string]struct{}
}

func newIndex() index {
	return index{urls: map[string]map[string]struct{}{}, tags: map[string]map[string]struct{}{}}
}

func addTo(m map[string]map[string]struct{}, name, key string) {
	if name == "" {
		return
	}
	s := m[name]
	if s == nil {
		s = map[string]struct{}{}
		m[name] = s
	}
	s[key] = struct{}{}
}

func removeFrom(m map[string]map[string]struct{}, name, key string) {
	if s := m[name]; s != nil {
		delete(s, key)
		if len(s) == 0 {
			delete(m, name)
		}
	}
}

func (ix index) add(e *Entry) {
	addTo(ix.urls, e.URL, e.Key)
	for _, t := range entryTags(e) {
		addTo(ix.tags, t, e.Key)
	}
}

func (ix index) remove(e *Entry) {
	removeFrom(ix.urls, e.URL, e.Key)
	for _, t := range entryTags(e) {
		removeFrom(ix.tags, t, e.Key)
	}
}

// keysWithPrefix returns the keys of every URL starting with prefix.
func (ix index) keysWithPrefix(prefix string) []string {
	var keys []string
	for u, ks := range ix.urls {
		if strings.HasPrefix(u, prefix) {
			for k := range ks {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

func (ix index) keysOf(m map[string]map[string]struct{}, name string) []string {
	var keys []string
	for k := range m[name] {
		keys = append(keys, k)
	}
	return keys
}
