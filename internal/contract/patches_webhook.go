package contract

// patchWebhookFilterRequired drops required and minProperties from the
// filter object of every event in Webhook.json's subscriptions schema.
func patchWebhookFilterRequired(files map[string]map[string]any) int {
	c, _ := files["Webhook.json"]["components"].(map[string]any)
	schemas, _ := c["schemas"].(map[string]any)
	subs, _ := schemas["subscriptions"].(map[string]any)
	props, _ := subs["properties"].(map[string]any)
	n := 0
	for _, p := range props {
		filter, _ := p.(map[string]any)
		for _, k := range []string{"required", "minProperties"} {
			if _, ok := filter[k]; ok {
				delete(filter, k)
				n++
			}
		}
	}
	return n
}
