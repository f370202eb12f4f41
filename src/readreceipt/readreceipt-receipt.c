/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "ioloop.h"
#include "istream.h"
#include "hostpid.h"
#include "message-size.h"
#include "mail-storage.h"
#include "readreceipt-settings.h"
#include "readreceipt-mdn.h"
#include "readreceipt-record.h"
#include "readreceipt-receipt.h"

void readreceipt_receipt_copy_addrs(pool_t pool,
				    ARRAY_TYPE(const_string) *dest,
				    const ARRAY_TYPE(const_string) *src)
{
	const char *addr;

	p_array_init(dest, pool, array_is_created(src) ?
		     array_count(src) : 1);
	if (!array_is_created(src))
		return;
	array_foreach_elem(src, addr) {
		addr = p_strdup(pool, addr);
		array_push_back(dest, &addr);
	}
}

static buffer_t *readreceipt_receipt_read_header(struct mail *mail)
{
	struct message_size hdr_size;
	struct istream *input;
	const unsigned char *data;
	buffer_t *buf;
	size_t size;

	if (mail_get_hdr_stream(mail, &hdr_size, &input) < 0)
		return NULL;
	buf = t_buffer_create(I_MIN(hdr_size.physical_size,
				    READRECEIPT_MDN_HEADERS_MAX) + 1);
	while (buf->used < READRECEIPT_MDN_HEADERS_MAX &&
	       buf->used < hdr_size.physical_size &&
	       i_stream_read_more(input, &data, &size) > 0) {
		size = I_MIN(size, READRECEIPT_MDN_HEADERS_MAX - buf->used);
		size = I_MIN(size, hdr_size.physical_size - buf->used);
		buffer_append(buf, data, size);
		i_stream_skip(input, size);
	}
	return buf;
}

int readreceipt_receipt_build(struct mail *mail,
			      const struct readreceipt_settings *set,
			      const struct readreceipt_message_info *minfo,
			      const struct readreceipt_verdict *verdict,
			      bool automatic, string_t *out,
			      const char **error_r)
{
	struct mailbox *box = mail->box;
	struct readreceipt_mdn_input input;
	struct mailbox_status status;
	struct mailbox_metadata metadata;
	buffer_t *header = NULL;

	if (mailbox_get_metadata(box, MAILBOX_METADATA_GUID, &metadata) < 0) {
		*error_r = mailbox_get_last_internal_error(box, NULL);
		return -1;
	}
	mailbox_get_open_status(box, STATUS_UIDVALIDITY, &status);
	if (set->include_headers)
		header = readreceipt_receipt_read_header(mail);

	i_zero(&input);
	input.user_email = set->user_email;
	input.recipients = array_front(&verdict->recipients);
	input.recipients_count = array_count(&verdict->recipients);
	input.orig_subject = minfo->subject;
	input.orig_message_id = minfo->message_id;
	input.orig_original_recipient = minfo->original_recipient;
	if (header != NULL) {
		input.orig_header = header->data;
		input.orig_header_size = header->used;
	}
	input.reporting_ua = set->reporting_ua;
	input.automatic = automatic;
	input.include_headers = set->include_headers;
	input.date = ioloop_time;
	/* the same for every try, so that a duplicate after a crash can
	   be recognised */
	input.message_id = readreceipt_record_message_id(metadata.guid,
		status.uidvalidity, mail->uid, set->user_email, my_hostname);
	input.boundary = t_strdup_printf("readreceipt-%s-%u-%u",
		guid_128_to_string(metadata.guid), status.uidvalidity,
		mail->uid);
	readreceipt_mdn_build(&input, out);
	return 0;
}
