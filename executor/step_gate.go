package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// analysisTimeout bounds one analysis query.
const analysisTimeout = 30 * time.Second

// errNoData says an analysis query returned no value.
var errNoData = errors.New("no data")

// gate runs gate.analysis: every named analysis is queried and its value compared
// with max_value. A query with no data follows the analysis' no_data policy: fail,
// pass, or pause until `nonstop resume`.
func (x *execution) gate(ctx context.Context, st *planner.Step) error {
	svc, err := x.service(st.Service)
	if err != nil {
		return err
	}
	if len(st.Args.Analysis) == 0 {
		return errors.New("gate.analysis names no analysis")
	}
	for _, name := range st.Args.Analysis {
		a, ok := svc.Analyses[name]
		if !ok {
			return fmt.Errorf("service %s has no analysis %q", svc.Name, name)
		}
		if err := x.analyse(ctx, st, a); err != nil {
			return err
		}
	}
	return nil
}

// analyse checks one analysis.
func (x *execution) analyse(ctx context.Context, st *planner.Step, a *lang.Analysis) error {
	value, err := x.queryAnalysis(ctx, a.HTTP)
	x.sawGate(st, a, value, err)
	switch {
	case errors.Is(err, errNoData):
		switch a.NoData {
		case "pass":
			x.log.Warn(fmt.Sprintf("%s: analysis %s returned no data; passing (no_data = \"pass\")", describe(st), a.Name))
			return nil
		case "pause":
			return x.waitResume(ctx, st, fmt.Sprintf("analysis %s returned no data; paused until `nonstop resume %s`", a.Name, st.ID))
		}
		return fmt.Errorf("analysis %s returned no data (no_data = \"fail\")", a.Name)
	case err != nil:
		return fmt.Errorf("analysis %s: %w", a.Name, err)
	case value > a.MaxValue:
		return fmt.Errorf("analysis %s: value %g is above max_value %g", a.Name, value, a.MaxValue)
	}
	x.log.Info(fmt.Sprintf("%s: analysis %s: %g <= %g", describe(st), a.Name, value, a.MaxValue))
	return nil
}

// queryAnalysis GETs an analysis URL and reads its value: a plain JSON number (or
// numeric string), or a Prometheus query response whose vector (the largest sample
// wins) or scalar holds it. null, an empty result and NaN are errNoData.
func (x *execution) queryAnalysis(ctx context.Context, url string) (float64, error) {
	status, body, err := x.get(ctx, url, analysisTimeout)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("%s answered status %d", url, status)
	}
	return parseAnalysis([]byte(body))
}

// parseAnalysis reads an analysis response body.
func parseAnalysis(body []byte) (float64, error) {
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return 0, fmt.Errorf("the response is not JSON: %v", err)
	}
	switch v := raw.(type) {
	case nil:
		return 0, errNoData
	case float64, string:
		return sample(v)
	case map[string]any:
		return prometheusValue(v)
	}
	return 0, fmt.Errorf("the response is neither a number nor a Prometheus query result")
}

// prometheusValue reads {"status":"success","data":{"resultType":..., "result":...}}.
func prometheusValue(doc map[string]any) (float64, error) {
	if s, _ := doc["status"].(string); s != "" && s != "success" {
		msg, _ := doc["error"].(string)
		return 0, fmt.Errorf("the query failed: %s", msg)
	}
	data, ok := doc["data"].(map[string]any)
	if !ok {
		return 0, errors.New("the response has no data object")
	}
	switch result := data["result"].(type) {
	case nil:
		return 0, errNoData
	case []any:
		if len(result) == 2 {
			if _, isTS := result[0].(float64); isTS { // a scalar: [ts, "value"]
				return sample(result[1])
			}
		}
		worst, found := math.Inf(-1), false
		for _, item := range result {
			series, _ := item.(map[string]any)
			pair, _ := series["value"].([]any)
			if len(pair) != 2 {
				return 0, errors.New("a result has no [timestamp, value] pair")
			}
			v, err := sample(pair[1])
			if errors.Is(err, errNoData) {
				continue
			}
			if err != nil {
				return 0, err
			}
			worst, found = math.Max(worst, v), true
		}
		if !found {
			return 0, errNoData
		}
		return worst, nil
	}
	return 0, errors.New("data.result is neither a vector nor a scalar")
}

// sample converts a JSON number or Prometheus sample string; NaN is no data.
func sample(v any) (float64, error) {
	var f float64
	switch t := v.(type) {
	case float64:
		f = t
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(t), 64); err != nil {
			return 0, fmt.Errorf("%q is not a number", t)
		}
	case nil:
		return 0, errNoData
	default:
		return 0, fmt.Errorf("%v is not a number", v)
	}
	if math.IsNaN(f) {
		return 0, errNoData
	}
	return f, nil
}
