package tsfm

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestReadFrameErrors(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"bad-number.csv", `CSV line 3, column Flow: "high" is not a number`},
		{"no-timestamp.csv", `CSV has no timestamp column "Timestamp" (columns: time, Flow)`},
		{"ragged.csv", "CSV line 3"},
		{"bad-time.csv", "CSV line 2"},
		{"bad-history.json", "not an iot.history file"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			_, err := ReadFrame(filepath.Join("testdata", tt.file), "Timestamp")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// Short gaps are interpolated, long ones stay open; missing cells and
// missing rows are both gaps.
func TestRegularize(t *testing.T) {
	f, err := ReadFrame(filepath.Join("testdata", "ok.csv"), "timestamp")
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	for _, tt := range []struct {
		col          string
		want         []float64
		filled, gaps int
	}{
		// 00:45 is missing (one step, filled); 01:15–03:45 is eleven steps, more than MaxFill.
		{"Flow", []float64{1, 2, 3, 4, 5, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, 6, 7}, 1, 1},
		{"temp", []float64{10, 11, 12, 13, 14, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, 15, 16}, 2, 1},
	} {
		name, err := f.Column(tt.col)
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.Regularize(name)
		if err != nil {
			t.Fatal(err)
		}
		if r.Step != 15*time.Minute {
			t.Errorf("%s: step %s", tt.col, r.Step)
		}
		if diff := cmp.Diff(tt.want, r.Values, cmpopts.EquateNaNs(), cmpopts.EquateApprox(0, 1e-9)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.col, diff)
		}
		if r.Filled != tt.filled || r.Gaps != tt.gaps {
			t.Errorf("%s: filled %d gaps %d, want %d and %d", tt.col, r.Filled, r.Gaps, tt.filled, tt.gaps)
		}
		if got := r.segments(); len(got) != 2 || got[1] != [2]int{16, 18} {
			t.Errorf("%s: segments %v", tt.col, got)
		}
	}
}

func TestColumnLookup(t *testing.T) {
	f := &Frame{Columns: map[string][]float64{"Chiller 9 Tonnage": nil, "Chiller 9 Supply Temperature": nil, "Chiller 9 Return Temperature": nil}}
	for _, tt := range []struct{ name, want, err string }{
		{"chiller 9 tonnage", "Chiller 9 Tonnage", ""},
		{"Tonnage", "Chiller 9 Tonnage", ""},
		{"Supply Temperature", "Chiller 9 Supply Temperature", ""},
		{"Temperature", "", `no column "Temperature"`},
		{"Flow", "", "columns: Chiller 9 Return Temperature, Chiller 9 Supply Temperature, Chiller 9 Tonnage"},
	} {
		got, err := f.Column(tt.name)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Column(%q) = %q, %v; want %q, %q", tt.name, got, err, tt.want, tt.err)
		}
	}
}
