package capability

import (
	"fmt"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery/spock"
)

// Name is a capability a plan may need.
type Name string

// The capabilities plan steps and options need.
const (
	// ClockSkew: a clock-skew step preloads libfaketime into the server,
	// which needs a glibc dynamic loader in the image.
	ClockSkew Name = "clock-skew"
	// SpockRecoveryAPI: --recovery spock calls one of Spock's recovery
	// APIs (recovery/spock).
	SpockRecoveryAPI Name = "spock-recovery-api"
	// FlavorExtension: the flavor's extension (pglogical, spock) is
	// available to CREATE EXTENSION.
	FlavorExtension Name = "flavor-extension"
	// SupportedMajor: the server is PostgreSQL 15 to 18 (pgversion).
	SupportedMajor Name = "supported-major"
)

// All lists the capabilities in the order reports show them.
var All = []Name{SupportedMajor, FlavorExtension, SpockRecoveryAPI, ClockSkew}

// Need is one capability a plan needs, and the step (or phase) that needs it.
type Need struct {
	Step string `json:"step"`
	Cap  Name   `json:"capability"`
}

// Answer is what is known of one capability of an image.
type Answer struct {
	Known bool   `json:"known"`
	OK    bool   `json:"ok"`
	Why   string `json:"why,omitempty"`
}

// Yes, No and Unknown build answers.
func Yes(why string) Answer     { return Answer{Known: true, OK: true, Why: why} }
func No(why string) Answer      { return Answer{Known: true, Why: why} }
func Unknown(why string) Answer { return Answer{Why: why} }

// Have is what an image can do, per capability; a missing one is unknown.
type Have map[Name]Answer

// Merge returns h with every known answer of o over it.
func (h Have) Merge(o Have) Have {
	out := Have{}
	for k, v := range h {
		out[k] = v
	}
	for k, v := range o {
		if v.Known || !out[k].Known {
			out[k] = v
		}
	}
	return out
}

// Refused is a plan the image cannot carry out: the first missing need.
type Refused struct {
	Need  Need
	Image string
	Why   string
}

func (e *Refused) Error() string {
	return fmt.Sprintf("step %q needs capability %s, which image %s lacks: %s", e.Need.Step, e.Need.Cap, e.Image, e.Why)
}

// Unwrap is the error the run would have met later without the check, so
// that a refusal up front is the same error to errors.Is as the failure
// it prevents (a missing recovery API is spock.ErrNoSpockAPI).
func (e *Refused) Unwrap() error {
	if e.Need.Cap == SpockRecoveryAPI {
		return spock.ErrNoSpockAPI
	}
	return nil
}

// Refusal is nil when no need is known to be missing, else a *Refused
// (one line) naming the first missing need's step, its capability and
// the image.
func Refusal(needs []Need, have Have, image string) error {
	for _, n := range needs {
		if a := have[n.Cap]; a.Known && !a.OK {
			return &Refused{Need: n, Image: image, Why: a.Why}
		}
	}
	return nil
}

// Unresolved lists the needs whose answer is unknown.
func Unresolved(needs []Need, have Have) []Need {
	var out []Need
	for _, n := range needs {
		if !have[n.Cap].Known {
			out = append(out, n)
		}
	}
	return out
}

// FromImage answers what an image's metadata tells, for flavor: the
// recipe's images (pglogical from Debian) entirely; another image's
// PostgreSQL major when PG_MAJOR or PATH says it; the rest unknown.
func FromImage(flavor, ref string, env []string) Have {
	h := Have{}
	if major, ok := docker.RecipeMajor(ref); ok {
		h[SupportedMajor] = Yes(fmt.Sprintf("the recipe's PostgreSQL %d", major))
		h[ClockSkew] = Yes("the recipe's Debian glibc")
		if flavor == "pglogical" {
			h[FlavorExtension] = Yes("the recipe installs pglogical")
		} else {
			h[FlavorExtension] = No("the recipe's image has pglogical, not " + flavor)
		}
		h[SpockRecoveryAPI] = No("the recipe's image has no Spock")
		return h
	}
	if major, ok := docker.ImageMajor(ref, env); ok {
		if err := pgversion.Supported(major * 10000); err != nil {
			h[SupportedMajor] = No(err.Error())
		} else {
			h[SupportedMajor] = Yes(fmt.Sprintf("PostgreSQL %d (image metadata)", major))
		}
	}
	if flavor == "pglogical" {
		h[SpockRecoveryAPI] = No("flavor pglogical has no Spock recovery API")
	}
	return h
}
