package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/assetops/assetops/agents"
	"github.com/assetops/assetops/harness/runner"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

func cmdScenarios(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "validate" {
		return scenariosValidate(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "list" {
		return usagef("usage: assetops scenarios list|validate [--scenarios PATH]")
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

// scenariosValidate runs every scenario's gold trajectory through the real
// tools and the rules judge (runner.ValidateGold), printing one line a
// scenario; any invalid scenario makes the exit status 1.
func scenariosValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scenarios validate", stderr)
	path := fs.String("scenarios", "", "scenario file or directory (default: the embedded scenarios)")
	var df dataFlags
	df.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ss, err := loadScenarios(*path)
	if err != nil {
		return err
	}
	data, err := df.open(ctx)
	if err != nil {
		return err
	}
	defer data.Close()
	reg := agents.Registry(data)
	bad := 0
	for _, s := range ss {
		if err := runner.ValidateGold(ctx, reg, s); err != nil {
			bad++
			fmt.Fprintf(stdout, "FAIL %s\n", strings.ReplaceAll(err.Error(), "\n", "\n     "))
			continue
		}
		fmt.Fprintf(stdout, "ok   %s\n", s.ID)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d scenarios do not hold against the dataset", bad, len(ss))
	}
	fmt.Fprintf(stdout, "%d scenarios: every gold trajectory runs through the tools and passes the rules judge\n", len(ss))
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
