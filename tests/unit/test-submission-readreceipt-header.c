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
	/* the message's length, which may hold NULs (MSG() sets it) */
	size_t size;

	bool is_receipt;
	/* words of the expected unparsable reason; NULL: the structure can
	   be read */
	const char *unparsable;
	/* NULL: no Message-ID */
	const char *message_id;
	unsigned int dnt_count;
	/* the message without its Disposition-Notification-To fields;
	   NULL: the same as message */
	const char *stripped;
};

/* a message given as a string literal, NULs and all */
#define MSG(literal) .message = literal, .size = sizeof(literal) - 1

#define HDR_BASE \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.org\r\n" \
	"Subject: Hello\r\n"
#define BODY "\r\nBody text.\r\nDisposition-Notification-To: x@y\r\n"
#define CT(value) "Content-Type: " value "\r\n"

/* MIME parts, each with its header and body */
#define TEXT_PART \
	CT("text/plain; charset=utf-8") "\r\n" \
	"The message sent on Monday was displayed.\r\n"
#define MDN_FIELDS \
	"Reporting-UA: client.example.com; Mailer\r\n" \
	"Final-Recipient: rfc822; alice@example.com\r\n" \
	"Original-Message-ID: <orig@example.com>\r\n" \
	"Disposition: manual-action/MDN-sent-manually; displayed\r\n"
#define MDN_PART CT("message/disposition-notification") "\r\n" MDN_FIELDS
#define DSN_PART \
	CT("message/delivery-status") "\r\n" \
	"Reporting-MTA: dns; mx.example.com\r\n\r\n" \
	"Final-Recipient: rfc822; bob@example.org\r\n" \
	"Action: failed\r\nStatus: 5.1.1\r\n"
/* the body of a report with boundary b1: a text part, then part */
#define REPORT_BODY(part) \
	"\r\n--b1\r\n" TEXT_PART "--b1\r\n" part "--b1--\r\n"
/* a receipt as a client sends it */
#define RECEIPT \
	HDR_BASE CT("multipart/report; " \
		    "report-type=disposition-notification; boundary=b1") \
	REPORT_BODY(MDN_PART)
/* a text part and part in multipart/mixed with boundary m1 */
#define MIXED(part) \
	HDR_BASE CT("multipart/mixed; boundary=m1") \
	"\r\n--m1\r\n" TEXT_PART "--m1\r\n" part "--m1--\r\n"

