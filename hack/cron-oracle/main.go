// cron-oracle prints the next fire times of a cron expression exactly as
// Kubernetes CronJob computes them: robfig/cron v3's ParseStandard on the
// schedule prefixed with "TZ=<zone> " (what the CronJob controller's
// formatSchedule does with spec.timeZone), then Schedule.Next from the base.
//
//	cron-oracle --base 2026-12-31T23:50:00Z --tz Europe/Berlin --n 50 '*/7 * * * *'
//
// One RFC 3339 time (with the zone's offset) per line on stdout. A schedule
// robfig refuses exits 2 with its error on stderr; a schedule that never fires
// within robfig's five-year search prints fewer lines (Next returns zero).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/robfig/cron/v3"
)

func main() {
	base := flag.String("base", "", "start instant, RFC 3339 (the first time printed is strictly after it)")
	tz := flag.String("tz", "UTC", "IANA time zone, as CronJob's spec.timeZone")
	n := flag.Int("n", 50, "how many fire times to print")
	flag.Parse()
	if flag.NArg() != 1 || *base == "" {
		fmt.Fprintln(os.Stderr, "usage: cron-oracle --base RFC3339 [--tz ZONE] [--n N] 'EXPR'")
		os.Exit(64)
	}
	t, err := time.Parse(time.RFC3339, *base)
	if err != nil {
		fmt.Fprintf(os.Stderr, "--base: %v\n", err)
		os.Exit(64)
	}
	// Exactly the CronJob controller's form: "TZ=<zone> <schedule>".
	sched, err := cron.ParseStandard(fmt.Sprintf("TZ=%s %s", *tz, flag.Arg(0)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// ParseStandard loaded the zone already; loaded again only to print offsets in it.
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; i < *n; i++ {
		t = sched.Next(t)
		if t.IsZero() {
			break
		}
		fmt.Println(t.In(loc).Format(time.RFC3339))
	}
}
