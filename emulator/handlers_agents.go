package emulator

import (
	"fmt"
	"net/http"
	"net/mail"
	"sort"
	"strings"
)

var rolePermissionTypes = []string{"Admin", "AgentPublic", "AgentPersonal", "AgentTeamPersonal", "Light", "Custom"}

func agentJSON(o *org, a *agent, inc map[string]bool) map[string]any {
	// zuid is null until the agent confirms (the OAS pattern ([0-9]+)
	// refuses "").
	m := map[string]any{
		"id": a.ID, "zuid": ns(a.ZUID), "firstName": ns(a.FirstName), "lastName": a.LastName, "name": a.name(), "emailId": a.Email,
		"phone": a.Phone, "mobile": a.Mobile, "extn": a.Extn, "photoURL": nil, "roleId": ns(a.RoleID), "profileId": ns(a.ProfileID),
		"rolePermissionType": a.RolePermissionType, "associatedDepartmentIds": strs(a.DepartmentIDs),
		"associatedChatDepartmentIds": strs(a.ChatDepartmentIDs), "channelExpert": strs(a.ChannelExpert),
		"countryCode": ns(a.CountryCode), "langCode": ns(a.LangCode), "timeZone": ns(a.TimeZone), "aboutInfo": ns(a.AboutInfo),
		"isConfirmed": a.IsConfirmed, "status": a.Status, "cf": map[string]any{},
	}
	if inc["role"] {
		var v any
		if r := o.role(a.RoleID); r != nil {
			rj := roleJSON(o, r)
			rj["adminRole"], rj["encId"] = r.ReportsTo == "", nil
			v = rj
		}
		m["role"] = v
	}
	if inc["profile"] {
		var v any
		if p := o.profile(a.ProfileID); p != nil {
			v = map[string]any{"id": p.ID, "name": p.Name, "type": profileTypeUpper(p.Type),
				"defaultProfile": p.IsDefault, "visible": p.IsVisible, "adminProfile": p.Type == "Administrator", "lightAgentProfile": p.Type == "Light",
				"portalProfile": p.Type == "Portal", "profileDesc": ns(p.Description)}
		}
		m["profile"] = v
	}
	if inc["associatedDepartments"] {
		ds := []any{}
		for _, id := range a.DepartmentIDs {
			if d := o.department(id); d != nil {
				ds = append(ds, map[string]any{"id": d.ID, "name": d.Name, "sanitizedName": deptJSON(d)["sanitizedName"]})
			}
		}
		m["associatedDepartments"] = ds
	}
	if inc["associatedChatDepartments"] {
		m["associatedChatDepartments"] = []any{}
	}
	if inc["verifiedEmails"] {
		m["verifiedEmails"] = []string{a.Email}
	}
	return m
}

func profileTypeUpper(t string) string {
	if t == "Administrator" {
		return "ADMIN"
	}
	return strings.ToUpper(t)
}

func (e *Emulator) myInfo(c *call) {
	inc, ok := c.includeParam("profile", "role", "associatedDepartments", "associatedChatDepartments")
	if !ok {
		return
	}
	a := c.org.agentByEmail(c.tok.User)
	if a == nil {
		notFound(c.out)
		return
	}
	m := agentJSON(c.org, a, inc)
	m["isZiaAgent"] = false // required on myinfo (OAS)
	c.out.json(http.StatusOK, m)
}

func (e *Emulator) getAgent(c *call) {
	inc, ok := c.includeParam("profile", "role", "associatedDepartments", "associatedChatDepartments", "verifiedEmails")
	if !ok {
		return
	}
	a := c.org.agents[c.vars["id"]]
	if a == nil {
		notFound(c.out)
		return
	}
	c.out.json(http.StatusOK, agentJSON(c.org, a, inc))
}

