package api

import (
	"net/http"

	"github.com/voxgate/voxgate/store"
)

// testUsersStore is the flow store's test users, or 501.
func (a *v2API) testUsersStore() (store.FlowTestUserStore, error) {
	if err := a.requireFlows(); err != nil {
		return nil, err
	}
	tu, ok := a.flows.Store.(store.FlowTestUserStore)
	if !ok {
		return nil, errUnavailable("flow test users (the flow store does not keep them)")
	}
	return tu, nil
}

// writeTestUsers writes Twilio's FlowTestUser resource.
func (a *v2API) writeTestUsers(w http.ResponseWriter, r *http.Request, flowSID string, users []string) {
	if users == nil {
		users = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sid":        flowSID,
		"test_users": users,
		"url":        a.base(r) + "/Flows/" + flowSID + "/TestUsers",
	})
}

// fetchTestUsers is GET /v2/Flows/{FW}/TestUsers.
func (a *v2API) fetchTestUsers(w http.ResponseWriter, r *http.Request, ids []string) error {
	tu, err := a.testUsersStore()
	if err != nil {
		return err
	}
	users, err := tu.FlowTestUsers(r.Context(), ids[0])
	if err != nil {
		return storeError(r, "fetch test users", err)
	}
	a.writeTestUsers(w, r, ids[0], users)
	return nil
}

// updateTestUsers is POST /v2/Flows/{FW}/TestUsers with TestUsers
// (repeated): the new list, replacing the old one. Test users run the
// flow's latest revision, even a draft.
func (a *v2API) updateTestUsers(w http.ResponseWriter, r *http.Request, ids []string) error {
	tu, err := a.testUsersStore()
	if err != nil {
		return err
	}
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	users, ok := form["TestUsers"]
	if !ok {
		return badRequest(codeUnsupportedParam, "Missing required parameter TestUsers in the post body")
	}
	stored, err := tu.SetFlowTestUsers(r.Context(), ids[0], users)
	if err != nil {
		return storeError(r, "update test users", err)
	}
	a.writeTestUsers(w, r, ids[0], stored)
	return nil
}