static const struct header_case header_cases[] = {
	{ .name = "ordinary message",
	  MSG(HDR_BASE "Message-ID: <m1@example.com>\r\n" BODY),
	  .message_id = "<m1@example.com>" },
	{ .name = "one request in the middle",
	  MSG(HDR_BASE
		"Disposition-Notification-To: Alice <alice@example.com>\r\n"
		"MIME-Version: 1.0\r\n" BODY),
	  .dnt_count = 1,
	  .stripped = HDR_BASE "MIME-Version: 1.0\r\n" BODY },
	{ .name = "first field, lowercase name, folded value",
	  MSG("disposition-notification-to: Alice\r\n"
		"\t<alice@example.com>,\r\n  carol@example.com\r\n"
		HDR_BASE BODY),
	  .dnt_count = 1,
	  .stripped = HDR_BASE BODY },
	{ .name = "two requests, the second last before the body",
	  MSG("Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
		"Disposition-Notification-To: a@example.com\r\n"
		HDR_BASE
		"Disposition-Notification-To: b@example.com\r\n" BODY),
	  .dnt_count = 2,
	  .stripped = "Received: from a by b; Mon, 1 Jan 2024 "
		"00:00:00 +0000\r\n" HDR_BASE BODY },
	{ .name = "LF line ends",
	  MSG("To: b@example.org\n"
		"Disposition-Notification-To: a@example.com\n"
		"Subject: x\n\nbody\n"),
	  .dnt_count = 1,
	  .stripped = "To: b@example.org\nSubject: x\n\nbody\n" },
	{ .name = "request as the last line, no body, no line end",
	  MSG("To: b@example.org\r\n"
		"Disposition-Notification-To: a@example.com"),
	  .dnt_count = 1,
	  .stripped = "To: b@example.org\r\n" },
	{ .name = "similar names stay",
	  MSG(HDR_BASE
		"X-Disposition-Notification-To: a@example.com\r\n"
		"Disposition-Notification-Options: x=optional,y\r\n"
		"Disposition-Notification-To-Not: a@example.com\r\n" BODY) },
	{ .name = "space before the colon",
	  MSG(HDR_BASE
		"Disposition-Notification-To : a@example.com\r\n" BODY),
	  .dnt_count = 1,
	  .stripped = HDR_BASE BODY },
	{ .name = "no header at all",
	  MSG("\r\nDisposition-Notification-To: a@example.com\r\n") },
	{ .name = "empty message",
	  MSG("") },
	{ .name = "a long request line",
	  MSG(HDR_BASE "Disposition-Notification-To: "
		"Someone With A Very Long Display Name That Goes On And On "
		"And On <someone.with.a.very.long.local.part@"
		"a.very.long.subdomain.example.com>\r\n" BODY),
	  .dnt_count = 1,
	  .stripped = HDR_BASE BODY },
	{ .name = "header line without a colon",
	  MSG(HDR_BASE "this is not a field\r\n"
		"Disposition-Notification-To: a@example.com\r\n" BODY),
	  .dnt_count = 1,
	  .stripped = HDR_BASE "this is not a field\r\n" BODY },

	/* receipts */
	{ .name = "receipt",
	  MSG(RECEIPT), .is_receipt = TRUE },
	{ .name = "receipt without its parts",
	  MSG(HDR_BASE "Message-ID:\r\n <mdn.1@example.com>\r\n"
		"Content-Type: multipart/report;\r\n"
		"\treport-type=disposition-notification;\r\n"
		"\tboundary=\"b1\"\r\n" BODY),
	  .is_receipt = TRUE, .message_id = "<mdn.1@example.com>" },
	{ .name = "report with broken parameters",
	  MSG(HDR_BASE "Content-Type: multipart/report; "
		"report-type=\"disposition-notification\r\n" BODY),
	  .is_receipt = TRUE },
	{ .name = "receipt in the second Content-Type",
	  MSG(HDR_BASE "Content-Type: text/plain\r\n"
		"Content-Type: multipart/report; "
		"report-type=disposition-notification\r\n" BODY),
	  .is_receipt = TRUE },
	{ .name = "receipt that asks for a receipt",
	  MSG(HDR_BASE "Disposition-Notification-To: a@example.com\r\n"
		"Content-Type: multipart/report; "
		"report-type=disposition-notification\r\n" BODY),
	  .is_receipt = TRUE, .dnt_count = 1,
	  .stripped = HDR_BASE "Content-Type: multipart/report; "
		"report-type=disposition-notification\r\n" BODY },
	{ .name = "8-bit bytes in the header",
	  MSG(HDR_BASE "X-Bin: a\x01\xff\xfe b\r\n"
		"Disposition-Notification-To: a@example.com\r\n"
		"Content-Type: multipart/report; report-type=disposition-"
		"notification\r\n" BODY),
	  .is_receipt = TRUE, .dnt_count = 1,
	  .stripped = HDR_BASE "X-Bin: a\x01\xff\xfe b\r\n"
		"Content-Type: multipart/report; report-type=disposition-"
		"notification\r\n" BODY },

	/* a repeated report-type: any instance counts */
	{ .name = "report-type repeated, the second says receipt",
	  MSG(HDR_BASE CT("multipart/report; report-type=x-other; "
		"report-type=disposition-notification; boundary=b1")
		REPORT_BODY(TEXT_PART)),
	  .is_receipt = TRUE },
	{ .name = "report-type repeated, the first says receipt",
	  MSG(HDR_BASE CT("multipart/report; "
		"report-type=disposition-notification; "
		"report-type=delivery-status; boundary=b1")
		REPORT_BODY(DSN_PART)),
	  .is_receipt = TRUE },
	{ .name = "report-type repeated, with the receipt part",
	  MSG(HDR_BASE CT("multipart/report; report-type=x-other; "
		"report-type=disposition-notification; boundary=b1")
		REPORT_BODY(MDN_PART)),
	  .is_receipt = TRUE },
	/* the part decides, not the report-type */
	{ .name = "delivery-status report holding a receipt part",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status; "
		"boundary=b1") REPORT_BODY(MDN_PART)),
	  .is_receipt = TRUE },
	{ .name = "report without report-type holding a receipt part",
	  MSG(HDR_BASE CT("multipart/mixed; boundary=b1")
		REPORT_BODY(MDN_PART)),
	  .is_receipt = TRUE },
	/* a receipt part as the whole message */
	{ .name = "top-level message/disposition-notification",
	  MSG(HDR_BASE CT("message/disposition-notification") "\r\n"
		MDN_FIELDS),
	  .is_receipt = TRUE },
	{ .name = "top-level message/global-disposition-notification",
	  MSG(HDR_BASE CT("message/global-disposition-notification")
		"\r\n" MDN_FIELDS),
	  .is_receipt = TRUE },
	/* receipts inside other multiparts */
	{ .name = "receipt nested in multipart/mixed",
	  MSG(MIXED(CT("multipart/report; "
		"report-type=disposition-notification; boundary=b1")
		REPORT_BODY(MDN_PART))),
	  .is_receipt = TRUE },
	{ .name = "receipt part in alternative in mixed",
	  MSG(MIXED(CT("multipart/alternative; boundary=a1")
		"\r\n--a1\r\n" TEXT_PART "--a1\r\n" MDN_PART "--a1--\r\n")),
	  .is_receipt = TRUE },
	{ .name = "receipt part first, no closing boundary",
	  MSG(HDR_BASE CT("multipart/mixed; boundary=m1")
		"\r\n--m1\r\n" MDN_PART),
	  .is_receipt = TRUE },
	/* a NUL in the report-type */
	{ .name = "NUL inside the report-type value",
	  MSG(HDR_BASE CT("multipart/report; "
		"report-type=disposition-\0notification; boundary=b1")
		REPORT_BODY(TEXT_PART)),
	  .is_receipt = TRUE },
	{ .name = "NUL inside a quoted report-type",
	  MSG(HDR_BASE CT("multipart/report; "
		"report-type=\"delivery-status\0\"; boundary=b1")
		REPORT_BODY(DSN_PART)),
	  .is_receipt = TRUE },
	{ .name = "NUL inside the report-type, with the receipt part",
	  MSG(HDR_BASE CT("multipart/report; "
		"report-type=disposition-notification\0; boundary=b1")
		REPORT_BODY(MDN_PART)),
	  .is_receipt = TRUE },
	/* parameters: case, quoting, RFC 2231, broken */
	{ .name = "upper case",
	  MSG(HDR_BASE CT("MULTIPART/REPORT; "
		"REPORT-TYPE=DISPOSITION-NOTIFICATION; BOUNDARY=b1")
		REPORT_BODY(TEXT_PART)),
	  .is_receipt = TRUE },
	{ .name = "mixed case receipt part in a delivery report",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status; "
		"boundary=b1") REPORT_BODY(
		CT("Message/Disposition-Notification") "\r\n" MDN_FIELDS)),
	  .is_receipt = TRUE },
	{ .name = "quoted report-type, folded",
	  MSG(HDR_BASE "Content-Type: multipart/report;\r\n"
		" report-type=\"Disposition-Notification\";\r\n"
		"\tboundary=\"b1\"\r\n" REPORT_BODY(TEXT_PART)),
	  .is_receipt = TRUE },
	{ .name = "quoted report-type with spaces",
	  MSG(HDR_BASE CT("multipart/report; "
		"report-type=\" disposition-notification \"; boundary=b1")
		REPORT_BODY(TEXT_PART)),
	  .is_receipt = TRUE },
	{ .name = "RFC 2231 report-type",
	  MSG(HDR_BASE CT("multipart/report; "
		"report-type*=us-ascii''disposition-notification; "
		"boundary=b1") REPORT_BODY(TEXT_PART)),
	  .is_receipt = TRUE },
	{ .name = "RFC 2231 report-type next to another one",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status; "
		"report-type*=utf-8'en'disposition%2Dnotification; "
		"boundary=b1") REPORT_BODY(DSN_PART)),
	  .is_receipt = TRUE },
	{ .name = "RFC 2231 continuations",
	  MSG(HDR_BASE CT("multipart/report; "
		"report-type*1=notification; report-type*0=disposition-; "
		"boundary=b1") REPORT_BODY(TEXT_PART)),
	  .is_receipt = TRUE },
	{ .name = "RFC 2231 in a charset that is not read",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status; "
		"report-type*=utf-16''%00d%00i%00s; boundary=b1")
		REPORT_BODY(DSN_PART)),
	  .is_receipt = TRUE },
	{ .name = "RFC 2231 continuation missing",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status; "
		"report-type*1=notification; boundary=b1")
		REPORT_BODY(DSN_PART)),
	  .is_receipt = TRUE },
	{ .name = "RFC 2231 bad %-encoding",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status; "
		"report-type*=''disposition%zz; boundary=b1")
		REPORT_BODY(DSN_PART)),
	  .is_receipt = TRUE },
	{ .name = "report-type swallowed by a broken quote",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status; "
		"boundary=b1; x=\"; report-type=disposition-notification")
		REPORT_BODY(DSN_PART)),
	  .is_receipt = TRUE },
	{ .name = "report without report-type",
	  MSG(HDR_BASE CT("multipart/report; boundary=b1")
		REPORT_BODY(DSN_PART)),
	  .is_receipt = TRUE },

	/* not receipts */
	{ .name = "delivery status report",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status; "
		"boundary=b1") REPORT_BODY(DSN_PART)) },
	{ .name = "delivery status report with a stray semicolon",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status; "
		"boundary=\"b1\";") REPORT_BODY(DSN_PART)) },
	{ .name = "report-type disposition-notification below the top",
	  MSG(MIXED(CT("multipart/report; "
		"report-type=disposition-notification; boundary=b1")
		REPORT_BODY(TEXT_PART))) },
	{ .name = "receipt forwarded as message/rfc822",
	  MSG(MIXED(CT("message/rfc822") "\r\n" RECEIPT)) },
	{ .name = "receipt part forwarded as message/rfc822",
	  MSG(MIXED(CT("message/rfc822") "\r\n"
		HDR_BASE MDN_PART)) },
	{ .name = "receipt forwarded as the whole message",
	  MSG(HDR_BASE CT("message/rfc822") "\r\n" RECEIPT) },
	{ .name = "receipts in a digest",
	  MSG(HDR_BASE CT("multipart/digest; boundary=d1")
		"\r\n--d1\r\n\r\n" RECEIPT "--d1\r\n\r\n" RECEIPT
		"--d1--\r\n") },
	{ .name = "broken forwarded receipt",
	  MSG(MIXED(CT("message/rfc822") "\r\n"
		HDR_BASE CT("multipart/mixed") "\r\n--b1\r\n" MDN_PART)) },
	{ .name = "text with a missing semicolon",
	  MSG(HDR_BASE CT("text/html charset=utf-8") "\r\n<p>Hi</p>\r\n") },
	{ .name = "the same Content-Type twice",
	  MSG(HDR_BASE CT("multipart/mixed; boundary=m1")
		"\r\n--m1\r\n" CT("text/plain") CT("text/plain") "\r\nx\r\n"
		"--m1--\r\n") },
	{ .name = "multipart with preamble and epilogue",
	  MSG(HDR_BASE CT("multipart/alternative; boundary=\"=_a\"")
		"\r\nThis is a MIME message.\r\n--x\r\n"
		"--=_a\r\n" TEXT_PART "--=_a--\r\nEpilogue --=_\r\n") },

	/* unparsable: the structure may hide a receipt */
	{ .name = "multipart without a boundary",
	  MSG(HDR_BASE CT("multipart/mixed")
		"\r\n--x\r\n" MDN_PART "--x--\r\n"),
	  .unparsable = "no boundary" },
	{ .name = "delivery report without a boundary",
	  MSG(HDR_BASE CT("multipart/report; report-type=delivery-status")
		"\r\n--b1\r\n" MDN_PART "--b1--\r\n"),
	  .unparsable = "no boundary" },
	{ .name = "two boundaries",
	  MSG(HDR_BASE CT("multipart/mixed; boundary=a1; boundary=m1")
		"\r\n--m1\r\n" TEXT_PART "--m1\r\n" MDN_PART "--m1--\r\n"),
	  .unparsable = "more than one boundary" },
	/* Dovecot 2.3's parser reads no RFC 2231 boundary, other readers
	   do; 2.4's reads it too, and then sees the receipt part */
	{ .name = "RFC 2231 boundary",
	  MSG(HDR_BASE CT("multipart/mixed; boundary*=''m1")
		"\r\n--m1\r\n" TEXT_PART "--m1\r\n" MDN_PART "--m1--\r\n"),
#if DOVECOT_PREREQ(2, 4, 0)
	  .is_receipt = TRUE },
