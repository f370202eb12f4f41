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
#include "readreceipt-user.h"
#include "readreceipt-event.h"
#include "readreceipt-claim.h"
#include "readreceipt-send.h"
#include "readreceipt-queue.h"
#include "readreceipt-storage.h"
#include "readreceipt-message.h"
#include "readreceipt-process.h"

#include <time.h>

/* how long a second session waits for the first one's send to finish */
#define READRECEIPT_LOCK_EXTRA_SECS 5

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

/* Returns 1 when the message was read, 0 if it is gone. */
static int
readreceipt_mail_read(struct readreceipt_process_context *ctx,
		      struct mail *mail, struct readreceipt_mail_info *info_r)
{
	struct readreceipt_message_info minfo;

	i_zero(info_r);
	info_r->uid = mail->uid;
	/* the mail was allocated with every header the reader wants */
	readreceipt_message_read(mail, FALSE, &minfo);
	info_r->msg = minfo.msg;
	info_r->msg.has_mdnsent = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNSENT);
	info_r->msg.has_mdnask = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNASK);
	info_r->msg.excluded_mailbox = ctx->excluded;
	if (info_r->msg.disposition_notification_to == NULL)
		return mail->expunged ? 0 : 1;

	info_r->subject = minfo.subject;
	info_r->message_id = minfo.message_id;
	info_r->original_recipient = minfo.original_recipient;
	if (ctx->set->include_headers)
		info_r->header = readreceipt_read_header(mail);
	return mail->expunged ? 0 : 1;
}

void readreceipt_process_emit(struct readreceipt_process_context *ctx,
			      const struct readreceipt_mail_info *info,
			      const struct readreceipt_verdict *verdict,
			      const char *decision, const char *reason,
			      const char *error)
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
		readreceipt_event_message_id(info->message_id);
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
	input.orig_subject = info->subject;
	input.orig_message_id = info->message_id;
	input.orig_original_recipient = info->original_recipient;
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

/* Check, and with set_it set, $MDNSent on the message. The transaction
   refreshes the index first, so that a receipt another session sent in the
   meantime is seen: together with the per-user lock this makes the check
   and the claim atomic. It works on the session's own mailbox, so the
   storage records the keyword with its normal sync (a second mailbox
   would rescan a Maildir twice per receipt). Returns 1 if the keyword was
   already there (or the message is gone), 0 if it was not (and is now, with
   set_it), -1 on error. */
int readreceipt_process_mdnsent(struct mailbox *box, uint32_t uid,
				bool set_it, const char **error_r)
{
	const char *const keywords[] = { READRECEIPT_KEYWORD_MDNSENT, NULL };
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);
	struct mailbox_transaction_context *t;
	struct mail_keywords *kw;
	struct mail *mail;
	bool prev_busy = FALSE;
	int ret = 0;

	/* the module's own keyword is not a client's answer */
	if (ruser != NULL) {
		prev_busy = ruser->busy;
		ruser->busy = TRUE;
	}
	t = mailbox_transaction_begin(box, MAILBOX_TRANSACTION_FLAG_REFRESH,
				      "readreceipt $MDNSent");
	mail = mail_alloc(t, MAIL_FETCH_FLAGS, NULL);
	if (!mail_set_uid(mail, uid)) {
		/* expunged meanwhile: nothing to mark */
		ret = 1;
	} else if (readreceipt_mail_has_keyword(mail,
					   READRECEIPT_KEYWORD_MDNSENT)) {
		ret = 1;
	} else if (set_it) {
		kw = mailbox_keywords_create_valid(box, keywords);
		mail_update_keywords(mail, MODIFY_ADD, kw);
		mailbox_keywords_unref(&kw);
	}
	mail_free(&mail);
	if (ret == 0 && set_it) {
		if (mailbox_transaction_commit(&t) < 0) {
			*error_r = mailbox_get_last_internal_error(box, NULL);
			ret = -1;
		}
	} else {
		mailbox_transaction_rollback(&t);
	}
	if (ruser != NULL)
		ruser->busy = prev_busy;
	return ret;
}

