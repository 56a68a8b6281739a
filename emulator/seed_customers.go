package emulator

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Seed identifiers of accounts and the knowledge base (see SEED.md).
const (
	DemoAccountID        = "1892000000060001" // Zylker Customer Inc, account of DemoContactID
	DemoRootCategoryID   = "1892000000070001" // "Zylker Help Center" (public)
	AgentsRootCategoryID = "1892000000070010" // "Internal Playbooks" (agents only)
	DemoArticleID        = "1892000000071003" // "Printer F3 error E-42: ..."
	// DuplicateEmail is shared by two seeded contacts: Zoho accepts
	// several contacts with one e-mail [C NREC].
	DuplicateEmail = "frontdesk@globex.example"
)

// seedCustomers adds the demo org's accounts, links contacts (and their
// tickets) to them, adds two contacts sharing DuplicateEmail and seeds the
// help centre. It runs after the tickets exist, so it does not change
// which contact a seeded ticket has.
func seedCustomers(o *org, now time.Time) {
	created := now.Add(-380 * 24 * time.Hour)
	accts := []struct{ id, name, email, website, phone, industry, city, country string }{
		{DemoAccountID, "Zylker Customer Inc", "accounts@zylker-customer.com", "https://zylker-customer.com", "+1 555 0199", "Retail", "Austin", "USA"},
		{"1892000000060002", "Example Retail Ltd", "it@example.com", "https://example.com", "+44 20 7946 0000", "Retail", "London", "UK"},
		{"1892000000060003", "Northwind Traders", "ops@northwind.example", "https://northwind.example", "+1 555 0142", "Wholesale", "Seattle", "USA"},
		{"1892000000060004", "Globex Corporation", "frontdesk@globex.example", "https://globex.example", "+1 555 0150", "Manufacturing", "Springfield", "USA"},
		{"1892000000060005", "Initech", "", "https://initech.example", "", "Software", "Austin", "USA"},
	}
	for i, a := range accts {
		at := created.Add(time.Duration(i) * 24 * time.Hour)
		o.addAccount(&account{ID: a.id, Name: a.name, Email: a.email, Website: a.website, Phone: a.phone, Industry: a.industry,
			City: a.city, Country: a.country, OwnerID: AdminAgentID, Created: at, Modified: at})
	}
	o.contacts[DemoContactID].AccountID = DemoAccountID
	for i := range 30 {
		ct := o.contacts[fmt.Sprintf("%d", 1892000000043000+i)]
		switch i % 3 {
		case 0:
			ct.AccountID = "1892000000060002"
		case 1:
			ct.AccountID = "1892000000060003"
		}
	}
	for i, first := range []string{"Dana", "Eli"} {
		at := now.Add(-time.Duration(30-i) * 24 * time.Hour)
		o.addContact(&contact{ID: fmt.Sprintf("%d", 1892000000043100+i), FirstName: first, LastName: "Globex", Email: DuplicateEmail,
			Phone: fmt.Sprintf("+1 555 015%d", i+1), Type: "Customer", OwnerID: AdminAgentID, AccountID: "1892000000060004", Created: at, Modified: at})
	}
	for _, t := range o.ticketOrder {
		if ct := o.contacts[t.ContactID]; ct != nil {
			t.AccountID = ct.AccountID
		}
	}
	seedKB(o, now)
}

