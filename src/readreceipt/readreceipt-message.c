/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "istream.h"
#include "message-header-parser.h"
#include "mail-storage-private.h"
#include "readreceipt-message.h"

/* The headers as read in one pass, by what they are for. */
enum readreceipt_message_field {
	READRECEIPT_FIELD_DNT = 0,
	READRECEIPT_FIELD_DNO,
	READRECEIPT_FIELD_RETURN_PATH,
	READRECEIPT_FIELD_TO,
	READRECEIPT_FIELD_CC,
	READRECEIPT_FIELD_CONTENT_TYPE,
	READRECEIPT_FIELD_AUTO_SUBMITTED,
	READRECEIPT_FIELD_PRECEDENCE,
	/* any of the List-* headers */
	READRECEIPT_FIELD_LIST,
	READRECEIPT_FIELD_SUBJECT,
	READRECEIPT_FIELD_MESSAGE_ID,
	READRECEIPT_FIELD_ORIGINAL_RECIPIENT,

	READRECEIPT_FIELD_COUNT
};

/* the field of each name in readreceipt_message_wanted_headers, in its
   order */
static const enum readreceipt_message_field readreceipt_wanted_fields[] = {
	READRECEIPT_FIELD_DNT, READRECEIPT_FIELD_DNO,
	READRECEIPT_FIELD_RETURN_PATH, READRECEIPT_FIELD_TO,
	READRECEIPT_FIELD_CC, READRECEIPT_FIELD_CONTENT_TYPE,
	READRECEIPT_FIELD_AUTO_SUBMITTED, READRECEIPT_FIELD_PRECEDENCE,
	READRECEIPT_FIELD_LIST, READRECEIPT_FIELD_LIST,
	READRECEIPT_FIELD_LIST, READRECEIPT_FIELD_LIST,
	READRECEIPT_FIELD_LIST, READRECEIPT_FIELD_LIST,
	READRECEIPT_FIELD_LIST,
	READRECEIPT_FIELD_SUBJECT, READRECEIPT_FIELD_MESSAGE_ID,
	READRECEIPT_FIELD_ORIGINAL_RECIPIENT,
};

static const char *const readreceipt_list_headers[] = {
	"List-Id", "List-Post", "List-Owner", "List-Unsubscribe",
	"List-Subscribe", "List-Help", "List-Archive",
};

const char *const readreceipt_message_wanted_headers[] = {
	"Disposition-Notification-To", "Disposition-Notification-Options",
	"Return-Path", "To", "Cc", "Content-Type", "Auto-Submitted",
	"Precedence", "List-Id", "List-Post", "List-Owner",
	"List-Unsubscribe", "List-Subscribe", "List-Help", "List-Archive",
	"Subject", "Message-ID", "Original-Recipient", NULL
};

/* one field for each wanted header name (the list ends with NULL) */
_Static_assert(N_ELEMENTS(readreceipt_wanted_fields) ==
	       N_ELEMENTS(readreceipt_message_wanted_headers) - 1,
	       "readreceipt_wanted_fields and the wanted headers differ");

static const char *const *
readreceipt_get_headers(struct mail *mail, const char *name)
{
	const char *const *values;

	if (mail_get_headers(mail, name, &values) <= 0)
		return NULL;
	return values;
}

static const char *
readreceipt_get_first(struct mail *mail, const char *name)
{
	const char *value;

	if (mail_get_first_header(mail, name, &value) <= 0)
		return NULL;
	return value;
}

bool readreceipt_mail_has_keyword(struct mail *mail, const char *keyword)
{
	const char *const *keywords = mail_get_keywords(mail);

	for (; *keywords != NULL; keywords++) {
		if (strcasecmp(*keywords, keyword) == 0)
			return TRUE;
	}
	return FALSE;
}

static int readreceipt_message_field_of(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(readreceipt_wanted_fields); i++) {
		if (strcasecmp(name, readreceipt_message_wanted_headers[i]) == 0)
			return (int)readreceipt_wanted_fields[i];
	}
	return -1;
}

static const char *const *
readreceipt_message_values(ARRAY_TYPE(const_string) *values)
{
	if (!array_is_created(values))
		return NULL;
	array_append_zero(values);
	return array_front(values);
}

static const char *
readreceipt_message_first(const ARRAY_TYPE(const_string) *values)
{
	return array_is_created(values) ? array_idx_elem(values, 0) : NULL;
}

/* Every wanted header in one stream from Dovecot (one cache lookup, or one
   pass over the message's header), split by field. Values are as
   mail_get_headers() returns them: after the colon and the blanks that
   follow it, folded lines joined by LF, in the mail's pool. Dovecot has
   no call that returns several headers' values at once. Returns FALSE if
   the header cannot be read. */
