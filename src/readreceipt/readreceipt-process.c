/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "ioloop.h"
#include "istream.h"
#include "guid.h"
#include "hostpid.h"
#include "utc-offset.h"
#include "wildcard-match.h"
#include "message-size.h"
#include "mail-storage-private.h"
#include "readreceipt-settings.h"
#include "readreceipt-policy.h"
#include "readreceipt-mdn.h"
#include "readreceipt-message.h"
#include "readreceipt-user.h"
#include "readreceipt-event.h"
#include "readreceipt-claim.h"
#include "readreceipt-send.h"
#include "readreceipt-process.h"

#include <time.h>

/* how long a second session waits for the first one's send to finish */
#define READRECEIPT_LOCK_EXTRA_SECS 5

/* One message as read from the storage. */
struct readreceipt_mail_info {
	struct readreceipt_message_info hdr;
	uint32_t uid;
	buffer_t *header;
};

struct readreceipt_process_context {
	struct mailbox *box;
	struct mail_user *user;
	struct readreceipt_user *ruser;
	const struct readreceipt_settings *set;
	enum readreceipt_trigger trigger;
	bool excluded;
};

static bool
readreceipt_mailbox_excluded(struct mailbox *box,
			     const struct readreceipt_settings *set)
{
	const char *pattern;

	array_foreach_elem(&set->exclude, pattern) {
		if (pattern[0] == '\\') {
			/* special-use flags as the mailbox {} blocks of the
			   configuration assign them */
			if (mailbox_has_special_use(box, pattern))
				return TRUE;
		} else if (strcasecmp(pattern, "INBOX") == 0) {
			if (strcmp(box->vname, "INBOX") == 0)
				return TRUE;
		} else if (wildcard_match(box->vname, pattern)) {
			return TRUE;
		}
	}
	return FALSE;
}

static buffer_t *readreceipt_read_header(struct mail *mail)
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

/* Returns FALSE if the message is gone. */
static bool
readreceipt_mail_read(struct readreceipt_process_context *ctx,
		      struct mail *mail, struct readreceipt_mail_info *info_r)
{
	struct readreceipt_message *msg = &info_r->hdr.msg;

	i_zero(info_r);
	info_r->uid = mail->uid;
	readreceipt_message_read(mail, FALSE, &info_r->hdr);
	msg->has_mdnsent = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNSENT);
	msg->has_mdnask = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNASK);
	msg->excluded_mailbox = ctx->excluded;
	if (msg->disposition_notification_to != NULL &&
	    ctx->set->include_headers)
		info_r->header = readreceipt_read_header(mail);
	return !mail->expunged;
}

static void
readreceipt_emit(struct readreceipt_process_context *ctx,
		 const struct readreceipt_mail_info *info,
		 const struct readreceipt_verdict *verdict,
		 const char *decision, const char *reason, const char *error)
{
	struct readreceipt_decision_info dinfo;

	i_zero(&dinfo);
	dinfo.decision = decision;
	dinfo.reason = reason;
	dinfo.trigger = readreceipt_trigger_to_str(ctx->trigger);
	dinfo.mode = readreceipt_mode_to_str(ctx->set->mode);
	dinfo.mailbox = ctx->box->vname;
	dinfo.uid = info == NULL ? 0 : info->uid;
	dinfo.message_id = info == NULL ? "" :
		readreceipt_event_message_id(info->hdr.message_id);
	dinfo.recipient = verdict == NULL ? "" :
		readreceipt_event_addresses(&verdict->recipients);
	dinfo.error = error;
	readreceipt_event_decision(ctx->ruser->event, &dinfo);
}

static void
readreceipt_build_mdn(struct readreceipt_process_context *ctx,
		      const struct readreceipt_mail_info *info,
		      const struct readreceipt_verdict *verdict,
		      bool automatic, string_t *out)
{
	struct readreceipt_mdn_input input;
	guid_128_t guid;
	struct tm *tm;
	const char *id;

	guid_128_generate(guid);
	id = guid_128_to_string(guid);

	i_zero(&input);
	input.user_email = ctx->set->user_email;
	input.recipients = array_front(&verdict->recipients);
	input.recipients_count = array_count(&verdict->recipients);
	input.orig_subject = info->hdr.subject;
	input.orig_message_id = info->hdr.message_id;
	input.orig_original_recipient = info->hdr.original_recipient;
	if (info->header != NULL) {
		input.orig_header = info->header->data;
		input.orig_header_size = info->header->used;
	}
	input.reporting_ua = ctx->set->reporting_ua;
	input.automatic = automatic;
	input.include_headers = ctx->set->include_headers;
	input.date = ioloop_time;
	tm = localtime(&input.date);
	input.tz_offset_mins = tm == NULL ? 0 : utc_offset(tm, input.date);
	input.message_id = t_strdup_printf("<readreceipt.%s@%s>",
					   id, my_hostname);
	input.boundary = t_strdup_printf("readreceipt-%s", id);
	readreceipt_mdn_build(&input, out);
}

