package emulator

import (
	"net/http"
	"strings"
)

func (e *Emulator) orgJSON(c *call, o *org, u *user) map[string]any {
	isAdmin := false
	if a := o.agentByEmail(c.tok.User); a != nil {
		isAdmin = a.RolePermissionType == "Admin"
	}
	dc, _ := e.dcByLocation(o.Location)
	base := e.baseURL(c.r, dc, false)
	return map[string]any{
		"id": o.ID, "companyName": o.Name, "portalName": o.Portal, "portalURL": base + "/support/" + o.Portal,
		"alias": nil, "edition": o.Edition, "isAdminInOrg": isAdmin, "isDefault": u != nil && len(u.Orgs) > 0 && u.Orgs[0] == o.ID,
		"isSandboxPortal": false, "isPayloadEncryptionEnabled": false, "timeZone": o.TimeZone,
		"currencyCode": "USD", "currencyLocale": "US", "currencySymbol": "$", "logoURL": nil, "faviconURL": nil,
		"employeeCount": "50", "employeeCountRange": "50 - 99", "industry": "Software & IT", "description": nil,
		"phoneNumber": nil, "mobile": nil, "fax": nil, "website": nil, "primaryContact": c.tok.User,
		"street": nil, "city": nil, "state": nil, "zip": nil, "country": nil, "designation": nil, "migrationFrom": nil,
		"preferredSolution": []string{}, "preferredCommunicationChannels": []string{},
	}
}

func (e *Emulator) listOrganizations(c *call) {
	u := e.st.users[c.tok.User]
	var items []any
	for _, id := range u.Orgs {
		items = append(items, e.orgJSON(c, e.st.orgs[id], u))
	}
	c.out.json(http.StatusOK, map[string]any{"data": items})
}

func (e *Emulator) accessibleOrganizations(c *call) {
	c.out.json(http.StatusOK, map[string]any{"data": []any{e.orgJSON(c, c.org, e.st.users[c.tok.User])}})
}

func deptJSON(d *department) map[string]any {
	return map[string]any{"id": d.ID, "name": d.Name, "nameInCustomerPortal": d.Name, "description": ns(d.Description),
		"isDefault": d.IsDefault, "isEnabled": d.IsEnabled, "isVisibleInCustomerPortal": d.IsEnabled, "isAssignToTeamEnabled": true,
		"hasLogo": false, "chatStatus": "NOT_CREATED", "creatorId": d.CreatorID, "createdTime": ts(d.Created),
		"sanitizedName": strings.ToLower(strings.ReplaceAll(d.Name, " ", "-"))}
}

func (e *Emulator) listDepartments(c *call) {
	from, limit, ok := c.paging(10, 200, false)
	if !ok {
		return
	}
	enabled, enabledSet, ok := c.boolParam("isEnabled")
	if !ok {
		return
	}
	chat, ok := c.enumParam("chatStatus", "AVAILABLE", "DISABLED", "NOT_CREATED", "${UNAVAILABLE}")
	if !ok {
		return
	}
	search := c.q.Get("searchStr")
	var items []any
	for _, d := range c.org.departments {
		if enabledSet && d.IsEnabled != enabled {
			continue
		}
		if chat != "" && chat != "NOT_CREATED" { // every emulated department has chat NOT_CREATED
			continue
		}
		if search != "" && !wildcard(search, d.Name) && !wildcard(search, d.Description) {
			continue
		}
		items = append(items, deptJSON(d))
	}
	lo, hi := window(len(items), from, limit)
	writePage(c.out, items[lo:hi], nil)
}

func (e *Emulator) listTeams(c *call) {
	from, limit, ok := c.paging(0, 200, true)
	if !ok {
		return
	}
	// [GAP] wrapper key "teams" (OAS teamResponseArray); teams of the
	// caller's departments only.
	me := c.org.agentByEmail(c.tok.User)
	items := []any{}
	for _, t := range c.org.teams {
		if me != nil && !contains(me.DepartmentIDs, t.DepartmentID) {
			continue
		}
		items = append(items, map[string]any{"id": t.ID, "name": t.Name, "description": ns(t.Description), "departmentId": t.DepartmentID,
			"roles": strs(t.RoleIDs), "rolesWithSubordinates": []string{}, "subTeams": []string{}, "agents": strs(t.AgentIDs),
			"derivedAgents": strs(t.AgentIDs), "logoUrl": nil})
	}
	lo, hi := window(len(items), from, limit)
	c.out.json(http.StatusOK, map[string]any{"teams": items[lo:hi]})
}

