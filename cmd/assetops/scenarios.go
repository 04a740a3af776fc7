package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

func cmdScenarios(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return usagef("usage: assetops scenarios list [--scenarios PATH]")
	}
	fs := newFlags("scenarios list", stderr)
	path := fs.String("scenarios", "", "scenario file or directory (default: the embedded scenarios)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	ss, err := loadScenarios(*path)
	if err != nil {
		return err
	}
	t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("id", "type", "category", "checkable", "gold", "text")
	counts := map[string]int{}
	for _, s := range ss {
		counts[s.Type]++
		if err := t.Append([]string{s.ID, s.Type, s.Category, yesNo(s.Expect != nil), yesNo(s.Gold != nil), clip(s.Text, 70)}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	var types []string
	for ty := range counts {
		types = append(types, ty)
	}
	sort.Strings(types)
	fmt.Fprintf(stdout, "%d scenarios:", len(ss))
	for _, ty := range types {
		name := ty
		if name == "" {
			name = "(no type)"
		}
		fmt.Fprintf(stdout, " %s %d", name, counts[ty])
	}
	fmt.Fprintln(stdout)
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
