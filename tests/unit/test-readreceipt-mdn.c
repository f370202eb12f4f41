/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "array.h"
#include "str.h"
#include "buffer.h"
#include "unichar.h"
#include "istream.h"
#include "rfc822-parser.h"
#include "rfc2231-parser.h"
#include "message-address.h"
#include "message-date.h"
#include "message-header-decode.h"
#include "message-header-parser.h"
#include "message-parser.h"
#include "qp-decoder.h"
#include "smtp-address.h"
#include "readreceipt-mdn.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Every receipt is built and then read back with Dovecot's own message
   parser; the checks look at what a receiving client would see. */

#define USER "user@example.com"
#define MDN_MESSAGE_ID "<mdn.1234@mx.example.com>"
#define MDN_BOUNDARY "mdn/1234/mx.example.com"
/* Sat, 01 Jul 2023 12:34:56 +0200 */
#define MDN_DATE 1688207696
#define MDN_TZ 120
#define TEST_MAX_PARTS 8

#define RCPTS(...) ((const char *const []){ __VA_ARGS__, NULL })

struct test_field {
	const char *name;
	/* unfolded */
	const char *value;
};

struct test_part {
	ARRAY(struct test_field) fields;
	buffer_t *body;
};

struct test_message {
	struct message_part *parts;
	struct test_part part[TEST_MAX_PARTS];
	unsigned int count;
};

struct mdn_case {
	const char *name;

	const char *const *recipients;
	const char *subject;
	const char *message_id;
	const char *original_recipient;
	const char *header;
	const char *reporting_ua;
	bool manual;
	bool include_headers;
	int tz_offset_mins;

	/* the subject the receipt shows (after "Read: ") */
	const char *expect_subject;
	/* Original-Message-ID, In-Reply-To and References; NULL: none */
	const char *expect_msgid;
	/* when it differs from reporting_ua */
	const char *expect_reporting_ua;
	/* NULL: no Original-Recipient */
	const char *expect_original_recipient;
	/* the third part, decoded; NULL: none */
	const char *expect_headers;
};

static const char *test_case_name;

static void ATTR_FORMAT(1, 2) test_fail(const char *fmt, ...)
{
	va_list args;
	const char *msg;

	va_start(args, fmt);
	msg = t_strdup_vprintf(fmt, args);
	va_end(args);
	fail_msg("case \"%s\": %s", test_case_name, msg);
}

static const char *test_str_or_null(const char *str)
{
	return str == NULL ? "(none)" : str;
}

static void
test_check_str(const char *what, const char *expected, const char *actual)
{
	if (null_strcmp(expected, actual) != 0) {
		test_fail("%s: expected \"%s\", got \"%s\"", what,
			  test_str_or_null(expected), test_str_or_null(actual));
	}
}

/* RFC 5322 unfolding: the parser keeps the CRLF of folded lines */
static const char *test_unfold(const unsigned char *data, size_t size)
{
	string_t *str = t_str_new(size + 1);
	size_t i;

	for (i = 0; i < size; i++) {
		if (data[i] != '\r' && data[i] != '\n')
			str_append_c(str, data[i]);
	}
	return str_c(str);
}

static void
test_add_field(struct test_part *part, struct message_header_line *hdr)
{
	struct test_field field;

	field.name = t_strdup(hdr->name);
	field.value = test_unfold(hdr->full_value, hdr->full_value_len);
	array_push_back(&part->fields, &field);
}

static void
test_parse_message(const string_t *msg, struct test_message *tm_r)
{
	struct message_parser_settings set;
	struct message_parser_ctx *parser;
	struct message_block block;
	struct istream *input;
	struct test_part *part;
	unsigned int i, idx;
	pool_t pool;
	int ret;

	i_zero(tm_r);
	for (i = 0; i < TEST_MAX_PARTS; i++) {
		t_array_init(&tm_r->part[i].fields, 16);
		tm_r->part[i].body = t_buffer_create(1024);
	}

	i_zero(&set);
	pool = pool_datastack_create();
	input = i_stream_create_from_data(str_data(msg), str_len(msg));
	parser = message_parser_init(pool, input, &set);
	while ((ret = message_parser_parse_next_block(parser, &block)) > 0) {
		idx = message_part_to_idx(block.part);
		if (idx >= TEST_MAX_PARTS)
			test_fail("too many MIME parts");
		part = &tm_r->part[idx];
		if (idx >= tm_r->count)
			tm_r->count = idx + 1;
		if (block.hdr != NULL) {
			if (block.hdr->eoh)
				continue;
			if (block.hdr->continues) {
				block.hdr->use_full_value = TRUE;
				continue;
			}
			test_add_field(part, block.hdr);
		} else if (block.size > 0) {
			buffer_append(part->body, block.data, block.size);
		}
	}
	if (input->stream_errno != 0)
		test_fail("read error: %s", i_stream_get_error(input));
	message_parser_deinit(&parser, &tm_r->parts);
	i_stream_unref(&input);
}

/* The value of the only instance of a field, NULL if it is absent; two
   instances fail the test. */
static const char *
test_field_get(const struct test_part *part, const char *name)
{
	const struct test_field *field;
	const char *value = NULL;

	array_foreach(&part->fields, field) {
		if (strcasecmp(field->name, name) != 0)
			continue;
		if (value != NULL)
			test_fail("field %s appears twice", name);
		value = field->value;
	}
	return value;
}

/* The field names of a part, joined by " " */
static const char *test_field_names(const struct test_part *part)
{
	const struct test_field *field;
	string_t *str = t_str_new(128);

	array_foreach(&part->fields, field) {
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, field->name);
	}
	return str_c(str);
}

