#ifndef READRECEIPT_STORAGE_H
#define READRECEIPT_STORAGE_H

/* Storage hooks: notice messages that newly get \Seen in a transaction and
   hand them over after the commit succeeded. */

void readreceipt_mailbox_allocated(struct mailbox *box);
void readreceipt_mail_allocated(struct mail *mail);

#endif
