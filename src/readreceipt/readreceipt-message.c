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

/* every header readreceipt_message_read() reads */
static const char *const readreceipt_message_wanted_headers[] = {
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

/* Split a header stream by field. Values are as mail_get_headers()
   returns them: after the colon and the blanks that follow it, folded
   lines joined by LF, in pool. Dovecot has no call that
   returns several headers' values at once. Returns FALSE if the header
   cannot be read. */
static bool
readreceipt_message_split(pool_t pool, struct istream *input,
			  ARRAY_TYPE(const_string) values[])
{
	struct message_header_parser_ctx *parser;
	struct message_header_line *hdr;
	const char *value;
	int field = -1;

	parser = message_parse_header_init(input, NULL,
		MESSAGE_HEADER_PARSER_FLAG_SKIP_INITIAL_LWSP |
		MESSAGE_HEADER_PARSER_FLAG_DROP_CR);
	while (message_parse_header_next(parser, &hdr) > 0) {
		if (hdr->eoh)
			break;
		if (!hdr->continued)
			field = readreceipt_message_field_of(hdr->name);
		if (field < 0)
			continue;
		if (hdr->continues) {
			hdr->use_full_value = TRUE;
			continue;
		}
		value = message_header_strdup(pool, hdr->full_value,
					      hdr->full_value_len);
		if (!array_is_created(&values[field]))
			p_array_init(&values[field], pool, 2);
		array_push_back(&values[field], &value);
	}
	message_parse_header_deinit(&parser);
	return input->stream_errno == 0;
}

/* Every wanted header of mail, split by field, in one pass over the
   message's header. Not through Dovecot's cache: the request itself
   (Disposition-Notification-To) is never cached, so a lookup of the
   fields would parse the header anyway, and add what it parsed to the
   cache of every message a user opens. */
static bool
readreceipt_message_read_fields(struct mail *mail, pool_t pool,
				ARRAY_TYPE(const_string) values[])
{
	struct istream *input;

	if (mail_get_hdr_stream(mail, NULL, &input) < 0)
		return FALSE;
	return readreceipt_message_split(pool, input, values);
}

bool readreceipt_message_read(struct mail *mail,
			      struct readreceipt_message_info *info_r)
{
	struct mail_private *pmail = (struct mail_private *)mail;

	return readreceipt_message_read_pool(mail, pmail->data_pool, info_r);
}

bool readreceipt_message_read_pool(struct mail *mail, pool_t pool,
				   struct readreceipt_message_info *info_r)
{
	struct readreceipt_message *msg = &info_r->msg;
	ARRAY_TYPE(const_string) values[READRECEIPT_FIELD_COUNT];

	i_zero(info_r);
	memset(values, 0, sizeof(values));
	if (!readreceipt_message_read_fields(mail, pool, values))
		return FALSE;
	if (!array_is_created(&values[READRECEIPT_FIELD_DNT]))
		return TRUE;
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
	return TRUE;
}

int readreceipt_message_from_mail(struct mail *mail,
				  struct readreceipt_message *msg_r)
{
	struct readreceipt_message_info minfo;

	(void)readreceipt_message_read(mail, &minfo);
	*msg_r = minfo.msg;
	msg_r->has_mdnsent = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNSENT);
	msg_r->has_mdnask = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNASK);
	return mail->expunged ? 0 : 1;
}