/* "type/subtype" in lowercase; params_r gets the parameters */
static const char *
test_content_type(const char *value, const char *const **params_r)
{
	struct rfc822_parser_context parser;
	string_t *type = t_str_new(64);

	rfc822_parser_init(&parser, (const unsigned char *)value,
			   strlen(value), NULL);
	if (rfc822_parse_content_type(&parser, type) < 0)
		test_fail("unparsable Content-Type: %s", value);
	if (rfc2231_parse(&parser, params_r) < 0)
		test_fail("invalid Content-Type parameters: %s", value);
	rfc822_parser_deinit(&parser);
	return t_str_lcase(str_c(type));
}

static const char *
test_param(const char *const *params, const char *name)
{
	for (; *params != NULL; params += 2) {
		if (strcasecmp(params[0], name) == 0)
			return params[1];
	}
	return NULL;
}

static const char *test_qp_decode(const buffer_t *body)
{
	struct qp_decoder *qp;
	buffer_t *decoded = t_buffer_create(body->used + 1);
	const char *error;
	size_t pos;

	qp = qp_decoder_init(decoded);
	if (qp_decoder_more(qp, body->data, body->used, &pos, &error) < 0 ||
	    qp_decoder_finish(qp, &error) < 0)
		test_fail("invalid quoted-printable: %s", error);
	qp_decoder_deinit(&qp);
	return t_strndup(decoded->data, decoded->used);
}

/* The body of a part as the reader sees it: decoded, and without the line
   break that belongs to the following boundary. */
static const char *test_part_text(const struct test_part *part)
{
	const char *cte = test_field_get(part, "Content-Transfer-Encoding");
	const char *text;
	size_t len;

	if (cte == NULL || strcasecmp(cte, "7bit") == 0)
		text = t_strndup(part->body->data, part->body->used);
	else if (strcasecmp(cte, "quoted-printable") == 0)
		text = test_qp_decode(part->body);
	else {
		test_fail("unexpected Content-Transfer-Encoding %s", cte);
		return "";
	}
	len = strlen(text);
	if (len >= 2 && strcmp(text + len - 2, "\r\n") == 0)
		text = t_strndup(text, len - 2);
	return text;
}

/* RFC 5322 §2.1.1 and §2.3: every line ends in CRLF and has at most 998
   characters. Everything is 7-bit. */
static void test_check_lines(const string_t *msg)
{
	const unsigned char *data = str_data(msg);
	size_t i, size = str_len(msg), line_start = 0, line = 1;

	if (size < 2 || data[size - 2] != '\r' || data[size - 1] != '\n')
		test_fail("the message does not end in CRLF");
	for (i = 0; i < size; i++) {
		if (data[i] == '\n') {
			if (i == 0 || data[i - 1] != '\r')
				test_fail("line %zu: bare LF", line);
			if (i - 1 - line_start > 998) {
				test_fail("line %zu: %zu characters", line,
					  i - 1 - line_start);
			}
			line_start = i + 1;
			line++;
		} else if (data[i] == '\r') {
			if (i + 1 == size || data[i + 1] != '\n')
				test_fail("line %zu: bare CR", line);
		} else if (data[i] == '\0' || data[i] >= 0x80) {
			test_fail("line %zu: byte 0x%02x", line, data[i]);
		}
	}
}

static bool test_contains_icase(const char *haystack, const char *needle)
{
	return strstr(t_str_lcase(haystack), t_str_lcase(needle)) != NULL;
}

/* TRUE if a line of text starts with the named field */
static bool test_has_field_line(const char *text, const char *name)
{
	const char *p = text;
	size_t len = strlen(name);

	for (;;) {
		if (strncasecmp(p, name, len) == 0) {
			p += len;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == ':')
				return TRUE;
		}
		p = strchr(p, '\n');
		if (p == NULL)
			return FALSE;
		p++;
	}
}

static void
test_check_addresses(const char *what, const char *value,
		     const char *const *expected)
{
	const struct message_address *addr;
	const char *actual;
	unsigned int i = 0;

	if (value == NULL)
		test_fail("%s: missing", what);
	addr = message_address_parse(pool_datastack_create(),
				     (const unsigned char *)value,
				     strlen(value), UINT_MAX, 0);
	for (; addr != NULL; addr = addr->next, i++) {
		if (addr->invalid_syntax || addr->domain == NULL)
			test_fail("%s: invalid address in \"%s\"", what, value);
		if (expected[i] == NULL)
			test_fail("%s: too many addresses: %s", what, value);
		actual = t_strconcat(addr->mailbox, "@", addr->domain, NULL);
		test_check_str(what, expected[i], actual);
	}
	if (expected[i] != NULL)
		test_fail("%s: missing %s in \"%s\"", what, expected[i], value);
}

