// Package workspace provides the utility tools ("util.*"): the run's clock
// and the files in the run's output folder.
package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/assetops/assetops/agents/tools"
	"github.com/assetops/assetops/fixtures"
)

// MaxJSONBytes bounds what json_reader returns; larger files are for tools
// that process them (tsfm), not for a model's context.
const MaxJSONBytes = 1 << 20

// Tools returns the utility tools.
func Tools() []tools.Tool {
	return []tools.Tool{
		tools.New("util.current_date_time", "The current date and time of the run, site-local.", currentDateTime),
		tools.New("util.json_reader", "Read a JSON file that a tool wrote to the run's output folder.", jsonReader),
	}
}

type noArgs struct{}

type dateTimeOut struct {
	CurrentDateTime            string `json:"currentDateTime"`
	CurrentDateTimeDescription string `json:"currentDateTimeDescription"`
	Weekday                    string `json:"weekday"`
}

func currentDateTime(ctx context.Context, _ noArgs) (dateTimeOut, error) {
	now := tools.EnvFrom(ctx).Now
	return dateTimeOut{
		CurrentDateTime:            fixtures.LocalTime{Time: now}.String(),
		CurrentDateTimeDescription: fmt.Sprintf("Today's date is %s and time is %s.", now.Format("2006-01-02"), now.Format("15:04:05")),
		Weekday:                    now.Weekday().String(),
	}, nil
}

type readIn struct {
	FileName string `json:"file_name" jsonschema:"the file's name as a tool returned it (file_path)"`
}

func jsonReader(ctx context.Context, in readIn) (json.RawMessage, error) {
	path, err := tools.EnvFrom(ctx).Resolve(in.FileName)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.FileName, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not a file", in.FileName)
	}
	if st.Size() > MaxJSONBytes {
		return nil, fmt.Errorf("%s has %d bytes, more than the %d json_reader returns; pass it to a tool that takes a file instead", in.FileName, st.Size(), MaxJSONBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.FileName, err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s is not JSON", in.FileName)
	}
	return b, nil
}
