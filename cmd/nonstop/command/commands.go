package command

// table lists every command. Add a new command here (one line) after creating its
// file; `nonstop -help` lists them in this order.
var table = []*Command{
	validateCommand,
	fmtCommand,
	versionCommand,
}
