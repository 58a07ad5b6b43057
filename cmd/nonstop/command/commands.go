package command

// table lists every command. Add a new command here (one line) after creating its
// file; `nonstop -help` lists them in this order.
var table = []*Command{
	validateCommand,
	fmtCommand,
	inspectCommand,
	planCommand,
	showCommand,
	driftCommand,
	applyCommand,
	resumeCommand,
	stateCommand,
	historyCommand,
	forceUnlockCommand,
	versionCommand,
}
