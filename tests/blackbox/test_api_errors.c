/* Bad requests against the real dunghand (docs/api.md, "Errors"): each row of the table is one
 * request on a new connection, with the status, error.code and error.field it must get, whether
 * the server must close the connection, and — for every row — that the database did not change
 * ("A rejected request changes nothing"). The daemon runs with small limits so that size and
 * time limits are quick to reach: header_bytes 2048, body_bytes 4096, batch_body_bytes 65536,
 * header_timeout and body_timeout 0.3 s. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_fixture.h"

#define M "motcua-dev-token"
#define ADMIN "admin-dev-token"
#define JSON "application/json"
#define NDJSON "application/x-ndjson"

/* A valid case body with `extra` members added. */
#define CASE(extra)                                                                              \
	"{\"code\": \"X-1\", \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\", "                \
	"\"received_at\": \"2024-02-07T10:00:00+07:00\"" extra "}"
/* A case body without received_at, with `fields` added. */
#define CASE_WITH(fields)                                                                        \
	"{\"code\": \"X-1\", \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\", " fields "}"

#define RAW_HEAD(method, path, extra)                                                            \
	method " " path " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " M "\r\n"       \
	"Content-Type: application/json\r\n" extra

enum { SEED_DOC = 1 };

struct bad {
	const char *name;
	const char *method, *path, *token, *ctype, *body;
	const char *raw;  /* sent as is instead of method... (a whole request, or its beginning) */
	int pad;          /* the body is a case whose applicant has this many bytes */
	int header_pad;   /* an X-Pad header of this many bytes */
	bool incomplete;  /* raw is only a beginning: the server must time out */
	unsigned seed;
	int status;
	const char *code, *field; /* field NULL: not checked */
	const char *allow;        /* methods the Allow header must list, comma-separated */
	bool closes;              /* the server must close the connection after answering */
};

#define EV "/api/v1/cases/ERR-1/events"

