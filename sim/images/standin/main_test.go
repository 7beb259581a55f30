package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPruneKeepsNewestOwnItems(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"scene-20240101T000000-000001.json", "scene-20240101T000001-000002.json",
		"scene-20240101T000002-000003.json", "other-20230101T000000-000001.json"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prune(dir, "scene-", 2)
	entries, _ := os.ReadDir(dir)
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Name()] = true
	}
	if got["scene-20240101T000000-000001.json"] || !got["scene-20240101T000002-000003.json"] || !got["other-20230101T000000-000001.json"] || len(got) != 3 {
		t.Fatalf("unexpected files after prune: %v", got)
	}
}

func TestScanSkipsHiddenAndDirs(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, ".partial.tmp"), nil, 0o644)
	_ = os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "a.json"), nil, 0o644)
	n, newest, err := scan(dir)
	if err != nil || n != 1 || newest != "a.json" {
		t.Fatalf("scan = %d %q %v", n, newest, err)
	}
}
