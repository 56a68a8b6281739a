package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn/emulator"
)

// CatalogueBudgetBytes is the most tools/list may weigh (issue 16: the
// whole catalogue in at most 30 KB of compact JSON).
const CatalogueBudgetBytes = 30 << 10

// CatalogueReport is what an MCP client pays in context: the size of the
// tools/list answer, and of typical tool results in their default
// (compact) views.
type CatalogueReport struct {
	Tools          int  `json:"tools"`
	ToolsListBytes int  `json:"toolsListBytes"`
	BudgetBytes    int  `json:"budgetBytes"`
	GoalMet        bool `json:"goalMet"`
	// ReadOnlyToolsListBytes is tools/list of a read-only endpoint.
	ReadOnlyToolsListBytes int             `json:"readOnlyToolsListBytes"`
	Results                []CatalogueCall `json:"results"`
}

// CatalogueCall is the size of one tool result as the model receives it.
type CatalogueCall struct {
	Call string `json:"call"`
	// StructuredBytes is the compact JSON of the structured result;
	// TextBytes the text content the model reads.
	StructuredBytes int    `json:"structuredBytes"`
	TextBytes       int    `json:"textBytes"`
	Result          string `json:"result"`
}

// catalogueCalls are the reads whose result sizes the scenario reports.
var catalogueCalls = []struct{ name, tool, input string }{
	{"list_tickets (10 rows)", "list_tickets", `{"params":{"limit":10}}`},
	{"get_ticket", "get_ticket", `{"ticketId":"` + emulator.DemoThreadTicketID + `"}`},
	{"get_ticket + 5 conversation items", "get_ticket", `{"ticketId":"` + emulator.DemoThreadTicketID + `","latestConversations":5}`},
	{"list_ticket_conversations (10 items)", "list_ticket_conversations", `{"ticketId":"` + emulator.DemoThreadTicketID + `","limit":10}`},
}

// runCatalogue measures tools/list over MCP's streamable HTTP (full and
// read-only) and the result sizes of catalogueCalls.
func runCatalogue(ctx context.Context, cfg Config) (*CatalogueReport, error) {
	s, err := NewStack(ctx, cfg.stackOptions())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	api := &http.Client{Transport: bearer{key: s.APIKey.Reveal(), next: loopbackTransport()}, Timeout: 60 * time.Second}
	connect := func(query string) (*mcp.ClientSession, error) {
		mc := mcp.NewClient(&mcp.Implementation{Name: "deskconn-bench", Version: "dev"}, nil)
		return mc.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: s.ServerURL + "/mcp/" + s.Connection.Name + query, HTTPClient: api, DisableStandaloneSSE: true}, nil)
	}
	toolsList := func(session *mcp.ClientSession) (int, int, error) {
		res, err := session.ListTools(ctx, nil)
		if err != nil {
			return 0, 0, err
		}
		b, err := json.Marshal(res.Tools)
		if err != nil {
			return 0, 0, err
		}
		return len(res.Tools), len(b), nil
	}

	session, err := connect("")
	if err != nil {
		return nil, fmt.Errorf("connect MCP client: %w", err)
	}
	defer session.Close()
	rep := &CatalogueReport{BudgetBytes: CatalogueBudgetBytes}
	if rep.Tools, rep.ToolsListBytes, err = toolsList(session); err != nil {
		return nil, fmt.Errorf("tools/list: %w", err)
	}
	rep.GoalMet = rep.ToolsListBytes <= CatalogueBudgetBytes
	ro, err := connect("?readonly=true")
	if err != nil {
		return nil, fmt.Errorf("connect read-only MCP client: %w", err)
	}
	defer ro.Close()
	if _, rep.ReadOnlyToolsListBytes, err = toolsList(ro); err != nil {
		return nil, fmt.Errorf("read-only tools/list: %w", err)
	}

	for _, c := range catalogueCalls {
		row := CatalogueCall{Call: c.name, Result: "ok"}
		var args map[string]any
		if err := json.Unmarshal([]byte(c.input), &args); err != nil {
			return nil, err
		}
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: args})
		switch {
		case err != nil:
			row.Result = errText(err)
		case res.IsError:
			row.Result = "tool error: " + toolText(res)
		default:
			if res.StructuredContent != nil {
				b, _ := json.Marshal(res.StructuredContent)
				row.StructuredBytes = len(b)
			}
			for _, ct := range res.Content {
				if t, ok := ct.(*mcp.TextContent); ok {
					row.TextBytes += len(t.Text)
				}
			}
		}
		rep.Results = append(rep.Results, row)
	}
	return rep, nil
}