func (e *Emulator) agentByEmail(c *call) {
	inc, ok := c.includeParam("profile", "role", "associatedDepartments", "associatedChatDepartments", "verifiedEmails")
	if !ok {
		return
	}
	a := c.org.agentByEmail(c.vars["email"])
	if a == nil {
		c.out.noContent(http.StatusNoContent) // OAS: 204 when there is no such agent
		return
	}
	c.out.json(http.StatusOK, agentJSON(c.org, a, inc))
}

func (e *Emulator) listAgents(c *call) {
	from, limit, ok := c.paging(10, 200, false)
	if !ok {
		return
	}
	inc, ok := c.includeParam("profile", "role")
	if !ok {
		return
	}
	status, ok := c.enumParam("status", "ACTIVE", "DISABLED", "DELETED", "IMPORTED")
	if !ok {
		return
	}
	perm, ok := c.enumParam("rolePermissionType", append([]string{"${NON_LIGHT}"}, rolePermissionTypes...)...)
	if !ok {
		return
	}
	depts, ok1 := c.listParam("departmentIds", 50)
	profiles, ok2 := c.listParam("profileIds", 50)
	roles, ok3 := c.listParam("roleIds", 50)
	if !ok1 || !ok2 || !ok3 {
		return
	}
	conf, confSet, ok := c.boolParam("isConfirmed")
	if !ok {
		return
	}
	light, lightSet, ok := c.boolParam("isLightAgent")
	if !ok {
		return
	}
	field, ok := c.enumParam("fieldName", "firstName", "lastName", "name", "emailId")
	if !ok {
		return
	}
	order, ok := c.enumParam("sortOrder", "asc", "desc")
	if !ok {
		return
	}
	search := c.q.Get("searchStr")
	if len(search) > 100 {
		unprocessable(c.out, "The value passed for the 'searchStr' query parameter is invalid.")
		return
	}
	var list []*agent
	for _, a := range c.org.agentOrder {
		switch {
		case status != "" && a.Status != status,
			perm == "${NON_LIGHT}" && a.IsLight,
			perm != "" && perm != "${NON_LIGHT}" && a.RolePermissionType != perm,
			len(depts) > 0 && !intersects(depts, a.DepartmentIDs),
			len(profiles) > 0 && !contains(profiles, a.ProfileID),
			len(roles) > 0 && !contains(roles, a.RoleID),
			confSet && a.IsConfirmed != conf,
			lightSet && a.IsLight != light:
			continue
		}
		if search != "" && !agentMatches(a, field, search) {
			continue
		}
		list = append(list, a)
	}
	if order != "" || field != "" {
		key := field
		if key == "" {
			key = "name"
		}
		sortStable(list, func(x, y *agent) bool {
			return strings.ToLower(agentField(x, key)) < strings.ToLower(agentField(y, key))
		}, order == "desc")
	}
	lo, hi := window(len(list), from, limit)
	items := make([]any, 0, hi-lo)
	for _, a := range list[lo:hi] {
		row := agentJSON(c.org, a, inc)
		row["isZiaAgent"] = false // list rows only (OAS)
		items = append(items, row)
	}
	writePage(c.out, items, nil)
}

// countAgents answers GET /agents/count (OAS getAgentsCount): the agents
// with the status and confirmation asked for, light agents only with
// includeLightAgent=true. The OAS types count as string or integer; the
// emulator sends an integer, as the OAS example does. [I] Whether Zoho
// counts light agents when includeLightAgent is absent is not documented;
// the emulator leaves them out then.
func (e *Emulator) countAgents(c *call) {
	status, ok := c.enumParam("status", "ACTIVE", "DISABLED")
	if !ok {
		return
	}
	conf, confSet, ok := c.boolParam("isConfirmed")
	if !ok {
		return
	}
	light, _, ok := c.boolParam("includeLightAgent")
	if !ok {
		return
	}
	n := 0
	for _, a := range c.org.agentOrder {
		if (status != "" && a.Status != status) || (confSet && a.IsConfirmed != conf) || (a.IsLight && !light) {
			continue
		}
		n++
	}
	c.out.json(http.StatusOK, map[string]any{"count": n})
}

