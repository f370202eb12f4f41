/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-storage.h"
#include "mail-user.h"
#include "readreceipt-settings.h"
#include "readreceipt-policy.h"
#include "readreceipt-user.h"
#include "readreceipt-refresh.h"
#include "readreceipt-event.h"
#include "readreceipt-message.h"
#include "ext-readreceipt-common.h"

/* The storage module's functions are referenced weakly: Pigeonhole loads
   this module with RTLD_NOW, and a process that has not loaded the
   storage module (sievec, sieve-test without it in mail_plugins, an LMTP
   that does not list it) must still be able to compile and run scripts.
   Where it is missing, these resolve to NULL. */
#pragma weak readreceipt_user_get
#pragma weak readreceipt_message_from_mail
#pragma weak readreceipt_policy_requested
#pragma weak readreceipt_policy_decide
#pragma weak readreceipt_mode_to_str
#pragma weak readreceipt_event_decision
#pragma weak readreceipt_event_message_id
#pragma weak readreceipt_event_addresses
#pragma weak readreceipt_user_policy

static struct readreceipt_user *
ext_readreceipt_storage_user(struct mail_user *user)
{
	if (readreceipt_user_get == NULL ||
	    readreceipt_message_from_mail == NULL ||
	    readreceipt_policy_requested == NULL || user == NULL)
		return NULL;
	return readreceipt_user_get(user);
}

/* The user's policy, read again if it is older than
   readreceipt_policy_refresh. */
static const struct readreceipt_settings *
ext_readreceipt_storage_policy(struct readreceipt_user *ruser)
{
	if (readreceipt_user_policy == NULL)
		return ruser->set;
	return readreceipt_user_policy(ruser);
}

int ext_readreceipt_storage_requested(struct mail_user *user,
				      struct mail *mail, bool *requested_r)
{
	struct readreceipt_user *ruser = ext_readreceipt_storage_user(user);
	struct readreceipt_message msg;

	*requested_r = FALSE;
	if (ruser == NULL)
		return 0;
	T_BEGIN {
		if (readreceipt_message_from_mail(mail, &msg) > 0) {
			*requested_r = readreceipt_policy_requested(
				ext_readreceipt_storage_policy(ruser), &msg);
		}
	} T_END;
	return 1;
}

void ext_readreceipt_storage_never(struct mail_user *user, struct mail *mail,
				   const char *mailbox)
{
	struct readreceipt_user *ruser = ext_readreceipt_storage_user(user);
	struct readreceipt_decision_info info;
	struct readreceipt_verdict verdict;
	struct readreceipt_message msg;
	const char *message_id;

	if (ruser == NULL || readreceipt_policy_decide == NULL ||
	    readreceipt_mode_to_str == NULL ||
	    readreceipt_event_decision == NULL ||
	    readreceipt_event_message_id == NULL ||
	    readreceipt_event_addresses == NULL)
		return;

	T_BEGIN {
		if (readreceipt_message_from_mail(mail, &msg) > 0 &&
		    readreceipt_policy_requested(
			ext_readreceipt_storage_policy(ruser), &msg)) {
			/* only for the requested addresses */
			readreceipt_policy_decide(ruser->set, &msg, FALSE,
						  FALSE,
						  pool_datastack_create(),
						  &verdict);
			i_zero(&info);
			info.decision = "suppressed";
			info.reason = READRECEIPT_REASON_SIEVE;
			info.trigger = "delivery";
			info.mode = readreceipt_mode_to_str(ruser->set->mode);
			info.mailbox = mailbox;
			if (mail_get_first_header(mail, "Message-ID",
						  &message_id) <= 0)
				message_id = NULL;
			info.message_id =
				readreceipt_event_message_id(message_id);
			info.recipient =
				readreceipt_event_addresses(&verdict.recipients);
			readreceipt_event_decision(ruser->event, &info);
		}
	} T_END;
}
