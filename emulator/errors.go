package emulator

import "net/http"

// fieldError is one entry of a Zoho errors[] array: a JSON Pointer into the
// request body and invalid|missing|duplicate.
type fieldError struct {
	FieldName    string `json:"fieldName"`
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// zohoError is Zoho Desk's error body (OAS Common errorJson).
type zohoError struct {
	ErrorCode string       `json:"errorCode"`
	Message   string       `json:"message"`
	Errors    []fieldError `json:"errors,omitempty"`
	// LICENSE_ACCESS_LIMITED extras.
	MaxAllowedEntity string `json:"maxAllowedEntity,omitempty"`
	Feature          string `json:"feature,omitempty"`
	EditionType      string `json:"editionType,omitempty"`
	IsTrial          *bool  `json:"isTrial,omitempty"`
}

// Messages Zoho prints for the common codes (OAS Common, §2.4; the live
// answers of the fidelity audit where it has one).
var zohoMessages = map[string]string{
	"INVALID_OAUTH":          "The OAuth Token you provided is invalid.",
	"UNAUTHORIZED":           "You are not authenticated to perform this operation.",
	"SCOPE_MISMATCH":         "The OAuth Token does not contain the scope to perform this operation.", // live desk.zoho.in (SCOPE-REPORT)
	"OAUTH_ORG_MISMATCH":     "The OAuthToken is not valid for specified organization.",
	"URL_NOT_FOUND":          "The URL you requested could not be found.",
	"METHOD_NOT_ALLOWED":     "The requested method is not allowed for this URL.",
	"INVALID_DATA":           "The data does not comply to the validation restrictions defined.",
	"UNPROCESSABLE_ENTITY":   "The request cannot be processed.",
	"RESOURCE_SIZE_EXCEEDED": "The size of the resource exceeds the allowed limit.",
	"UNSUPPORTED_MEDIA_TYPE": "The media type of the request is not supported.",
	"THRESHOLD_EXCEEDED":     "You have exceeded the API credits allotted for the day.",
	"TOO_MANY_REQUESTS":      "Too many requests. Please try again after some time.",
	"LICENSE_ACCESS_LIMITED": "You have reached the maximum number of users allowed in your license.",
	"FORBIDDEN":              "You are not authorized to access this resource.",
	"EMPTY_PAYLOAD":          "The payload is empty.",
	"INTERNAL_SERVER_ERROR":  "An internal server error occurred.",
	"BAD_REQUEST":            "The request is malformed.",
}

// writeZohoError fills out with a Zoho error body. An empty message uses the
// standard one for code.
func writeZohoError(out *resp, status int, code, message string, errs []fieldError) {
	if message == "" {
		message = zohoMessages[code]
	}
	out.json(status, zohoError{ErrorCode: code, Message: message, Errors: errs})
	out.errorCode = code
}

func invalidData(out *resp, errs []fieldError) {
	writeZohoError(out, http.StatusUnprocessableEntity, "INVALID_DATA", "", errs)
}

func unprocessable(out *resp, message string) {
	writeZohoError(out, http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", message, nil)
}

func notFound(out *resp) {
	writeZohoError(out, http.StatusNotFound, "URL_NOT_FOUND", "", nil)
}