/* Set $MDNSent on the message through a mailbox of our own, freshly
   synced, so that a receipt sent by another session in the meantime is
   seen. Returns 1 if the keyword was already there, 0 if it was not (and
   set_it is FALSE, or it was set now), -1 on error. */
static int
readreceipt_mdnsent_check(struct mailbox *box, uint32_t uid, bool set_it,
			  const char **error_r)
{
	const char *const keywords[] = { READRECEIPT_KEYWORD_MDNSENT, NULL };
	struct mailbox_transaction_context *t;
	struct mail_keywords *kw;
	struct mailbox *sbox;
	struct mail *mail;
	int ret = 0;

	sbox = mailbox_alloc(box->list, box->vname, 0);
	if (mailbox_sync(sbox, 0) < 0) {
		*error_r = mailbox_get_last_internal_error(sbox, NULL);
		mailbox_free(&sbox);
		return -1;
	}
	t = mailbox_transaction_begin(sbox, 0, "readreceipt $MDNSent");
	mail = mail_alloc(t, 0, NULL);
	if (!mail_set_uid(mail, uid)) {
		/* expunged meanwhile: nothing to mark */
		ret = 1;
	} else if (readreceipt_mail_has_keyword(mail,
					   READRECEIPT_KEYWORD_MDNSENT)) {
		ret = 1;
	} else if (set_it) {
		kw = mailbox_keywords_create_valid(sbox, keywords);
		mail_update_keywords(mail, MODIFY_ADD, kw);
		mailbox_keywords_unref(&kw);
	}
	mail_free(&mail);
	if (ret == 0 && set_it) {
		if (mailbox_transaction_commit(&t) < 0) {
			*error_r = mailbox_get_last_internal_error(sbox, NULL);
			ret = -1;
		}
	} else {
		mailbox_transaction_rollback(&t);
	}
	mailbox_free(&sbox);
	return ret;
}

static void
readreceipt_send_now(struct readreceipt_process_context *ctx,
		     const struct readreceipt_mail_info *info,
		     const struct readreceipt_verdict *verdict)
{
	const struct readreceipt_settings *set = ctx->set;
	struct readreceipt_claim *claim;
	const char *error;
	string_t *mdn;
	int ret;

	if (set->user_email == NULL) {
		readreceipt_emit(ctx, info, verdict, "failed", "no_user_email",
				 "readreceipt_user_email is not set and the "
				 "username is not an address");
		return;
	}

	ret = readreceipt_claim_lock(ctx->user, set->submission_timeout_secs +
				     READRECEIPT_LOCK_EXTRA_SECS,
				     &claim, &error);
	if (ret <= 0) {
		readreceipt_emit(ctx, info, verdict, "failed", "lock", error);
		return;
	}

	/* Checked again under the lock: another session may have sent it
	   while this one read the headers. */
	ret = readreceipt_mdnsent_check(ctx->box, info->uid, FALSE, &error);
	if (ret != 0) {
		readreceipt_claim_unlock(&claim);
		if (ret > 0) {
			readreceipt_emit(ctx, info, verdict, "suppressed",
					 "already_sent", NULL);
		} else {
			readreceipt_emit(ctx, info, verdict, "failed",
					 "storage", error);
		}
		return;
	}
	ret = readreceipt_claim_rate_check(claim, set->max_per_hour,
					   ioloop_time, &error);
	if (ret <= 0) {
		readreceipt_claim_unlock(&claim);
		readreceipt_emit(ctx, info, verdict, "failed",
				 ret == 0 ? "rate_limited" : "storage",
				 ret == 0 ? t_strdup_printf(
				 "readreceipt_max_per_hour=%u reached",
				 set->max_per_hour) : error);
		return;
	}

	mdn = t_str_new(2048);
	readreceipt_build_mdn(ctx, info, verdict, TRUE, mdn);
	ret = readreceipt_send(ctx->user, set, &verdict->recipients, mdn,
			       &error);
	if (ret <= 0) {
		readreceipt_claim_unlock(&claim);
		readreceipt_emit(ctx, info, verdict, "failed",
				 ret == 0 ? "permanent_failure" :
				 "temporary_failure", error);
		return;
	}
	if (readreceipt_claim_rate_add(claim, set->max_per_hour, ioloop_time,
				       &error) < 0)
		e_error(ctx->ruser->event, "Failed to count the receipt: %s",
			error);
	ret = readreceipt_mdnsent_check(ctx->box, info->uid, TRUE, &error);
	readreceipt_claim_unlock(&claim);
	if (ret < 0) {
		/* The receipt is out; only the marker is missing. Say so
		   loudly, since another open could send it again. */
		e_error(ctx->ruser->event, "Receipt for UID %u in %s was sent "
			"but $MDNSent could not be set: %s", info->uid,
			ctx->box->vname, error);
	}
	readreceipt_emit(ctx, info, verdict, "sent", verdict->reason, NULL);
}

