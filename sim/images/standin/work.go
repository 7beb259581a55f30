// The work of one tick: the heartbeat file, reading the input directories and
// writing one item to the output directory, which is kept to its newest items.

package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const (
	heartbeatFile = "/app/heartbeat"
	keepItems     = 20
)

// work is one tick: heartbeat (or its removal when unhealthy), then one item.
func (st *state) work() {
	st.mu.Lock()
	st.ticks++
	st.mu.Unlock()
	if unhealthy() {
		// The seed's check is `find /app/heartbeat -mmin -N`, which fails only
		// when the file is missing; a stale file would still pass it.
		if err := os.Remove(heartbeatFile); err == nil {
			st.log.log("warn", "unhealthy: heartbeat removed")
		}
		return
	}
	if err := os.WriteFile(heartbeatFile, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		st.warnOnce("heartbeat", "cannot write heartbeat", err)
	}
	inputs := map[string]any{}
	for _, dir := range st.svc.Reads {
		n, newest, err := scan(dir)
		if err != nil {
			st.warnOnce("read:"+dir, "cannot read input directory", err)
			continue
		}
		inputs[dir] = map[string]any{"files": n, "newest": newest}
		st.mu.Lock()
		changed := st.lastIn[dir] != newest
		st.lastIn[dir] = newest
		st.mu.Unlock()
		if changed && newest != "" {
			st.log.log("info", "new input", "dir", dir, "file", newest, "files", n)
		}
	}
	if st.svc.Writes == "" || st.svc.Prefix == "" {
		return
	}
	st.mu.Lock()
	st.seq++
	seq := st.seq
	st.mu.Unlock()
	name := fmt.Sprintf("%s-%s-%06d.json", st.svc.Prefix, time.Now().UTC().Format("20060102T150405"), seq)
	body, _ := json.Marshal(map[string]any{"service": st.svc.Name, "seq": seq, "at": time.Now().UTC().Format(time.RFC3339Nano), "inputs": inputs})
	tmp := filepath.Join(st.svc.Writes, "."+name+".tmp")
	if err := os.WriteFile(tmp, append(body, '\n'), 0o644); err != nil {
		st.warnOnce("write", "cannot write output directory", err)
		return
	}
	if err := os.Rename(tmp, filepath.Join(st.svc.Writes, name)); err != nil {
		st.warnOnce("write", "cannot write output directory", err)
		return
	}
	prune(st.svc.Writes, st.svc.Prefix+"-", keepItems)
}

// scan counts the regular, non-hidden files in dir and names the newest.
func scan(dir string) (int, string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, "", err
	}
	n, newest := 0, ""
	var newestT time.Time
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		n++
		if info.ModTime().After(newestT) || (info.ModTime().Equal(newestT) && e.Name() > newest) {
			newestT, newest = info.ModTime(), e.Name()
		}
	}
	return n, newest, nil
}

// prune keeps the newest `keep` items with the prefix, so a device left running
// for days does not fill its disk.
func prune(dir, prefix string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var mine []fs.DirEntry
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			mine = append(mine, e)
		}
	}
	// Names embed a timestamp and sequence number, so name order is age order.
	sort.Slice(mine, func(i, j int) bool { return mine[i].Name() < mine[j].Name() })
	for len(mine) > keep {
		_ = os.Remove(filepath.Join(dir, mine[0].Name()))
		mine = mine[1:]
	}
}
