package mcpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/deskconn/deskconn/internal/apikey"
)

// demoProcess is a running `deskconn serve --demo` on loopback.
type demoProcess struct {
	bin, dataDir, url, key string
}

// startDemo builds the deskconn binary and starts `deskconn serve --demo`
// on a free loopback port with a temporary data directory.
func startDemo(t *testing.T) *demoProcess {
	t.Helper()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "deskconn")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/deskconn")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	key, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(tmp, "data")
	cmd := exec.Command(bin, "serve", "--demo", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DESKCONN_DATA_DIR="+dataDir, "DESKCONN_API_KEY="+key.Reveal(), "DESKCONN_LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("deskconn serve --demo stderr:\n%s", stderr.String())
		}
	})
	urlRE := regexp.MustCompile(`deskconn demo is running on (http://127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if m := urlRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
	}()
	select {
	case u := <-found:
		return &demoProcess{bin: bin, dataDir: dataDir, url: u, key: key.Reveal()}
	case <-time.After(60 * time.Second):
		t.Fatalf("deskconn serve --demo did not start; stderr:\n%s", stderr.String())
	}
	return nil
}

// mcpArgs are the arguments of `deskconn mcp` on the demo's connection.
func (d *demoProcess) mcpArgs() []string {
	return []string{"--data-dir", d.dataDir, "--db", filepath.Join(d.dataDir, "demo.db"), "mcp", "--tenant", "demo", "--connection", "demo"}
}

// TestRealClients runs the built binary: `deskconn serve --demo` for
// streamable HTTP at /mcp/demo and `deskconn mcp` over stdio on the same
// database, and drives both with the Go SDK client and, when
// DESKCONN_TEST_NODE names node and node_modules is installed (scripts/setup),
// with the official TypeScript SDK client in testdata/node.
func TestRealClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the deskconn binary")
	}
	d := startDemo(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	t.Run("go stdio", func(t *testing.T) {
		client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "v0"}, nil)
		cmd := exec.Command(d.bin, d.mcpArgs()...)
		cmd.Env = append(os.Environ(), "DESKCONN_DATA_DIR="+d.dataDir)
		cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
		if err != nil {
			t.Fatalf("connect over stdio: %v", err)
		}
		defer cs.Close()
		exerciseGo(t, cs)
	})
	t.Run("go http", func(t *testing.T) {
		cs, err := httpSession(t, d.url+"/mcp/demo", d.key)
		if err != nil {
			t.Fatalf("connect over HTTP: %v", err)
		}
		exerciseGo(t, cs)
	})
	t.Run("typescript sdk", func(t *testing.T) {
		node := os.Getenv("DESKCONN_TEST_NODE")
		if node == "" {
			t.Skip("DESKCONN_TEST_NODE is unset (scripts/env sets it)")
		}
		if _, err := os.Stat(filepath.Join("testdata", "node", "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
			t.Skip("testdata/node/node_modules is missing: run scripts/setup (npm ci)")
		}
		args, _ := json.Marshal(d.mcpArgs())
		cmd := exec.CommandContext(ctx, node, "client.mjs")
		cmd.Dir = filepath.Join("testdata", "node")
		cmd.Env = append(os.Environ(),
			"DESKCONN_BIN="+d.bin, "DESKCONN_MCP_ARGS="+string(args), "DESKCONN_DATA_DIR="+d.dataDir,
			"DESKCONN_MCP_URL="+d.url+"/mcp/demo", "DESKCONN_API_KEY="+d.key, "DESKCONN_LOG_LEVEL=warn")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node client.mjs: %v\n%s", err, out)
		}
		if !strings.HasSuffix(strings.TrimSpace(string(out)), "ok") {
			t.Fatalf("node client.mjs did not finish:\n%s", out)
		}
		t.Logf("node client.mjs:\n%s", out)
	})
}

// exerciseGo lists the tools and calls list_tickets, get_ticket and
// create_ticket, and a bad input, on a session to the real binary.
func exerciseGo(t *testing.T, cs *mcp.ClientSession) {
	t.Helper()
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tools.Tools); n != len(realRegistry().List()) {
		t.Errorf("%d tools, want %d", n, len(realRegistry().List()))
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(mustSucceed(t, call(t, cs, "list_tickets", `{"params":{"limit":2}}`)), &list); err != nil || len(list.Data) != 2 {
		t.Fatalf("list_tickets: %v, %d rows", err, len(list.Data))
	}
	if out := mustSucceed(t, call(t, cs, "get_ticket", `{"ticketId":"`+list.Data[0].ID+`"}`)); !strings.Contains(string(out), list.Data[0].ID) {
		t.Errorf("get_ticket: %s", out)
	}
	out := mustSucceed(t, call(t, cs, "create_ticket", `{"payload":{"subject":"e2e","departmentId":"1892000000006907","contactId":"1892000000042032"}}`))
	if !strings.Contains(string(out), `"ticketNumber"`) {
		t.Errorf("create_ticket: %s", out)
	}
	if out := mustSucceed(t, call(t, cs, "search_articles", `{"text":"wi-fi"}`)); !strings.Contains(string(out), "Connect the Printer F3 to Wi-Fi") {
		t.Errorf("search_articles: %s", out)
	}
	if out := mustSucceed(t, call(t, cs, "get_contact", `{"email":"carol@zylker-customer.com"}`)); !strings.Contains(string(out), `"1892000000042032"`) {
		t.Errorf("get_contact: %s", out)
	}
	body, txt := errorOf(t, call(t, cs, "create_ticket", `{"payload":{}}`))
	if body.Code != "invalid" || !strings.Contains(txt, "/payload/subject") {
		t.Errorf("bad input: %s\n%s", body.Code, txt)
	}
}
