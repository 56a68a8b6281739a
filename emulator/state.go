package emulator

import (
	"strconv"
	"time"
)

// state is everything the emulator knows; guarded by Emulator.mu.
type state struct {
	users   map[string]*user // by lower-case email
	orgs    map[string]*org
	orgList []*org

	codes    map[string]*authCode
	refresh  map[string]*refreshToken
	access   map[string]*accessToken
	consents map[string]bool // user|client that consented before (refresh token on first consent)
}

type user struct {
	Email string
	ZUID  string
	Orgs  []string // org ids, in order
}

type statusDef struct {
	Name string
	Type string // Open | On Hold | Closed
}

type org struct {
	ID, Name, Portal, Edition, Location, TimeZone string
	AgentLicenses, LightAgentLicenses             int

	nextID int64

	departments []*department
	teams       []*team
	products    []*product
	roles       []*role
	profiles    []*profile
	statuses    []statusDef
	channels    []string
	classes     []string

	contacts     map[string]*contact
	contactOrder []*contact
	accounts     map[string]*account // see state_customers.go
	accountOrder []*account
	kb           knowledgeBase

	agents     map[string]*agent
	agentOrder []*agent

	tickets     map[string]*ticket
	ticketOrder []*ticket // creation order == id order == ticketNumber order
	liveTickets int
	nextNumber  int64

	attachments map[string][]*attachment // by ticket id, creation order
	attByID     map[string]*attachment
	uploads     map[string]*attachment

	creditDay  string
	creditUsed int
	// windowCalls are the times of the Desk calls admitted within the
	// last Options.Window, oldest first (only with Options.WindowRequests).
	windowCalls []time.Time

	work *orgWork // threads, comments, tags, time, history (conversations.go)
}

func (o *org) newID() string {
	o.nextID++
	return strconv.FormatInt(o.nextID, 10)
}

type department struct {
	ID, Name, Description string
	IsDefault, IsEnabled  bool
	Created               time.Time
	CreatorID             string
}

type team struct {
	ID, Name, Description, DepartmentID string
	AgentIDs, RoleIDs                   []string
}

type product struct {
	ID, Name, Code, UnitPrice, Category, Description, OwnerID string
	DepartmentIDs                                             []string
	Created, Modified                                         time.Time
}

type role struct {
	ID, Name, Description, ReportsTo string
	IsDefault, IsVisible, ShareData  bool
}

type profile struct {
	ID, Name, Description, Type string
	IsDefault, IsVisible        bool
}

type contact struct {
	ID, FirstName, LastName, Email, SecondaryEmail, Phone, Mobile, Type, OwnerID, AccountID, Title, Description string
	Created, Modified                                                                                           time.Time
	CF                                                                                                          map[string]any
	Trashed                                                                                                     bool
}

func (c *contact) fullName() string {
	if c.FirstName == "" {
		return c.LastName
	}
	return c.FirstName + " " + c.LastName
}

type agent struct {
	ID, ZUID, FirstName, LastName, Email, Phone, Mobile, Extn string
	RoleID, ProfileID, RolePermissionType                     string
	DepartmentIDs, ChatDepartmentIDs, ChannelExpert           []string
	CountryCode, LangCode, TimeZone, AboutInfo, Status        string
	IsConfirmed, IsLight                                      bool
}

func (a *agent) name() string {
	if a.FirstName == "" {
		return a.LastName
	}
	return a.FirstName + " " + a.LastName
}

type ticket struct {
	ID                                                     string
	Number                                                 int64
	Subject, Description, Status, Priority, Channel        string
	Classification, Category, SubCategory, Language        string
	DepartmentID, ContactID, ProductID, AssigneeID, TeamID string
	AccountID, Email, Phone, Resolution                    string
	DueDate, ResponseDueDate                               time.Time
	Created, Modified, Closed, Onhold, CustomerResponse    time.Time
	CreatedBy, ModifiedBy                                  string
	CF                                                     map[string]any
	SecondaryContacts, EntitySkills                        []string
	ThreadCount, CommentCount                              int
	Trashed                                                bool

	numStr string // Number in decimal, set by org.addTicket

	// lastOut: the latest thread is outgoing (an agent's reply), for
	// lastThread.direction; set by sendReply, cleared by a customer reply.
	lastOut bool
}

// lastDirection is lastThread.direction: "out" after an agent's reply.
func (t *ticket) lastDirection() string {
	if t.lastOut {
		return "out"
	}
	return "in"
}

// number is the ticket number as Zoho prints it (a decimal string). It is
// kept with the ticket so that searching 100k tickets formats nothing.
func (t *ticket) number() string {
	if t.numStr == "" {
		return strconv.FormatInt(t.Number, 10)
	}
	return t.numStr
}

type attachment struct {
	ID, TicketID, Name, ContentType, CreatorID string
	IsPublic                                   bool
	Created                                    time.Time
	Data                                       []byte
}

type authCode struct {
	Code, ClientID, RedirectURI, User, OrgID, Location string
	Scopes                                             []string
	Offline, ForceConsent                              bool
	Expires                                            time.Time
	Used                                               bool
}

type refreshToken struct {
	Token, ClientID, User, OrgID, Location string
	Scopes                                 []string
	Created                                time.Time
	requests                               []time.Time // token requests in the last 10 min
	access                                 []string    // live access tokens, oldest first
}

type accessToken struct {
	Token, ClientID, User, OrgID, Location, Refresh string
	Scopes                                          []string
	Expires                                         time.Time
}

func (o *org) department(id string) *department {
	for _, d := range o.departments {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func (o *org) team(id string) *team {
	for _, t := range o.teams {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (o *org) product(id string) *product {
	for _, p := range o.products {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (o *org) role(id string) *role {
	for _, r := range o.roles {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (o *org) profile(id string) *profile {
	for _, p := range o.profiles {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (o *org) agentByEmail(email string) *agent {
	for _, a := range o.agentOrder {
		if equalFold(a.Email, email) {
			return a
		}
	}
	return nil
}

func (o *org) contactByEmail(email string) *contact {
	for _, c := range o.contactOrder {
		if c.Email != "" && !c.Trashed && equalFold(c.Email, email) {
			return c
		}
	}
	return nil
}

func (o *org) addTicket(t *ticket) {
	t.numStr = strconv.FormatInt(t.Number, 10)
	o.tickets[t.ID] = t
	o.ticketOrder = append(o.ticketOrder, t)
	o.liveTickets++
}

func (o *org) addContact(c *contact) {
	o.contacts[c.ID] = c
	o.contactOrder = append(o.contactOrder, c)
}

func (o *org) addAgent(a *agent) {
	o.agents[a.ID] = a
	o.agentOrder = append(o.agentOrder, a)
}

func (o *org) statusType(name string) (string, bool) {
	for _, s := range o.statuses {
		if s.Name == name {
			return s.Type, true
		}
	}
	return "", false
}
