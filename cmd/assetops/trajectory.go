package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/agents/trajectory"
	"github.com/assetops/assetops/agents/trajectory/aob"
	"github.com/assetops/assetops/harness/atomicfile"
	"github.com/assetops/assetops/harness/result"
)

const trajectoryUsage = "usage: assetops trajectory import FILE... | export --out DIR RESULT.json"

// cmdTrajectory converts trajectories between our JSON and the original
// AssetOpsBench shapes.
func cmdTrajectory(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef(trajectoryUsage)
	}
	switch args[0] {
	case "import":
		return trajectoryImport(args[1:], stdout, stderr)
	case "export":
		return trajectoryExport(args[1:], stderr)
	}
	return usagef(trajectoryUsage)
}

// trajectoryImport prints, as one JSON array of our trajectories, every
// trajectory in the files: ReActXen, AgentHive, the newer evaluator's
// trajectories and measurement records, or ours.
func trajectoryImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("trajectory import", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("usage: assetops trajectory import FILE...")
	}
	all := []*trajectory.Trajectory{}
	for _, path := range fs.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		trs, err := aob.Import(data, path)
		if err != nil {
			return err
		}
		all = append(all, trs...)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := stdout.Write(buf.Bytes())
	return err
}

// trajectoryExport writes each record of a result file in the original
// ReActXen shape, one file a scenario.
func trajectoryExport(args []string, stderr io.Writer) error {
	fs := newFlags("trajectory export", stderr)
	out := fs.String("out", "", "folder for the exported files, <scenario>.json each")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" {
		return usagef("usage: assetops trajectory export --out DIR RESULT.json")
	}
	run, err := result.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	for _, rec := range run.Records {
		b, err := aob.Export(rec.Trajectory)
		if err != nil {
			return fmt.Errorf("export %s: %w", rec.ScenarioID, err)
		}
		path := filepath.Join(*out, tools.SafeName(rec.ScenarioID)+".json")
		if err := atomicfile.Write(path, b); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "exported %d trajectories to %s\n", len(run.Records), *out)
	return nil
}
