/* ctl_http: libcurl easy requests for dunghanctl (see ctl_http.h). */
#include "ctl_http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_S 10L
#define TIMEOUT_S 600L /* an import chunk of 10 000 lines on a slow disk stays far below */

struct ctl_http {
	CURL *curl;
	char *base;
	char *auth; /* "Authorization: Bearer ..." or NULL */
	char errbuf[CURL_ERROR_SIZE];
};

struct sink {
	char *data;
	size_t len, cap;
	bool too_long;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;

	if (s->len + n + 1 > CTL_HTTP_MAX_ANSWER) {
		s->too_long = true;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n + 1)
			cap *= 2;
		char *d = realloc(s->data, cap);
		if (!d)
			return 0;
		s->data = d;
		s->cap = cap;
	}
	memcpy(s->data + s->len, ptr, n);
	s->len += n;
	s->data[s->len] = '\0';
	return n;
}

struct ctl_http *ctl_http_new(const char *base, const char *token, struct err *err)
{
	struct ctl_http *h = calloc(1, sizeof(*h));

	if (!h || !(h->base = strdup(base)) ||
	    (token && asprintf(&h->auth, "Authorization: Bearer %s", token) < 0)) {
		if (h)
			h->auth = NULL;
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(h->curl = curl_easy_init())) {
		err_set(err, NULL, "cannot initialise libcurl");
		goto fail;
	}
	return h;
fail:
	ctl_http_free(h);
	return NULL;
}

void ctl_http_free(struct ctl_http *h)
{
	if (!h)
		return;
	if (h->curl) {
		curl_easy_cleanup(h->curl);
		curl_global_cleanup();
	}
	free(h->base);
	free(h->auth);
	free(h);
}

const char *ctl_http_base(const struct ctl_http *h)
{
	return h->base;
}

int ctl_http_request(struct ctl_http *h, const char *method, const char *path,
		     const char *content_type, const char *body, size_t len,
		     struct ctl_http_answer *a, struct err *err)
{
	struct curl_slist *headers = NULL, *more;
	struct sink sink = { 0 };
	char *url = NULL, ctype[128];
	CURLcode rc;
	int ret = -1;

	memset(a, 0, sizeof(*a));
	if (asprintf(&url, "%s%s", h->base, path) < 0) {
		url = NULL;
		err_set(err, NULL, "out of memory");
		goto out;
	}
	if (h->auth && !(headers = curl_slist_append(headers, h->auth)))
		goto nomem;
	/* No "Expect: 100-continue" round trip before each body. */
	if (!(more = curl_slist_append(headers, "Expect:")))
		goto nomem;
	headers = more;
	if (body && content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
		if (!(more = curl_slist_append(headers, ctype)))
			goto nomem;
		headers = more;
	}
	curl_easy_reset(h->curl);
	h->errbuf[0] = '\0';
	if (curl_easy_setopt(h->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &sink) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, TIMEOUT_S) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK) {
		err_set(err, NULL, "cannot set up the request to %s", url);
		goto out;
	}
	if (body && (curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
		     curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) !=
			     CURLE_OK)) {
		err_set(err, NULL, "cannot set up the request to %s", url);
		goto out;
	}
	rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		if (sink.too_long)
			err_set(err, NULL, "the answer from %s is longer than %zu bytes", url,
				CTL_HTTP_MAX_ANSWER);
		else
			err_set(err, NULL, "cannot reach dunghand at %s: %s", h->base,
				h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &a->status);
	if (!sink.data && !(sink.data = calloc(1, 1)))
		goto nomem;
	a->body = sink.data;
	a->len = sink.len;
	sink.data = NULL;
	ret = 0;
	goto out;
nomem:
	err_set(err, NULL, "out of memory");
out:
	free(sink.data);
	curl_slist_free_all(headers);
	free(url);
	return ret;
}