// seedKB builds the help centre: two root categories, nested categories
// and 13 articles about Zylker's printer and cloud service in every status
// and permission the searches must tell apart.
func seedKB(o *org, now time.Time) {
	kb := &o.kb
	kb.categories, kb.byID = map[string]*kbCategory{}, map[string]*article{}
	cat := func(id, name, desc, parent, vis string, order int) {
		k := &kbCategory{ID: id, Name: name, Description: desc, ParentID: parent, Visibility: vis, Order: order, RootID: id}
		if p := kb.categories[parent]; p != nil {
			k.RootID, k.Level = p.RootID, p.Level+1
			p.children = append(p.children, k)
		} else {
			kb.roots = append(kb.roots, k)
		}
		kb.categories[id] = k
	}
	cat(DemoRootCategoryID, "Zylker Help Center", "Answers for Zylker customers", "", "ALL_USERS", 1)
	cat("1892000000070002", "Getting Started", "Unboxing and first steps", DemoRootCategoryID, "ALL_USERS", 1)
	cat("1892000000070003", "Printers", "Zylker Printer F3 and Scanner S1", DemoRootCategoryID, "ALL_USERS", 2)
	cat("1892000000070004", "Troubleshooting", "Error codes and print quality", "1892000000070003", "ALL_USERS", 1)
	cat("1892000000070005", "Billing & Subscriptions", "Plans, invoices and refunds", DemoRootCategoryID, "ALL_USERS", 3)
	cat("1892000000070006", "Account & Security", "Signing in and protecting your account", DemoRootCategoryID, "ALL_USERS", 4)
	cat(AgentsRootCategoryID, "Internal Playbooks", "For support agents only", "", "AGENTS", 2)
	cat("1892000000070011", "Escalations", "When and how to escalate", AgentsRootCategoryID, "AGENTS", 1)

	arts := []struct{ title, summary, answer, status, perm, cat string }{
		{"Set up your Zylker Printer F3", "Unbox the printer, load paper and install the driver.",
			`<p>Thank you for choosing the <b>Zylker Printer F3</b>.</p><ol><li>Remove the orange shipping tape.</li><li>Load up to 250 sheets of A4 or Letter paper.</li><li>Install the driver from <a href="https://zylker.example/drivers">zylker.example/drivers</a>.</li></ol><p>The power light turns solid green when the printer is ready.</p>`,
			"Published", "ALL", "1892000000070002"},
		{"Connect the Printer F3 to Wi-Fi", "Join the printer to a 2.4 GHz or 5 GHz network.",
			`<p>Press and hold the <b>Wi-Fi</b> button for three seconds until the light blinks blue.</p><p>Open the Zylker app, choose <i>Add printer</i> and pick your network. Networks that need a web sign-in page are not supported.</p>`,
			"Published", "ALL", "1892000000070003"},
		{"Printer F3 error E-42: paper jam sensor", "E-42 means the paper path sensor reports a jam.",
			`<p>Error <b>E-42</b> appears when the paper path sensor detects a jam, even a small torn piece of paper.</p><ol><li>Turn the printer off and unplug it.</li><li>Open the rear door and gently pull out any paper.</li><li>Clean the sensor window with a dry cloth.</li><li>Plug the printer in and turn it on.</li></ol><p>If E-42 comes back after these steps, contact support with your serial number.</p>`,
			"Published", "ALL", "1892000000070004"},
		{"Printer F3 prints blank pages", "Usually a protective strip left on a new cartridge.",
			`<p>Blank pages usually mean the protective strip is still on a new cartridge. Remove the cartridge, pull off the strip and reinsert it.</p><p>Then run <b>Settings &gt; Maintenance &gt; Clean print head</b> twice.</p>`,
			"Published", "ALL", "1892000000070004"},
		{"Reset your Zylker Cloud password", "Use the Forgot password link on the sign-in page.",
			`<p>On the sign-in page choose <b>Forgot password</b> and enter your e-mail address. The reset link is valid for 30 minutes.</p><p>If you cannot access that mailbox any more, ask your account administrator to reset the password for you.</p>`,
			"Published", "ALL", "1892000000070006"},
		{"Turn on two-factor authentication", "Protect your Zylker Cloud account with a second step.",
			`<p>Go to <b>Profile &gt; Security</b> and choose <i>Enable two-factor authentication</i>. Scan the QR code with an authenticator app and enter the six-digit code.</p><p>Store the backup codes somewhere safe.</p>`,
			"Published", "REGISTEREDUSERS", "1892000000070006"},
		{"Two-factor codes are not arriving", "Check the phone's clock and use a backup code.",
			`<p>Authenticator codes depend on the time: turn on automatic date and time on your phone.</p><p>Text message codes can take a few minutes. You can always sign in with one of your backup codes.</p>`,
			"Published", "ALL", "1892000000070006"},
		{"Request a refund", "Refunds are possible within 30 days of purchase.",
			`<p>You can request a refund within <b>30 days</b> of purchase. Reply to your order confirmation or open a ticket with your order number.</p><p>Refunds go back to the original payment method within 5-10 business days.</p>`,
			"Published", "ALL", "1892000000070005"},
		{"Change or cancel your subscription", "Upgrade, downgrade or cancel Zylker Cloud at any time.",
			`<p>Open <b>Billing &gt; Plan</b> to change your plan. Upgrades apply at once; downgrades and cancellations take effect at the end of the billing period.</p>`,
			"Published", "ALL", "1892000000070005"},
		{"Download invoices and receipts", "Every invoice is in Billing > History.",
			`<p>Invoices and receipts for the last seven years are under <b>Billing &gt; History</b>. Choose an invoice and select <i>Download PDF</i>.</p>`,
			"Published", "REGISTEREDUSERS", "1892000000070005"},
		{"Scanner S1 driver for macOS (beta)", "Beta driver for the Scanner S1 on macOS 15.",
			`<p>The beta driver for the <b>Scanner S1</b> supports macOS 15. Known issue: duplex scanning is slow.</p>`,
			"Draft", "ALL", "1892000000070003"},
		{"Refund approval limits for agents", "Agents approve refunds up to 200 USD; above that, escalate.",
			`<p>Agents may approve refunds up to <b>200 USD</b> without approval. For larger amounts, escalate to the Billing team with the order number and the customer's reason.</p>`,
			"Published", "AGENTS", "1892000000070011"},
		{"Handling repeated E-42 errors", "Replace the sensor under warranty after two failed cleanings.",
			`<p>If a customer reports E-42 again after cleaning the sensor twice, offer a warranty replacement of the sensor unit. Do not ask for a third cleaning.</p>`,
			"Draft", "AGENTS", "1892000000070011"},
	}
	base := now.Add(-300 * 24 * time.Hour)
	for i, a := range arts {
		id := fmt.Sprintf("%d", 1892000000071001+i)
		at := base.Add(time.Duration(i) * 9 * 24 * time.Hour)
		ar := &article{ID: id, Title: a.title, Summary: a.summary, Answer: a.answer, Status: a.status, Permission: a.perm,
			CategoryID: a.cat, AuthorID: AdminAgentID, DepartmentID: DemoDepartmentID, Number: i + 1,
			Permalink: permalink(a.title), Created: at, Modified: at.Add(time.Duration(i%4) * 24 * time.Hour)}
		ar.text = strings.ToLower(visibleText(a.answer))
		kb.articles = append(kb.articles, ar)
		kb.byID[id] = ar
	}
}

// permalink turns a title into Zoho's lower-case, dash-separated form.
func permalink(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// visibleText is the text of an HTML fragment (for article search).
func visibleText(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
			b.WriteByte(' ')
		}
	}
}
