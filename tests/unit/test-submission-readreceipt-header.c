/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "array.h"
#include "str.h"
#include "buffer.h"
#include "istream.h"
#include "submission-readreceipt-header.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Every message is read twice: from memory, and from a file through a
   32-byte buffer, which splits every header line into pieces the way a
   long line is split in a real message. */
#define TEST_SMALL_BUFFER 32

struct header_case {
	const char *name;
	const char *message;

	bool is_receipt;
	/* NULL: no Message-ID */
	const char *message_id;
	unsigned int dnt_count;
	/* the message without its Disposition-Notification-To fields;
	   NULL: the same as message */
	const char *stripped;
};

#define HDR_BASE \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.org\r\n" \
	"Subject: Hello\r\n"
#define BODY "\r\nBody text.\r\nDisposition-Notification-To: x@y\r\n"

static const struct header_case header_cases[] = {
	{ .name = "ordinary message",
	  .message = HDR_BASE "Message-ID: <m1@example.com>\r\n" BODY,
	  .message_id = "<m1@example.com>" },
	{ .name = "one request in the middle",
	  .message = HDR_BASE
		"Disposition-Notification-To: Alice <alice@example.com>\r\n"
		"MIME-Version: 1.0\r\n" BODY,
	  .dnt_count = 1,
	  .stripped = HDR_BASE "MIME-Version: 1.0\r\n" BODY },
	{ .name = "first field, lowercase name, folded value",
	  .message = "disposition-notification-to: Alice\r\n"
		"\t<alice@example.com>,\r\n  carol@example.com\r\n"
		HDR_BASE BODY,
	  .dnt_count = 1,
	  .stripped = HDR_BASE BODY },
	{ .name = "two requests, the second last before the body",
	  .message = "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
		"Disposition-Notification-To: a@example.com\r\n"
		HDR_BASE
		"Disposition-Notification-To: b@example.com\r\n" BODY,
	  .dnt_count = 2,
	  .stripped = "Received: from a by b; Mon, 1 Jan 2024 "
		"00:00:00 +0000\r\n" HDR_BASE BODY },
	{ .name = "LF line ends",
	  .message = "To: b@example.org\n"
		"Disposition-Notification-To: a@example.com\n"
		"Subject: x\n\nbody\n",
	  .dnt_count = 1,
	  .stripped = "To: b@example.org\nSubject: x\n\nbody\n" },
	{ .name = "request as the last line, no body, no line end",
	  .message = "To: b@example.org\r\n"
		"Disposition-Notification-To: a@example.com",
	  .dnt_count = 1,
	  .stripped = "To: b@example.org\r\n" },
	{ .name = "similar names stay",
	  .message = HDR_BASE
		"X-Disposition-Notification-To: a@example.com\r\n"
		"Disposition-Notification-Options: x=optional,y\r\n"
		"Disposition-Notification-To-Not: a@example.com\r\n" BODY },
	{ .name = "space before the colon",
	  .message = HDR_BASE
		"Disposition-Notification-To : a@example.com\r\n" BODY,
	  .dnt_count = 1,
	  .stripped = HDR_BASE BODY },
	{ .name = "no header at all",
	  .message = "\r\nDisposition-Notification-To: a@example.com\r\n" },
	{ .name = "empty message",
	  .message = "" },
	{ .name = "a long request line",
	  .message = HDR_BASE "Disposition-Notification-To: "
		"Someone With A Very Long Display Name That Goes On And On "
		"And On <someone.with.a.very.long.local.part@"
		"a.very.long.subdomain.example.com>\r\n" BODY,
	  .dnt_count = 1,
	  .stripped = HDR_BASE BODY },

	/* receipts */
	{ .name = "receipt",
	  .message = HDR_BASE "Message-ID:\r\n <mdn.1@example.com>\r\n"
		"Content-Type: multipart/report;\r\n"
		"\treport-type=disposition-notification;\r\n"
		"\tboundary=\"b1\"\r\n" BODY,
	  .is_receipt = TRUE, .message_id = "<mdn.1@example.com>" },
	{ .name = "delivery status report",
	  .message = HDR_BASE "Content-Type: multipart/report; "
		"report-type=delivery-status; boundary=b1\r\n" BODY },
	{ .name = "report with broken parameters",
	  .message = HDR_BASE "Content-Type: multipart/report; "
		"report-type=\"disposition-notification\r\n" BODY,
	  .is_receipt = TRUE },
	{ .name = "receipt in the second Content-Type",
	  .message = HDR_BASE "Content-Type: text/plain\r\n"
		"Content-Type: multipart/report; "
		"report-type=disposition-notification\r\n" BODY,
	  .is_receipt = TRUE },
	{ .name = "receipt that asks for a receipt",
	  .message = HDR_BASE "Disposition-Notification-To: a@example.com\r\n"
		"Content-Type: multipart/report; "
		"report-type=disposition-notification\r\n" BODY,
	  .is_receipt = TRUE, .dnt_count = 1,
	  .stripped = HDR_BASE "Content-Type: multipart/report; "
		"report-type=disposition-notification\r\n" BODY },
	{ .name = "NUL and 8-bit bytes in the header",
	  .message = HDR_BASE "X-Bin: a\x01\xff\xfe b\r\n"
		"Disposition-Notification-To: a@example.com\r\n"
		"Content-Type: multipart/report; report-type=disposition-"
		"notification\r\n" BODY,
	  .is_receipt = TRUE, .dnt_count = 1,
	  .stripped = HDR_BASE "X-Bin: a\x01\xff\xfe b\r\n"
		"Content-Type: multipart/report; report-type=disposition-"
		"notification\r\n" BODY },
	{ .name = "header line without a colon",
	  .message = HDR_BASE "this is not a field\r\n"
		"Disposition-Notification-To: a@example.com\r\n" BODY,
	  .dnt_count = 1,
	  .stripped = HDR_BASE "this is not a field\r\n" BODY },
};

