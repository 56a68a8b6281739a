package action_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/deskconn/deskconn"
	"github.com/deskconn/deskconn/internal/action"
)

func ExampleDefine() {
	type GreetIn struct {
		action.WriteOptions
		Name     string `json:"name" jsonschema:"who to greet" schema:"minLength=1,maxLength=20"`
		Priority string `json:"priority,omitempty" schema:"enum=Low|High"`
	}
	type GreetOut struct {
		Greeting string `json:"greeting"`
	}
	greet := action.Define("greet", action.Info{
		Title:       "Greet",
		Description: "Greets someone. Use it to say hello.",
		Write:       true,
	}, func(ctx context.Context, call *action.Call, in GreetIn) (GreetOut, error) {
		if call.DryRun {
			return GreetOut{}, call.Plan(action.PlannedRequest{Method: "POST", Path: "/greetings", Body: map[string]string{"name": in.Name}})
		}
		return GreetOut{Greeting: "Hello, " + in.Name}, nil
	})
	r := action.NewRegistry(action.Options{})
	r.Add(greet)
	t := action.Target{Tenant: "t1", Conn: action.Conn{ID: "c1", Name: "demo"}}

	schema := greet.InputSchema()
	name, _ := json.Marshal(schema.Properties["name"])
	fmt.Println(string(name), schema.Required, "additionalProperties:", string(must(json.Marshal(schema.AdditionalProperties))))
	out, _ := r.Invoke(context.Background(), t, "greet", json.RawMessage(`{"name":"Ada"}`), action.InvokeOptions{})
	fmt.Println(string(out))
	out, _ = r.Invoke(context.Background(), t, "greet", json.RawMessage(`{"name":"Ada","dryRun":true}`), action.InvokeOptions{})
	fmt.Println(string(out))
	_, err := r.Invoke(context.Background(), t, "greet", json.RawMessage(`{"priority":"Mid","nmae":"Ada"}`), action.InvokeOptions{})
	for _, f := range deskconn.AsError(err).Fields {
		fmt.Printf("%s %s: %s\n", f.Pointer, f.Code, f.Message)
	}
	// Output:
	// {"type":"string","description":"who to greet","minLength":1,"maxLength":20} [name] additionalProperties: false
	// {"greeting":"Hello, Ada"}
	// {"dryRun":true,"action":"greet","requests":[{"method":"POST","path":"/greetings","body":{"name":"Ada"}}]}
	// /name missing: is required: add "name" (a string)
	// /priority invalid: must be one of "Low", "High"; got a string "Mid"
	// /nmae unknown: unknown field "nmae"; did you mean "name"?
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
