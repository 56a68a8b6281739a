package deskactions

import (
	"slices"
	"strings"
	"testing"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/emulator"
)

// TestInvalidInputs checks, for every action, that missing mandatory
// fields, wrong types, unknown fields, bad enums and out-of-range values
// give one invalid error naming each bad field, and that no Zoho request is
// made.
func TestInvalidInputs(t *testing.T) {
	t.Parallel()
	many := func(n int, item string) string {
		return `[` + strings.TrimSuffix(strings.Repeat(`"`+item+`",`, n), ",") + `]`
	}
	cases := []struct {
		name, action, input string
		want                []string
	}{
		{"create: mandatory missing", "create_ticket", `{"orgId":"2389290","payload":{}}`, []string{"/payload/departmentId", "/payload/subject"}},
		{"create: payload missing", "create_ticket", `{"orgId":"2389290"}`, []string{"/payload"}},
		{"create: no contact", "create_ticket", `{"payload":{"subject":"s","departmentId":"1"}}`, []string{"/payload/contactId"}},
		{"create: both contacts", "create_ticket", `{"payload":{"subject":"s","departmentId":"1","contactId":"2","contact":{"lastName":"x"}}}`, []string{"/payload/contact"}},
		{"create: empty contact", "create_ticket", `{"payload":{"subject":"s","departmentId":"1","contact":{"firstName":"x"}}}`, []string{"/payload/contact/lastName"}},
		{"create: wrong types", "create_ticket", `{"orgId":2389290,"payload":{"subject":5,"departmentId":"1","contactId":"2","priority":["High"],"cf":"x"}}`, []string{"/orgId", "/payload/cf", "/payload/priority", "/payload/subject"}},
		{"create: unknown fields", "create_ticket", `{"org":"1","payload":{"subjekt":"x","subject":"s","departmentId":"1","contactId":"2"}}`, []string{"/org", "/payload/subjekt"}},
		{"create: bad ids and dates", "create_ticket", `{"orgId":"abc","payload":{"subject":"s","departmentId":"dept","contactId":"2","dueDate":"tomorrow","webUrl":"not a url"}}`, []string{"/orgId", "/payload/departmentId", "/payload/dueDate", "/payload/webUrl"}},
		{"create: bad uploads", "create_ticket", `{"payload":{"subject":"s","departmentId":"1","contactId":"2","uploads":[5,{"fileName":"a"},{"fileName":"a","fileData":"eA==","x":1}]}}`, []string{"/payload/uploads/0", "/payload/uploads/1/fileData", "/payload/uploads/2/x"}},
		{"create: too many cc", "create_ticket", `{"payload":{"subject":"s","departmentId":"1","contactId":"2","secondaryContacts":` + many(21, "1") + `,"entitySkills":"1,x"}}`, []string{"/payload/secondaryContacts"}},
		{"create: bad skill id", "create_ticket", `{"payload":{"subject":"s","departmentId":"1","contactId":"2","entitySkills":"1,x"}}`, []string{"/payload/entitySkills/1"}},
		{"list: ranges and enums", "list_tickets", `{"params":{"limit":101,"from":-1,"receivedInDays":7,"include":["contacts","foo"],"sortBy":"subject"},"sortOrder":"up","view":"tiny"}`,
			[]string{"/params/from", "/params/include/1", "/params/limit", "/params/receivedInDays", "/params/sortBy", "/sortOrder", "/view"}},
		{"list: comma include", "list_tickets", `{"params":{"include":"contacts,foo"}}`, []string{"/params/include/1"}},
		{"list: too many fields", "list_tickets", `{"params":{"fields":` + many(31, "f") + `}}`, []string{"/params/fields"}},
		{"list: too many comma fields", "list_tickets", `{"params":{"fields":"` + strings.Repeat("f,", 31) + `"}}`, []string{"/params/fields"}},
		{"list: bad assignee", "list_tickets", `{"params":{"assignee":"Unassigned,bob"}}`, []string{"/params/assignee/1"}},
		{"get: no selector", "get_ticket", `{"orgId":"2389290"}`, []string{"/ticketId"}},
		{"get: two selectors", "get_ticket", `{"ticketId":"1","ticketNumber":"2"}`, []string{"/ticketId"}},
		{"get: bad id and include", "get_ticket", `{"ticketId":"abc","params":{"include":["foo"]}}`, []string{"/params/include/0", "/ticketId"}},
		{"update: empty payload", "update_ticket", `{"ticketId":"1","payload":{}}`, []string{"/payload"}},
		{"update: no payload", "update_ticket", `{"ticketId":"1"}`, []string{"/payload"}},
		{"update: null subject and department", "update_ticket", `{"ticketId":"1","payload":{"subject":null,"departmentId":null}}`, []string{"/payload/departmentId", "/payload/subject"}},
		{"update: wrong types", "update_ticket", `{"ticketId":"1","payload":{"assigneeId":5,"status":true},"params":{"disableClosureNotification":"no"}}`, []string{"/params/disableClosureNotification", "/payload/assigneeId", "/payload/status"}},
		{"trash: nothing", "move_tickets_to_trash", `{"payload":{}}`, []string{"/payload/ticketIds"}},
		{"trash: no payload", "move_tickets_to_trash", `{"orgId":"2389290"}`, []string{"/payload"}},
		{"trash: bad ids", "move_tickets_to_trash", `{"payload":{"ticketIds":["1","abc"],"ticketNumbers":"7,x"}}`, []string{"/payload/ticketIds/1", "/payload/ticketNumbers/1"}},
		{"attach: mandatory missing", "create_ticket_attachment", `{"ticketId":"1"}`, []string{"/fileData", "/fileName"}},
		{"attach: wrong types", "create_ticket_attachment", `{"ticketId":"1","fileName":"a","fileData":"eA==","params":{"isPublic":"yes"}}`, []string{"/params/isPublic"}},
		{"attach: no ticket", "create_ticket_attachment", `{"fileName":"a","fileData":"eA=="}`, []string{"/ticketId"}},
		{"attachments: ranges", "list_ticket_attachments", `{"ticketId":"1","params":{"limit":0,"sortBy":"name","include":["owner"]},"sortOrder":"sideways"}`, []string{"/params/include/0", "/params/limit", "/params/sortBy", "/sortOrder"}},
		{"agent: mandatory missing", "add_agent", `{"payload":{}}`, []string{"/payload/associatedDepartmentIds", "/payload/emailId", "/payload/lastName", "/payload/rolePermissionType"}},
		{"agent: bad enum and lengths", "add_agent", `{"payload":{"emailId":"` + strings.Repeat("a", 95) + `@x.com","lastName":"S","associatedDepartmentIds":[],"rolePermissionType":"AgentTeamPublic"}}`, []string{"/payload/associatedDepartmentIds", "/payload/emailId", "/payload/rolePermissionType"}},
		{"agent: custom without role", "add_agent", `{"payload":{"emailId":"a@b.c","lastName":"S","associatedDepartmentIds":["1"],"rolePermissionType":"Custom"}}`, []string{"/payload/profileId", "/payload/roleId"}},
		{"agents: ranges", "list_agents", `{"params":{"limit":201,"status":"active","departmentIds":` + many(51, "1") + `,"sortOrder":"up","fieldName":"phone"}}`, []string{"/params/departmentIds", "/params/fieldName", "/params/limit", "/params/sortOrder", "/params/status"}},
		{"agents: comma ids", "list_agents", `{"params":{"roleIds":"1,abc","include":"role,team"}}`, []string{"/params/include/1", "/params/roleIds/1"}},
		{"deactivate: nothing", "deactivate_agent", `{"orgId":"2389290"}`, []string{"/agentId"}},
		{"deactivate: both", "deactivate_agent", `{"agentId":"1","agentEmail":"a@b.c"}`, []string{"/agentEmail"}},
		{"find agent: missing", "find_agent_by_email", `{}`, []string{"/email"}},
		{"departments: limit", "list_departments", `{"params":{"limit":201}}`, []string{"/params/limit"}},
		{"teams: limit", "list_teams", `{"params":{"limit":0}}`, []string{"/params/limit"}},
		{"products: sort", "list_products", `{"params":{"sortBy":"price"}}`, []string{"/params/sortBy"}},
		{"roles: limit", "list_roles", `{"params":{"limit":501}}`, []string{"/params/limit"}},
		{"profiles: limit", "list_profiles", `{"params":{"limit":251}}`, []string{"/params/limit"}},
		{"search tickets: short subject", "search_tickets", `{"params":{"subject":"ab","from":1000}}`, []string{"/params/from", "/params/subject"}},
		{"search tickets: no criteria", "search_tickets", `{"params":{}}`, []string{"/params"}},
		{"search contacts: no criteria", "search_contacts", `{"params":{"limit":5}}`, []string{"/params"}},
		{"organizations: unknown", "list_organizations", `{"orgId":"1"}`, []string{"/orgId"}},
	}
	env := newTestEnv(t, Deps{}, emulator.Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.invoke(t, tc.action, tc.input)
			de := domainErr(t, err, deskconn.CodeInvalid)
			got := slices.Compact(pointers(de))
			if !slices.Equal(got, tc.want) {
				t.Errorf("pointers = %v\nwant      %v\n(%v)", got, tc.want, de)
			}
			for _, f := range de.Fields {
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Pointer)
				}
			}
		})
	}
	if calls := env.deskCalls(); len(calls) != 0 {
		t.Fatalf("invalid inputs reached Zoho: %v", calls)
	}
}
