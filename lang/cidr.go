package lang

import (
	"fmt"
	"math/big"
	"net"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/gocty"
)

// cidrSubnetFunc is cidrsubnet(prefix, newbits, netnum), like Terraform's.
var cidrSubnetFunc = function.New(&function.Spec{
	Description: "Calculates a subnet address within the given IP network address prefix.",
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "newbits", Type: cty.Number},
		{Name: "netnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		_, network, err := net.ParseCIDR(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "invalid CIDR expression: %s", err)
		}
		var newbits int
		if err := gocty.FromCtyValue(args[1], &newbits); err != nil {
			return cty.NilVal, function.NewArgError(1, err)
		}
		netnum, acc := args[2].AsBigFloat().Int(nil)
		if acc != big.Exact || netnum.Sign() < 0 {
			return cty.NilVal, function.NewArgErrorf(2, "netnum must be a whole number, not negative")
		}
		ones, bits := network.Mask.Size()
		if newbits < 0 || ones+newbits > bits {
			return cty.NilVal, function.NewArgErrorf(1, "insufficient address space to extend prefix of %d by %d", ones, newbits)
		}
		if netnum.Cmp(new(big.Int).Lsh(big.NewInt(1), uint(newbits))) >= 0 {
			return cty.NilVal, function.NewArgErrorf(2, "prefix extension of %d does not accommodate a subnet numbered %s", newbits, netnum)
		}
		base := ipToInt(network.IP)
		base.Or(base, new(big.Int).Lsh(netnum, uint(bits-ones-newbits)))
		ip := intToIP(base, len(network.IP))
		return cty.StringVal((&net.IPNet{IP: ip, Mask: net.CIDRMask(ones+newbits, bits)}).String()), nil
	},
})

// cidrHostFunc is cidrhost(prefix, hostnum), like Terraform's; a negative hostnum
// counts back from the end of the range.
var cidrHostFunc = function.New(&function.Spec{
	Description: "Calculates a full host IP address within the given IP network address prefix.",
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "hostnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		_, network, err := net.ParseCIDR(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "invalid CIDR expression: %s", err)
		}
		hostnum, acc := args[1].AsBigFloat().Int(nil)
		if acc != big.Exact {
			return cty.NilVal, function.NewArgErrorf(1, "hostnum must be a whole number")
		}
		ones, bits := network.Mask.Size()
		size := new(big.Int).Lsh(big.NewInt(1), uint(bits-ones))
		if hostnum.Sign() < 0 {
			hostnum.Add(hostnum, size)
		}
		if hostnum.Sign() < 0 || hostnum.Cmp(size) >= 0 {
			return cty.NilVal, function.NewArgErrorf(1, "prefix of %d does not accommodate a host numbered %s", ones, args[1].AsBigFloat().Text('f', 0))
		}
		base := ipToInt(network.IP)
		base.Add(base, hostnum)
		return cty.StringVal(intToIP(base, len(network.IP)).String()), nil
	},
})

// cidrNetmaskFunc is cidrnetmask(prefix): the dotted netmask of an IPv4 prefix.
var cidrNetmaskFunc = function.New(&function.Spec{
	Description: "Converts an IPv4 address prefix given in CIDR notation into a subnet mask address.",
	Params:      []function.Parameter{{Name: "prefix", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		_, network, err := net.ParseCIDR(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "invalid CIDR expression: %s", err)
		}
		if len(network.IP) != net.IPv4len {
			return cty.NilVal, function.NewArgErrorf(0, "only IPv4 networks have a netmask")
		}
		return cty.StringVal(net.IP(network.Mask).String()), nil
	},
})

func ipToInt(ip net.IP) *big.Int {
	if v4 := ip.To4(); v4 != nil && len(ip) == net.IPv4len {
		ip = v4
	}
	return new(big.Int).SetBytes(ip)
}

func intToIP(n *big.Int, size int) net.IP {
	b := n.Bytes()
	if len(b) > size {
		b = b[len(b)-size:]
	}
	ip := make(net.IP, size)
	copy(ip[size-len(b):], b)
	return ip
}

// validClientIP reports whether s is an IP address or a CIDR prefix.
func validClientIP(s string) error {
	if net.ParseIP(s) != nil {
		return nil
	}
	if _, _, err := net.ParseCIDR(s); err == nil {
		return nil
	}
	return fmt.Errorf("%q is neither an IP address nor a CIDR prefix like \"10.8.0.0/16\"", s)
}
