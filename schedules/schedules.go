// Package schedules owns time: the cron specs of pledgestat.toml, when
// each job runs next, and (with the scheduler of a later issue) running
// them through the same run function the CLI calls, under the workspace
// lock.
//
// It wraps robfig/cron v3.0.1, unmaintained since 2021: specs are parsed
// under recover (the parser panics on "TZ=" with nothing after it), every
// schedule has an explicit location, and nothing here relies on the
// library's job wrappers.
package schedules

import (
	"errors"
	"fmt"
	"strings"
	"time"
	// Time zones must resolve on machines without a zoneinfo database.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// Spec is a validated schedule.
type Spec struct {
	Name     string
	Cron     string
	Command  string
	Location *time.Location
	schedule cron.Schedule
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a standard 5-field cron spec or a descriptor (@daily).
// Time zones belong in the schedule's timezone key, not in the spec.
func ParseCron(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("malformed: %v", r)
		}
	}()
	trimmed := strings.TrimSpace(spec)
	if strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ=") {
		return nil, errors.New("put the time zone in the timezone key, not in the cron spec")
	}
	if trimmed == "" {
		return nil, errors.New("empty")
	}
	return parser.Parse(trimmed)
}

// Parse validates one schedule of the configuration.
func Parse(name, cronSpec, command, timezone string) (Spec, error) {
	sched, err := ParseCron(cronSpec)
	if err != nil {
		return Spec{}, fmt.Errorf("cron %q: %w", cronSpec, err)
	}
	if timezone == "" || timezone == "Local" {
		return Spec{}, fmt.Errorf("timezone %q: give an IANA name such as UTC or Europe/Zurich", timezone)
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		return Spec{}, fmt.Errorf("timezone %q is not an IANA time zone name such as UTC or Europe/Zurich", timezone)
	}
	return Spec{Name: name, Cron: cronSpec, Command: command, Location: loc, schedule: sched}, nil
}

// Next returns the first time after t the schedule fires, in its location.
func (s Spec) Next(t time.Time) time.Time { return s.schedule.Next(t.In(s.Location)) }
