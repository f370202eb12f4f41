#ifndef SUBMISSION_READRECEIPT_CLIENT_H
#define SUBMISSION_READRECEIPT_CLIENT_H

/* The submission hooks: every message a client sends is checked against
   the user's policy before it is relayed (SPEC §9). */

struct client;

void submission_readreceipt_client_created(struct client *client);

#endif