static void
readreceipt_process_one(struct readreceipt_process_context *ctx,
			struct mail *mail, uint32_t uid)
{
	struct readreceipt_mail_info info;
	struct readreceipt_verdict verdict;
	const char *decision;

	if (!mail_set_uid(mail, uid) ||
	    !readreceipt_mail_read(ctx, mail, &info))
		return;

	readreceipt_policy_decide(ctx->set, &info.hdr.msg,
				  ctx->ruser->session_can_prompt, FALSE,
				  pool_datastack_create(), &verdict);
	decision = readreceipt_action_to_decision(verdict.action);
	switch (verdict.action) {
	case READRECEIPT_ACTION_NONE:
		break;
	case READRECEIPT_ACTION_SUPPRESS:
	case READRECEIPT_ACTION_IGNORE:
		readreceipt_emit(ctx, &info, &verdict, decision,
				 verdict.reason, NULL);
		break;
	case READRECEIPT_ACTION_QUEUE:
		/* no pending queue in this build */
		readreceipt_emit(ctx, &info, &verdict, "failed",
				 "no_queue", NULL);
		break;
	case READRECEIPT_ACTION_SEND:
		readreceipt_send_now(ctx, &info, &verdict);
		break;
	}
}

void readreceipt_process_seen(struct mailbox *box,
			      const ARRAY_TYPE(uint32_t) *uids,
			      unsigned int seen_count)
{
	struct readreceipt_process_context ctx;
	struct mailbox_header_lookup_ctx *headers;
	struct mailbox_transaction_context *t;
	struct mail *mail;
	uint32_t uid;

	i_zero(&ctx);
	ctx.box = box;
	ctx.user = box->storage->user;
	ctx.ruser = readreceipt_user_get(ctx.user);
	i_assert(ctx.ruser != NULL);
	ctx.set = ctx.ruser->set;

	if (ctx.ruser->session == READRECEIPT_SESSION_POP3)
		ctx.trigger = READRECEIPT_TRIGGER_POP3;
	else if (seen_count > ctx.set->bulk_limit) {
		/* "mark as read": one event for the whole command, and not
		   a single header read */
		ctx.trigger = READRECEIPT_TRIGGER_MARK;
		readreceipt_emit(&ctx, NULL, NULL, "suppressed", "bulk", NULL);
		return;
	} else {
		ctx.trigger = READRECEIPT_TRIGGER_OPEN;
	}

	ctx.ruser->busy = TRUE;
	ctx.excluded = readreceipt_mailbox_excluded(box, ctx.set);
	headers = mailbox_header_lookup_init(box,
		readreceipt_message_wanted_headers);
	t = mailbox_transaction_begin(box, 0, "readreceipt");
	mail = mail_alloc(t, MAIL_FETCH_FLAGS, headers);
	mailbox_header_lookup_unref(&headers);

	array_foreach_elem(uids, uid) T_BEGIN {
		readreceipt_process_one(&ctx, mail, uid);
	} T_END;

	mail_free(&mail);
	mailbox_transaction_rollback(&t);
	ctx.ruser->busy = FALSE;
}
