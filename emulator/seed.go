package emulator

import (
	"fmt"
	"strings"
	"time"
)

// Seed identifiers (see SEED.md). They match the sample JSON inputs of the
// connector spec.
const (
	DemoOrgID         = "2389290"
	DemoOrgPortal     = "zylker"
	SecondOrgID       = "7654321"
	DemoUser          = "admin@zylker.com" // member of both orgs
	SingleOrgUser     = "jane@zylker.com"  // member of the demo org only
	DemoDepartmentID  = "1892000000006907"
	SalesDepartmentID = "1892000000006908"
	DemoContactID     = "1892000000042032"
	DemoAgentID       = "1892000000006907" // Jade Tywin; not the OAuth user
	AdminAgentID      = "1892000000005001" // admin@zylker.com in the demo org
	SeedTicketCount   = 300                // tickets of the demo org
)

var defaultStatuses = []statusDef{
	{"Open", "Open"}, {"On Hold", "On Hold"}, {"Escalated", "Open"}, {"Closed", "Closed"},
	{"In Progress", "Open"}, {"Waiting on Customer", "On Hold"},
}

var defaultChannels = []string{"Email", "Phone", "Web", "Chat", "Twitter", "Facebook", "Forums"}
var defaultClasses = []string{"Problem", "Request", "Question", "Others"}

func newState(opts *Options) *state {
	s := &state{
		users: map[string]*user{}, orgs: map[string]*org{},
		codes: map[string]*authCode{}, refresh: map[string]*refreshToken{}, access: map[string]*accessToken{},
		consents: map[string]bool{},
	}
	now := opts.Now().UTC().Truncate(time.Millisecond)
	loc := "us"
	if len(opts.DataCenters) > 0 {
		loc = opts.DataCenters[0].Location
	}
	z := seedZylker(now, !opts.NoSeed)
	a := seedAcme(now, !opts.NoSeed)
	for _, o := range []*org{z, a} {
		o.Location = loc
		if l, ok := opts.OrgLocations[o.ID]; ok {
			o.Location = l
		}
		if opts.AgentLicenses > 0 {
			o.AgentLicenses = opts.AgentLicenses
		}
		if opts.Edition != "" {
			o.Edition = opts.Edition
		}
		s.orgs[o.ID] = o
		s.orgList = append(s.orgList, o)
	}
	for i := 0; i < opts.ExtraTickets; i++ {
		addSyntheticTicket(z, now, i+SeedTicketCount, z.newID())
	}
	s.users[DemoUser] = &user{Email: DemoUser, ZUID: "60000001", Orgs: []string{DemoOrgID, SecondOrgID}}
	s.users[SingleOrgUser] = &user{Email: SingleOrgUser, ZUID: "60000002", Orgs: []string{DemoOrgID}}
	s.users["jade.tywin@zylker.com"] = &user{Email: "jade.tywin@zylker.com", ZUID: "60000011", Orgs: []string{DemoOrgID}}
	return s
}

func newOrg(id, name, portal, edition string, nextID int64) *org {
	return &org{
		ID: id, Name: name, Portal: portal, Edition: edition, TimeZone: "America/Los_Angeles",
		nextID: nextID, statuses: defaultStatuses, channels: defaultChannels, classes: defaultClasses,
		contacts: map[string]*contact{}, accounts: map[string]*account{}, agents: map[string]*agent{}, tickets: map[string]*ticket{},
		attachments: map[string][]*attachment{}, attByID: map[string]*attachment{}, uploads: map[string]*attachment{},
	}
}

