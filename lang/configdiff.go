package lang

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// ParseVariableValue interprets raw as -var and NONSTOP_VAR_ do for a variable of
// type ty: the string itself for a string, otherwise an HCL constant when it is
// one that is not a string, else the string. It lets a caller compare a raw value
// with a value it holds.
func ParseVariableValue(ty cty.Type, raw string) (cty.Value, error) {
	v, err := convert.Convert(rawVariableValue(ty, raw), ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("not a value of type %s: %v", ty.FriendlyName(), err)
	}
	return v, nil
}