#else
	  .unparsable = "encoded boundary" },
#endif
	{ .name = "RFC 2231 boundary, no receipt inside",
	  MSG(HDR_BASE CT("multipart/mixed; boundary*=''m1")
		"\r\n--m1\r\n" TEXT_PART "--m1--\r\n"),
	  .unparsable = "encoded boundary" },
	{ .name = "empty boundary",
	  MSG(HDR_BASE CT("multipart/mixed; boundary=\"\"")
		"\r\n--\r\n" TEXT_PART "----\r\n"),
	  .unparsable = "empty boundary" },
	{ .name = "boundary swallowed by a broken quote",
	  MSG(HDR_BASE CT("multipart/mixed; x=\"; boundary=m1")
		"\r\n--m1\r\n" TEXT_PART "--m1--\r\n"),
	  .unparsable = "parameters" },
	{ .name = "multipart that holds no parts",
	  MSG(HDR_BASE CT("multipart/mixed; boundary=m1") BODY),
	  .unparsable = "no parts" },
	{ .name = "base64-encoded multipart",
	  MSG(HDR_BASE CT("multipart/mixed; boundary=m1")
		"Content-Transfer-Encoding: base64\r\n"
		"\r\nLS1tMQ0KQ29udGVudC1UeXBlOiBtZXNzYWdlL2Rpc3Bvc2l0aW9u\r\n"),
	  .unparsable = "no parts" },
	{ .name = "delivery status report that holds no parts",
	  MSG(HDR_BASE "Content-Type: multipart/report; "
		"report-type=delivery-status; boundary=b1\r\n" BODY),
	  .unparsable = "no parts" },
	{ .name = "a second Content-Type that is multipart",
	  MSG(HDR_BASE CT("text/plain") CT("multipart/mixed; boundary=m1")
		"\r\n--m1\r\n" TEXT_PART "--m1\r\n" MDN_PART "--m1--\r\n"),
	  .unparsable = "conflicting Content-Type" },
	{ .name = "two multipart Content-Types in a part",
	  MSG(MIXED(CT("multipart/alternative; boundary=a1")
		CT("multipart/alternative; boundary=a2")
		"\r\n--a1\r\n" TEXT_PART "--a1--\r\n")),
	  .unparsable = "conflicting Content-Type" },
	{ .name = "NUL in a boundary",
	  MSG(HDR_BASE CT("multipart/mixed; boundary=\"m\0x\"")
		"\r\n--m\r\n" MDN_PART "--m--\r\n"),
	  .unparsable = "NUL" },
	{ .name = "NUL in a part's type",
	  MSG(MIXED(CT("message/disposition\0-notification") "\r\n"
		MDN_FIELDS)),
	  .unparsable = "NUL" },
	{ .name = "unreadable multipart Content-Type",
	  MSG(HDR_BASE CT("multipart/mixed boundary=m1")
		"\r\n--m1\r\n" MDN_PART "--m1--\r\n"),
	  .unparsable = "cannot be read" },
	{ .name = "unreadable message Content-Type in a part",
	  MSG(MIXED(CT("message/disposition-notification x") "\r\n"
		MDN_FIELDS)),
	  .unparsable = "cannot be read" },
	{ .name = "parts after the closing boundary",
	  MSG(MIXED(TEXT_PART) "--m1\r\n" MDN_PART "--m1--\r\n"),
	  .unparsable = "after its closing boundary" },
	{ .name = "parts after a nested closing boundary",
	  MSG(MIXED(CT("multipart/alternative; boundary=a1")
		"\r\n--a1\r\n" TEXT_PART "--a1--\r\n"
		"--a1\r\n" MDN_PART)),
	  .unparsable = "after its closing boundary" },
	{ .name = "bare CR in the top-level header",
	  MSG(HDR_BASE "X-Note: a\rContent-Type: multipart/report; "
		"report-type=disposition-notification; boundary=b1\r\n"
		REPORT_BODY(MDN_PART)),
	  .unparsable = "CR without LF" },
	{ .name = "bare CR in a part's header",
	  MSG(MIXED(CT("text/plain") "X\rContent-Type: "
		"message/disposition-notification\r\n\r\n" MDN_FIELDS)),
	  .unparsable = "CR without LF" },
	{ .name = "bare CR in a forwarded message's header",
	  MSG(MIXED(CT("message/rfc822") "\r\n" HDR_BASE
		"X\rContent-Type: message/disposition-notification\r\n"
		"\r\n" MDN_FIELDS)) },
	/* a receipt wins over what cannot be read */
	{ .name = "multipart without a boundary inside mixed",
	  MSG(MIXED(CT("multipart/mixed") "\r\nx\r\n")),
	  .unparsable = "no boundary" },
	{ .name = "receipt part after a broken part",
	  MSG(HDR_BASE CT("multipart/mixed; boundary=m1")
		"\r\n--m1\r\n" CT("multipart/mixed") "\r\nx\r\n"
		"--m1\r\n" MDN_PART "--m1--\r\n"),
	  .is_receipt = TRUE },
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
	{ "multipart/report; report-type=global-disposition-notification",
	  TRUE },
	{ "message/disposition-notification", TRUE },
	{ "Message/Disposition-Notification; charset=x", TRUE },
	{ "message/global-disposition-notification", TRUE },
	/* a repeated report-type: any instance counts */
	{ "multipart/report; report-type=x-other; "
	  "report-type=disposition-notification", TRUE },
	{ "multipart/report; report-type=disposition-notification; "
	  "report-type=delivery-status", TRUE },
	/* RFC 2231 */
	{ "multipart/report; report-type*=us-ascii''disposition-notification",
	  TRUE },
	{ "multipart/report; report-type=delivery-status; "
	  "report-type*=''%64isposition-notification", TRUE },
	{ "multipart/report; report-type*=utf-8'en'delivery-status", FALSE },
	/* a report that cannot be told apart from a receipt */
	{ "multipart/report", TRUE },
	{ "multipart/report; boundary=x", TRUE },
	{ "multipart/report; report-type=\"disposition-notification", TRUE },
	{ "multipart/report;;;", TRUE },
	{ "multipart/report; =; ==; report-type", TRUE },
	{ "multipart/report; report-type=delivery-status; "
	  "x=\"report-type=disposition-notification", TRUE },
	{ "multipart/report; report-type*=utf-16''%00d", TRUE },
	{ "multipart/report; report-type*=''%00", TRUE },
	{ "multipart/report; report-type*=''%4", TRUE },
	{ "multipart/report; report-type*=delivery-status", TRUE },
	{ "multipart/report; report-type=delivery-status; "
	  "report-type*2=x", TRUE },
	/* other reports */
	{ "multipart/report; report-type=delivery-status", FALSE },
	{ "multipart/report; report-type=delivery-status;", FALSE },
	{ "multipart/report; report-type=disposition-notificationx", FALSE },
	{ "multipart/report; report-type=\"\"", FALSE },
	/* not reports */
	{ "text/plain", FALSE },
	{ "multipart/mixed; report-type=disposition-notification", FALSE },
	{ "multipart/reports; report-type=disposition-notification", FALSE },
	{ "message/disposition-notifications", FALSE },
	{ "message/rfc822", FALSE },
	{ "multipart report", FALSE },
	{ "", FALSE },
	{ "\x01\xff", FALSE },
};

