package emulator

import "time"

// account is a Desk account (a company contacts belong to).
type account struct {
	ID, Name, Email, Website, Phone, Fax, Industry, Description, Code string
	Street, City, State, Country, Zip, AnnualRevenue, OwnerID         string
	CF                                                                map[string]any
	Created, Modified                                                 time.Time
	Trashed                                                           bool
}

// knowledgeBase is an org's help centre: root categories (sections) with
// nested categories, and the articles filed in them.
type knowledgeBase struct {
	roots      []*kbCategory
	categories map[string]*kbCategory
	articles   []*article // creation order
	byID       map[string]*article
}

type kbCategory struct {
	ID, Name, Description, ParentID, RootID string
	Visibility                              string // ALL_USERS | AGENTS
	Level, Order                            int
	children                                []*kbCategory
}

// article is a knowledge-base article (its latest version only).
type article struct {
	ID, Title, Summary, Answer, Permalink string
	Status                                string // Published | Draft | Review | Expired | Unpublished
	Permission                            string // ALL | REGISTEREDUSERS | AGENTS
	CategoryID, AuthorID, DepartmentID    string
	Tags                                  []string
	Number                                int
	Created, Modified                     time.Time
	Trashed                               bool

	text string // Answer as lower-case plain text, for search
}

func (o *org) addAccount(a *account) {
	o.accounts[a.ID] = a
	o.accountOrder = append(o.accountOrder, a)
}

// liveAccount returns the account with id unless it is unknown or trashed.
func (o *org) liveAccount(id string) *account {
	if a := o.accounts[id]; a != nil && !a.Trashed {
		return a
	}
	return nil
}

// liveContact returns the contact with id unless it is unknown or trashed.
func (o *org) liveContact(id string) *contact {
	if c := o.contacts[id]; c != nil && !c.Trashed {
		return c
	}
	return nil
}
