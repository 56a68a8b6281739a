package mcpauth

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func FuzzParseRegistration(f *testing.F) {
	f.Add([]byte(`{"client_name":"A","redirect_uris":["https://a.example/cb","http://127.0.0.1:5/cb"],"grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"none"}`))
	f.Add([]byte(`{"redirect_uris":["http://localhost/cb"],"response_types":["code"]}`))
	f.Add([]byte(`{"redirect_uris":["javascript:x"]}`))
	f.Add([]byte(`{"client_id":"x","redirect_uris":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		name, uris, err := ParseRegistration(body)
		if err != nil {
			return
		}
		checkParsed(t, name, uris)
	})
}

func FuzzParseMetadataDocument(f *testing.F) {
	const id = "https://agent.example/client.json"
	f.Add(id, []byte(`{"client_id":"`+id+`","client_name":"Agent","redirect_uris":["https://agent.example/cb"]}`))
	f.Add(id, []byte(`{"client_id":"https://other.example/c.json","redirect_uris":["https://agent.example/cb"]}`))
	f.Add("https://a.example/c", []byte(`{"client_id":"https://a.example/c","redirect_uris":["http://[::1]:80/cb"],"client_name":"\u0000x"}`))
	f.Fuzz(func(t *testing.T, clientID string, body []byte) {
		name, uris, err := ParseMetadataDocument(clientID, body)
		if err != nil {
			return
		}
		checkParsed(t, name, uris)
	})
}

// checkParsed asserts what every accepted client metadata guarantees.
func checkParsed(t *testing.T, name string, uris []string) {
	t.Helper()
	if len(uris) == 0 || len(uris) > maxRedirectURIs {
		t.Fatalf("accepted %d redirect URIs", len(uris))
	}
	for _, u := range uris {
		if err := checkRedirectURI(u); err != nil {
			t.Fatalf("accepted redirect URI %q: %v", u, err)
		}
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			t.Fatalf("accepted a redirect URI of another scheme: %q", u)
		}
	}
	if slices.ContainsFunc([]rune(name), func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		t.Fatalf("client name %q keeps control or format characters", name)
	}
	if len([]rune(name)) > maxClientNameLen+1 {
		t.Fatalf("client name has %d runes", len([]rune(name)))
	}
}

func FuzzParseResource(f *testing.F) {
	f.Add("https://dc.example/mcp/support")
	f.Add("https://dc.example/mcp/a/../b")
	f.Add("https://dc.example/mcp/%2e%2e")
	f.Add("https://dc.example:443/mcp/x?y")
	f.Fuzz(func(t *testing.T, res string) {
		seg, canon, err := ParseResource("https://dc.example", res)
		if err != nil {
			return
		}
		if !validSegment(seg) || canon != "https://dc.example/mcp/"+seg {
			t.Fatalf("ParseResource(%q) = %q, %q", res, seg, canon)
		}
	})
}
