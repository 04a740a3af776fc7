package tsfm

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/assetops/assetops/fixtures"
)

// Frame is a table of series read from a file: times and, per column,
// values (NaN where missing).
type Frame struct {
	Times   []time.Time
	Columns map[string][]float64
}

// ReadFrame reads the files the iot tools write (JSON with "observations")
// or a CSV with a header, a timestamp column and numeric columns.
func ReadFrame(path, timestampColumn string) (*Frame, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		return readHistoryJSON(t)
	}
	return readCSV(b, timestampColumn)
}

func readHistoryJSON(b []byte) (*Frame, error) {
	var f struct {
		Observations []struct {
			Timestamp string             `json:"timestamp"`
			Values    map[string]float64 `json:"values"`
		} `json:"observations"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not an iot.history file: %w", err)
	}
	if f.Observations == nil {
		return nil, errors.New(`not an iot.history file: no "observations"`)
	}
	fr := &Frame{Columns: map[string][]float64{}}
	for i, o := range f.Observations {
		t, err := fixtures.ParseLocalTime(o.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("observation %d: %w", i+1, err)
		}
		fr.Times = append(fr.Times, t)
		for name := range o.Values {
			if _, ok := fr.Columns[name]; !ok {
				fr.Columns[name] = nanSlice(i)
			}
		}
		for name, col := range fr.Columns {
			v, ok := o.Values[name]
			if !ok {
				v = math.NaN()
			}
			fr.Columns[name] = append(col, v)
		}
	}
	return fr, nil
}

func readCSV(b []byte, timestampColumn string) (*Frame, error) {
	r := csv.NewReader(bytes.NewReader(b))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	tcol := -1
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		if timestampColumn != "" && strings.EqualFold(h, timestampColumn) || timestampColumn == "" && strings.EqualFold(h, "timestamp") {
			tcol = i
		}
	}
	if tcol < 0 {
		return nil, fmt.Errorf("CSV has no timestamp column %q (columns: %s)", timestampColumn, strings.Join(header, ", "))
	}
	fr := &Frame{Columns: map[string][]float64{}}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return fr, nil
		}
		if err != nil {
			return nil, fmt.Errorf("CSV line %d: %w", line, err)
		}
		t, err := fixtures.ParseLocalTime(rec[tcol])
		if err != nil {
			return nil, fmt.Errorf("CSV line %d: %w", line, err)
		}
		fr.Times = append(fr.Times, t)
		for i, cell := range rec {
			if i == tcol {
				continue
			}
			v := math.NaN()
			if c := strings.TrimSpace(cell); c != "" {
				if v, err = strconv.ParseFloat(c, 64); err != nil {
					return nil, fmt.Errorf("CSV line %d, column %s: %q is not a number", line, header[i], cell)
				}
			}
			fr.Columns[header[i]] = append(fr.Columns[header[i]], v)
		}
	}
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// Column finds a column by its full name or, uniquely, by a suffix ("Tonnage"
// for "Chiller 9 Tonnage").
func (f *Frame) Column(name string) (string, error) {
	name = strings.TrimSpace(name)
	for c := range f.Columns {
		if strings.EqualFold(c, name) {
			return c, nil
		}
	}
	var matches []string
	for c := range f.Columns {
		if strings.HasSuffix(strings.ToLower(c), " "+strings.ToLower(name)) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 1 {
		return matches[0], nil
	}
	var all []string
	for c := range f.Columns {
		all = append(all, c)
	}
	sort.Strings(all)
	return "", fmt.Errorf("no column %q in the data (columns: %s)", name, strings.Join(all, ", "))
}

// MaxFill is the longest run of missing steps filled by interpolation; a
// longer gap splits the series.
const MaxFill = 8

// Regular is a series on a regular grid: gaps of up to MaxFill steps are
// filled by linear interpolation, longer ones stay NaN.
type Regular struct {
	Start  time.Time
	Step   time.Duration
	Values []float64
	Filled int // points interpolated
	Gaps   int // gaps left unfilled
}

// Time is the time of point i.
func (r Regular) Time(i int) time.Time { return r.Start.Add(time.Duration(i) * r.Step) }

// Regularize puts a column on the grid of its most common time step.
func (f *Frame) Regularize(column string) (Regular, error) {
	col := f.Columns[column]
	if len(f.Times) < 2 {
		return Regular{}, fmt.Errorf("%s has %d points, too few for a series", column, len(f.Times))
	}
	steps := map[time.Duration]int{}
	for i := 1; i < len(f.Times); i++ {
		if d := f.Times[i].Sub(f.Times[i-1]); d > 0 {
			steps[d]++
		}
	}
	var step time.Duration
	for d, n := range steps {
		if n > steps[step] || n == steps[step] && d < step {
			step = d
		}
	}
	if step <= 0 {
		return Regular{}, fmt.Errorf("%s: timestamps do not increase", column)
	}
	r := Regular{Start: f.Times[0], Step: step}
	n := int(f.Times[len(f.Times)-1].Sub(f.Times[0])/step) + 1
	r.Values = nanSlice(n)
	for i, t := range f.Times {
		if k := int(t.Sub(r.Start) / step); k >= 0 && k < n && t.Sub(r.Start)%step == 0 {
			r.Values[k] = col[i]
		}
	}
	// Fill short runs of NaN between two readings.
	for i := 0; i < n; {
		if !math.IsNaN(r.Values[i]) {
			i++
			continue
		}
		j := i
		for j < n && math.IsNaN(r.Values[j]) {
			j++
		}
		if i > 0 && j < n && j-i <= MaxFill {
			a, b := r.Values[i-1], r.Values[j]
			for k := i; k < j; k++ {
				r.Values[k] = a + (b-a)*float64(k-i+1)/float64(j-i+1)
				r.Filled++
			}
		} else {
			r.Gaps++
		}
		i = j
	}
	return r, nil
}

// tail returns the values after the last NaN: the series' last continuous
// stretch.
func (r Regular) tail() (int, []float64) {
	i := len(r.Values)
	for i > 0 && !math.IsNaN(r.Values[i-1]) {
		i--
	}
	return i, r.Values[i:]
}

// segments splits the series at NaN into continuous stretches.
func (r Regular) segments() [][2]int {
	var out [][2]int
	for i := 0; i < len(r.Values); {
		for i < len(r.Values) && math.IsNaN(r.Values[i]) {
			i++
		}
		j := i
		for j < len(r.Values) && !math.IsNaN(r.Values[j]) {
			j++
		}
		if j > i {
			out = append(out, [2]int{i, j})
		}
		i = j
	}
	return out
}