struct content_type_case {
	const char *value;
	bool is_receipt;
};

static const struct content_type_case content_type_cases[] = {
	{ "multipart/report; report-type=disposition-notification", TRUE },
	{ "Multipart/REPORT; Report-Type=\"Disposition-Notification\"; "
	  "boundary=\"x\"", TRUE },
	{ " (comment) multipart/report (c) ; report-type=disposition-"
	  "notification", TRUE },
	{ "multipart/report; report-type*0=disposition-; "
	  "report-type*1=notification", TRUE },
	{ "multipart/report; boundary=x; report-type=disposition-notification",
	  TRUE },
	/* a report that cannot be told apart from a receipt */
	{ "multipart/report", TRUE },
	{ "multipart/report; boundary=x", TRUE },
	{ "multipart/report; report-type=\"disposition-notification", TRUE },
	{ "multipart/report;;;", TRUE },
	{ "multipart/report; =; ==; report-type", TRUE },
	/* other reports */
	{ "multipart/report; report-type=delivery-status", FALSE },
	{ "multipart/report; report-type=disposition-notificationx", FALSE },
	{ "multipart/report; report-type=\"\"", FALSE },
	/* not reports */
	{ "text/plain", FALSE },
	{ "multipart/mixed; report-type=disposition-notification", FALSE },
	{ "message/disposition-notification", FALSE },
	{ "multipart/reports; report-type=disposition-notification", FALSE },
	{ "multipart report", FALSE },
	{ "", FALSE },
	{ "\x01\xff", FALSE },
};

static const char *test_read_all(struct istream *input)
{
	string_t *str = t_str_new(256);
	const unsigned char *data;
	size_t size;

	while (i_stream_read_more(input, &data, &size) > 0) {
		str_append_data(str, data, size);
		i_stream_skip(input, size);
	}
	assert_int_equal(input->stream_errno, 0);
	return str_c(str);
}

/* A file stream of data with a small buffer; the file is gone already. */
static struct istream *test_small_buffer_stream(const char *data)
{
	char path[] = "/tmp/test-submission-readreceipt.XXXXXX";
	struct istream *input;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	input = i_stream_create_fd_autoclose(&fd, TEST_SMALL_BUFFER);
	return input;
}

static void
test_header_case_on(const struct header_case *c, struct istream *input,
		    const char *how)
{
	struct submission_readreceipt_header hdr;
	struct istream *stripped;
	const char *error, *expected, *output;
	uoff_t removed;
	unsigned int pass;

	if (submission_readreceipt_header_read(input, pool_datastack_create(),
					       &hdr, &error) < 0)
		fail_msg("case \"%s\" (%s): %s", c->name, how, error);
	if (hdr.is_receipt != c->is_receipt) {
		fail_msg("case \"%s\" (%s): is_receipt: expected %d",
			 c->name, how, c->is_receipt ? 1 : 0);
	}
	if (null_strcmp(hdr.message_id, c->message_id) != 0) {
		fail_msg("case \"%s\" (%s): message_id: expected %s, got %s",
			 c->name, how, c->message_id == NULL ? "(none)" :
			 c->message_id, hdr.message_id == NULL ? "(none)" :
			 hdr.message_id);
	}
	if (array_count(&hdr.dnt_fields) != c->dnt_count) {
		fail_msg("case \"%s\" (%s): %u requests, expected %u",
			 c->name, how, array_count(&hdr.dnt_fields),
			 c->dnt_count);
	}
	assert_false(hdr.dnt_overflow);

	expected = c->stripped != NULL ? c->stripped : c->message;
	stripped = submission_readreceipt_strip(input, &hdr, &removed);
	/* read twice: the relay seeks back to the start before sending */
	for (pass = 0; pass < 2; pass++) {
		i_stream_seek(stripped, 0);
		output = test_read_all(stripped);
		if (strcmp(output, expected) != 0) {
			fail_msg("case \"%s\" (%s): stripped message "
				 "differs:\n%s\n---- expected:\n%s",
				 c->name, how, output, expected);
		}
	}
	if (removed != strlen(c->message) - strlen(expected)) {
		fail_msg("case \"%s\" (%s): removed %"PRIuUOFF_T" bytes",
			 c->name, how, removed);
	}
	i_stream_unref(&stripped);
}

