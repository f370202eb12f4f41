/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "submission-common.h"
#include "array.h"
#include "istream.h"
#include "smtp-address.h"
#include "smtp-server.h"
#include "readreceipt-settings.h"
#include "readreceipt-address.h"
#include "readreceipt-policy.h"
#include "readreceipt-event.h"
#include "readreceipt-user.h"
#include "readreceipt-refresh.h"
#include "readreceipt-names.h"
#include "submission-readreceipt-header.h"
#include "submission-readreceipt-client.h"

#define SUBMISSION_READRECEIPT_CONTEXT_REQUIRE(obj) \
	MODULE_CONTEXT_REQUIRE(obj, submission_readreceipt_client_module)

struct submission_readreceipt_client {
	union submission_module_context module_ctx;
};

/* One message being judged. */
struct submission_readreceipt_judgement {
	struct client *client;
	struct readreceipt_user *ruser;
	struct smtp_server_cmd_ctx *cmd;
	struct smtp_server_transaction *trans;
	struct submission_readreceipt_header hdr;
};

static MODULE_CONTEXT_DEFINE_INIT(submission_readreceipt_client_module,
				  &submission_module_register);

static void
submission_readreceipt_emit(struct submission_readreceipt_judgement *jm,
			    const char *action, const char *reason,
			    const char *kind, const char *recipient)
{
	struct readreceipt_submission_info info;

	i_zero(&info);
	info.action = action;
	info.reason = reason;
	info.kind = kind;
	info.message_id = readreceipt_event_message_id(jm->hdr.message_id);
	info.recipient = recipient;
	readreceipt_event_submission(jm->ruser->event, &info);
}

/* The transaction's recipients as the policy compares addresses. */
static void
submission_readreceipt_recipients(struct smtp_server_transaction *trans,
				  ARRAY_TYPE(const_string) *addrs)
{
	struct smtp_server_recipient *rcpt;
	const char *encoded, *addr, *error;

	t_array_init(addrs, array_count(&trans->rcpt_to));
	array_foreach_elem(&trans->rcpt_to, rcpt) {
		encoded = smtp_address_encode(rcpt->path);
		/* an address the policy cannot parse stays as it is: it
		   matches no domain and no allow entry */
		if (readreceipt_address_normalize(encoded, &addr, &error) < 0)
			addr = encoded;
		array_push_back(addrs, &addr);
	}
}

/* A receipt the client sends (SPEC §9), or a message whose MIME structure
   cannot be read far enough to tell that it is none (SPEC §13: it is held
   to the same policy, so that broken MIME is no way around it). Returns 0
   if it may go, -1 if it was refused (the reply is sent). */
static int
submission_readreceipt_judge_receipt(
	struct submission_readreceipt_judgement *jm)
{
	ARRAY_TYPE(const_string) recipients;
	const char *reason, *recipient, *kind, *why = "";

	if (!jm->hdr.is_receipt) {
		i_assert(jm->hdr.unparsable != NULL);
		kind = "unreadable";
		why = t_strdup_printf(", and this message may be one: its "
				      "MIME structure cannot be read (%s)",
				      jm->hdr.unparsable);
	} else {
		kind = "receipt";
	}

	submission_readreceipt_recipients(jm->trans, &recipients);
	reason = readreceipt_policy_outgoing_receipt(
		readreceipt_user_policy(jm->ruser),
						     &recipients, &recipient);
	if (reason == NULL) {
		submission_readreceipt_emit(jm, "accepted",
					    READRECEIPT_REASON_ALLOWED, kind,
			readreceipt_event_addresses(&recipients));
		return 0;
	}
	if (recipient != NULL) {
		submission_readreceipt_emit(jm, "rejected", reason, kind,
					    recipient);
		if (jm->hdr.is_receipt) {
			smtp_server_reply(jm->cmd, 550, "5.7.1",
				"Read receipts to %s are not allowed: the "
				"address is outside the organisation and not "
				"on its allow list", recipient);
		} else {
			smtp_server_reply(jm->cmd, 550, "5.7.1",
				"Read receipts to %s are not allowed%s",
				recipient, why);
		}
	} else {
		submission_readreceipt_emit(jm, "rejected", reason, kind,
			readreceipt_event_addresses(&recipients));
		smtp_server_reply(jm->cmd, 550, "5.7.1",
			"Read receipts are disabled for this account%s", why);
	}
	return -1;
}

/* A message that asks for a receipt (Disposition-Notification-To). Returns
   0 if it may go (*input_r and *size_r replaced when the request was
   removed), -1 if it was refused (the reply is sent). */