func seedZylker(now time.Time, full bool) *org {
	o := newOrg(DemoOrgID, "Zylker", DemoOrgPortal, "ENTERPRISE", 1892000000500000)
	o.AgentLicenses, o.LightAgentLicenses = 25, 10
	o.nextNumber = 100
	created := now.Add(-400 * 24 * time.Hour)
	o.departments = []*department{
		{ID: DemoDepartmentID, Name: "Support", Description: "Customer support", IsDefault: true, IsEnabled: true, Created: created, CreatorID: AdminAgentID},
		{ID: SalesDepartmentID, Name: "Sales", Description: "Pre-sales questions", IsEnabled: true, Created: created, CreatorID: AdminAgentID},
		{ID: "1892000000006909", Name: "Billing", Description: "Invoices and refunds", IsEnabled: true, Created: created, CreatorID: AdminAgentID},
		{ID: "1892000000006910", Name: "Legacy", Description: "Retired department", IsEnabled: false, Created: created, CreatorID: AdminAgentID},
	}
	o.roles = []*role{
		{ID: "1892000000003001", Name: "CEO", Description: "Top of the hierarchy", IsDefault: true, IsVisible: true, ShareData: true},
		{ID: "1892000000003002", Name: "Manager", Description: "Team managers", ReportsTo: "1892000000003001", IsDefault: true, IsVisible: true, ShareData: true},
		{ID: "1892000000003003", Name: "Personal", Description: "Sees own and unassigned tickets", ReportsTo: "1892000000003002", IsDefault: true, IsVisible: false},
		{ID: "1892000000003004", Name: "PortalUser", Description: "Help-centre users", IsDefault: true, IsVisible: false},
		{ID: "1892000000003005", Name: "Support Lead", Description: "Leads tier 1", ReportsTo: "1892000000003002", IsVisible: true, ShareData: true},
	}
	o.profiles = []*profile{
		{ID: "1892000000004001", Name: "Support Administrator", Type: "Administrator", IsDefault: true, IsVisible: true, Description: "Full access"},
		{ID: "1892000000004002", Name: "Agent", Type: "Standard", IsDefault: true, IsVisible: true, Description: "Works tickets"},
		{ID: "1892000000004003", Name: "Light Agent", Type: "Light", IsDefault: true, IsVisible: true, Description: "Read and comment"},
		{ID: "1892000000004004", Name: "Newbie Agent", Type: "Standard", IsDefault: true, IsVisible: true},
		{ID: "1892000000004005", Name: "Supervisor", Type: "Standard", IsDefault: true, IsVisible: true},
		{ID: "1892000000004006", Name: "Support Manager", Type: "Standard", IsDefault: true, IsVisible: true},
		{ID: "1892000000004007", Name: "Portal User", Type: "Portal", IsDefault: true, IsVisible: false},
	}
	ag := func(id, zuid, first, last, email, perm, roleID, profileID, status string, confirmed, light bool, depts ...string) {
		o.addAgent(&agent{ID: id, ZUID: zuid, FirstName: first, LastName: last, Email: email, RolePermissionType: perm,
			RoleID: roleID, ProfileID: profileID, Status: status, IsConfirmed: confirmed, IsLight: light, DepartmentIDs: depts,
			ChannelExpert: []string{"Email", "Phone", "Web"}, CountryCode: "en_US", LangCode: "en_US", TimeZone: "America/Los_Angeles"})
	}
	all := []string{DemoDepartmentID, SalesDepartmentID, "1892000000006909"}
	ag(AdminAgentID, "60000001", "Zylker", "Admin", DemoUser, "Admin", "1892000000003001", "1892000000004001", "ACTIVE", true, false, all...)
	ag("1892000000005002", "60000002", "Jane", "Doe", SingleOrgUser, "AgentPublic", "1892000000003002", "1892000000004002", "ACTIVE", true, false, DemoDepartmentID)
	ag(DemoAgentID, "60000011", "Jade", "Tywin", "jade.tywin@zylker.com", "AgentPublic", "1892000000003002", "1892000000004002", "ACTIVE", true, false, DemoDepartmentID, SalesDepartmentID)
	ag("1892000000006911", "60000012", "Lucas", "Carol", "lucas.carol@zylker.com", "AgentPersonal", "1892000000003003", "1892000000004002", "ACTIVE", true, false, DemoDepartmentID)
	ag("1892000000006912", "60000013", "Maya", "Stone", "maya.stone@zylker.com", "AgentTeamPersonal", "1892000000003005", "1892000000004002", "ACTIVE", true, false, SalesDepartmentID, "1892000000006909")
	ag("1892000000006913", "60000014", "Omar", "Haddad", "omar.haddad@zylker.com", "Light", "1892000000003003", "1892000000004003", "ACTIVE", true, true, DemoDepartmentID)
	ag("1892000000006914", "60000015", "Priya", "Nair", "priya.nair@zylker.com", "AgentPublic", "1892000000003002", "1892000000004002", "DISABLED", true, false, DemoDepartmentID)
	ag("1892000000006915", "", "Sam", "Newman", "sam.newman@zylker.com", "AgentPublic", "1892000000003002", "1892000000004002", "ACTIVE", false, false, "1892000000006909")
	o.teams = []*team{
		{ID: "1892000000007001", Name: "Tier 1", Description: "First line", DepartmentID: DemoDepartmentID, AgentIDs: []string{DemoAgentID, "1892000000006911"}, RoleIDs: []string{"1892000000003005"}},
		{ID: "1892000000007002", Name: "Escalations", Description: "Hard cases", DepartmentID: DemoDepartmentID, AgentIDs: []string{AdminAgentID}},
		{ID: "1892000000007003", Name: "Inside Sales", Description: "Quotes", DepartmentID: SalesDepartmentID, AgentIDs: []string{"1892000000006912"}},
	}
	o.products = []*product{
		{ID: "1892000000008001", Name: "Zylker Printer F3", Code: "F3", UnitPrice: "499.0", Category: "Hardware", DepartmentIDs: []string{DemoDepartmentID}, OwnerID: AdminAgentID, Created: created, Modified: created},
		{ID: "1892000000008002", Name: "Zylker Cloud", Code: "ZC", UnitPrice: "29.0", Category: "Software", DepartmentIDs: []string{DemoDepartmentID, SalesDepartmentID}, OwnerID: AdminAgentID, Created: created, Modified: created},
		{ID: "1892000000008003", Name: "Zylker Scanner S1", Code: "S1", UnitPrice: "199.0", Category: "Hardware", DepartmentIDs: []string{SalesDepartmentID}, OwnerID: AdminAgentID, Created: created, Modified: created},
	}
	if !full {
		return o
	}
	o.addContact(&contact{ID: DemoContactID, FirstName: "Lucas", LastName: "Carol", Email: "carol@zylker-customer.com", Phone: "+1 555 0100", Type: "Customer", OwnerID: AdminAgentID,
		AccountID: DemoAccountID, Created: created, Modified: created})
	first := []string{"Ava", "Ben", "Chloe", "Dev", "Ella", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena", "Milo", "Nora", "Otto", "Pia", "Quinn", "Rita", "Saul", "Tess"}
	last := []string{"Smith", "Garcia", "Chen", "Patel", "Okafor", "Novak", "Rossi", "Kim", "Silva", "Berg"}
	for i := range 30 {
		f, l := first[i%len(first)], last[(i*7)%len(last)]
		o.addContact(&contact{ID: fmt.Sprintf("%d", 1892000000043000+i), FirstName: f, LastName: l,
			Email: strings.ToLower(fmt.Sprintf("%s.%s%d@example.com", f, l, i)), Phone: fmt.Sprintf("+1 555 %04d", 200+i), Type: "Customer", OwnerID: AdminAgentID,
			Created: created.Add(time.Duration(i) * time.Hour), Modified: created.Add(time.Duration(i) * time.Hour)})
	}
	for i := range SeedTicketCount {
		addSyntheticTicket(o, now, i, fmt.Sprintf("%d", 1892000000042032+i))
	}
	special := map[int]string{
		0: "Unable to access account", 1: "Printer F3 shows error E-42", 2: "Refund request for order 1182",
		10: "Cannot log in to the portal", 11: "Cannot log in to the portal",
	}
	for i, subj := range special {
		o.ticketOrder[i].Subject = subj
	}
	t0 := o.ticketOrder[0]
	t0.ContactID, t0.DepartmentID, t0.AssigneeID, t0.Status, t0.TeamID = DemoContactID, DemoDepartmentID, DemoAgentID, "Open", "1892000000007001"
	t0.AccountID = DemoAccountID
	t0.Channel, t0.ThreadCount, t0.CommentCount = "Email", 4, 2 // seedDemoConversation
	t0.Email = "carol@zylker-customer.com"
	seedCustomers(o, now)
	return o
}

var subjects = []string{
	"Invoice amount looks wrong", "Cannot reset my password", "Shipping delay for my order", "Feature request: dark mode",
	"App crashes on startup", "Need a copy of my receipt", "Upgrade plan question", "Data export is empty",
	"Two-factor code not arriving", "Scanner driver for macOS", "Cancel my subscription", "Bulk import fails at row 12",
}

// addSyntheticTicket adds a deterministic ticket number i (0-based) to o.
func addSyntheticTicket(o *org, now time.Time, i int, id string) {
	dept := DemoDepartmentID
	switch i % 5 {
	case 3:
		dept = SalesDepartmentID
	case 4:
		dept = "1892000000006909"
	}
	var assignee string
	if i%4 != 1 { // a quarter is unassigned
		var cands []string
		for _, a := range o.agentOrder {
			if a.Status == "ACTIVE" && a.IsConfirmed && !a.IsLight && contains(a.DepartmentIDs, dept) {
				cands = append(cands, a.ID)
			}
		}
		if len(cands) > 0 {
			assignee = cands[i%len(cands)]
		}
	}
	var contactID string
	if n := len(o.contactOrder); n > 0 {
		contactID = o.contactOrder[(i*13)%n].ID
	}
	st := o.statuses[(i*5)%len(o.statuses)]
	created := now.Add(-time.Duration(SeedTicketCount-i%SeedTicketCount) * 7 * time.Hour).Add(-time.Duration(i/SeedTicketCount) * time.Minute)
	t := &ticket{
		ID: id, Number: o.nextNumber + 1, Subject: fmt.Sprintf("%s (#%d)", subjects[i%len(subjects)], i),
		Description: fmt.Sprintf("<div>Synthetic ticket %d</div>", i), Status: st.Name,
		Priority: []string{"High", "Medium", "Low", ""}[i%4], Channel: o.channels[i%len(o.channels)],
		Classification: o.classes[i%len(o.classes)], Language: "English",
		DepartmentID: dept, ContactID: contactID, AssigneeID: assignee,
		Created: created, Modified: created.Add(30 * time.Minute), CustomerResponse: created.Add(10 * time.Minute),
		CreatedBy: AdminAgentID, ModifiedBy: AdminAgentID, ThreadCount: 1 + i%3, CommentCount: i % 2,
		CF: map[string]any{"cf_modelname": nil},
	}
	if i%3 == 0 {
		t.DueDate = created.Add(72 * time.Hour)
	}
	if st.Type == "Closed" {
		t.Closed = created.Add(48 * time.Hour)
	}
	if st.Type == "On Hold" {
		t.Onhold = created.Add(24 * time.Hour)
	}
	if i%7 == 0 && len(o.products) > 0 {
		t.ProductID = o.products[i%len(o.products)].ID
	}
	if c := o.contacts[contactID]; c != nil {
		t.Email, t.Phone, t.AccountID = c.Email, c.Phone, c.AccountID
	}
	o.nextNumber++
	o.addTicket(t)
}

func seedAcme(now time.Time, full bool) *org {
	o := newOrg(SecondOrgID, "Acme Corp", "acme", "PROFESSIONAL", 4000000000500000)
	o.AgentLicenses, o.LightAgentLicenses = 5, 2
	o.nextNumber = 1000
	created := now.Add(-200 * 24 * time.Hour)
	o.departments = []*department{{ID: "4000000000001001", Name: "Helpdesk", IsDefault: true, IsEnabled: true, Created: created, CreatorID: "4000000000002001"}}
	o.roles = []*role{{ID: "4000000000003001", Name: "CEO", IsDefault: true, IsVisible: true, ShareData: true}}
	o.profiles = []*profile{
		{ID: "4000000000004001", Name: "Support Administrator", Type: "Administrator", IsDefault: true, IsVisible: true},
		{ID: "4000000000004002", Name: "Agent", Type: "Standard", IsDefault: true, IsVisible: true},
	}
	o.addAgent(&agent{ID: "4000000000002001", ZUID: "60000001", FirstName: "Zylker", LastName: "Admin", Email: DemoUser, RolePermissionType: "Admin",
		RoleID: "4000000000003001", ProfileID: "4000000000004001", Status: "ACTIVE", IsConfirmed: true, DepartmentIDs: []string{"4000000000001001"}, TimeZone: "Europe/Berlin"})
	o.addAgent(&agent{ID: "4000000000002002", ZUID: "60000021", FirstName: "Carl", LastName: "Weber", Email: "carl@acme.example", RolePermissionType: "AgentPublic",
		RoleID: "4000000000003001", ProfileID: "4000000000004002", Status: "ACTIVE", IsConfirmed: true, DepartmentIDs: []string{"4000000000001001"}, TimeZone: "Europe/Berlin"})
	o.teams = []*team{{ID: "4000000000007001", Name: "Helpers", DepartmentID: "4000000000001001", AgentIDs: []string{"4000000000002002"}}}
	o.products = []*product{{ID: "4000000000008001", Name: "Anvil", Code: "AN", UnitPrice: "10.0", DepartmentIDs: []string{"4000000000001001"}, Created: created, Modified: created}}
	if !full {
		return o
	}
	for i := range 5 {
		o.addContact(&contact{ID: fmt.Sprintf("%d", 4000000000042000+i), FirstName: "Road", LastName: fmt.Sprintf("Runner%d", i),
			Email: fmt.Sprintf("runner%d@acme.example", i), Type: "Customer", Created: created, Modified: created})
	}
	for i := range 20 {
		st := o.statuses[i%4]
		c := o.contactOrder[i%5]
		t := &ticket{ID: fmt.Sprintf("%d", 4000000000043000+i), Number: o.nextNumber + 1, Subject: fmt.Sprintf("Acme issue %d", i),
			Status: st.Name, Channel: "Email", Priority: "Medium", DepartmentID: "4000000000001001", ContactID: c.ID, Email: c.Email,
			Created: created.Add(time.Duration(i) * 24 * time.Hour), Modified: created.Add(time.Duration(i) * 24 * time.Hour), CustomerResponse: created.Add(time.Duration(i) * 24 * time.Hour),
			CreatedBy: "4000000000002001", ModifiedBy: "4000000000002001", ThreadCount: 1}
		if st.Type == "Closed" {
			t.Closed = t.Created.Add(time.Hour)
		}
		if i%2 == 0 {
			t.AssigneeID = "4000000000002002"
		}
		o.nextNumber++
		o.addTicket(t)
	}
	return o
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