static void test_header_read_and_strip(void **state ATTR_UNUSED)
{
	struct istream *input;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(header_cases); i++) T_BEGIN {
		const struct header_case *c = &header_cases[i];

		input = i_stream_create_from_data(c->message,
						  strlen(c->message));
		test_header_case_on(c, input, "memory");
		i_stream_unref(&input);

		input = test_small_buffer_stream(c->message);
		test_header_case_on(c, input, "small buffer");
		i_stream_unref(&input);
	} T_END;
}

static void test_content_type(void **state ATTR_UNUSED)
{
	unsigned int i;
	bool ret;

	for (i = 0; i < N_ELEMENTS(content_type_cases); i++) T_BEGIN {
		const struct content_type_case *c = &content_type_cases[i];

		ret = submission_readreceipt_content_type_is_receipt(c->value);
		if (ret != c->is_receipt) {
			fail_msg("\"%s\": expected %s", c->value,
				 c->is_receipt ? "a receipt" : "no receipt");
		}
	} T_END;
}

static void test_too_many_requests(void **state ATTR_UNUSED)
{
	struct submission_readreceipt_header hdr;
	struct istream *input;
	const char *error;
	string_t *msg;
	unsigned int i;

	msg = t_str_new(8192);
	str_append(msg, HDR_BASE);
	for (i = 0; i <= SUBMISSION_READRECEIPT_DNT_MAX; i++)
		str_printfa(msg, "Disposition-Notification-To: a%u@x\r\n", i);
	str_append(msg, BODY);

	input = i_stream_create_from_data(str_data(msg), str_len(msg));
	assert_int_equal(submission_readreceipt_header_read(input,
		pool_datastack_create(), &hdr, &error), 0);
	assert_true(hdr.dnt_overflow);
	assert_int_equal(array_count(&hdr.dnt_fields),
			 SUBMISSION_READRECEIPT_DNT_MAX);
	i_stream_unref(&input);
}

/* The message ends inside its last header field, without a line end
   (found by fuzz-submission). For the lengths where the field's last piece
   fills the stream's buffer, Dovecot's header parser hands the field over
   only in pieces that continue, never its complete value, and the
   Content-Type or Message-ID there is missed: a receipt passes as
   ordinary mail. Every length must give what the message says. */
#define TEST_LAST_FIELD_MAX_PAD 80
static void test_last_field_at_buffer_end(void **state ATTR_UNUSED)
{
	struct submission_readreceipt_header hdr;
	struct istream *input;
	string_t *missed_type, *missed_id;
	const char *error, *msg, *pad;
	unsigned int len;

	missed_type = t_str_new(64);
	missed_id = t_str_new(64);
	for (len = 1; len <= TEST_LAST_FIELD_MAX_PAD; len++) T_BEGIN {
		pad = t_strdup_printf("%0*u", len, 0);

		msg = t_strconcat("Content-Type: multipart/report;"
			"report-type=disposition-notification;boundary=",
			pad, NULL);
		input = test_small_buffer_stream(msg);
		assert_int_equal(submission_readreceipt_header_read(input,
			pool_datastack_create(), &hdr, &error), 0);
		if (!hdr.is_receipt)
			str_printfa(missed_type, " %zu", strlen(msg));
		i_stream_unref(&input);

		msg = t_strconcat("Message-ID: <", pad, NULL);
		input = test_small_buffer_stream(msg);
		assert_int_equal(submission_readreceipt_header_read(input,
			pool_datastack_create(), &hdr, &error), 0);
		if (null_strcmp(hdr.message_id, msg + 12) != 0)
			str_printfa(missed_id, " %zu", strlen(msg));
		i_stream_unref(&input);
	} T_END;

	if (str_len(missed_type) > 0 || str_len(missed_id) > 0) {
		fail_msg("header of one field without a line end, read "
			 "through a %u-byte buffer: Content-Type missed at "
			 "lengths:%s; Message-ID missed at lengths:%s",
			 TEST_SMALL_BUFFER, str_c(missed_type),
			 str_c(missed_id));
	}
}

static void test_read_error(void **state ATTR_UNUSED)
{
	struct submission_readreceipt_header hdr;
	struct istream *input;
	const char *error;

	input = i_stream_create_error_str(EIO, "disk on fire");
	assert_int_equal(submission_readreceipt_header_read(input,
		pool_datastack_create(), &hdr, &error), -1);
	assert_non_null(strstr(error, "disk on fire"));
	i_stream_unref(&input);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_read_and_strip),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_too_many_requests),
		cmocka_unit_test(test_last_field_at_buffer_end),
		cmocka_unit_test(test_read_error),
	};

	return TEST_RUN("submission-readreceipt-header", tests);
}