static string_t *test_read_all(struct istream *input)
{
	string_t *str = t_str_new(256);
	const unsigned char *data;
	size_t size;

	while (i_stream_read_more(input, &data, &size) > 0) {
		str_append_data(str, data, size);
		i_stream_skip(input, size);
	}
	assert_int_equal(input->stream_errno, 0);
	return str;
}

/* A file stream of data with a small buffer; the file is gone already. */
static struct istream *
test_small_buffer_stream(const char *data, size_t size)
{
	char path[] = "/tmp/test-submission-readreceipt.XXXXXX";
	struct istream *input;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(write(fd, data, size), (ssize_t)size);
	input = i_stream_create_fd_autoclose(&fd, TEST_SMALL_BUFFER);
	return input;
}

static void
test_header_case_on(const struct header_case *c, struct istream *input,
		    const char *how)
{
	struct submission_readreceipt_header hdr;
	struct istream *stripped;
	const char *error, *expected;
	size_t expected_size;
	string_t *output;
	uoff_t removed;
	unsigned int pass;

	if (submission_readreceipt_header_read(input, pool_datastack_create(),
					       &hdr, &error) < 0)
		fail_msg("case \"%s\" (%s): %s", c->name, how, error);
	if (hdr.is_receipt != c->is_receipt) {
		fail_msg("case \"%s\" (%s): is_receipt: expected %d",
			 c->name, how, c->is_receipt ? 1 : 0);
	}
	if (c->unparsable == NULL ? hdr.unparsable != NULL :
	    hdr.unparsable == NULL ||
	    strstr(hdr.unparsable, c->unparsable) == NULL) {
		fail_msg("case \"%s\" (%s): unparsable: expected %s, got %s",
			 c->name, how,
			 c->unparsable == NULL ? "(none)" : c->unparsable,
			 hdr.unparsable == NULL ? "(none)" : hdr.unparsable);
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

	if (c->stripped != NULL) {
		expected = c->stripped;
		expected_size = strlen(c->stripped);
	} else {
		expected = c->message;
		expected_size = c->size;
	}
	stripped = submission_readreceipt_strip(input, &hdr, &removed);
	/* read twice: the relay seeks back to the start before sending */
	for (pass = 0; pass < 2; pass++) {
		i_stream_seek(stripped, 0);
		output = test_read_all(stripped);
		if (str_len(output) != expected_size ||
		    memcmp(str_data(output), expected, expected_size) != 0) {
			fail_msg("case \"%s\" (%s): stripped message "
				 "differs:\n%s\n---- expected:\n%s",
				 c->name, how, str_c(output), expected);
		}
	}
	if (removed != c->size - expected_size) {
		fail_msg("case \"%s\" (%s): removed %"PRIuUOFF_T" bytes",
			 c->name, how, removed);
	}
	i_stream_unref(&stripped);
}

static void test_header_case(const struct header_case *c)
{
	struct istream *input;

	input = i_stream_create_from_data(c->message, c->size);
	test_header_case_on(c, input, "memory");
	i_stream_unref(&input);

	input = test_small_buffer_stream(c->message, c->size);
	test_header_case_on(c, input, "small buffer");
	i_stream_unref(&input);
}

static void test_header_read_and_strip(void **state ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(header_cases); i++) T_BEGIN {
		test_header_case(&header_cases[i]);
	} T_END;
}

