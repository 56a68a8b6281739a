package zohodesk

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeErrorFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		status   int
		code     string
		message  string
		fields   []FieldError
		sentinel error
		notOther error
	}{
		{"invalid_data.json", 422, CodeInvalidData, "The data does not comply to the validation restrictions defined.",
			[]FieldError{{"/contactId", "invalid", "contact does not exist"}, {"/departmentId", "missing", ""}}, ErrInvalid, ErrNotFound},
		{"invalid_oauth.json", 401, CodeInvalidOAuth, "The OAuth Token you provided is invalid.", nil, ErrUnauthorized, ErrForbidden},
		{"oauth_org_mismatch.json", 403, CodeOAuthOrgMismatch, "The OAuthToken is not valid for specified organization.", nil, ErrForbidden, ErrUnauthorized},
		{"scope_mismatch.json", 401, CodeScopeMismatch, "The OAuth scope does not allow this operation.", nil, ErrForbidden, ErrUnauthorized},
		{"url_not_found.json", 404, CodeURLNotFound, "The URL you requested could not be found.", nil, ErrNotFound, ErrInvalid},
		{"threshold_exceeded.json", 429, CodeThresholdExceeded, "API credits for the day are exhausted.", nil, ErrRateLimited, ErrUnavailable},
		{"too_many_requests.json", 429, CodeTooManyRequests, "Too many concurrent requests.", nil, ErrRateLimited, ErrUnavailable},
		{"license_access_limited.json", 403, CodeLicenseAccessLimited, "License limit reached.", nil, ErrForbidden, ErrInvalid},
		{"unprocessable_entity.json", 422, CodeUnprocessableEntity, "The value passed for the 'from' query parameter is invalid.", nil, ErrInvalid, ErrNotFound},
		{"resource_size_exceeded.json", 413, CodeResourceSizeExceeded, "The file is too large.", nil, ErrTooLarge, ErrInvalid},
		{"internal_server_error.json", 500, CodeInternalServerError, "Internal server error.", nil, ErrUnavailable, ErrInvalid},
		{"html_401.html", 401, "", "", nil, ErrUnauthorized, ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(filepath.Join("testdata", "errors", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			e := decodeErrorBody(tt.status, body)
			if e.StatusCode != tt.status || e.Code != tt.code || e.Message != tt.message {
				t.Errorf("decode = %d %q %q, want %d %q %q", e.StatusCode, e.Code, e.Message, tt.status, tt.code, tt.message)
			}
			if len(e.Fields) != len(tt.fields) {
				t.Fatalf("Fields = %+v, want %+v", e.Fields, tt.fields)
			}
			for i := range tt.fields {
				if e.Fields[i] != tt.fields[i] {
					t.Errorf("Fields[%d] = %+v, want %+v", i, e.Fields[i], tt.fields[i])
				}
			}
			if !errors.Is(e, tt.sentinel) || errors.Is(e, tt.notOther) {
				t.Errorf("errors.Is: %v should match %v and not %v", e, tt.sentinel, tt.notOther)
			}
			if e.Raw == "" {
				t.Errorf("Raw is empty")
			}
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	e := decodeErrorBody(422, []byte(`{"errorCode":"INVALID_DATA","message":"bad","errors":[{"fieldName":"/subject","errorType":"missing"},{"fieldName":"/email","errorType":"invalid","errorMessage":"not an email"}]}`))
	e.Method, e.Path = "POST", "/api/v1/tickets"
	want := "zohodesk: POST /api/v1/tickets: 422 INVALID_DATA: bad; /subject missing; /email invalid (not an email)"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestAPIErrorTemporary(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{429: true, 500: true, 502: true, 503: true, 501: false, 404: false, 422: false} {
		if got := (&APIError{StatusCode: status}).Temporary(); got != want {
			t.Errorf("Temporary(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestErrorBodiesAreRedacted(t *testing.T) {
	t.Parallel()
	e := decodeErrorBody(400, []byte(`{"errorCode":"BAD_REQUEST","message":"token 1000.aaaa1111bbbb.cccc2222 rejected","echo":{"refresh_token":"abc","client_secret":"s3cret"}}`))
	if !strings.Contains(e.Raw, `"errorCode":"BAD_REQUEST"`) {
		t.Errorf("redaction hid the error code: %s", e.Raw)
	}
	if got := redact("code=abc&state=1 token: xyz"); got != "code=[REDACTED]&state=1 token: [REDACTED]" {
		t.Errorf("redact(form) = %q", got)
	}
	for _, secret := range []string{"1000.aaaa1111bbbb.cccc2222", "abc\"", "s3cret"} {
		if strings.Contains(e.Raw, secret) || strings.Contains(e.Error(), secret) {
			t.Errorf("secret %q survives: Raw=%s Error=%s", secret, e.Raw, e.Error())
		}
	}
}

func TestErrorBodyTolerance(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"errors not an array":  `{"errorCode":"INVALID_DATA","errors":"oops"}`,
		"message not a string": `{"errorCode":"INVALID_DATA","message":{"a":1}}`,
		"fieldName a number":   `{"errorCode":"INVALID_DATA","errors":[{"fieldName":5,"errorType":"invalid"}]}`,
	} {
		e := decodeErrorBody(422, []byte(body))
		if e.Code != CodeInvalidData || !errors.Is(e, ErrInvalid) {
			t.Errorf("%s: decode = %+v", name, e)
		}
	}
	big := strings.Repeat("x", 10*maxRawError)
	if e := decodeErrorBody(http.StatusBadGateway, []byte(big)); len(e.Raw) != maxRawError {
		t.Errorf("Raw length = %d, want %d", len(e.Raw), maxRawError)
	}
}

func FuzzDecodeErrorBody(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "errors", "*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(422, b)
	}
	f.Add(400, []byte(`{"errorCode":null,"errors":[null,{"fieldName":[1]}]}`))
	f.Add(500, []byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := decodeErrorBody(status, body)
		if e == nil || e.StatusCode != status {
			t.Fatalf("decode(%d) = %+v", status, e)
		}
		if len(e.Raw) > 4*maxRawError || !utf8.ValidString(e.Raw) {
			t.Fatalf("Raw is %d bytes or invalid UTF-8", len(e.Raw))
		}
		_ = e.Error()
		_ = errors.Is(e, ErrNotFound)
	})
}

// TestRedactAnyDataCentreToken: tokens carry a per-DC four-digit prefix
// ("1000." in us, "1005." in in), and every one of them is redacted;
// dates and version numbers are not tokens.
func TestRedactAnyDataCentreToken(t *testing.T) {
	t.Parallel()
	const hex32 = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name, in, want string
	}{
		{"us", "token 1000." + hex32 + "." + hex32 + " rejected", "token [REDACTED] rejected"},
		{"in", "token 1005." + hex32 + "." + hex32 + " rejected", "token [REDACTED] rejected"},
		{"any four digits", `{"at":"1234.` + hex32 + `.` + hex32 + `"}`, `{"at":"[REDACTED]"}`},
		{"date", "on 2026.06.11 at 10.00.00", "on 2026.06.11 at 10.00.00"},
		{"version", "ZGS 1.2.3", "ZGS 1.2.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := redact(tc.in); got != tc.want {
				t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	e := decodeErrorBody(401, []byte(`{"errorCode":"INVALID_OAUTH","message":"token 1005.`+hex32+`.`+hex32+` is invalid"}`))
	if strings.Contains(e.Raw, hex32) || strings.Contains(e.Error(), hex32) {
		t.Errorf("an India-DC token survives: Raw=%s Error=%s", e.Raw, e.Error())
	}
}