static void
test_check_header(const struct mdn_case *c, const struct test_part *top,
		  const struct readreceipt_mdn_input *input)
{
	const char *value, *expected_names, *const *params;
	buffer_t *decoded;
	time_t date;
	int tz;

	/* exactly these fields, nothing the original could have added, and
	   never a Disposition-Notification-To */
	expected_names = t_strconcat("From To Subject Date Message-ID",
		c->expect_msgid == NULL ? "" : " In-Reply-To References",
		c->manual ? "" : " Auto-Submitted",
		" MIME-Version Content-Type", NULL);
	test_check_str("header fields", expected_names, test_field_names(top));

	test_check_addresses("From", test_field_get(top, "From"),
			     RCPTS(USER));
	test_check_addresses("To", test_field_get(top, "To"), c->recipients);

	value = test_field_get(top, "Subject");
	decoded = t_buffer_create(256);
	message_header_decode_utf8((const unsigned char *)value,
				   strlen(value), decoded, NULL);
	test_check_str("decoded Subject",
		       *c->expect_subject == '\0' ? "Read:" :
		       t_strconcat("Read: ", c->expect_subject, NULL),
		       t_strndup(decoded->data, decoded->used));

	/* in the local time zone, which test_mdn_input() set */
	value = test_field_get(top, "Date");
	if (!message_date_parse((const unsigned char *)value, strlen(value),
				&date, &tz))
		test_fail("unparsable Date: %s", value);
	if (date != input->date || tz != c->tz_offset_mins) {
		test_fail("Date %s: expected %ld %+d, got %ld %+d", value,
			  (long)input->date, c->tz_offset_mins,
			  (long)date, tz);
	}

	test_check_str("Message-ID", MDN_MESSAGE_ID,
		       test_field_get(top, "Message-ID"));
	test_check_str("In-Reply-To", c->expect_msgid,
		       test_field_get(top, "In-Reply-To"));
	test_check_str("References", c->expect_msgid,
		       test_field_get(top, "References"));
	test_check_str("Auto-Submitted", c->manual ? NULL : "auto-replied",
		       test_field_get(top, "Auto-Submitted"));
	test_check_str("MIME-Version", "1.0",
		       test_field_get(top, "MIME-Version"));

	value = test_field_get(top, "Content-Type");
	test_check_str("Content-Type", "multipart/report",
		       test_content_type(value, &params));
	test_check_str("report-type", "disposition-notification",
		       test_param(params, "report-type"));
	test_check_str("boundary", MDN_BOUNDARY,
		       test_param(params, "boundary"));
}

static void
test_check_text_part(const struct mdn_case *c, const struct test_part *part)
{
	const char *const *params, *text;

	test_check_str("part 1 type", "text/plain",
		       test_content_type(test_field_get(part, "Content-Type"),
					 &params));
	test_check_str("part 1 charset", "utf-8",
		       t_str_lcase(test_param(params, "charset")));

	text = test_part_text(part);
	if (!uni_utf8_str_is_valid(text))
		test_fail("part 1 is not valid UTF-8");
	if (strstr(text, "displayed") == NULL ||
	    strstr(text, "no guarantee") == NULL ||
	    strstr(text, "read or understood") == NULL ||
	    strstr(text, USER) == NULL)
		test_fail("part 1 does not say what happened: %s", text);
	if (*c->expect_subject != '\0' &&
	    strstr(text, t_strdup_printf("\"%s\"", c->expect_subject)) == NULL)
		test_fail("part 1 does not name the subject: %s", text);
}

static void
test_check_report_part(const struct mdn_case *c,
		       const struct test_part *part)
{
	const char *const *params;
	struct istream *input;
	struct message_header_parser_ctx *hdr_ctx;
	struct message_header_line *hdr;
	struct test_part report;
	string_t *names;
	const char *reporting_ua;
	int ret;

	test_check_str("part 2 type", "message/disposition-notification",
		       test_content_type(test_field_get(part, "Content-Type"),
					 &params));
	if (test_field_get(part, "Content-Transfer-Encoding") != NULL)
		test_fail("part 2 has a Content-Transfer-Encoding");

	/* the report's fields, read like a header */
	i_zero(&report);
	t_array_init(&report.fields, 8);
	input = i_stream_create_from_data(part->body->data, part->body->used);
	hdr_ctx = message_parse_header_init(input, NULL, 0);
	while ((ret = message_parse_header_next(hdr_ctx, &hdr)) > 0) {
		if (hdr->eoh)
			break;
		if (hdr->continues) {
			hdr->use_full_value = TRUE;
			continue;
		}
		test_add_field(&report, hdr);
	}
	message_parse_header_deinit(&hdr_ctx);
	i_stream_unref(&input);

	reporting_ua = c->expect_reporting_ua != NULL ? c->expect_reporting_ua :
		c->reporting_ua == NULL || *c->reporting_ua == '\0' ? NULL :
		c->reporting_ua;
	/* RFC 8098 §3.1: the fields in this order */
	names = t_str_new(128);
	if (reporting_ua != NULL)
		str_append(names, "Reporting-UA ");
	if (c->expect_original_recipient != NULL)
		str_append(names, "Original-Recipient ");
	str_append(names, "Final-Recipient ");
	if (c->expect_msgid != NULL)
		str_append(names, "Original-Message-ID ");
	str_append(names, "Disposition");
	test_check_str("report fields", str_c(names),
		       test_field_names(&report));

	test_check_str("Reporting-UA", reporting_ua,
		       test_field_get(&report, "Reporting-UA"));
	test_check_str("Original-Recipient", c->expect_original_recipient,
		       test_field_get(&report, "Original-Recipient"));
	test_check_str("Final-Recipient", "rfc822; "USER,
		       test_field_get(&report, "Final-Recipient"));
	test_check_str("Original-Message-ID", c->expect_msgid,
		       test_field_get(&report, "Original-Message-ID"));
	test_check_str("Disposition", c->manual ?
		       "manual-action/MDN-sent-manually; displayed" :
		       "automatic-action/MDN-sent-automatically; displayed",
		       test_field_get(&report, "Disposition"));
}

static void
test_check_headers_part(const struct mdn_case *c,
			const struct test_part *part)
{
	const char *const *params, *text;

	test_check_str("part 3 type", "text/rfc822-headers",
		       test_content_type(test_field_get(part, "Content-Type"),
					 &params));
	text = test_part_text(part);
	/* the header part ends with its last line's CRLF, which
	   test_part_text() took for the boundary's */
	test_check_str("part 3", c->expect_headers,
		       t_strconcat(text, "\r\n", NULL));
}