static struct bad rows[] = {
	/* -- the body is not a JSON object -- */
	{ .name = "malformed JSON", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = "{\"code\": \"X-1\", \"procedure\": ", .status = 400,
	  .code = "bad_json" },
	{ .name = "invalid UTF-8 in a string", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE(", \"applicant\": \"Nguy\xc3\x28n\""), .status = 400,
	  .code = "bad_json" },
	{ .name = "a lone surrogate escape", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE(", \"applicant\": \"\\ud800\""), .status = 400,
	  .code = "bad_json" },
	{ .name = "a JSON array", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = "[" CASE("") "]", .status = 400, .code = "bad_json" },
	{ .name = "a JSON string", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = "\"X-1\"", .status = 400, .code = "bad_json" },
	{ .name = "an empty body", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = "", .status = 400, .code = "bad_json" },
	{ .name = "garbage after the object", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE("") " x", .status = 400, .code = "bad_json" },
	/* -- fields of the wrong type or with a bad value -- */
	{ .name = "received_at: 5", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE_WITH("\"received_at\": 5"), .status = 400,
	  .code = "invalid_field", .field = "received_at" },
	{ .name = "30 February", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE_WITH("\"received_at\": \"2024-02-30T10:00:00+07:00\""),
	  .status = 400, .code = "invalid_field", .field = "received_at" },
	{ .name = "year 0024", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE_WITH("\"received_at\": \"0024-02-07T10:00:00+07:00\""),
	  .status = 400, .code = "invalid_field", .field = "received_at" },
	{ .name = "due in 2204", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE(", \"due_at\": \"2204-02-07T10:00:00+07:00\""),
	  .status = 400, .code = "invalid_field", .field = "due_at" },
	{ .name = "an instant without offset", .method = "POST", .path = "/api/v1/cases",
	  .token = M, .ctype = JSON, .body = CASE_WITH("\"received_at\": \"2024-02-07T10:00:00\""),
	  .status = 400, .code = "invalid_field", .field = "received_at" },
	{ .name = "hour 25", .method = "POST", .path = "/api/v1/cases", .token = M, .ctype = JSON,
	  .body = CASE_WITH("\"received_at\": \"2024-02-07T25:00:00+07:00\""), .status = 400,
	  .code = "invalid_field", .field = "received_at" },
	{ .name = "due_at: a word", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE(", \"due_at\": \"tomorrow\""), .status = 400,
	  .code = "invalid_field", .field = "due_at" },
	{ .name = "code: a number", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON,
	  .body = "{\"code\": 5, \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\"}",
	  .status = 400, .code = "invalid_field", .field = "code" },
	{ .name = "code with a space", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON,
	  .body = "{\"code\": \"000.00.21.H19 240207-0001\", \"procedure\": \"1.004873\", "
		  "\"unit\": \"ttphvhcc\"}",
	  .status = 400, .code = "invalid_field", .field = "code" },
	{ .name = "code with a slash", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON,
	  .body = "{\"code\": \"000/240207\", \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\"}",
	  .status = 400, .code = "invalid_field", .field = "code" },
	{ .name = "an empty code", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = "{\"code\": \"\", \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\"}",
	  .status = 400, .code = "invalid_field", .field = "code" },
	{ .name = "a code of 65 characters", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON,
	  .body = "{\"code\": \"00000000001111111111222222222233333333334444444444555555555566666\", "
		  "\"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\"}",
	  .status = 400, .code = "invalid_field", .field = "code" },
	{ .name = "online: sometimes", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE(", \"online\": \"sometimes\""), .status = 400,
	  .code = "invalid_field", .field = "online" },
	{ .name = "paid_online: \"yes\"", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE(", \"paid_online\": \"yes\""), .status = 400,
	  .code = "invalid_field", .field = "paid_online" },
	{ .name = "handler: a number", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE(", \"handler\": 7"), .status = 400, .code = "invalid_field",
	  .field = "handler" },
	{ .name = "an unknown field", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE(", \"colour\": \"red\""), .status = 400,
	  .code = "unknown_field", .field = "colour" },
	/* -- missing fields and unknown references -- */
	{ .name = "no procedure", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = "{\"code\": \"X-1\", \"unit\": \"ttphvhcc\"}", .status = 400,
	  .code = "missing_field", .field = "procedure" },
	{ .name = "no unit", .method = "POST", .path = "/api/v1/cases", .token = M, .ctype = JSON,
	  .body = "{\"code\": \"X-1\", \"procedure\": \"1.004873\"}", .status = 400,
	  .code = "missing_field", .field = "unit" },
	{ .name = "no code", .method = "POST", .path = "/api/v1/cases", .token = M, .ctype = JSON,
	  .body = "{\"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\"}", .status = 400,
	  .code = "missing_field", .field = "code" },
	{ .name = "unknown unit", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON,
	  .body = "{\"code\": \"X-1\", \"procedure\": \"1.004873\", \"unit\": \"phong-ma\"}",
	  .status = 422, .code = "unknown_reference", .field = "unit" },
	{ .name = "unknown procedure", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON,
	  .body = "{\"code\": \"X-1\", \"procedure\": \"9.999999\", \"unit\": \"ttphvhcc\"}",
	  .status = 422, .code = "unknown_reference", .field = "procedure" },
	{ .name = "unknown handler", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .body = CASE(", \"handler\": \"ma.vt\""), .status = 422,
	  .code = "unknown_reference", .field = "handler" },
	{ .name = "an existing code with other data", .method = "POST", .path = "/api/v1/cases",
	  .token = M, .ctype = JSON,
	  .body = "{\"code\": \"ERR-1\", \"procedure\": \"1.004873\", \"unit\": \"hctc\", "
		  "\"received_at\": \"2024-02-07T10:00:00+07:00\"}",
	  .status = 409, .code = "conflict" },
	/* -- HTTP limits and framing -- */
	{ .name = "a body over body_bytes", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = JSON, .pad = 5000, .status = 413, .code = "body_too_large", .closes = true },
	{ .name = "a batch over batch_body_bytes", .method = "POST", .path = "/api/v1/cases:batch",
	  .token = M, .ctype = NDJSON, .pad = 70000, .status = 413, .code = "body_too_large",
	  .closes = true },
	{ .name = "slow headers", .raw = "POST /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\n",
	  .incomplete = true, .status = 408, .code = "request_timeout", .closes = true },
	{ .name = "a slow body", .raw = RAW_HEAD("POST", "/api/v1/cases", "Content-Length: 100\r\n\r\n{\"code\""),
	  .incomplete = true, .status = 408, .code = "request_timeout", .closes = true },
	{ .name = "headers over header_bytes", .method = "GET", .path = "/api/v1/cases",
	  .token = M, .header_pad = 3000, .status = 431, .code = "header_too_large",
	  .closes = true },
	{ .name = "Content-Length and Transfer-Encoding",
	  .raw = RAW_HEAD("POST", "/api/v1/cases",
			  "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
	  .status = 400, .code = "bad_request", .closes = true },
	{ .name = "two Content-Lengths",
	  .raw = RAW_HEAD("POST", "/api/v1/cases", "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}"),
	  .status = 400, .code = "bad_request", .closes = true },
	{ .name = "two different Content-Lengths",
	  .raw = RAW_HEAD("POST", "/api/v1/cases", "Content-Length: 2\r\nContent-Length: 12\r\n\r\n{}"),
	  .status = 400, .code = "bad_request", .closes = true },
	{ .name = "a bare LF ending a header line (llhttp's lenient flags are off)",
	  .raw = "GET /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1\nAuthorization: Bearer x\r\n\r\n",
	  .status = 400, .code = "bad_request", .closes = true },
	{ .name = "a chunked body",
	  .raw = RAW_HEAD("POST", "/api/v1/cases",
			  "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
	  .status = 411, .code = "length_required", .closes = true },
	{ .name = "a malformed request line", .raw = "HELLO\r\n\r\n", .status = 400,
	  .code = "bad_request", .closes = true },
	/* -- routes, methods, tokens, media types -- */
	{ .name = "unknown route", .method = "GET", .path = "/api/v1/nope", .token = ADMIN,
	  .status = 404, .code = "not_found" },
	{ .name = "unknown API version", .method = "GET", .path = "/api/v2/cases", .token = ADMIN,
	  .status = 404, .code = "not_found" },
	{ .name = "DELETE /api/v1/cases", .method = "DELETE", .path = "/api/v1/cases",
	  .token = ADMIN, .status = 405, .code = "method_not_allowed", .allow = "GET,POST" },
	{ .name = "PUT a case", .method = "PUT", .path = "/api/v1/cases/ERR-1", .token = ADMIN,
	  .ctype = JSON, .body = "{}", .status = 405, .code = "method_not_allowed",
	  .allow = "GET" },
	{ .name = "GET the batch", .method = "GET", .path = "/api/v1/cases:batch", .token = ADMIN,
	  .status = 405, .code = "method_not_allowed", .allow = "POST" },
	{ .name = "no token", .method = "POST", .path = "/api/v1/cases", .ctype = JSON,
	  .body = CASE(""), .status = 401, .code = "unauthorized" },
	{ .name = "an unknown token", .method = "POST", .path = "/api/v1/cases",
	  .token = "motcua-dev-token2", .ctype = JSON, .body = CASE(""), .status = 401,
	  .code = "unauthorized" },
	{ .name = "no token on a GET", .method = "GET", .path = "/api/v1/cases", .status = 401,
	  .code = "unauthorized" },
	{ .name = "a read token POSTs", .method = "POST", .path = "/api/v1/cases",
	  .token = "baocao-dev-token", .ctype = JSON, .body = CASE(""), .status = 403,
	  .code = "forbidden" },
	{ .name = "a read token posts an event", .method = "POST", .path = EV,
	  .token = "baocao-dev-token", .ctype = JSON, .body = "{\"type\": \"note\", \"text\": \"x\"}",
	  .status = 403, .code = "forbidden" },
	{ .name = "text/plain", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .ctype = "text/plain", .body = CASE(""), .status = 415, .code = "unsupported_media_type" },
	{ .name = "no Content-Type", .method = "POST", .path = "/api/v1/cases", .token = M,
	  .body = CASE(""), .status = 415, .code = "unsupported_media_type" },
	{ .name = "JSON to the batch", .method = "POST", .path = "/api/v1/cases:batch", .token = M,
	  .ctype = JSON, .body = CASE(""), .status = 415, .code = "unsupported_media_type" },
	/* -- query parameters -- */
	{ .name = "limit=0", .method = "GET", .path = "/api/v1/cases?limit=0", .token = M,
	  .status = 400, .code = "invalid_query", .field = "limit" },
	{ .name = "limit=501", .method = "GET", .path = "/api/v1/cases?limit=501", .token = M,
	  .status = 400, .code = "invalid_query", .field = "limit" },
	{ .name = "limit=ten", .method = "GET", .path = "/api/v1/cases?limit=ten", .token = M,
	  .status = 400, .code = "invalid_query", .field = "limit" },
	{ .name = "a bad cursor", .method = "GET", .path = "/api/v1/cases?cursor=not-a-cursor",
	  .token = M, .status = 400, .code = "invalid_query", .field = "cursor" },
	{ .name = "due_before=yesterday", .method = "GET",
	  .path = "/api/v1/cases?due_before=yesterday", .token = M, .status = 400,
	  .code = "invalid_query", .field = "due_before" },
	{ .name = "a parameter given twice", .method = "GET",
	  .path = "/api/v1/cases?status=received&status=completed", .token = M, .status = 400,
	  .code = "invalid_query", .field = "status" },
	{ .name = "as_of=monday", .method = "GET", .path = "/api/v1/cases?overdue=true&as_of=monday",
	  .token = M, .status = 400, .code = "invalid_query", .field = "as_of" },
	{ .name = "status as_of 0024", .method = "GET",
	  .path = "/api/v1/status?as_of=0024-02-07T10:00:00Z", .token = M, .status = 400,
	  .code = "invalid_query", .field = "as_of" },
	{ .name = "status with another parameter", .method = "GET", .path = "/api/v1/status?x=1",
	  .token = M, .status = 400, .code = "invalid_query", .field = "x" },
	{ .name = "due_after without offset", .method = "GET",
	  .path = "/api/v1/cases?due_after=2024-02-07T10:00:00", .token = M, .status = 400,
	  .code = "invalid_query", .field = "due_after" },
	{ .name = "status=sleeping", .method = "GET", .path = "/api/v1/cases?status=sleeping",
	  .token = M, .status = 400, .code = "invalid_query", .field = "status" },
	{ .name = "overdue=maybe", .method = "GET", .path = "/api/v1/cases?overdue=maybe",
	  .token = M, .status = 400, .code = "invalid_query", .field = "overdue" },
	{ .name = "documents limit=501", .method = "GET", .path = "/api/v1/documents?limit=501",
	  .token = M, .status = 400, .code = "invalid_query", .field = "limit" },
	/* -- case events -- */
	{ .name = "an event of unknown type", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON, .body = "{\"type\": \"explode\"}", .status = 400,
	  .code = "invalid_field", .field = "type" },
	{ .name = "an event of type create", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON, .body = "{\"type\": \"create\", \"at\": \"2024-02-08T09:00:00+07:00\"}",
	  .status = 400, .code = "invalid_field", .field = "type" },
	{ .name = "an event without type", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON, .body = "{\"at\": \"2024-02-08T09:00:00+07:00\"}", .status = 400,
	  .code = "missing_field", .field = "type" },
	{ .name = "reschedule without apology", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON,
	  .body = "{\"type\": \"reschedule\", \"due_at\": \"2024-03-01T10:00:00+07:00\", \"at\": "
		  "\"2024-02-15T09:00:00+07:00\"}",
	  .status = 400, .code = "missing_field", .field = "apology" },
	{ .name = "reschedule without due_at", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON,
	  .body = "{\"type\": \"reschedule\", \"apology\": \"Mẫu 04\", \"at\": "
		  "\"2024-02-15T09:00:00+07:00\"}",
	  .status = 400, .code = "missing_field", .field = "due_at" },
	{ .name = "reschedule earlier", .method = "POST", .path = EV, .token = M, .ctype = JSON,
	  .body = "{\"type\": \"reschedule\", \"apology\": \"Mẫu 04\", \"due_at\": "
		  "\"2024-02-16T10:00:00+07:00\", \"at\": \"2024-02-15T09:00:00+07:00\"}",
	  .status = 400, .code = "invalid_field", .field = "due_at" },
	{ .name = "at in the future", .method = "POST", .path = EV, .token = M, .ctype = JSON,
	  .body = "{\"type\": \"note\", \"text\": \"x\", \"at\": \"2099-01-01T00:00:00+07:00\"}",
	  .status = 400, .code = "invalid_field", .field = "at" },
	{ .name = "at before received_at", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON,
	  .body = "{\"type\": \"note\", \"text\": \"x\", \"at\": \"2024-02-07T09:00:00+07:00\"}",
	  .status = 400, .code = "invalid_field", .field = "at" },
	{ .name = "at without offset", .method = "POST", .path = EV, .token = M, .ctype = JSON,
	  .body = "{\"type\": \"note\", \"text\": \"x\", \"at\": \"2024-02-08T09:00:00\"}",
	  .status = 400, .code = "invalid_field", .field = "at" },
	{ .name = "assign without handler", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON, .body = "{\"type\": \"assign\", \"at\": \"2024-02-08T09:00:00+07:00\"}",
	  .status = 400, .code = "missing_field", .field = "handler" },
	{ .name = "assign an unknown handler", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON,
	  .body = "{\"type\": \"assign\", \"handler\": \"ma.vt\", \"at\": "
		  "\"2024-02-08T09:00:00+07:00\"}",
	  .status = 422, .code = "unknown_reference", .field = "handler" },
	{ .name = "transfer to an unknown unit", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON,
	  .body = "{\"type\": \"transfer\", \"unit\": \"phong-ma\", \"at\": "
		  "\"2024-02-08T09:00:00+07:00\"}",
	  .status = 422, .code = "unknown_reference", .field = "unit" },
	{ .name = "pause without reason", .method = "POST", .path = EV, .token = M, .ctype = JSON,
	  .body = "{\"type\": \"pause\", \"at\": \"2024-02-08T09:00:00+07:00\"}", .status = 400,
	  .code = "missing_field", .field = "reason" },
	{ .name = "an unknown event field", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON, .body = "{\"type\": \"note\", \"text\": \"x\", \"mood\": \"sad\"}",
	  .status = 400, .code = "unknown_field", .field = "mood" },
	{ .name = "expected_version as a string", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON, .body = "{\"type\": \"note\", \"text\": \"x\", \"expected_version\": \"1\"}",
	  .status = 400, .code = "invalid_field", .field = "expected_version" },
	{ .name = "a stale expected_version", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON,
	  .body = "{\"type\": \"complete\", \"expected_version\": 7, \"at\": "
		  "\"2024-02-08T09:00:00+07:00\"}",
	  .status = 409, .code = "version_mismatch" },
	{ .name = "resume when not paused", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON, .body = "{\"type\": \"resume\", \"at\": \"2024-02-08T09:00:00+07:00\"}",
	  .status = 409, .code = "illegal_transition" },
	{ .name = "return when not completed", .method = "POST", .path = EV, .token = M,
	  .ctype = JSON, .body = "{\"type\": \"return\", \"at\": \"2024-02-08T09:00:00+07:00\"}",
	  .status = 409, .code = "illegal_transition" },
	{ .name = "an event on an unknown case", .method = "POST",
	  .path = "/api/v1/cases/ERR-404/events", .token = M, .ctype = JSON,
	  .body = "{\"type\": \"note\", \"text\": \"x\"}", .status = 404, .code = "not_found" },
	/* -- documents and assignments -- */
	{ .name = "a document without summary", .method = "POST", .path = "/api/v1/documents",
	  .token = M, .ctype = JSON, .body = "{\"symbol\": \"1/X\"}", .status = 400,
	  .code = "missing_field", .field = "summary" },
	{ .name = "urgency: asap", .method = "POST", .path = "/api/v1/documents", .token = M,
	  .ctype = JSON, .body = "{\"summary\": \"V/v\", \"urgency\": \"asap\"}", .status = 400,
	  .code = "invalid_field", .field = "urgency" },
	{ .name = "confidentiality: public", .method = "POST", .path = "/api/v1/documents",
	  .token = M, .ctype = JSON, .body = "{\"summary\": \"V/v\", \"confidentiality\": \"public\"}",
	  .status = 400, .code = "invalid_field", .field = "confidentiality" },
	{ .name = "doc_date 30 February", .method = "POST", .path = "/api/v1/documents",
	  .token = M, .ctype = JSON, .body = "{\"summary\": \"V/v\", \"doc_date\": \"2024-02-30\"}",
	  .status = 400, .code = "invalid_field", .field = "doc_date" },
	{ .name = "an unknown lead_unit", .method = "POST", .path = "/api/v1/documents",
	  .token = M, .ctype = JSON, .body = "{\"summary\": \"V/v\", \"lead_unit\": \"phong-ma\"}",
	  .status = 422, .code = "unknown_reference", .field = "lead_unit" },
	{ .name = "an unknown document field", .method = "POST", .path = "/api/v1/documents",
	  .token = M, .ctype = JSON, .body = "{\"summary\": \"V/v\", \"sender\": \"Sở\"}",
	  .status = 400, .code = "unknown_field", .field = "sender" },
	{ .name = "an unknown assignment field", .method = "POST", .path = "/api/v1/assignments",
	  .token = M, .ctype = JSON,
	  .body = "{\"direction\": \"Chỉ đạo\", \"unit\": \"hctc\", \"title\": \"x\", "
		  "\"due_at\": \"2024-03-29T17:00:00+07:00\", \"priority\": 1}",
	  .status = 400, .code = "unknown_field", .field = "priority" },
	{ .name = "incoming_no 0", .method = "POST", .path = "/api/v1/documents", .token = M,
	  .ctype = JSON, .body = "{\"summary\": \"V/v\", \"incoming_no\": 0}", .status = 400,
	  .code = "invalid_field", .field = "incoming_no" },
	{ .name = "a reused incoming_no", .method = "POST", .path = "/api/v1/documents",
	  .token = M, .ctype = JSON, .seed = SEED_DOC,
	  .body = "{\"summary\": \"V/v\", \"incoming_no\": 1, \"received_at\": "
		  "\"2024-03-01T08:00:00+07:00\"}",
	  .status = 409, .code = "conflict" },
	{ .name = "reopen a registered document", .method = "POST",
	  .path = "/api/v1/documents/1/events", .token = M, .ctype = JSON, .seed = SEED_DOC,
	  .body = "{\"type\": \"reopen\", \"reason\": \"x\"}", .status = 409,
	  .code = "illegal_transition" },
	{ .name = "a direction without due_at", .method = "POST", .path = "/api/v1/assignments",
	  .token = M, .ctype = JSON,
	  .body = "{\"direction\": \"Ý kiến chỉ đạo của Chủ tịch\", \"unit\": \"hctc\", \"title\": "
		  "\"Kiểm tra\"}",
	  .status = 400, .code = "missing_field", .field = "due_at" },
	{ .name = "an assignment to an unknown unit", .method = "POST",
	  .path = "/api/v1/documents/1/assignments", .token = M, .ctype = JSON, .seed = SEED_DOC,
	  .body = "{\"unit\": \"phong-ma\"}", .status = 422, .code = "unknown_reference",
	  .field = "unit" },
	{ .name = "role: boss", .method = "POST", .path = "/api/v1/documents/1/assignments",
	  .token = M, .ctype = JSON, .seed = SEED_DOC, .body = "{\"unit\": \"hctc\", \"role\": \"boss\"}",
	  .status = 400, .code = "invalid_field", .field = "role" },
	{ .name = "an assignment of an unknown document", .method = "POST",
	  .path = "/api/v1/documents/999/assignments", .token = M, .ctype = JSON,
	  .body = "{\"unit\": \"hctc\"}", .status = 404, .code = "not_found" },
	{ .name = "reopen an open assignment", .method = "POST",
	  .path = "/api/v1/assignments/1/events", .token = M, .ctype = JSON, .seed = SEED_DOC,
	  .body = "{\"type\": \"reopen\", \"reason\": \"x\"}", .status = 409,
	  .code = "illegal_transition" },
};

static struct api_t t;

static void setup(void)
{
	api_t_start(&t, &(struct api_options){
				.server = "header_bytes = 2048; body_bytes = 4096; "
					  "batch_body_bytes = 65536; header_timeout = 0.3; "
					  "body_timeout = 0.3;" });
}

static void teardown(void)
{
	api_t_teardown(&t);
}

/* What every row finds: the case ERR-1 (1.004873, received 7/2/2024 10:00, version 1), and with
 * SEED_DOC the document 1 (incoming_no 1 of 2024 in the default book) and its assignment 1. */
static void seed(const struct bad *row)
{
	api_t_req(&t, "POST", "/api/v1/cases", M,
		  "{\"code\": \"ERR-1\", \"procedure\": \"1.004873\", \"unit\": \"ttphvhcc\", "
		  "\"received_at\": \"2024-02-07T10:00:00+07:00\"}",
		  201);
	if (row->seed & SEED_DOC) {
		json_t *d = api_t_req(&t, "POST", "/api/v1/documents", M,
				      "{\"summary\": \"V/v cải cách hành chính\", \"received_at\": "
				      "\"2024-02-21T08:00:00+07:00\", \"lead_unit\": \"vp\", "
				      "\"due_at\": \"2024-03-15T17:00:00+07:00\"}",
				      201);
		cr_assert_eq(api_int(d, "id"), 1, "the first document's id");
		cr_assert_eq(api_int(d, "incoming_no"), 1);
		json_t *a = api_t_req(&t, "POST", "/api/v1/documents/1/assignments", M,
				      "{\"unit\": \"hctc\"}", 201);
		cr_assert_eq(api_int(a, "id"), 1, "the first assignment's id");
	}
}

/* The request of row (malloc'd) and its length. */
static char *request_of(const struct bad *row, size_t *len)
{
	char *body = NULL, *pad = NULL, *req = NULL;
	size_t blen = 0;

	if (row->raw) {
		*len = strlen(row->raw);
		return strdup(row->raw);
	}
	if (row->pad) {
		char *fill = malloc((size_t)row->pad + 1);
		memset(fill, 'a', (size_t)row->pad);
		fill[row->pad] = '\0';
		cr_assert_geq(asprintf(&body, "{\"code\": \"BIG-1\", \"procedure\": \"1.004873\", "
					      "\"unit\": \"ttphvhcc\", \"applicant\": \"%s\"}%s",
				       fill, strcmp(row->ctype, NDJSON) ? "" : "\n"),
			      0);
		free(fill);
		blen = strlen(body);
	} else if (row->body) {
		body = strdup(row->body);
		blen = strlen(body);
	}
	if (row->header_pad) {
		pad = malloc((size_t)row->header_pad + 1);
		memset(pad, 'p', (size_t)row->header_pad);
		pad[row->header_pad] = '\0';
	}
	int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s%s%s%s%s%s",
			 row->method, row->path, row->token ? "Authorization: Bearer " : "",
			 row->token ? row->token : "", row->token ? "\r\n" : "",
			 row->ctype ? "Content-Type: " : "", row->ctype ? row->ctype : "",
			 row->ctype ? "\r\n" : "", pad ? "X-Pad: " : "", pad ? pad : "");
	cr_assert_gt(n, 0);
	size_t head = (size_t)n;
	req = realloc(req, head + 200 + blen);
	if (pad)
		head += (size_t)sprintf(req + head, "\r\n");
	if (body)
		head += (size_t)sprintf(req + head, "Content-Length: %zu\r\n", blen);
	head += (size_t)sprintf(req + head, "\r\n");
	if (body)
		memcpy(req + head, body, blen);
	*len = head + blen;
	free(body);
	free(pad);
	return req;
}

static bool allow_lists(const char *allow, const char *method)
{
	const char *p = allow;
	size_t n = strlen(method);

	while (p && (p = strstr(p, method))) {
		bool start = p == allow || p[-1] == ' ' || p[-1] == ',';
		bool end = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
		if (start && end)
			return true;
		p += n;
	}
	return false;
}

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Criterion copies parameters into the test's process byte for byte, where the pointers of
 * rows[] would not be valid: the parameter is the row's index. */
ParameterizedTestParameters(errors, table)
{
	static size_t index[NROWS];

	for (size_t i = 0; i < NROWS; i++)
		index[i] = i;
	return cr_make_param_array(size_t, index, NROWS);
}

ParameterizedTest(size_t *i, errors, table, .init = setup, .fini = teardown, .timeout = 60)
{
	const struct bad *row = &rows[*i];
	struct http_client_response resp = { 0 };
	struct api_db_state before;
	struct err e = { 0 };
	struct timespec t0, t1;
	size_t len;

	seed(row);
	api_t_state(&t, &before);
	snprintf(t.last, sizeof(t.last), "[%s]", row->name);

	char *req = request_of(row, &len);
	struct http_client *c = api_connect(&t.f, 5000, &e);
	cr_assert_not_null(c, "[%s] connect: %s", row->name, e.msg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The server may answer and close before a large body is all sent: a failed send is
	 * fine as long as the answer can be read. */
	(void)http_client_send(c, req, len, &e);
	free(req);
	int rc = http_client_read_response(c, &resp, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(rc, 0, "[%s] no answer: %s", row->name, e.msg);

	json_t *j = resp.body_len ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
	const char *code = api_str(j, "error.code"), *msg = api_str(j, "error.message");
	cr_expect_eq(resp.status, row->status, "[%s] status %d, expected %d: %.500s", row->name,
		     resp.status, row->status, resp.body);
	cr_expect(code && !strcmp(code, row->code), "[%s] error.code %s, expected %s: %.500s",
		  row->name, code ? code : "(none)", row->code, resp.body);
	cr_expect(msg && *msg, "[%s] no error.message: %.500s", row->name, resp.body);
	if (row->field) {
		const char *field = api_str(j, "error.field");
		cr_expect(field && !strcmp(field, row->field),
			  "[%s] error.field %s, expected %s: %.500s", row->name,
			  field ? field : "(none)", row->field, resp.body);
	}
	const char *ctype = http_client_header(&resp, "Content-Type");
	cr_expect(ctype && !strncmp(ctype, "application/json", 16), "[%s] Content-Type %s",
		  row->name, ctype ? ctype : "(none)");
	if (row->allow) {
		const char *allow = http_client_header(&resp, "Allow");
		char want[64], *save = NULL;
		snprintf(want, sizeof(want), "%s", row->allow);
		cr_expect(allow, "[%s] no Allow header", row->name);
		for (char *m = strtok_r(want, ",", &save); allow && m; m = strtok_r(NULL, ",", &save))
			cr_expect(allow_lists(allow, m), "[%s] Allow: %s lacks %s", row->name, allow, m);
	}
	if (row->incomplete) {
		/* The answer came when the 0.3 s ran out, not at once nor much later. */
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		cr_expect(s >= 0.25 && s < 3.0, "[%s] answered after %.3f s (header/body_timeout "
						 "0.3 s)",
			  row->name, s);
	}
	if (row->closes)
		cr_expect_eq(http_client_wait_closed(c, &e), 0,
			     "[%s] the connection stayed open: %s", row->name, e.msg);
	if (j)
		json_decref(j);
	http_client_response_free(&resp);
	http_client_free(c);
	api_t_unchanged(&t, &before);
	api_t_stop(&t);
}

/* After a framing error the connection is closed, but the server keeps serving others, and a
 * kept-alive connection goes on after an ordinary (application) error. */
Test(errors, errors_do_not_break_the_server, .init = setup, .fini = teardown, .timeout = 60)
{
	static const char *const auth_m[] = { "Authorization: Bearer " M, NULL };
	static const char *const auth_admin[] = { "Authorization: Bearer " ADMIN, NULL };
	static const char *const post_m[] = { "Authorization: Bearer " M,
					       "Content-Type: application/json", NULL };
	static const struct {
		const char *method, *path;
		const char *const *headers;
		const char *body;
		int status;
	} seq[] = {
		{ "GET", "/api/v1/cases?limit=0", auth_m, NULL, 400 },
		{ "GET", "/api/v1/nope", auth_admin, NULL, 404 },
		{ "POST", "/api/v1/cases", post_m, "[1]", 400 },
		{ "POST", "/api/v1/cases", post_m, CASE(", \"colour\": 1"), 400 },
		{ "POST", "/api/v1/cases", auth_m, CASE(""), 415 },
		{ "GET", "/api/v1/cases", NULL, NULL, 401 },
		{ "POST", "/api/v1/cases", post_m, CASE(""), 201 },
		{ "POST", "/api/v1/cases", post_m, CASE(""), 200 },
		{ "GET", "/api/v1/cases/X-1", auth_m, NULL, 200 },
	};
	struct http_client_response resp = { 0 };
	struct err e = { 0 };

	/* Application errors keep the connection: every request on one connection. */
	struct http_client *c = api_connect(&t.f, 5000, &e);
	cr_assert_not_null(c, "%s", e.msg);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		int rc = http_client_request(c, seq[i].method, seq[i].path, seq[i].headers,
					     seq[i].body, seq[i].body ? strlen(seq[i].body) : 0, &resp,
					     &e);
		cr_assert_eq(rc, 0, "request %zu (%s %s) on the kept-alive connection: %s", i,
			     seq[i].method, seq[i].path, e.msg);
		cr_assert_eq(resp.status, seq[i].status, "%s %s: %d %s", seq[i].method,
			     seq[i].path, resp.status, resp.body);
	}
	http_client_response_free(&resp);
	http_client_free(c);

	/* After a framing error closes its connection, the server still serves others. */
	c = api_connect(&t.f, 5000, &e);
	cr_assert_not_null(c, "%s", e.msg);
	cr_assert_eq(http_client_send_str(c, "HELLO\r\n\r\n", &e), 0);
	cr_assert_eq(http_client_read_response(c, &resp, &e), 0, "%s", e.msg);
	cr_assert_eq(resp.status, 400);
	http_client_response_free(&resp);
	http_client_free(c);
	api_t_req(&t, "GET", "/api/v1/cases/X-1", M, NULL, 200);
	api_t_stop(&t);
}

/* strict_fields = false: unknown fields are ignored instead of rejected. */
Test(errors, strict_fields_off_ignores_unknown_fields, .fini = teardown, .timeout = 60)
{
	api_t_start(&t, &(struct api_options){ .server = "strict_fields = false;" });
	json_t *c = api_t_req(&t, "POST", "/api/v1/cases", M, CASE(", \"colour\": \"red\""), 201);
	cr_assert_null(json_object_get(c, "colour"));
	api_t_stop(&t);
}

/* Pipelining against the real daemon: five requests in one write on one connection — a create,
 * a read of a case that is not there, a second create, the first case read back, a third
 * create — are answered in the order sent, each with its own status, though the creates wait
 * for their commit and the reads do not need to. */
Test(errors, pipelined_requests_are_answered_in_order, .fini = teardown, .timeout = 60)
{
	static const char *const codes[] = { "P-1", NULL, "P-2", "P-1", "P-3" };
	static const int want[] = { 201, 404, 201, 200, 201 };
	struct http_client_response resp = { 0 };
	struct err e = { 0 };
	char all[4096] = "", one[600];
	struct http_client *c;

	api_t_start(&t, NULL);
	for (size_t i = 0; i < 5; i++) {
		if (want[i] == 201) {
			char body[300];
			int n = snprintf(body, sizeof(body),
					 "{\"code\": \"%s\", \"procedure\": \"1.004873\", \"unit\": "
					 "\"ttphvhcc\", \"received_at\": \"2024-02-07T10:00:00+07:00\"}",
					 codes[i]);
			snprintf(one, sizeof(one), RAW_HEAD("POST", "/api/v1/cases",
				 "Content-Length: %d\r\n\r\n%s"), n, body);
		} else {
			snprintf(one, sizeof(one), RAW_HEAD("GET", "/api/v1/cases/%s", "\r\n"),
				 codes[i] ? codes[i] : "P-NONE");
		}
		strncat(all, one, sizeof(all) - strlen(all) - 1);
	}
	cr_assert_not_null(c = api_connect(&t.f, 5000, &e), "%s", e.msg);
	cr_assert_eq(http_client_send_str(c, all, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(http_client_read_response(c, &resp, &e), 0, "answer %zu: %s", i, e.msg);
		cr_assert_eq(resp.status, want[i], "answer %zu: %d, expected %d: %s", i, resp.status,
			     want[i], resp.body);
		if (want[i] != 404) {
			json_t *j = json_loads(resp.body, 0, NULL);
			cr_assert_str_eq(api_str(j, "code"), codes[i], "answer %zu: %s", i, resp.body);
			json_decref(j);
		}
	}
	http_client_response_free(&resp);
	http_client_free(c);
	api_t_stop(&t);
}

/* server.max_connections = 3 against the real daemon: with three connections open, a fourth is
 * answered 503 too_many_connections and closed; once one of the three is closed, a new one is
 * served again. */
Test(errors, beyond_max_connections_gets_503_and_a_close, .fini = teardown, .timeout = 60)
{
	struct http_client_response resp = { 0 };
	struct http_client *held[3], *extra;
	struct err e = { 0 };

	api_t_start(&t, &(struct api_options){ .server = "max_connections = 3;" });
	for (size_t i = 0; i < 3; i++) {
		cr_assert_not_null(held[i] = api_connect(&t.f, 5000, &e), "%s", e.msg);
		/* Served: the connection is the daemon's before the next one comes. */
		cr_assert_eq(http_client_request(held[i], "GET", "/healthz", NULL, NULL, 0, &resp,
						 &e), 0, "%s", e.msg);
		cr_assert_eq(resp.status, 200);
	}
	cr_assert_not_null(extra = api_connect(&t.f, 5000, &e), "%s", e.msg);
	cr_assert_eq(http_client_send_str(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &e), 0);
	cr_assert_eq(http_client_read_response(extra, &resp, &e), 0, "%s", e.msg);
	cr_assert_eq(resp.status, 503, "%d %s", resp.status, resp.body);
	json_t *j = json_loads(resp.body, 0, NULL);
	cr_assert_str_eq(api_str(j, "error.code"), "too_many_connections", "%s", resp.body);
	json_decref(j);
	cr_assert_eq(http_client_wait_closed(extra, &e), 0, "the refused connection stays open");
	http_client_free(extra);

	http_client_free(held[0]);
	/* The daemon notices the close in its next turn: a new connection is served once it has. */
	int status = 0;
	for (int tries = 0; tries < 100 && status != 200; tries++) {
		struct http_client *again = api_connect(&t.f, 5000, &e);
		cr_assert_not_null(again, "%s", e.msg);
		if (http_client_request(again, "GET", "/healthz", NULL, NULL, 0, &resp, &e) == 0)
			status = resp.status;
		http_client_free(again);
		if (status != 200)
			api_sleep_ms(20);
	}
	cr_assert_eq(status, 200, "no connection served after one of the three closed");
	http_client_response_free(&resp);
	for (size_t i = 1; i < 3; i++)
		http_client_free(held[i]);
	api_t_stop(&t);
}

/* server.idle_timeout = 0.3 against the real daemon: a kept-alive connection that sends nothing
 * after its answer is closed once the 0.3 s have passed, not at once and not much later. */
Test(errors, an_idle_connection_is_closed_after_idle_timeout, .fini = teardown, .timeout = 60)
{
	struct http_client_response resp = { 0 };
	struct timespec t0, t1;
	struct err e = { 0 };
	struct http_client *c;

	api_t_start(&t, &(struct api_options){ .server = "idle_timeout = 0.3;" });
	cr_assert_not_null(c = api_connect(&t.f, 5000, &e), "%s", e.msg);
	cr_assert_eq(http_client_request(c, "GET", "/healthz", NULL, NULL, 0, &resp, &e), 0, "%s",
		     e.msg);
	cr_assert_eq(resp.status, 200);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(http_client_wait_closed(c, &e), 0, "the idle connection stayed open: %s",
		     e.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert(s >= 0.25 && s < 3.0, "closed after %.3f s (idle_timeout 0.3 s)", s);
	http_client_response_free(&resp);
	http_client_free(c);
	api_t_stop(&t);
}
