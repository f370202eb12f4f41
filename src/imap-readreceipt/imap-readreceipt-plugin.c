/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "imap-common.h"
#include "imap-readreceipt-client.h"
#include "imap-readreceipt-plugin.h"

const char *imap_readreceipt_plugin_version = DOVECOT_ABI_VERSION;
/* the storage module keeps the user's settings and acts on \Seen */
const char *imap_readreceipt_plugin_dependencies[] = { "readreceipt", NULL };
const char imap_readreceipt_plugin_binary_dependency[] = "imap";

void imap_readreceipt_plugin_init(struct module *module)
{
	imap_readreceipt_client_init(module);
}

void imap_readreceipt_plugin_deinit(void)
{
	imap_readreceipt_client_deinit();
}