static bool
readreceipt_message_read_fields(struct mail *mail,
				ARRAY_TYPE(const_string) values[])
{
	struct mail_private *pmail = (struct mail_private *)mail;
	struct mailbox_header_lookup_ctx *headers;
	struct message_header_parser_ctx *parser;
	struct message_header_line *hdr;
	struct istream *input;
	const char *value;
	int field = -1;
	bool ok;

	headers = mailbox_header_lookup_init(mail->box,
		readreceipt_message_wanted_headers);
	if (mail_get_header_stream(mail, headers, &input) < 0) {
		mailbox_header_lookup_unref(&headers);
		return FALSE;
	}
	parser = message_parse_header_init(input, NULL,
		MESSAGE_HEADER_PARSER_FLAG_SKIP_INITIAL_LWSP |
		MESSAGE_HEADER_PARSER_FLAG_DROP_CR);
	while (message_parse_header_next(parser, &hdr) > 0) {
		if (hdr->eoh)
			continue;
		if (!hdr->continued)
			field = readreceipt_message_field_of(hdr->name);
		if (field < 0)
			continue;
		if (hdr->continues) {
			hdr->use_full_value = TRUE;
			continue;
		}
		value = message_header_strdup(pmail->data_pool,
					      hdr->full_value,
					      hdr->full_value_len);
		if (!array_is_created(&values[field]))
			p_array_init(&values[field], pmail->data_pool, 2);
		array_push_back(&values[field], &value);
	}
	message_parse_header_deinit(&parser);
	ok = input->stream_errno == 0;
	mailbox_header_lookup_unref(&headers);
	return ok;
}

static void
readreceipt_message_read_once(struct mail *mail,
			      struct readreceipt_message_info *info_r)
{
	struct readreceipt_message *msg = &info_r->msg;
	ARRAY_TYPE(const_string) values[READRECEIPT_FIELD_COUNT];

	memset(values, 0, sizeof(values));
	if (!readreceipt_message_read_fields(mail, values) ||
	    !array_is_created(&values[READRECEIPT_FIELD_DNT]))
		return;
	msg->disposition_notification_to =
		readreceipt_message_values(&values[READRECEIPT_FIELD_DNT]);
	msg->disposition_notification_options =
		readreceipt_message_values(&values[READRECEIPT_FIELD_DNO]);
	msg->return_path = readreceipt_message_values(
		&values[READRECEIPT_FIELD_RETURN_PATH]);
	msg->to = readreceipt_message_values(&values[READRECEIPT_FIELD_TO]);
	msg->cc = readreceipt_message_values(&values[READRECEIPT_FIELD_CC]);
	msg->content_type = readreceipt_message_values(
		&values[READRECEIPT_FIELD_CONTENT_TYPE]);
	msg->auto_submitted = readreceipt_message_values(
		&values[READRECEIPT_FIELD_AUTO_SUBMITTED]);
	msg->precedence = readreceipt_message_values(
		&values[READRECEIPT_FIELD_PRECEDENCE]);
	msg->has_list_header =
		array_is_created(&values[READRECEIPT_FIELD_LIST]);
	info_r->subject = readreceipt_message_first(
		&values[READRECEIPT_FIELD_SUBJECT]);
	info_r->message_id = readreceipt_message_first(
		&values[READRECEIPT_FIELD_MESSAGE_ID]);
	info_r->original_recipient = readreceipt_message_first(
		&values[READRECEIPT_FIELD_ORIGINAL_RECIPIENT]);
}

void readreceipt_message_read(struct mail *mail, bool prefetch,
			      struct readreceipt_message_info *info_r)
{
	struct readreceipt_message *msg = &info_r->msg;
	struct mailbox_header_lookup_ctx *headers;
	unsigned int i;

	i_zero(info_r);
	if (!prefetch) {
		readreceipt_message_read_once(mail, info_r);
		return;
	}
	/* A delivery: LMTP and LDA have read the header once already,
	   with the module's headers among those they kept
	   (readreceipt-delivery.c), each a lookup in memory. One pass over
	   the header reads every header asked for below, instead of one
	   pass for each (and the first pass, for the request, costs the
	   same with all of them). */
	headers = mailbox_header_lookup_init(mail->box,
		readreceipt_message_wanted_headers);
	mail_add_temp_wanted_fields(mail, 0, headers);
	mailbox_header_lookup_unref(&headers);
	msg->disposition_notification_to =
		readreceipt_get_headers(mail, "Disposition-Notification-To");
	if (msg->disposition_notification_to == NULL) {
		/* nothing is asked: the rest is never read */
		return;
	}
	msg->disposition_notification_options =
		readreceipt_get_headers(mail,
					"Disposition-Notification-Options");
	msg->return_path = readreceipt_get_headers(mail, "Return-Path");
	msg->to = readreceipt_get_headers(mail, "To");
	msg->cc = readreceipt_get_headers(mail, "Cc");
	msg->content_type = readreceipt_get_headers(mail, "Content-Type");
	msg->auto_submitted = readreceipt_get_headers(mail, "Auto-Submitted");
	msg->precedence = readreceipt_get_headers(mail, "Precedence");
	for (i = 0; i < N_ELEMENTS(readreceipt_list_headers); i++) {
		if (readreceipt_get_first(mail,
					  readreceipt_list_headers[i]) != NULL) {
			msg->has_list_header = TRUE;
			break;
		}
	}
	info_r->subject = readreceipt_get_first(mail, "Subject");
	info_r->message_id = readreceipt_get_first(mail, "Message-ID");
	info_r->original_recipient =
		readreceipt_get_first(mail, "Original-Recipient");
}

int readreceipt_message_from_mail(struct mail *mail,
				  struct readreceipt_message *msg_r)
{
	struct readreceipt_message_info minfo;

	readreceipt_message_read(mail, FALSE, &minfo);
	*msg_r = minfo.msg;
	msg_r->has_mdnsent = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNSENT);
	msg_r->has_mdnask = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNASK);
	return mail->expunged ? 0 : 1;
}