/* The process' time zone: offset minutes east of UTC */
static void test_set_tz(int offset_mins)
{
	int west = -offset_mins;

	/* POSIX TZ offsets count west of Greenwich */
	if (setenv("TZ", t_strdup_printf("TST%c%d:%02d", west < 0 ? '-' : '+',
					 abs(west) / 60, abs(west) % 60),
		   1) < 0)
		test_fail("setenv(TZ) failed: %m");
	tzset();
}

static void
test_mdn_input(const struct mdn_case *c,
	       struct readreceipt_mdn_input *input_r)
{
	test_set_tz(c->tz_offset_mins);
	i_zero(input_r);
	input_r->user_email = USER;
	input_r->recipients = c->recipients;
	input_r->recipients_count = str_array_length(c->recipients);
	input_r->orig_subject = c->subject;
	input_r->orig_message_id = c->message_id;
	input_r->orig_original_recipient = c->original_recipient;
	if (c->header != NULL) {
		input_r->orig_header = (const unsigned char *)c->header;
		input_r->orig_header_size = strlen(c->header);
	}
	input_r->reporting_ua = c->reporting_ua;
	input_r->automatic = !c->manual;
	input_r->include_headers = c->include_headers;
	input_r->date = MDN_DATE;
	input_r->message_id = MDN_MESSAGE_ID;
	input_r->boundary = MDN_BOUNDARY;
}

static void test_run_case(const struct mdn_case *c)
{
	struct readreceipt_mdn_input input;
	struct test_message tm;
	const struct message_part *child;
	unsigned int children = 0;
	string_t *out;

	test_case_name = c->name;
	test_mdn_input(c, &input);
	out = t_str_new(4096);
	readreceipt_mdn_build(&input, out);

	test_check_lines(out);
	/* Never as a field, and nowhere at all unless the subject shown in
	   the receipt brings the words along */
	if (test_has_field_line(str_c(out), "Disposition-Notification-To") ||
	    (!test_contains_icase(c->expect_subject,
				  "Disposition-Notification-To") &&
	     test_contains_icase(str_c(out), "Disposition-Notification-To")))
		test_fail("Disposition-Notification-To in the receipt");

	test_parse_message(out, &tm);
	if ((tm.parts->flags & MESSAGE_PART_FLAG_MULTIPART) == 0)
		test_fail("not a multipart message");
	for (child = tm.parts->children; child != NULL; child = child->next)
		children++;
	if (children != (c->expect_headers == NULL ? 2U : 3U) ||
	    tm.count != children + 1)
		test_fail("%u parts", children);

	test_check_header(c, &tm.part[0], &input);
	test_check_text_part(c, &tm.part[1]);
	test_check_report_part(c, &tm.part[2]);
	if (c->expect_headers != NULL) {
		test_check_headers_part(c, &tm.part[3]);
		if (test_has_field_line(test_part_text(&tm.part[3]),
					"Disposition-Notification-To"))
			test_fail("Disposition-Notification-To in part 3");
	}
}

#define UA "mx.example.com; dovecot-readreceipt"
#define ORIG_HEADER_LINES \
	"Return-Path: <alice@example.org>\r\n" \
	"From: Alice <alice@example.org>\r\n" \
	"To: user@example.com\r\n" \
	"Subject: Lunch\r\n" \
	"Message-ID: <lunch@example.org>\r\n"
/* the header block ends with an empty line, which is not copied */
#define ORIG_HEADER ORIG_HEADER_LINES "\r\n"

