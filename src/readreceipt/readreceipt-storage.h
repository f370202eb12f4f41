#ifndef READRECEIPT_STORAGE_H
#define READRECEIPT_STORAGE_H

/* Storage hooks: notice messages that newly get \Seen in a transaction and
   hand them over after the commit succeeded. */

#include "readreceipt-pending.h"

struct mail;
struct mailbox;
struct mailbox_transaction_context;

#include "readreceipt-message.h"

void readreceipt_mailbox_allocated(struct mailbox *box);
void readreceipt_mail_allocated(struct mail *mail);

/* Record a client's answer to a pending entry, to be acted on after the
   transaction commits. FALSE if the module does not watch this mailbox. */
bool readreceipt_storage_add_answer(struct mailbox_transaction_context *t,
				    uint32_t uid,
				    enum readreceipt_answer answer);

#endif
