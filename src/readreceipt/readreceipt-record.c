/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "readreceipt-names.h"
#include "readreceipt-record.h"

bool readreceipt_record_is_owed(const struct readreceipt_record *rec)
{
	return rec->state == READRECEIPT_RECORD_OWED ||
		rec->state == READRECEIPT_RECORD_SENDING;
}

bool readreceipt_record_claimable(const struct readreceipt_record *rec,
				  time_t now, unsigned int timeout_secs)
{
	if (rec->state == READRECEIPT_RECORD_OWED)
		return TRUE;
	if (rec->state != READRECEIPT_RECORD_SENDING)
		return FALSE;
	/* a live sender gives up after timeout_secs: an older claim is a
	   dead process's */
	return (uint64_t)now > (uint64_t)rec->stamp + timeout_secs +
		READRECEIPT_RECORD_CLAIM_STALE_EXTRA_SECS;
}

bool readreceipt_record_claimed_at(const struct readreceipt_record *rec,
				   time_t stamp)
{
	return rec->state == READRECEIPT_RECORD_SENDING &&
		(uint64_t)rec->stamp == (uint64_t)stamp;
}

const char *readreceipt_record_wait_reason(const struct readreceipt_record *rec,
					   time_t now,
					   unsigned int timeout_secs)
{
	if (rec->state == READRECEIPT_RECORD_SENDING &&
	    !readreceipt_record_claimable(rec, now, timeout_secs))
		return READRECEIPT_REASON_SENDING;
	switch ((enum readreceipt_record_wait)rec->wait) {
	case READRECEIPT_RECORD_WAIT_NEW:
		break;
	case READRECEIPT_RECORD_WAIT_RETRY:
		return READRECEIPT_REASON_RETRY;
	case READRECEIPT_RECORD_WAIT_RATE_LIMITED:
		return READRECEIPT_REASON_RATE_LIMITED;
	}
	/* a stale claim was tried and not finished: it is retried */
	return rec->state == READRECEIPT_RECORD_SENDING ?
		READRECEIPT_REASON_RETRY : READRECEIPT_REASON_OWED;
}

const char *readreceipt_record_message_id(const guid_128_t mailbox_guid,
					  uint32_t uid_validity, uint32_t uid,
					  const char *user_email,
					  const char *hostname)
{
	const char *domain = NULL;

	if (user_email != NULL)
		domain = strrchr(user_email, '@');
	if (domain != NULL && domain[1] != '\0')
		domain++;
	else
		domain = hostname;
	return t_strdup_printf("<readreceipt.%s.%u.%u@%s>",
			       guid_128_to_string(mailbox_guid),
			       uid_validity, uid, domain);
}