func (e *Emulator) listProducts(c *call) {
	from, limit, ok := c.paging(10, 100, false)
	if !ok {
		return
	}
	inc, ok := c.includeParam("owner", "departments")
	if !ok {
		return
	}
	sortBy, ok := c.enumParam("sortBy", "productName", "-productName", "productCode", "-productCode", "unitPrice", "-unitPrice", "createdTime", "-createdTime", "modifiedTime", "-modifiedTime")
	if !ok {
		return
	}
	if c.q.Has("fields") {
		unprocessable(c.out, "The 'fields' parameter is not supported by the emulator.")
		return
	}
	dept, owner := c.q.Get("departmentId"), c.q.Get("ownerId")
	var ps []*product
	for _, p := range c.org.products {
		if dept != "" && dept != "0" && !contains(p.DepartmentIDs, dept) {
			continue
		}
		if owner != "" && p.OwnerID != owner {
			continue
		}
		ps = append(ps, p)
	}
	if sortBy != "" {
		key := strings.TrimPrefix(sortBy, "-")
		desc := strings.HasPrefix(sortBy, "-")
		sortStable(ps, func(a, b *product) bool {
			switch key {
			case "productName":
				return a.Name < b.Name
			case "productCode":
				return a.Code < b.Code
			case "unitPrice":
				return a.UnitPrice < b.UnitPrice
			case "modifiedTime":
				return a.Modified.Before(b.Modified)
			}
			return a.Created.Before(b.Created)
		}, desc)
	}
	var items []any
	for _, p := range ps {
		m := map[string]any{"id": p.ID, "productName": p.Name, "productCode": ns(p.Code), "unitPrice": p.UnitPrice, "departmentIds": strs(p.DepartmentIDs)}
		if inc["owner"] {
			var owner any
			if a := c.org.agents[p.OwnerID]; a != nil {
				owner = map[string]any{"id": a.ID, "firstName": a.FirstName, "lastName": a.LastName, "photoURL": nil}
			}
			m["owner"] = owner
		}
		if inc["departments"] {
			ds := []any{}
			for _, id := range p.DepartmentIDs {
				if d := c.org.department(id); d != nil {
					ds = append(ds, map[string]any{"id": d.ID, "name": d.Name})
				}
			}
			m["departments"] = ds
		}
		items = append(items, m)
	}
	lo, hi := window(len(items), from, limit)
	writePage(c.out, items[lo:hi], nil)
}

func roleJSON(o *org, r *role) map[string]any {
	subs := []string{}
	for _, x := range o.roles {
		if x.ReportsTo == r.ID {
			subs = append(subs, x.ID)
		}
	}
	return map[string]any{"id": r.ID, "name": r.Name, "description": ns(r.Description), "isDefault": r.IsDefault, "isVisible": r.IsVisible,
		"reportsTo": ns(r.ReportsTo), "shareDataWithPeers": r.ShareData, "immediateSubRoles": subs}
}

func (e *Emulator) listRoles(c *call) {
	from, limit, ok := c.paging(15, 500, false)
	if !ok {
		return
	}
	vis, visSet, ok := c.boolParam("isVisible")
	if !ok {
		return
	}
	def, defSet, ok := c.boolParam("isDefault")
	if !ok {
		return
	}
	search := c.q.Get("searchStr")
	var items []any
	for _, r := range c.org.roles {
		if (visSet && r.IsVisible != vis) || (defSet && r.IsDefault != def) || (search != "" && !wildcard(search, r.Name)) {
			continue
		}
		items = append(items, roleJSON(c.org, r))
	}
	lo, hi := window(len(items), from, limit)
	writePage(c.out, items[lo:hi], nil)
}

func (e *Emulator) listProfiles(c *call) {
	from, limit, ok := c.paging(250, 250, false)
	if !ok {
		return
	}
	def, defSet, ok := c.boolParam("default")
	if !ok {
		return
	}
	vis, visSet, ok := c.boolParam("visible")
	if !ok {
		return
	}
	if _, ok := c.listParam("fields", 0); !ok {
		return
	}
	search := c.q.Get("searchStr")
	var items []any
	for _, p := range c.org.profiles {
		if (defSet && p.IsDefault != def) || (visSet && p.IsVisible != vis) || (search != "" && !wildcard(search, p.Name)) {
			continue
		}
		items = append(items, map[string]any{"id": p.ID, "name": p.Name, "description": ns(p.Description), "type": p.Type,
			"default": p.IsDefault, "isVisible": p.IsVisible, "permissions": nil, "modifiedBy": nil, "modifiedTime": nil})
	}
	lo, hi := window(len(items), from, limit)
	writePage(c.out, items[lo:hi], nil)
}
