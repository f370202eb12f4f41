#ifndef IMAP_READRECEIPT_CLIENT_H
#define IMAP_READRECEIPT_CLIENT_H

/* The imap side of a session: the XREADRECEIPT capability and its ENABLE,
   the client's IMAP ID name, and the command that is running, all reported
   to the storage module through its user context. */

#define IMAP_READRECEIPT_CAPABILITY "XREADRECEIPT"

struct module;

void imap_readreceipt_client_init(struct module *module);
void imap_readreceipt_client_deinit(void);

#endif