static int
submission_readreceipt_judge_request(
	struct submission_readreceipt_judgement *jm,
	struct istream **input_r, uoff_t *size_r)
{
	ARRAY_TYPE(const_string) recipients;
	enum readreceipt_request request;
	const char *reason, *rcpts;
	uoff_t removed;

	request = readreceipt_policy_outgoing_request(
		readreceipt_user_policy(jm->ruser), &reason);
	/* the event names the envelope recipients, as for receipts */
	submission_readreceipt_recipients(jm->trans, &recipients);
	rcpts = readreceipt_event_addresses(&recipients);
	switch (request) {
	case READRECEIPT_REQUEST_ALLOW:
		if (reason != NULL) {
			/* receipts are disabled, but requests may go */
			submission_readreceipt_emit(jm, "accepted", reason,
						    "request", rcpts);
		}
		return 0;
	case READRECEIPT_REQUEST_STRIP:
		if (jm->hdr.dnt_overflow)
			break;
		*input_r = submission_readreceipt_strip(*input_r, &jm->hdr,
							&removed);
		i_assert(removed <= *size_r);
		*size_r -= removed;
		submission_readreceipt_emit(jm, "stripped", reason, "request",
					    rcpts);
		return 0;
	case READRECEIPT_REQUEST_REJECT:
		break;
	}
	submission_readreceipt_emit(jm, "rejected", reason, "request", rcpts);
	smtp_server_reply(jm->cmd, 550, "5.7.1",
		"Read receipt requests (Disposition-Notification-To) are "
		"disabled for this account");
	return -1;
}

/* Returns 0 if the message may be relayed: *input_r is then the stream to
   relay (a new reference, or NULL for data_input unchanged) and *size_r
   its size. -1 if it was refused (the reply is sent). */
static int
submission_readreceipt_judge(struct submission_readreceipt_judgement *jm,
			     struct istream *data_input,
			     struct istream **input_r, uoff_t *size_r)
{
	const char *error;
	struct istream *input = data_input;

	*input_r = NULL;
	if (submission_readreceipt_header_read(data_input,
					       pool_datastack_create(),
					       &jm->hdr, &error) < 0) {
		e_error(jm->ruser->event,
			"Failed to read the message header: %s", error);
		smtp_server_reply(jm->cmd, 451, "4.3.0",
				  "Temporary internal failure");
		return -1;
	}
	i_stream_seek(data_input, 0);

	if (jm->hdr.is_receipt)
		return submission_readreceipt_judge_receipt(jm);
	if (jm->hdr.unparsable != NULL &&
	    submission_readreceipt_judge_receipt(jm) < 0)
		return -1;
	if (array_count(&jm->hdr.dnt_fields) == 0)
		return 0;
	if (submission_readreceipt_judge_request(jm, &input, size_r) < 0)
		return -1;
	if (input != data_input)
		*input_r = input;
	return 0;
}

static int
submission_readreceipt_cmd_data(struct client *client,
				struct smtp_server_cmd_ctx *cmd,
				struct smtp_server_transaction *trans,
				struct istream *data_input, uoff_t data_size)
{
	struct submission_readreceipt_client *rclient =
		SUBMISSION_READRECEIPT_CONTEXT_REQUIRE(client);
	struct submission_readreceipt_judgement jm;
	struct istream *input = NULL;
	int ret;

	i_zero(&jm);
	jm.client = client;
	jm.ruser = readreceipt_user_get(client->user);
	jm.cmd = cmd;
	jm.trans = trans;
	i_assert(jm.ruser != NULL);

	T_BEGIN {
		ret = submission_readreceipt_judge(&jm, data_input, &input,
						   &data_size);
	} T_END;
	if (ret < 0)
		return -1;
	ret = rclient->module_ctx.super.cmd_data(client, cmd, trans,
		input != NULL ? input : data_input, data_size);
	i_stream_unref(&input);
	return ret;
}

void submission_readreceipt_client_created(struct client *client)
{
	struct submission_readreceipt_client *rclient;

	/* without the storage module's user context there is no policy
	   (the module is not loaded for this user): nothing is checked */
	if (readreceipt_user_get(client->user) == NULL)
		return;

	rclient = p_new(client->pool, struct submission_readreceipt_client, 1);
	rclient->module_ctx.super = client->v;
	client->v.cmd_data = submission_readreceipt_cmd_data;
	MODULE_CONTEXT_SET(client, submission_readreceipt_client_module,
			   rclient);
}