func agentField(a *agent, f string) string {
	switch f {
	case "firstName":
		return a.FirstName
	case "lastName":
		return a.LastName
	case "emailId":
		return a.Email
	}
	return a.name()
}

func agentMatches(a *agent, field, search string) bool {
	if field != "" {
		return wildcard(search, agentField(a, field))
	}
	return wildcard(search, a.FirstName) || wildcard(search, a.LastName) || wildcard(search, a.Email) || wildcard(search, a.name())
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if contains(b, x) {
			return true
		}
	}
	return false
}

func (e *Emulator) addAgent(c *call) {
	b, ok := c.readJSON()
	if !ok {
		return
	}
	a := &agent{Status: "ACTIVE"}
	var present bool
	a.Email, present, _ = b.str("emailId", 100)
	if !present || a.Email == "" {
		b.fail("emailId", "missing")
	} else if _, err := mail.ParseAddress(a.Email); err != nil {
		b.fail("emailId", "invalid")
	}
	a.LastName, present, _ = b.str("lastName", 50)
	if !present || a.LastName == "" {
		b.fail("lastName", "missing")
	}
	a.FirstName, _, _ = b.str("firstName", 50)
	a.Phone, _, _ = b.str("phone", 100)
	a.Mobile, _, _ = b.str("mobile", 100)
	a.Extn, _, _ = b.str("extn", 100)
	a.AboutInfo, _, _ = b.str("aboutInfo", 255)
	a.CountryCode, _, _ = b.str("countryCode", 100)
	a.LangCode, _, _ = b.str("langCode", 100)
	a.TimeZone, _, _ = b.str("timeZone", 100)
	a.DepartmentIDs, present = b.strList("associatedDepartmentIds", 0)
	if !present || len(a.DepartmentIDs) == 0 {
		b.fail("associatedDepartmentIds", "missing")
	}
	for i, id := range a.DepartmentIDs {
		if c.org.department(id) == nil {
			b.fail(fmt.Sprintf("associatedDepartmentIds/%d", i), "invalid")
		}
	}
	a.ChatDepartmentIDs, _ = b.strList("associatedChatDepartmentIds", 0)
	a.ChannelExpert, _ = b.strList("channelExpert", 51)
	a.RolePermissionType, present, _ = b.str("rolePermissionType", 0)
	if !present || a.RolePermissionType == "" {
		b.fail("rolePermissionType", "missing")
	} else if !contains(rolePermissionTypes, a.RolePermissionType) {
		b.fail("rolePermissionType", "invalid")
	}
	roleID, _, _ := b.id("roleId")
	profileID, _, _ := b.id("profileId")
	if st, present, _ := b.str("status", 0); present {
		if st != "ACTIVE" && st != "DISABLED" {
			b.fail("status", "invalid")
		}
		a.Status = st
	}
	b.anyMap("cf")
	b.rejectUnknown()
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	// Permission type → role/profile (§3.11 semantics [I]).
	switch a.RolePermissionType {
	case "Custom":
		if c.org.role(roleID) == nil {
			b.fail("roleId", map[bool]string{true: "missing", false: "invalid"}[roleID == ""])
		}
		if c.org.profile(profileID) == nil {
			b.fail("profileId", map[bool]string{true: "missing", false: "invalid"}[profileID == ""])
		}
		a.RoleID, a.ProfileID = roleID, profileID
	default:
		a.RoleID, a.ProfileID = defaultRoleProfile(c.org, a.RolePermissionType)
	}
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	a.IsLight = a.RolePermissionType == "Light"
	if c.org.agentByEmail(a.Email) != nil {
		invalidData(c.out, []fieldError{{FieldName: "/emailId", ErrorType: "duplicate"}})
		return
	}
	if msg := e.licenceCheck(c.org, a.IsLight); msg != nil {
		c.out.json(http.StatusForbidden, msg)
		c.out.errorCode = "LICENSE_ACCESS_LIMITED"
		return
	}
	a.ID = c.org.newID()
	a.ZUID, a.IsConfirmed = "", false // invited, not yet accepted
	c.org.addAgent(a)
	e.counters.AgentsCreated++
	c.out.json(http.StatusOK, agentJSON(c.org, a, nil))
}

