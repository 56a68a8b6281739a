package zohodesk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/deskconn/deskconn/zohodesk"
)

// fakeDesk is a tiny stand-in for Zoho Desk, enough for the examples.
func fakeDesk() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/tickets", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("Desk got orgId=%s body=%s\n", r.Header.Get("orgId"), body)
		io.WriteString(w, `{"id":"1892000000093001","ticketNumber":"101","subject":"Printer on fire","status":"Open"}`)
	})
	mux.HandleFunc("PATCH /api/v1/tickets/{id}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("Desk got PATCH %s %s\n", r.PathValue("id"), body)
		io.WriteString(w, `{"id":"`+r.PathValue("id")+`","assigneeId":null,"status":"On Hold"}`)
	})
	mux.HandleFunc("GET /api/v1/tickets", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("from") {
		case "":
			io.WriteString(w, `{"data":[{"id":"1","subject":"first"},{"id":"2","subject":"second"}]}`)
		case "2":
			io.WriteString(w, `{"data":[{"id":"3","subject":"third"}]}`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("GET /api/v1/tickets/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errorCode":"URL_NOT_FOUND","message":"The URL you requested could not be found."}`)
	})
	return httptest.NewServer(mux)
}

func Example() {
	srv := fakeDesk()
	defer srv.Close()

	// In production BaseURL comes from the regions table, e.g.
	// zohodesk.DefaultRegions().Desk("eu"), and Tokens from the connection.
	client, err := zohodesk.New(zohodesk.Config{
		BaseURL: srv.URL + "/api/v1",
		Tokens:  zohodesk.StaticToken("1000.access.token"),
	})
	if err != nil {
		log.Fatal(err)
	}
	ticket, _, err := client.Tickets.Create(context.Background(), "2389290", &zohodesk.TicketCreateRequest{
		Subject:      "Printer on fire",
		DepartmentID: "1892000000006907",
		Contact:      &zohodesk.TicketContact{LastName: "Carol", Email: "carol@zylker.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created ticket", ticket.TicketNumber, ticket.ID)
	// Output:
	// Desk got orgId=2389290 body={"subject":"Printer on fire","departmentId":"1892000000006907","contact":{"lastName":"Carol","email":"carol@zylker.com"}}
	// created ticket 101 1892000000093001
}

func ExampleTicketsService_Update() {
	srv := fakeDesk()
	defer srv.Close()
	client, _ := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken("t")})

	// Unset fields are left out; Null clears a field (here: unassign).
	_, _, err := client.Tickets.Update(context.Background(), "2389290", "77", &zohodesk.TicketUpdateRequest{
		Status:     zohodesk.Set("On Hold"),
		AssigneeID: zohodesk.Null[string](),
	}, nil)
	fmt.Println("error:", err)
	// Output:
	// Desk got PATCH 77 {"status":"On Hold","assigneeId":null}
	// error: <nil>
}

func ExampleTicketsService_ListAll() {
	srv := fakeDesk()
	defer srv.Close()
	client, _ := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken("t")})

	opts := &zohodesk.TicketListOptions{ListOptions: zohodesk.ListOptions{Limit: 2}}
	for t, err := range client.Tickets.ListAll(context.Background(), "2389290", opts) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.ID, t.Subject)
	}
	// Output:
	// 1 first
	// 2 second
	// 3 third
}

func ExampleAPIError() {
	srv := fakeDesk()
	defer srv.Close()
	client, _ := zohodesk.New(zohodesk.Config{BaseURL: srv.URL + "/api/v1", Tokens: zohodesk.StaticToken("t")})

	_, _, err := client.Tickets.Get(context.Background(), "2389290", "404404", nil)
	fmt.Println(errors.Is(err, zohodesk.ErrNotFound))
	var apiErr *zohodesk.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
	}
	fmt.Println(strings.TrimPrefix(err.Error(), "zohodesk: "))
	// Output:
	// true
	// 404 URL_NOT_FOUND
	// GET /api/v1/tickets/404404: 404 URL_NOT_FOUND: The URL you requested could not be found.
}

func ExampleRegions_ByAccountsServer() {
	regions := zohodesk.DefaultRegions()
	// The OAuth callback says where the user's data lives.
	region, err := regions.ByAccountsServer("https://accounts.zoho.eu")
	fmt.Println(region.Location, region.DeskAPIBase, err)
	_, err = regions.ByAccountsServer("https://accounts.zoho.eu.attacker.test")
	fmt.Println(errors.Is(err, zohodesk.ErrUnknownRegion))
	// Output:
	// eu https://desk.zoho.eu/api/v1 <nil>
	// true
}

func ExampleOAuthConfig_AuthCodeURL() {
	cfg := &zohodesk.OAuthConfig{
		ClientID:    "1000.CLIENT",
		RedirectURL: "https://deskconn.example/callback",
		Scopes:      []string{"Desk.tickets.ALL", "Desk.basic.READ"},
	}
	fmt.Println(cfg.AuthCodeURL("https://accounts.zoho.com", "xyz"))
	// Output:
	// https://accounts.zoho.com/oauth/v2/auth?access_type=offline&client_id=1000.CLIENT&prompt=consent&redirect_uri=https%3A%2F%2Fdeskconn.example%2Fcallback&response_type=code&scope=Desk.tickets.ALL%2CDesk.basic.READ&state=xyz
}
