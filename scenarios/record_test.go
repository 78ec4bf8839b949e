package scenarios_test

import (
	"encoding/json"
	"reflect"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/scenarios"
)

// fill sets every field of v (a pointer), recursively, to a value that is
// not zero, with one element in every list.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 6, 1, 2, 3, 4, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

var _ = Describe("the recovery results in the run record", func() {
	It("store every field recovery reports, as recovery encodes it", func() {
		var res recovery.Result
		fill(reflect.ValueOf(&res).Elem())
		Expect(jsonOf(scenarios.RecoveryRecord(&res))).To(Equal(jsonOf(res)))

		var rep recovery.KeeperReport
		fill(reflect.ValueOf(&rep).Elem())
		Expect(jsonOf(scenarios.KeeperRecord(&rep))).To(Equal(jsonOf(rep)))
	})

	It("store an empty result as recovery encodes it, and nothing for none", func() {
		Expect(jsonOf(scenarios.RecoveryRecord(&recovery.Result{Strategy: "none"}))).To(Equal(jsonOf(recovery.Result{Strategy: "none"})))
		Expect(scenarios.RecoveryRecord(nil)).To(BeNil())
		Expect(scenarios.KeeperRecord(nil)).To(BeNil())
	})
})