/* depth multipart/mixed parts inside each other, the innermost holding
   inner (a part with its header). The boundaries are of one length: the
   parser takes a boundary that is a prefix of the line's (RFC 2046
   §5.1.1 forbids such nesting) as a match. */
static void test_nested_mixed(string_t *msg, unsigned int depth,
			      const char *inner)
{
	unsigned int i;

	str_append(msg, HDR_BASE);
	for (i = 0; i < depth; i++) {
		str_printfa(msg, "Content-Type: multipart/mixed; "
			    "boundary=n%03u\r\n\r\n--n%03u\r\n", i, i);
	}
	str_append(msg, inner);
	for (i = depth; i > 0; i--)
		str_printfa(msg, "--n%03u--\r\n", i - 1);
}

/* depth messages forwarded inside each other as message/rfc822, the
   innermost being inner (a whole message) */
static void test_nested_forwards(string_t *msg, unsigned int depth,
				 const char *inner)
{
	unsigned int i;

	for (i = 0; i < depth; i++)
		str_append(msg, HDR_BASE CT("message/rfc822") "\r\n");
	str_append(msg, inner);
}

static void
test_generated_case(const char *name, string_t *msg, bool is_receipt,
		    const char *unparsable)
{
	struct header_case c;

	i_zero(&c);
	c.name = name;
	c.message = str_c(msg);
	c.size = str_len(msg);
	c.is_receipt = is_receipt;
	c.unparsable = unparsable;
	test_header_case(&c);
}

