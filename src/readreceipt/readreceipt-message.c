/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "mail-storage.h"
#include "readreceipt-message.h"

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

void readreceipt_message_read(struct mail *mail, bool prefetch,
			      struct readreceipt_message_info *info_r)
{
	struct readreceipt_message *msg = &info_r->msg;
	struct mailbox_header_lookup_ctx *headers;
	unsigned int i;

	i_zero(info_r);
	if (prefetch) {
		/* one pass over the header reads every header asked for
		   below, instead of one pass for each (and the first pass,
		   for the request, costs the same with all of them) */
		headers = mailbox_header_lookup_init(mail->box,
			readreceipt_message_wanted_headers);
		mail_add_temp_wanted_fields(mail, 0, headers);
		mailbox_header_lookup_unref(&headers);
	}
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
