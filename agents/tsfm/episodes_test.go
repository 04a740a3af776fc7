package tsfm

import (
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assetops/assetops/fixtures"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/episodes.golden")

// span is an episode's window on the series' grid, end exclusive.
type span struct {
	kind       string
	start, end int
	sensors    map[string]bool
}

// run is a stretch of consecutive flagged points.
type run struct{ start, end int }

func runsOf(flags []bool) []run {
	var out []run
	for i := 0; i < len(flags); {
		if !flags[i] {
			i++
			continue
		}
		j := i
		for j < len(flags) && flags[j] {
			j++
		}
		out = append(out, run{i, j})
		i = j
	}
	return out
}

// minAlarm is the persistence an alarm needs: an hour of flagged points.
// Single flagged points come at the false-alarm rate by design, so any
// month-long episode would contain some by chance.
const minAlarm = 4

// score is one episode kind's tally.
type score struct {
	episodes, detected int
	tp, fp             int // alarms on an episode's sensor inside it; alarms inside no episode
	inFlagged, inPts   int // flagged and scored points of the episodes' sensors inside them
}

func (s score) recall() float64    { return float64(s.detected) / float64(s.episodes) }
func (s score) precision() float64 { return float64(s.tp) / math.Max(1, float64(s.tp+s.fp)) }
func (s score) pointRate() float64 { return float64(s.inFlagged) / math.Max(1, float64(s.inPts)) }

// TestEpisodeDetection runs run_integrated_tsad's detector — per series the
// catalog model with the least one-step error, adaptive conformal bounds —
// over a year of every sensor the generated faults touch, and scores it
// against the fault episodes: an episode is detected when an alarm falls
// inside it on one of its sensors; an alarm is a run of flagged points,
// true when it overlaps an episode on its sensor and false when it
// overlaps no episode at all. The table is a golden file, quoted in the
// README; the test fails on a change of the numbers, and on a false-alarm
// rate outside episodes that strays far from the one asked for.
func TestEpisodeDetection(t *testing.T) {
	d := fixtures.Generate(fixtures.DefaultSeed)
	var b strings.Builder
	// The model choice and its predictions do not depend on the rate.
	type predicted struct {
		r    Regular
		pred []float64
	}
	cache := map[string]predicted{}
	for _, alpha := range []float64{0.05, 0.01} {
		byKind := map[string]*score{}
		total := &score{}
		flaggedOut, scoredOut := 0, 0
		for _, s := range d.Telemetry {
			fr := &Frame{Columns: map[string][]float64{}}
			for _, lt := range s.Times {
				fr.Times = append(fr.Times, lt.Time)
			}
			var spans []span
			sensors := map[string]bool{}
			for _, e := range d.Episodes {
				if e.AssetID != s.AssetID {
					continue
				}
				sp := span{kind: e.Kind, sensors: map[string]bool{}}
				for _, sig := range e.Signatures {
					sp.sensors[sig.Sensor], sensors[sig.Sensor] = true, true
				}
				sp.start, sp.end = gridIndex(fr.Times[0], e.Start.Time), gridIndex(fr.Times[0], e.End.Time)
				spans = append(spans, sp)
				if byKind[e.Kind] == nil {
					byKind[e.Kind] = &score{}
				}
			}
			detected := make([]bool, len(spans))
			for _, name := range slices.Sorted(maps.Keys(sensors)) {
				o, _ := DetectOptions{}.withDefaults(AdaptiveConformalType)
				o.FalseAlarm = alpha
				p, ok := cache[name]
				if !ok {
					fr.Columns[name] = s.Values[s.Column(name)]
					r, err := fr.Regularize(name)
					if err != nil {
						t.Fatal(err)
					}
					if !r.Start.Equal(fr.Times[0]) || r.Step != 15*time.Minute {
						t.Fatalf("%s: grid from %s by %s, want the 15-minute one from the first record", name, r.Start, r.Step)
					}
					_, pred, err := selectModel(r, o.Calibration)
					if err != nil {
						t.Fatal(err)
					}
					p = predicted{r, pred}
					cache[name] = p
				}
				det, err := detect(p.r, p.pred, o)
				if err != nil {
					t.Fatal(err)
				}
				for i, flagged := range det.Anomaly {
					if math.IsNaN(det.Threshold[i]) {
						continue
					}
					k := inside(spans, i)
					switch {
					case k < 0:
						scoredOut++
						if flagged {
							flaggedOut++
						}
					case spans[k].sensors[name]:
						byKind[spans[k].kind].inPts++
						total.inPts++
						if flagged {
							byKind[spans[k].kind].inFlagged++
							total.inFlagged++
						}
					}
				}
				for _, a := range runsOf(det.Anomaly) {
					if a.end-a.start < minAlarm {
						continue
					}
					hitAny := false
					for k, sp := range spans {
						if a.start >= sp.end || a.end <= sp.start {
							continue
						}
						hitAny = true
						if sp.sensors[name] {
							detected[k] = true
							byKind[sp.kind].tp++
							total.tp++
						}
					}
					if !hitAny {
						total.fp++
						// A false alarm counts against every kind watching this sensor.
						seen := map[string]bool{}
						for _, sp := range spans {
							if sp.sensors[name] && !seen[sp.kind] {
								seen[sp.kind] = true
								byKind[sp.kind].fp++
							}
						}
					}
				}
			}
			for k, sp := range spans {
				byKind[sp.kind].episodes++
				total.episodes++
				if detected[k] {
					byKind[sp.kind].detected++
					total.detected++
				}
			}
		}
		rate := float64(flaggedOut) / float64(scoredOut)
		if rate < alpha/2 || rate > 2*alpha {
			t.Errorf("α=%g: %.4f of the points outside episodes flagged", alpha, rate)
		}
		fmt.Fprintf(&b, "false_alarm %g: %.4f of %d points outside episodes flagged; alarms are runs of at least %d\n", alpha, rate, scoredOut, minAlarm)
		fmt.Fprintf(&b, "%-24s %8s %8s %9s %7s %6s %9s\n", "kind", "episodes", "detected", "precision", "recall", "alarms", "in-flags")
		row := func(k string, s *score) {
			fmt.Fprintf(&b, "%-24s %8d %8d %9.3f %7.3f %6d %9.4f\n", k, s.episodes, s.detected, s.precision(), s.recall(), s.tp+s.fp, s.pointRate())
		}
		for _, k := range slices.Sorted(maps.Keys(byKind)) {
			row(k, byKind[k])
		}
		row("all", total)
		b.WriteString("\n")
	}
	path := filepath.Join("testdata", "episodes.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("episode detection changed (-want +got); rerun with -update if intended:\n%s", diff)
	}
	t.Logf("\n%s", b.String())
}

// gridIndex is t's index on the 15-minute grid from start.
func gridIndex(start, t time.Time) int { return int(t.Sub(start) / (15 * time.Minute)) }

// inside returns the span holding point i, or -1.
func inside(spans []span, i int) int {
	for k, sp := range spans {
		if i >= sp.start && i < sp.end {
			return k
		}
	}
	return -1
}