static void test_deep_nesting(void **state ATTR_UNUSED)
{
	const unsigned int max = SUBMISSION_READRECEIPT_MIME_MAX_NESTED;
	string_t *msg;

	/* the deepest multipart that is still read */
	msg = t_str_new(4096);
	test_nested_mixed(msg, max - 1, MDN_PART);
	test_generated_case("receipt nested at the limit", msg, TRUE, NULL);

	str_truncate(msg, 0);
	test_nested_mixed(msg, max - 1, TEXT_PART);
	test_generated_case("text nested at the limit", msg, FALSE, NULL);

	/* one more, and the innermost multipart's parts are not read */
	str_truncate(msg, 0);
	test_nested_mixed(msg, max, MDN_PART);
	test_generated_case("receipt nested beyond the limit", msg, FALSE,
			    "nested more than");

	str_truncate(msg, 0);
	test_nested_mixed(msg, 100, TEXT_PART);
	test_generated_case("text nested far beyond the limit", msg, FALSE,
			    "nested more than");

	/* forwards are not looked into, however deep */
	str_truncate(msg, 0);
	test_nested_forwards(msg, 3 * max, RECEIPT);
	test_generated_case("receipt forwarded many times", msg, FALSE,
			    NULL);

	str_truncate(msg, 0);
	test_nested_mixed(msg, max - 2, CT("message/rfc822") "\r\n" RECEIPT);
	test_generated_case("receipt forwarded deep inside", msg, FALSE,
			    NULL);
}