enum readreceipt_send_result
readreceipt_process_send(struct readreceipt_process_context *ctx,
			 const struct readreceipt_mail_info *info,
			 const struct readreceipt_verdict *verdict,
			 bool automatic, const char **error_r)
{
	const struct readreceipt_settings *set = ctx->set;
	struct readreceipt_claim *claim;
	const char *error;
	string_t *mdn;
	int ret;

	if (set->user_email == NULL) {
		*error_r = "readreceipt_user_email is not set and the "
			"username is not an address";
		return READRECEIPT_SEND_NO_USER_EMAIL;
	}

	ret = readreceipt_claim_lock(ctx->user, set->submission_timeout_secs +
				     READRECEIPT_LOCK_EXTRA_SECS,
				     &claim, error_r);
	if (ret <= 0)
		return READRECEIPT_SEND_LOCK_FAILED;

	/* Checked again under the lock: another session may have sent it
	   while this one read the headers. */
	ret = readreceipt_process_mdnsent(ctx->box, info->uid, FALSE, error_r);
	if (ret != 0) {
		readreceipt_claim_unlock(&claim);
		return ret > 0 ? READRECEIPT_SEND_ALREADY_SENT :
			READRECEIPT_SEND_STORAGE_FAILED;
	}
	ret = readreceipt_claim_rate_check(claim, set->max_per_hour,
					   ioloop_time, error_r);
	if (ret <= 0) {
		readreceipt_claim_unlock(&claim);
		if (ret < 0)
			return READRECEIPT_SEND_STORAGE_FAILED;
		*error_r = t_strdup_printf("readreceipt_max_per_hour=%u "
					   "reached", set->max_per_hour);
		return READRECEIPT_SEND_RATE_LIMITED;
	}

	mdn = t_str_new(2048);
	readreceipt_build_mdn(ctx, info, verdict, automatic, mdn);
	ret = readreceipt_send(ctx->user, set, &verdict->recipients, mdn,
			       error_r);
	if (ret <= 0) {
		readreceipt_claim_unlock(&claim);
		return ret == 0 ? READRECEIPT_SEND_PERMANENT_FAILURE :
			READRECEIPT_SEND_TEMPORARY_FAILURE;
	}
	if (readreceipt_claim_rate_add(claim, set->max_per_hour, ioloop_time,
				       &error) < 0)
		e_error(ctx->ruser->event, "Failed to count the receipt: %s",
			error);
	ret = readreceipt_process_mdnsent(ctx->box, info->uid, TRUE, &error);
	readreceipt_claim_unlock(&claim);
	if (ret < 0) {
		/* The receipt is out; only the marker is missing. Say so
		   loudly, since another open could send it again. */
		e_error(ctx->ruser->event, "Receipt for UID %u in %s was sent "
			"but $MDNSent could not be set: %s", info->uid,
			ctx->box->vname, error);
	}
	return READRECEIPT_SEND_OK;
}

const char *readreceipt_send_result_reason(enum readreceipt_send_result result)
{
	switch (result) {
	case READRECEIPT_SEND_OK:
		return "sent";
	case READRECEIPT_SEND_ALREADY_SENT:
		return "already_sent";
	case READRECEIPT_SEND_TEMPORARY_FAILURE:
		return "temporary_failure";
	case READRECEIPT_SEND_PERMANENT_FAILURE:
		return "permanent_failure";
	case READRECEIPT_SEND_RATE_LIMITED:
		return "rate_limited";
	case READRECEIPT_SEND_NO_USER_EMAIL:
		return "no_user_email";
	case READRECEIPT_SEND_LOCK_FAILED:
		return "lock";
	case READRECEIPT_SEND_STORAGE_FAILED:
		return "storage";
	}
	i_unreached();
}

void readreceipt_process_pending(const struct readreceipt_mail_info *info,
				 const struct readreceipt_verdict *verdict,
				 const char *reason,
				 struct readreceipt_pending *pending_r)
{
	i_zero(pending_r);
	t_array_init(&pending_r->to, 4);
	if (array_is_created(&verdict->recipients))
		array_append_array(&pending_r->to, &verdict->recipients);
	pending_r->subject = info->subject == NULL ? "" :
		readreceipt_mdn_clean_subject(info->subject);
	pending_r->message_id = info->message_id == NULL ? "" :
		info->message_id;
	pending_r->reason = reason;
	pending_r->since = ioloop_time;
}

/* Queue the receipt with reason, and say so in the event. Without an
   attribute dict nothing can wait: the decision is "failed". */
static void
readreceipt_process_queue(struct readreceipt_process_context *ctx,
			  const struct readreceipt_mail_info *info,
			  const struct readreceipt_verdict *verdict,
			  const char *reason, const char *detail)
{
	struct readreceipt_pending pending;
	const char *error;

	if (!ctx->queue_available) {
		if (!ctx->ruser->no_dict_logged) {
			ctx->ruser->no_dict_logged = TRUE;
			e_error(ctx->ruser->event, "Receipts that wait for "
				"the user need mail_attribute_dict: none is "
				"configured, so they are dropped");
		}
		readreceipt_process_emit(ctx, info, verdict, "failed",
					 "no_attribute_dict", detail);
		return;
	}
	readreceipt_process_pending(info, verdict, reason, &pending);
	if (readreceipt_queue_add(ctx->box, info->uid, &pending,
				  &error) < 0) {
		readreceipt_process_emit(ctx, info, verdict, "failed",
					 "storage", error);
		return;
	}
	readreceipt_process_emit(ctx, info, verdict, "queued", reason, detail);
}