static const struct mdn_case mdn_cases[] = {
	{ .name = "automatic",
	  .recipients = RCPTS("alice@example.org"),
	  .subject = "Lunch on Friday", .message_id = "<lunch@example.org>",
	  .reporting_ua = UA, .tz_offset_mins = MDN_TZ,
	  .expect_subject = "Lunch on Friday",
	  .expect_msgid = "<lunch@example.org>" },
	{ .name = "manual",
	  .recipients = RCPTS("alice@example.org"), .manual = TRUE,
	  .subject = "Lunch", .message_id = "<lunch@example.org>",
	  .reporting_ua = UA, .tz_offset_mins = -330,
	  .expect_subject = "Lunch",
	  .expect_msgid = "<lunch@example.org>" },
	{ .name = "two recipients, one needs quoting",
	  .recipients = RCPTS("alice@example.org", "john doe@example.net"),
	  .subject = "x", .message_id = "<a.b@c.d>", .reporting_ua = UA,
	  .expect_subject = "x", .expect_msgid = "<a.b@c.d>" },
	{ .name = "many recipients fold",
	  .recipients = RCPTS("a-long-local-part-1@example.org",
			      "a-long-local-part-2@example.org",
			      "a-long-local-part-3@example.org",
			      "a-long-local-part-4@example.org"),
	  .subject = "x", .reporting_ua = UA, .expect_subject = "x" },

	/* Subject */
	{ .name = "UTF-8 subject",
	  .recipients = RCPTS("alice@example.org"),
	  .subject = "Gr\xC3\xBC\xC3\x9F" "e aus K\xC3\xB6ln \xE2\x80\x93 "
		     "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
	  .reporting_ua = UA,
	  .expect_subject = "Gr\xC3\xBC\xC3\x9F" "e aus K\xC3\xB6ln "
			    "\xE2\x80\x93 "
			    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E" },
	{ .name = "RFC 2047 subject in Latin-1",
	  .recipients = RCPTS("alice@example.org"),
	  .subject = "=?ISO-8859-1?Q?Gr=FC=DFe?= aus =?utf-8?b?S8O2bG4=?=",
	  .reporting_ua = UA,
	  .expect_subject = "Gr\xC3\xBC\xC3\x9F" "e aus K\xC3\xB6ln" },
	{ .name = "long UTF-8 subject",
	  .recipients = RCPTS("alice@example.org"),
	  .subject = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9",
	  .reporting_ua = UA,
	  .expect_subject = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 "
		     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9" },
	{ .name = "subject with CR/LF cannot add fields",
	  .recipients = RCPTS("alice@example.org"),
	  .subject = "Hi\r\nBcc: victim@example.net\r\n"
		     "Disposition-Notification-To: x@example.net\nX-A: 1\r",
	  .reporting_ua = UA,
	  .expect_subject = "Hi Bcc: victim@example.net "
			    "Disposition-Notification-To: x@example.net "
			    "X-A: 1" },
	{ .name = "encoded CR/LF cannot add fields",
	  .recipients = RCPTS("alice@example.org"),
	  .subject = "=?utf-8?q?Hi=0D=0ABcc:_victim@example.net=0D=0A?=",
	  .reporting_ua = UA,
	  .expect_subject = "Hi Bcc: victim@example.net" },
	{ .name = "subject looks like an encoded word",
	  .recipients = RCPTS("alice@example.org"),
	  .subject = "about =?utf-8?q?x?= syntax", .reporting_ua = UA,
	  .expect_subject = "about x syntax" },
	{ .name = "subject with a literal encoded word after decoding",
	  .recipients = RCPTS("alice@example.org"),
	  .subject = "=?utf-8?q?=3D=3Futf-8=3Fq=3Fx=3F=3D?=",
	  .reporting_ua = UA,
	  .expect_subject = "=?utf-8?q?x?=" },
	{ .name = "subject with invalid UTF-8",
	  .recipients = RCPTS("alice@example.org"),
	  .subject = "a\xFF\xFE" "b", .reporting_ua = UA,
	  .expect_subject = "a\xEF\xBF\xBD" "b" },
	{ .name = "no subject",
	  .recipients = RCPTS("alice@example.org"), .reporting_ua = UA,
	  .expect_subject = "" },
	{ .name = "empty subject",
	  .recipients = RCPTS("alice@example.org"), .subject = " \t ",
	  .reporting_ua = UA, .expect_subject = "" },

	/* Message-ID */
	{ .name = "no Message-ID",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .reporting_ua = UA, .expect_subject = "x" },
	{ .name = "Message-ID with comment and whitespace",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = " (c) <id.1@[192.0.2.1]> (c)", .reporting_ua = UA,
	  .expect_subject = "x", .expect_msgid = "<id.1@[192.0.2.1]>" },
	{ .name = "Message-ID folded",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "\r\n\t<folded@example.org>\r\n",
	  .reporting_ua = UA,
	  .expect_subject = "x", .expect_msgid = "<folded@example.org>" },
	{ .name = "Message-ID with nested comments",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "(a (b) c) <id@example.org> (d <e@f>)",
	  .reporting_ua = UA,
	  .expect_subject = "x", .expect_msgid = "<id@example.org>" },
	{ .name = "two Message-IDs give none",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "<a@b> <c@d>", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "msg-id in a quoted string before the real one",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "\"<x@y>\" <real@host>", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "text before the Message-ID",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "garbage <a@b>", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "text after the Message-ID",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "<a@b> garbage", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Message-ID in an unterminated comment",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "(c <a@b>", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Message-ID after an unterminated comment",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "<a@b> (c", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Message-ID without '>'",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "<a@b", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Message-ID with a quoted id-left",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "<\"a b\"@example.org>", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Message-ID with a space inside",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "<a @b>", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "only garbage as Message-ID",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "not a message id", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Message-ID without brackets",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "lunch@example.org", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Message-ID without '@'",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "<lunch>", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Message-ID with a CRLF inside",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "<a\r\nBcc: x@example.net@b>", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Message-ID with 8-bit",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "<\xC3\xA9@example.org>", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "empty Message-ID",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .message_id = "", .reporting_ua = UA, .expect_subject = "x" },

	/* report fields */
	{ .name = "Reporting-UA empty",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .reporting_ua = "", .expect_subject = "x" },
	{ .name = "Reporting-UA NULL",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .expect_subject = "x" },
	{ .name = "Reporting-UA with CR/LF",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .reporting_ua = "mx\r\nX-Injected: 1;\tua ",
	  .expect_reporting_ua = "mx X-Injected: 1; ua",
	  .expect_subject = "x" },
	/* Original-Recipient: copied only when it is "rfc822; addr-spec",
	   and then written anew */
	{ .name = "Original-Recipient",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822;user@example.com", .reporting_ua = UA,
	  .expect_subject = "x",
	  .expect_original_recipient = "rfc822; user@example.com" },
	{ .name = "Original-Recipient type in capitals, comments",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "RFC822 (type) ; (address) user@example.com "
				"(end)",
	  .reporting_ua = UA, .expect_subject = "x",
	  .expect_original_recipient = "rfc822; user@example.com" },
	{ .name = "Original-Recipient folded",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = " rfc822;\r\n\tuser@example.com\r\n",
	  .reporting_ua = UA, .expect_subject = "x",
	  .expect_original_recipient = "rfc822; user@example.com" },
	{ .name = "Original-Recipient folded inside a quoted local part",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; \"john\r\n doe\"@example.com",
	  .reporting_ua = UA, .expect_subject = "x",
	  .expect_original_recipient =
		"rfc822; \"john doe\"@example.com" },
	{ .name = "Original-Recipient with a quoted local part",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; \"john doe\"@example.com",
	  .reporting_ua = UA, .expect_subject = "x",
	  .expect_original_recipient =
		"rfc822; \"john doe\"@example.com" },
	{ .name = "Original-Recipient quoted without need",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; \"user\"@example.com",
	  .reporting_ua = UA, .expect_subject = "x",
	  .expect_original_recipient = "rfc822; user@example.com" },
	{ .name = "Original-Recipient with a domain literal",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; user@[192.0.2.1]",
	  .reporting_ua = UA, .expect_subject = "x",
	  .expect_original_recipient = "rfc822; user@[192.0.2.1]" },
	{ .name = "Original-Recipient without type",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "user@example.com", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Original-Recipient of another type",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "x400; /C=XX/A=YY/", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Original-Recipient of type utf-8",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "utf-8; j\xC3\xB6rg@example.com",
	  .reporting_ua = UA, .expect_subject = "x" },
	{ .name = "Original-Recipient 8-bit",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; j\xC3\xB6rg@example.com",
	  .reporting_ua = UA, .expect_subject = "x" },
	{ .name = "Original-Recipient with a field injection",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822;a@b\r\nDisposition: x",
	  .reporting_ua = UA, .expect_subject = "x" },
	{ .name = "Original-Recipient with a display name",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; User <user@example.com>",
	  .reporting_ua = UA, .expect_subject = "x" },
	{ .name = "Original-Recipient in angle brackets",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; <user@example.com>",
	  .reporting_ua = UA, .expect_subject = "x" },
	{ .name = "Original-Recipient with two addresses",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; a@example.com, b@example.com",
	  .reporting_ua = UA, .expect_subject = "x" },
	{ .name = "Original-Recipient without domain",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; user", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Original-Recipient with an empty local part",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; \"\"@example.com",
	  .reporting_ua = UA, .expect_subject = "x" },
	{ .name = "Original-Recipient with a control character",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822; \"a\\\x01\"@example.com",
	  .reporting_ua = UA, .expect_subject = "x" },
	{ .name = "Original-Recipient type only",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = "rfc822;", .reporting_ua = UA,
	  .expect_subject = "x" },
	{ .name = "Original-Recipient empty",
	  .recipients = RCPTS("alice@example.org"), .subject = "x",
	  .original_recipient = " ", .reporting_ua = UA,
	  .expect_subject = "x" },

	/* the original's header */
	{ .name = "include_headers",
	  .recipients = RCPTS("alice@example.org"), .subject = "Lunch",
	  .message_id = "<lunch@example.org>", .reporting_ua = UA,
	  .include_headers = TRUE, .header = ORIG_HEADER,
	  .expect_subject = "Lunch", .expect_msgid = "<lunch@example.org>",
	  .expect_headers = ORIG_HEADER_LINES },
	{ .name = "include_headers off",
	  .recipients = RCPTS("alice@example.org"), .subject = "Lunch",
	  .reporting_ua = UA, .header = ORIG_HEADER,
	  .expect_subject = "Lunch" },
	{ .name = "include_headers without a header",
	  .recipients = RCPTS("alice@example.org"), .subject = "Lunch",
	  .reporting_ua = UA, .include_headers = TRUE,
	  .expect_subject = "Lunch" },
	{ .name = "include_headers: LF line ends, body cut off",
	  .recipients = RCPTS("alice@example.org"), .subject = "Lunch",
	  .reporting_ua = UA, .include_headers = TRUE,
	  .header = "From: a@example.org\nSubject: Lunch\n  folded\n\nbody\n",
	  .expect_subject = "Lunch",
	  .expect_headers = "From: a@example.org\r\nSubject: Lunch\r\n"
			    "  folded\r\n" },
	{ .name = "include_headers: request removed",
	  .recipients = RCPTS("alice@example.org"), .subject = "Lunch",
	  .reporting_ua = UA, .include_headers = TRUE,
	  .header = "From: a@example.org\r\n"
		    "Disposition-Notification-To: a@example.org,\r\n"
		    "\tb@example.org\r\n"
		    "disposition-notification-to : c@example.org\r\n"
		    "Disposition-Notification-Options: a=optional,b\r\n"
		    "Subject: Lunch\r\n",
	  .expect_subject = "Lunch",
	  .expect_headers = "From: a@example.org\r\n"
			    "Disposition-Notification-Options: a=optional,b\r\n"
			    "Subject: Lunch\r\n" },
	{ .name = "include_headers: 8-bit and a boundary-like line",
	  .recipients = RCPTS("alice@example.org"), .subject = "Lunch",
	  .reporting_ua = UA, .include_headers = TRUE,
	  .header = "Subject: Gr\xC3\xBC\xC3\x9F" "e \r\n"
		    "--"MDN_BOUNDARY"--\r\n"
		    "X-Trailing: space \r\n",
	  .expect_subject = "Lunch",
	  .expect_headers = "Subject: Gr\xC3\xBC\xC3\x9F" "e \r\n"
			    "--"MDN_BOUNDARY"--\r\n"
			    "X-Trailing: space \r\n" },
};

static void test_mdn_cases(void **state ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(mdn_cases); i++) T_BEGIN {
		test_run_case(&mdn_cases[i]);
	} T_END;
}

/* A hostile original: a 100 KB subject and a 100 KB header. The receipt
   stays small and valid. */
static void test_mdn_huge_original(void **state ATTR_UNUSED)
{
	static const struct {
		const char *name;
		bool one_line;
	} cases[] = {
		{ "100 KB header of many lines", FALSE },
		{ "100 KB header in one line", TRUE },
	};
	struct readreceipt_mdn_input input;
	struct mdn_case c;
	struct test_message tm;
	string_t *header, *subject, *expected, *out;
	const char *text;
	unsigned int i, n;

	for (i = 0; i < N_ELEMENTS(cases); i++) T_BEGIN {
		test_case_name = cases[i].name;
		header = t_str_new(110 * 1024);
		subject = t_str_new(110 * 1024);
		for (n = 0; str_len(subject) < 100 * 1024; n++)
			str_printfa(subject, "word%u ", n);
		str_append(header, "Subject: Lunch\r\n");
		if (cases[i].one_line)
			str_append(header, "X-Long:");
		for (n = 0; str_len(header) < 100 * 1024; n++) {
			str_printfa(header, cases[i].one_line ?
				    " x%05u%s" : "X-Filler-%05u: %s\r\n", n,
				    "0123456789abcdef0123456789abcdef");
		}
		str_append(header, "\r\n\r\n");

		i_zero(&c);
		c.name = cases[i].name;
		c.recipients = RCPTS("alice@example.org");
		c.subject = str_c(subject);
		c.header = str_c(header);
		c.include_headers = TRUE;
		c.reporting_ua = UA;
		test_mdn_input(&c, &input);

		out = t_str_new(1024);
		readreceipt_mdn_build(&input, out);
		test_check_lines(out);
		if (str_len(out) > READRECEIPT_MDN_HEADERS_MAX + 8192)
			test_fail("receipt of %zu bytes", str_len(out));

		/* the subject is cut to its limit, at a word here */
		text = readreceipt_mdn_clean_subject(str_c(subject));
		if (strlen(text) > READRECEIPT_MDN_SUBJECT_MAX ||
		    strlen(text) < READRECEIPT_MDN_SUBJECT_MAX - 10 ||
		    strncmp(text, "word0 word1 word2 ", 18) != 0)
			test_fail("subject cut to \"%s\"", text);
		c.expect_subject = text;

		test_parse_message(out, &tm);
		test_check_header(&c, &tm.part[0], &input);
		test_check_text_part(&c, &tm.part[1]);
		test_check_report_part(&c, &tm.part[2]);
		if (cases[i].one_line) {
			/* the long line does not fit */
			c.expect_headers = "Subject: Lunch\r\n";
		} else {
			/* every complete line that fits into the limit */
			expected = t_str_new(READRECEIPT_MDN_HEADERS_MAX);
			str_append(expected, "Subject: Lunch\r\n");
			for (n = 0;; n++) {
				text = t_strdup_printf(
					"X-Filler-%05u: %s\r\n", n,
					"0123456789abcdef0123456789abcdef");
				if (str_len(expected) + strlen(text) >
				    READRECEIPT_MDN_HEADERS_MAX)
					break;
				str_append(expected, text);
			}
			c.expect_headers = str_c(expected);
		}
		test_check_headers_part(&c, &tm.part[3]);
	} T_END;
}

static const struct {
	const char *input;
	const char *output;
} clean_subject_cases[] = {
	{ NULL, "" },
	{ "", "" },
	{ "Hello", "Hello" },
	{ "  a\tb\r\n c  ", "a b c" },
	{ "a\x01" "b\x7f" "c\x1b" "d", "a b c d" },
	{ "a\r\n\r\n\r\nb", "a b" },
	{ "=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "Gr\xC3\xBC\xC3\x9F" "e" },
	{ "=?iso-8859-1?q?Gr=FC=DFe?=", "Gr\xC3\xBC\xC3\x9F" "e" },
	{ "=?utf-8?b?YQ0KYg==?=", "a b" },
	{ "=?utf-8?q?a=00b?=", "a b" },
	/* C1 control NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR */
	{ "a\xC2\x85" "b\xE2\x80\xA8" "c\xE2\x80\xA9" "d", "a b c d" },
	{ "\xC3\xA9t\xC3\xA9", "\xC3\xA9t\xC3\xA9" },
	{ "\xFF", "\xEF\xBF\xBD" },
	{ "a\xC3", "a\xEF\xBF\xBD" },
};

static void test_mdn_clean_subject(void **state ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(clean_subject_cases); i++) T_BEGIN {
		test_case_name = t_strdup_printf("clean_subject %u", i);
		test_check_str("subject", clean_subject_cases[i].output,
			readreceipt_mdn_clean_subject(
				clean_subject_cases[i].input));
	} T_END;
}

/* Cutting at READRECEIPT_MDN_SUBJECT_MAX bytes never splits a character */
static void test_mdn_clean_subject_cut(void **state ATTR_UNUSED)
{
	static const struct {
		const char *name;
		const char *prefix;
		const char *repeat;
		/* expected length in bytes */
		size_t len;
	} cases[] = {
		{ "ASCII", "", "a", READRECEIPT_MDN_SUBJECT_MAX },
		{ "2-byte characters", "", "\xC3\xA9",
		  READRECEIPT_MDN_SUBJECT_MAX },
		{ "2-byte character across the limit", "a", "\xC3\xA9",
		  READRECEIPT_MDN_SUBJECT_MAX - 1 },
		{ "3-byte characters", "", "\xE2\x82\xAC",
		  READRECEIPT_MDN_SUBJECT_MAX / 3 * 3 },
		{ "4-byte characters", "ab", "\xF0\x9F\x98\x80",
		  2 + (READRECEIPT_MDN_SUBJECT_MAX - 2) / 4 * 4 },
		{ "a space at the cut is trimmed", "", "abc ",
		  READRECEIPT_MDN_SUBJECT_MAX - 1 },
	};
	string_t *input;
	const char *output;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(cases); i++) T_BEGIN {
		test_case_name = cases[i].name;
		input = t_str_new(2048);
		str_append(input, cases[i].prefix);
		while (str_len(input) < 2 * READRECEIPT_MDN_SUBJECT_MAX)
			str_append(input, cases[i].repeat);
		output = readreceipt_mdn_clean_subject(str_c(input));
		if (strlen(output) != cases[i].len) {
			test_fail("expected %zu bytes, got %zu", cases[i].len,
				  strlen(output));
		}
		if (!uni_utf8_str_is_valid(output))
			test_fail("invalid UTF-8 after the cut");
		if (strncmp(output, str_c(input), strlen(output)) != 0)
			test_fail("not a prefix of the input");
	} T_END;
}

/* The writers of addresses: a normalized address ("local@domain", local
   part unquoted) in the header (From, To, Final-Recipient) and in the SMTP
   envelope, quoted where it needs it. */
static const struct {
	const char *addr;
	/* the To: field's value, the addr-spec of Final-Recipient; NULL:
	   not checked (the receipt would not be 7-bit) */
	const char *header;
	const char *addr_spec;
	/* RCPT TO path; NULL: SMTP cannot carry the address */
	const char *path;
} address_cases[] = {
	{ "alice@example.org", "<alice@example.org>", "alice@example.org",
	  "<alice@example.org>" },
	{ "first.last+tag@example.org", "<first.last+tag@example.org>",
	  "first.last+tag@example.org", "<first.last+tag@example.org>" },
	{ "john doe@example.org", "<\"john doe\"@example.org>",
	  "\"john doe\"@example.org", "<\"john doe\"@example.org>" },
	{ "odd\"name@example.org", "<\"odd\\\"name\"@example.org>",
	  "\"odd\\\"name\"@example.org", "<\"odd\\\"name\"@example.org>" },
	{ "back\\slash@example.org", "<\"back\\\\slash\"@example.org>",
	  "\"back\\\\slash\"@example.org",
	  "<\"back\\\\slash\"@example.org>" },
	{ "a@b@example.org", "<\"a@b\"@example.org>", "\"a@b\"@example.org",
	  "<\"a@b\"@example.org>" },
	{ "a,b@example.org", "<\"a,b\"@example.org>", "\"a,b\"@example.org",
	  "<\"a,b\"@example.org>" },
	{ "user@[192.0.2.1]", "<user@[192.0.2.1]>", "user@[192.0.2.1]",
	  "<user@[192.0.2.1]>" },
	/* a control character is dropped in the header; SMTP cannot carry
	   it at all */
	{ "a\r\nBcc: x@example.org", "<\"aBcc: x\"@example.org>",
	  "\"aBcc: x\"@example.org", NULL },
	{ "tab\there@example.org", "<tabhere@example.org>",
	  "tabhere@example.org", NULL },
	{ "j\xC3\xB6rg@example.org", NULL, NULL, NULL },
	{ "user@exa mple.org", NULL, NULL, NULL },
	{ "user@", NULL, NULL, NULL },
	{ "@example.org", NULL, NULL, NULL },
	{ "no-domain", NULL, NULL, NULL },
};

/* The value of the first line of msg that starts with name, unfolded */
static const char *test_raw_field(const char *msg, const char *name)
{
	const char *p = strstr(t_strconcat("\r\n", msg, NULL),
			       t_strconcat("\r\n", name, NULL));
	string_t *value = t_str_new(128);

	if (p == NULL)
		return NULL;
	p += 2 + strlen(name);
	for (;;) {
		if (p[0] == '\r' && p[1] == '\n' &&
		    (p[2] == ' ' || p[2] == '\t'))
			p += 2;
		else if (p[0] == '\r' || p[0] == '\0')
			break;
		str_append_c(value, *p++);
	}
	return str_c(value);
}

static void
test_check_address_fields(const char *msg, const char *header,
			  const char *addr_spec)
{
	test_check_str("To", t_strconcat(header, ", <alice@example.org>",
					 NULL),
		       test_raw_field(msg, "To: "));
	test_check_str("From", header, test_raw_field(msg, "From: "));
	test_check_str("Final-Recipient",
		       t_strconcat("rfc822; ", addr_spec, NULL),
		       test_raw_field(msg, "Final-Recipient: "));
}

static void test_mdn_addresses(void **state ATTR_UNUSED)
{
	struct readreceipt_mdn_input input;
	struct smtp_address *smtp_addr;
	struct mdn_case c;
	const char *error;
	string_t *out;
	unsigned int i;
	int ret;

	for (i = 0; i < N_ELEMENTS(address_cases); i++) T_BEGIN {
		const char *addr = address_cases[i].addr;

		test_case_name = t_strdup_printf("address %u", i);
		smtp_addr = NULL;
		error = NULL;
		ret = readreceipt_mdn_smtp_address(pool_datastack_create(),
						   addr, &smtp_addr, &error);
		if (address_cases[i].path == NULL) {
			if (ret != -1 || error == NULL)
				test_fail("envelope: %s accepted", addr);
		} else if (ret != 0) {
			test_fail("envelope: %s refused: %s", addr, error);
		} else {
			test_check_str("RCPT TO", address_cases[i].path,
				       smtp_address_encode_path(smtp_addr));
		}

		if (address_cases[i].header != NULL) {
			/* the user and a requester at once */
			i_zero(&c);
			c.recipients = RCPTS(addr, "alice@example.org");
			test_mdn_input(&c, &input);
			input.user_email = addr;
			out = t_str_new(2048);
			readreceipt_mdn_build(&input, out);
			test_check_lines(out);
			test_check_address_fields(str_c(out),
						  address_cases[i].header,
						  address_cases[i].addr_spec);
		}
	} T_END;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mdn_cases),
		cmocka_unit_test(test_mdn_huge_original),
		cmocka_unit_test(test_mdn_clean_subject),
		cmocka_unit_test(test_mdn_clean_subject_cut),
		cmocka_unit_test(test_mdn_addresses),
	};

	return TEST_RUN("readreceipt-mdn", tests);
}
