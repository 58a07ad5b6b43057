package lang

import "github.com/hashicorp/hcl/v2"

// The schemas below describe every block of the language. Providers' attribute
// schemas are built from ProviderSchemas (see providers.go).

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "nonstop"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "provider", LabelNames: []string{"kind", "name"}},
		{Type: "service", LabelNames: []string{"name"}},
	},
}

var nonstopSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "required_version"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "state", LabelNames: []string{"kind"}}},
}

var stateSchemas = map[string]*hcl.BodySchema{
	"local":    {Attributes: []hcl.AttributeSchema{{Name: "path"}}},
	"postgres": {Attributes: []hcl.AttributeSchema{{Name: "dsn", Required: true}, {Name: "workspace"}}},
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
	},
}

var serviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "version", Required: true},
		{Name: "min_available"},
		{Name: "depends_on"},
		{Name: "on_failure"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "registry"},
		{Type: "group", LabelNames: []string{"name"}},
		{Type: "balancer", LabelNames: []string{"name"}},
		{Type: "strategy", LabelNames: []string{"kind"}},
		{Type: "drain"},
		{Type: "deploy"},
		{Type: "health"},
		{Type: "verify"},
		{Type: "analysis", LabelNames: []string{"name"}},
		{Type: "route", LabelNames: []string{"name"}},
		{Type: "gateway_routes", LabelNames: []string{"name"}},
	},
}

var registrySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "provider", Required: true}, {Name: "group"}, {Name: "cluster"},
	},
}

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "instances", Required: true}},
}

var balancerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "provider", Required: true}, {Name: "pool", Required: true}, {Name: "weight"}, {Name: "long_lived"},
	},
}

var strategySchemas = map[StrategyKind]*hcl.BodySchema{
	Rolling:   {Attributes: []hcl.AttributeSchema{{Name: "batch"}}},
	BlueGreen: {Attributes: []hcl.AttributeSchema{{Name: "keep_standby"}}},
	Canary:    {Blocks: []hcl.BlockHeaderSchema{{Type: "step"}}},
}

var stepSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "weight", Required: true}, {Name: "pause"}, {Name: "analysis"},
	},
}

var drainSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "propagation"}, {Name: "timeout"}, {Name: "in_flight"}},
}

var deploySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "command", Required: true}, {Name: "env"}, {Name: "timeout"},
	},
}

var healthSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "http", Required: true}, {Name: "expect"}, {Name: "interval"}, {Name: "timeout"},
	},
}

var verifySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "http", Required: true}, {Name: "contains"}, {Name: "expect"}, {Name: "timeout"},
	},
}

var analysisSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "http", Required: true}, {Name: "max_value", Required: true}, {Name: "no_data"},
	},
}

var routeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "version", Required: true}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "match"}},
}

var matchSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "client_ip"}, {Name: "header"}, {Name: "query"}, {Name: "cookie"}},
}