static void
readreceipt_process_send_auto(struct readreceipt_process_context *ctx,
			      const struct readreceipt_mail_info *info,
			      const struct readreceipt_verdict *verdict)
{
	enum readreceipt_send_result result;
	const char *error = NULL;

	result = readreceipt_process_send(ctx, info, verdict, TRUE, &error);
	switch (result) {
	case READRECEIPT_SEND_OK:
		readreceipt_process_emit(ctx, info, verdict, "sent",
					 verdict->reason, NULL);
		break;
	case READRECEIPT_SEND_ALREADY_SENT:
		readreceipt_process_emit(ctx, info, verdict, "suppressed",
					 "already_sent", NULL);
		break;
	case READRECEIPT_SEND_TEMPORARY_FAILURE:
	case READRECEIPT_SEND_RATE_LIMITED:
		/* never dropped: it waits for the next try where it can */
		if (ctx->queue_available) {
			readreceipt_process_queue(ctx, info, verdict,
				result == READRECEIPT_SEND_RATE_LIMITED ?
				READRECEIPT_PENDING_REASON_RATE_LIMITED :
				READRECEIPT_PENDING_REASON_RETRY, error);
			break;
		}
		/* fall through */
	default:
		readreceipt_process_emit(ctx, info, verdict, "failed",
			readreceipt_send_result_reason(result), error);
		break;
	}
}

int readreceipt_process_read(struct readreceipt_process_context *ctx,
			     uint32_t uid,
			     struct readreceipt_mail_info *info_r)
{
	int ret;

	if (!mail_set_uid(ctx->mail, uid))
		return 0;
	ret = readreceipt_mail_read(ctx, ctx->mail, info_r);
	if (ret < 0) {
		e_error(ctx->ruser->event, "Failed to read UID %u in %s: %s",
			uid, ctx->box->vname,
			mailbox_get_last_internal_error(ctx->box, NULL));
	}
	return ret;
}

static void
readreceipt_process_one(struct readreceipt_process_context *ctx, uint32_t uid)
{
	struct readreceipt_mail_info info;
	struct readreceipt_verdict verdict;
	const char *decision;

	if (readreceipt_process_read(ctx, uid, &info) <= 0)
		return;

	/* The queue exists: what would wait for the user is queued, and
	   where no attribute dict can hold it, the decision says so. */
	readreceipt_policy_decide(ctx->set, &info.msg,
				  ctx->ruser->session_can_prompt, TRUE,
				  pool_datastack_create(), &verdict);
	decision = readreceipt_action_to_decision(verdict.action);
	switch (verdict.action) {
	case READRECEIPT_ACTION_NONE:
		break;
	case READRECEIPT_ACTION_SUPPRESS:
	case READRECEIPT_ACTION_IGNORE:
		readreceipt_process_emit(ctx, &info, &verdict, decision,
					 verdict.reason, NULL);
		break;
	case READRECEIPT_ACTION_QUEUE:
		readreceipt_process_queue(ctx, &info, &verdict,
					  verdict.reason, NULL);
		break;
	case READRECEIPT_ACTION_SEND:
		readreceipt_process_send_auto(ctx, &info, &verdict);
		break;
	}
}

void readreceipt_process_begin(struct readreceipt_process_context *ctx,
			       struct mailbox *box,
			       enum readreceipt_trigger trigger)
{
	struct mailbox_header_lookup_ctx *headers;

	i_zero(ctx);
	ctx->box = box;
	ctx->user = box->storage->user;
	ctx->ruser = readreceipt_user_get(ctx->user);
	i_assert(ctx->ruser != NULL);
	ctx->set = ctx->ruser->set;
	ctx->trigger = trigger;
	ctx->queue_available = readreceipt_queue_available(ctx->user);

	/* nothing the module does itself may trigger it again */
	ctx->prev_busy = ctx->ruser->busy;
	ctx->ruser->busy = TRUE;
	ctx->excluded = readreceipt_mailbox_excluded(box, ctx->set);
	headers = mailbox_header_lookup_init(box, readreceipt_message_wanted_headers);
	ctx->t = mailbox_transaction_begin(box, 0, "readreceipt");
	ctx->mail = mail_alloc(ctx->t, MAIL_FETCH_FLAGS, headers);
	mailbox_header_lookup_unref(&headers);
}

void readreceipt_process_end(struct readreceipt_process_context *ctx)
{
	mail_free(&ctx->mail);
	mailbox_transaction_rollback(&ctx->t);
	ctx->ruser->busy = ctx->prev_busy;
}

void readreceipt_process_seen(struct mailbox *box,
			      const ARRAY_TYPE(uint32_t) *uids,
			      unsigned int seen_count)
{
	struct readreceipt_process_context ctx;
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);
	enum readreceipt_trigger trigger;
	uint32_t uid;

	i_assert(ruser != NULL);
	if (ruser->session == READRECEIPT_SESSION_POP3)
		trigger = READRECEIPT_TRIGGER_POP3;
	else if (seen_count > ruser->set->bulk_limit) {
		/* "mark as read": one event for the whole command, and not
		   a single header read */
		i_zero(&ctx);
		ctx.box = box;
		ctx.user = box->storage->user;
		ctx.ruser = ruser;
		ctx.set = ruser->set;
		ctx.trigger = READRECEIPT_TRIGGER_MARK;
		readreceipt_process_emit(&ctx, NULL, NULL, "suppressed",
					 "bulk", NULL);
		return;
	} else {
		trigger = READRECEIPT_TRIGGER_OPEN;
	}

	readreceipt_process_begin(&ctx, box, trigger);
	array_foreach_elem(uids, uid) T_BEGIN {
		readreceipt_process_one(&ctx, uid);
	} T_END;
	readreceipt_process_end(&ctx);
}