static void test_many_parts(void **state ATTR_UNUSED)
{
	const unsigned int max = SUBMISSION_READRECEIPT_MIME_MAX_PARTS;
	string_t *msg = t_str_new(max * 40);
	unsigned int i;

	/* the top-level part and its text parts: as many as are read */
	str_append(msg, HDR_BASE CT("multipart/mixed; boundary=m1") "\r\n");
	for (i = 0; i < max - 2; i++)
		str_append(msg, "--m1\r\n\r\nx\r\n");
	str_append(msg, "--m1\r\n" MDN_PART "--m1--\r\n");
	test_generated_case("receipt as the last part read", msg, TRUE, NULL);

	str_truncate(msg, 0);
	str_append(msg, HDR_BASE CT("multipart/mixed; boundary=m1") "\r\n");
	for (i = 0; i < max - 2; i++)
		str_append(msg, "--m1\r\n\r\nx\r\n");
	str_append(msg, "--m1--\r\n");
	test_generated_case("text parts below the limit", msg, FALSE, NULL);

	/* with the last part the parser stops looking for boundaries: even
	   the close-delimiter after it is not read */
	str_truncate(msg, 0);
	str_append(msg, HDR_BASE CT("multipart/mixed; boundary=m1") "\r\n");
	for (i = 0; i < max - 1; i++)
		str_append(msg, "--m1\r\n\r\nx\r\n");
	str_append(msg, "--m1--\r\n");
	test_generated_case("text parts up to the limit", msg, FALSE,
			    "MIME parts");

	/* the receipt part is beyond what the parser reads */
	str_truncate(msg, 0);
	str_append(msg, HDR_BASE CT("multipart/mixed; boundary=m1") "\r\n");
	for (i = 0; i < max - 1; i++)
		str_append(msg, "--m1\r\n\r\nx\r\n");
	str_append(msg, "--m1\r\n" MDN_PART "--m1--\r\n");
	test_generated_case("receipt beyond the limit", msg, FALSE,
			    "MIME parts");
}