func defaultRoleProfile(o *org, perm string) (roleID, profileID string) {
	profName := map[string]string{"Admin": "Support Administrator", "Light": "Light Agent"}[perm]
	if profName == "" {
		profName = "Agent"
	}
	roleName := map[string]string{"Admin": "CEO", "AgentPersonal": "Personal"}[perm]
	if roleName == "" {
		roleName = "Manager"
	}
	for _, p := range o.profiles {
		if p.Name == profName {
			profileID = p.ID
		}
	}
	for _, r := range o.roles {
		if r.Name == roleName {
			roleID = r.ID
		}
	}
	if roleID == "" && len(o.roles) > 0 {
		roleID = o.roles[0].ID
	}
	return roleID, profileID
}

// licenceCheck returns the LICENSE_ACCESS_LIMITED body when one more agent
// would exceed the org's seats (active or invited agents count).
func (e *Emulator) licenceCheck(o *org, light bool) *zohoError {
	n := 0
	for _, a := range o.agentOrder {
		if a.Status == "ACTIVE" && a.IsLight == light {
			n++
		}
	}
	seats, feature := o.AgentLicenses, "AGENTS"
	if light {
		seats, feature = o.LightAgentLicenses, "LIGHT_AGENTS"
	}
	if n < seats {
		return nil
	}
	f := false
	return &zohoError{ErrorCode: "LICENSE_ACCESS_LIMITED", Message: zohoMessages["LICENSE_ACCESS_LIMITED"],
		MaxAllowedEntity: itoa(seats), Feature: feature, EditionType: o.Edition, IsTrial: &f}
}

func (e *Emulator) deactivateAgent(c *call) {
	a := c.org.agents[c.vars["id"]]
	if a == nil {
		notFound(c.out)
		return
	}
	if a.Email == c.tok.User {
		unprocessable(c.out, "You cannot deactivate yourself.")
		return
	}
	if len(c.r.Header.Get("Content-Length")) > 0 && c.r.ContentLength > 0 {
		if _, ok := c.readBody(); !ok {
			return
		}
	}
	a.Status = "DISABLED"
	c.out.noContent(http.StatusNoContent)
}

func (e *Emulator) activateAgents(c *call) {
	b, ok := c.readJSON()
	if !ok {
		return
	}
	ids, present := b.strList("agentIds", 50)
	if !present || len(ids) == 0 {
		b.fail("agentIds", "missing")
	}
	for i, id := range ids {
		if c.org.agents[id] == nil {
			b.fail(fmt.Sprintf("agentIds/%d", i), "invalid")
		}
	}
	b.rejectUnknown()
	if b.failed() {
		invalidData(c.out, *b.errs)
		return
	}
	for _, id := range ids {
		a := c.org.agents[id]
		if a.Status != "ACTIVE" {
			if msg := e.licenceCheck(c.org, a.IsLight); msg != nil {
				c.out.json(http.StatusForbidden, msg)
				c.out.errorCode = "LICENSE_ACCESS_LIMITED"
				return
			}
		}
		a.Status = "ACTIVE"
	}
	c.out.noContent(http.StatusNoContent)
}

// sortStable sorts s by less (reversed when desc), keeping equal elements
// in their original order.
func sortStable[T any](s []T, less func(a, b T) bool, desc bool) {
	sort.SliceStable(s, func(i, j int) bool {
		if desc {
			return less(s[j], s[i])
		}
		return less(s[i], s[j])
	})
}
