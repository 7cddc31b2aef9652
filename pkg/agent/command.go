package agent

import "fmt"

// command is any other program: its output is plain text and only its exit
// code says whether it succeeded.
type command struct{}

func (command) Name() string { return "command" }

// Setup is empty: nothing is known about the program's needs.
func (command) Setup() Setup { return Setup{} }

// Command runs req.Args, with the prompt (if any) as the last argument.
func (command) Command(req Request) ([]string, error) {
	if len(req.Args) == 0 || req.Args[0] == "" {
		return nil, fmt.Errorf("--agent command runs the program given after --, and none was given")
	}
	if err := unsupported("command", map[string]bool{
		"model":           req.Model != "",
		"max turns":       req.MaxTurns != 0,
		"schema":          len(req.Schema) > 0 || req.SchemaPath != "",
		"allowed tools":   len(req.AllowedTools) > 0,
		"permission mode": req.PermissionMode != "",
		"base URL":        req.BaseURL != "",
	}); err != nil {
		return nil, err
	}
	argv := append([]string(nil), req.Args...)
	if req.Prompt != "" {
		argv = append(argv, req.Prompt)
	}
	return argv, nil
}

func (command) NewParser(emit func(Event)) *Parser {
	p := newParser("command", plainDecoder{}, emit)
	p.plain = NewTail(TailBytes)
	return p
}

// plainDecoder is never asked to decode: the parser keeps every line as text.
type plainDecoder struct{}

func (plainDecoder) object(*Parser, []byte) bool { return false }
func (plainDecoder) end(*Parser)                 {}
func (plainDecoder) finish(*Result)              {}