static void test_large_part_header(void **state ATTR_UNUSED)
{
	string_t *msg = t_str_new(SUBMISSION_READRECEIPT_MIME_PART_HEADER_MAX +
				  1024);
	unsigned int i;

	str_append(msg, MIXED(""));
	str_truncate(msg, str_len(msg) - strlen("--m1--\r\n"));
	for (i = 0; str_len(msg) < SUBMISSION_READRECEIPT_MIME_PART_HEADER_MAX +
		     1024; i++)
		str_printfa(msg, "X-Filler-%u: %080u\r\n", i, i);
	str_append(msg, CT("text/plain") "\r\nx\r\n--m1--\r\n");
	test_generated_case("large part header", msg, FALSE, "too large");
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
		input = test_small_buffer_stream(msg, strlen(msg));
		assert_int_equal(submission_readreceipt_header_read(input,
			pool_datastack_create(), &hdr, &error), 0);
		if (!hdr.is_receipt)
			str_printfa(missed_type, " %zu", strlen(msg));
		i_stream_unref(&input);

		msg = t_strconcat("Message-ID: <", pad, NULL);
		input = test_small_buffer_stream(msg, strlen(msg));
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

/* A field name followed by more blanks than a stream buffer holds before
   its colon (obsolete syntax that readers accept): Dovecot's header parser
   skips such a field where its name does not fit in the buffer, so the
   check must read with room for it. Through a small-buffer file stream,
   as through memory, the receipt is seen and the request is found. */
static void test_long_blank_field_names(void **state ATTR_UNUSED)
{
	struct submission_readreceipt_header hdr;
	struct istream *input;
	const char *error, *msg;
	string_t *blanks = t_str_new(20001);
	unsigned int i;

	for (i = 0; i < 20000; i++)
		str_append_c(blanks, ' ');
	msg = t_strconcat("From: a@example.com\r\nContent-Type",
		str_c(blanks), ": message/disposition-notification\r\n"
		"Disposition-Notification-To", str_c(blanks),
		": a@example.com\r\n\r\nbody\r\n", NULL);
	input = test_small_buffer_stream(msg, strlen(msg));
	assert_int_equal(submission_readreceipt_header_read(input,
		pool_datastack_create(), &hdr, &error), 0);
	assert_true(hdr.is_receipt);
	i_stream_unref(&input);

	msg = t_strconcat("From: a@example.com\r\n"
		"Disposition-Notification-To", str_c(blanks),
		": a@example.com\r\n\r\nbody\r\n", NULL);
	input = test_small_buffer_stream(msg, strlen(msg));
	assert_int_equal(submission_readreceipt_header_read(input,
		pool_datastack_create(), &hdr, &error), 0);
	assert_false(hdr.is_receipt);
	assert_int_equal(array_count(&hdr.dnt_fields), 1);
	i_stream_unref(&input);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_read_and_strip),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_many_parts),
		cmocka_unit_test(test_large_part_header),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_too_many_requests),
		cmocka_unit_test(test_last_field_at_buffer_end),
		cmocka_unit_test(test_long_blank_field_names),
		cmocka_unit_test(test_read_error),
	};

	return TEST_RUN("submission-readreceipt-header", tests);
}
