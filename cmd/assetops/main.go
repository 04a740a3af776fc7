// Command assetops benchmarks LLM agents on industrial asset operations.
//
//	assetops run [flags]            run the scenarios and print the scores
//	assetops tools [--json]         list the tools
//	assetops tool NAME ['JSON']     call a tool and print its JSON result
//	assetops scenarios list         list scenarios
//	assetops sim serve [--addr A]   serve the Ollama-protocol simulator
//	assetops data load|info         load the dataset (into CouchDB) or describe it
//	assetops trajectory import|export   convert trajectories from and to the original's shapes
//	assetops cassette ls|stats|verify|export|import|prune   inspect and maintain cassettes
//
// Every error is one line on stderr and a non-zero exit status: 2 for a
// misused command line, 1 for everything else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/assetops/assetops/harness/cassette"
)

const usage = `usage: assetops <command> [flags]

commands:
  run                 run scenarios with an agent and print the six criteria, τ-match and pass
  tools               list the tools and their arguments
  tool NAME ['JSON']  call a tool with JSON arguments and print its JSON result
  scenarios list      list scenarios by id, type and category
  scenarios validate  check every scenario's gold trajectory against the dataset
  data load|info      load the dataset (into CouchDB with --couch) or describe it
  mcp serve           serve an agent's tools over MCP on stdin/stdout
  trajectory import   read trajectories of the original AssetOpsBench (and other harnesses) as ours
  trajectory export   write a result file's trajectories in the original's ReActXen shape
  sim serve           serve the Ollama-protocol simulator (reference policies, a test instrument)
  cassette CMD        ls, stats, verify, export, import or prune cassettes (a file or --db DIR)

Run 'assetops <command> -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a misused command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Main runs the command line and returns the exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		err = cmdRun(ctx, rest, stdout, stderr)
	case "tools":
		err = cmdTools(rest, stdout, stderr)
	case "tool":
		err = cmdTool(ctx, rest, stdout, stderr)
	case "scenarios":
		err = cmdScenarios(ctx, rest, stdout, stderr)
	case "sim":
		err = cmdSim(ctx, rest, stderr)
	case "data":
		err = cmdData(ctx, rest, stdout, stderr)
	case "mcp":
		err = cmdMCP(ctx, rest, stdin, stdout, stderr)
	case "trajectory":
		err = cmdTrajectory(rest, stdout, stderr)
	case "cassette":
		err = cmdCassette(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usagef("unknown command %q (run 'assetops help')", cmd)
	}
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "assetops: %s\n", oneLine(err.Error()))
	var miss *cassette.MissError
	if errors.As(err, &miss) && miss.Diff != "" {
		fmt.Fprintf(stderr, "closest recorded request (-recorded +requested):\n%s", miss.Diff)
	}
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("assetops "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags; a bad flag is a usage error (flag has printed why).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
